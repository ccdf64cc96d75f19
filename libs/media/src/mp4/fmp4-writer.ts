import { MediaError } from '../media.errors';
import { AudioCodec, VideoCodec } from '../media.types';
import { box, boxHeader, fullBox, u32 } from './mp4-box';
import { buildMoov, ftyp } from './mp4-moov';
import { Mp4Sample, Mp4Track } from './mp4.types';

/**
 * Fragmented MP4 (ISO/IEC 14496-12 8.8, CMAF-compatible): an init segment (ftyp + moov with empty
 * sample tables and mvex/trex) and fragments (moof + mdat) for live fMP4, HLS fMP4 and MP4 recording.
 */

/** sample_depends_on = 2 (an I picture), sync. */
export const SYNC_SAMPLE_FLAGS = 0x02000000;
/** sample_depends_on = 1, sample_is_non_sync_sample = 1. */
export const NON_SYNC_SAMPLE_FLAGS = 0x01010000;

/** Sample bytes in MP4 form: h264/h265 4-byte length-prefixed NALs (no copy: returns the pieces); others as is. */
export function mp4SampleData(codec: VideoCodec | AudioCodec, data: readonly Buffer[]): Buffer[] {
  if (codec !== 'h264' && codec !== 'h265') return [...data];
  const prefixes = Buffer.allocUnsafe(4 * data.length);
  const out: Buffer[] = [];
  data.forEach((nal, i) => {
    const p = prefixes.subarray(i * 4, i * 4 + 4);
    p.writeUInt32BE(nal.length, 0);
    out.push(p, nal);
  });
  return out;
}

/** ftyp + moov (with mvex/trex) for fragmented MP4 (CMAF-compatible: iso6/cmfc brands, one or more tracks). */
export function buildInitSegment(tracks: readonly Mp4Track[]): Buffer {
  const emptyTables = [
    fullBox('stts', 0, 0, u32(0)),
    fullBox('stsc', 0, 0, u32(0)),
    fullBox('stsz', 0, 0, u32(0), u32(0)),
    fullBox('stco', 0, 0, u32(0)),
  ];
  const trex = tracks.map((t) => {
    const b = Buffer.alloc(20);
    b.writeUInt32BE(t.id, 0);
    b.writeUInt32BE(1, 4); // default_sample_description_index
    return fullBox('trex', 0, 0, b);
  });
  const moov = buildMoov(
    tracks.map((track) => ({ track, duration: 0, tables: emptyTables })),
    [box('mvex', ...trex)],
  );
  return Buffer.concat([ftyp('iso6', 0, ['iso6', 'cmfc', 'mp41']), moov]);
}

export interface Mp4FragmentPart {
  trackId: number;
  /** decode time of the first sample, in track timescale units */
  baseDecodeTime: number;
  samples: readonly Mp4Sample[];
  /** the sample bytes in order (any split: their total is the sum of the sample sizes) */
  data: readonly Buffer[];
}

const TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800; // data offset, duration, size, flags, cts

function checkSample(s: Mp4Sample): void {
  const ok =
    Number.isInteger(s.duration) &&
    s.duration >= 0 &&
    s.duration <= 0xffffffff &&
    Number.isInteger(s.size) &&
    s.size >= 0 &&
    s.size <= 0xffffffff &&
    Number.isInteger(s.cts) &&
    s.cts >= -0x80000000 &&
    s.cts <= 0x7fffffff;
  if (!ok) throw new MediaError('BAD_ARGUMENT', `sample duration ${s.duration}, size ${s.size}, cts ${s.cts}`);
}

function traf(part: Mp4FragmentPart, dataOffset: number): Buffer {
  if (!(Number.isInteger(part.baseDecodeTime) && part.baseDecodeTime >= 0)) {
    throw new MediaError('BAD_ARGUMENT', `base decode time ${part.baseDecodeTime}`);
  }
  const n = part.samples.length;
  const trun = Buffer.alloc(8 + 16 * n);
  trun.writeUInt32BE(n, 0);
  trun.writeInt32BE(dataOffset, 4);
  part.samples.forEach((s, i) => {
    checkSample(s);
    const o = 8 + 16 * i;
    trun.writeUInt32BE(s.duration, o);
    trun.writeUInt32BE(s.size, o + 4);
    trun.writeUInt32BE(s.keyFrame ? SYNC_SAMPLE_FLAGS : NON_SYNC_SAMPLE_FLAGS, o + 8);
    trun.writeInt32BE(s.cts, o + 12);
  });
  const tfdt = Buffer.alloc(8);
  tfdt.writeBigUInt64BE(BigInt(part.baseDecodeTime), 0);
  return box(
    'traf',
    fullBox('tfhd', 0, 0x020000, u32(part.trackId)), // default-base-is-moof
    fullBox('tfdt', 1, 0, tfdt),
    fullBox('trun', 1, TRUN_FLAGS, trun),
  );
}

/** Size of the traf of a part (it does not depend on the values). */
function trafSize(samples: number): number {
  return 8 + 16 + 20 + 12 + 8 + 16 * samples;
}

/** moof + mdat for one fragment; returns [moof+mdat header, ...sample data] (data not copied). */
export function buildFragment(sequence: number, parts: readonly Mp4FragmentPart[]): Buffer[] {
  if (parts.length === 0) throw new MediaError('BAD_ARGUMENT', 'a fragment needs at least one track part');
  let dataSize = 0;
  const partSizes = parts.map((p) => {
    let size = 0;
    for (const s of p.samples) size += s.size;
    let have = 0;
    for (const d of p.data) have += d.length;
    if (have !== size) throw new MediaError('BAD_ARGUMENT', `track ${p.trackId}: ${have} data bytes for samples of ${size}`);
    dataSize += size;
    return size;
  });
  const mdatHeader = boxHeader('mdat', dataSize);
  const moofSize = 8 + 16 + parts.reduce((sum, p) => sum + trafSize(p.samples.length), 0);
  let offset = moofSize + mdatHeader.length;
  const trafs = parts.map((p, i) => {
    const t = traf(p, offset);
    offset += partSizes[i];
    return t;
  });
  const moof = box('moof', fullBox('mfhd', 0, 0, u32(sequence)), ...trafs);
  if (moof.length !== moofSize) throw new MediaError('BAD_ARGUMENT', 'moof size mismatch');
  return [Buffer.concat([moof, mdatHeader]), ...parts.flatMap((p) => p.data)];
}
