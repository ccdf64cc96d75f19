import { MediaError } from '../media.errors';
import { TrackConfig } from '../media.types';
import { ChildBox, childBoxes, parseBoxHeader, readI64, readU64, requireBox } from './mp4-box';
import { rescale } from './mp4-moov';
import { configFromSampleEntry } from './mp4-sample-entry';
import { ByteSource, Mp4Index, Mp4IndexedSample } from './mp4.types';

/**
 * Sample index of an MP4 file, progressive (moov sample tables) or fragmented (moov + mvex, then
 * moof/mdat pairs), read through box headers: only moov and moof boxes are loaded, never the media data.
 *
 * Times: each track's samples keep their decode times in the track timescale, moved by the track's edit
 * list (an empty edit delays the track; a media start time moves it earlier), so pts = dts + cts is the
 * presentation time of every sample.
 */

export interface Mp4ReadLimits {
  /** largest moov / moof box loaded (default 256 MiB) */
  maxBoxSize?: number;
  /** most samples over all tracks (default 5 million) */
  maxSamples?: number;
}

const DEFAULT_MAX_BOX = 256 * 1024 * 1024;
const DEFAULT_MAX_SAMPLES = 5_000_000;
const MAX_TRACKS = 64;

const SAMPLE_IS_NON_SYNC = 0x00010000;

interface TrackState {
  id: number;
  timescale: number;
  /** undefined when the codec is not one the server carries: the track is left out */
  config?: TrackConfig;
  samples: Mp4IndexedSample[];
  /** decode time after the last sample */
  nextDts: number;
  /** edit list: leading empty time (movie timescale), media start (track timescale) */
  empty: number;
  mediaTime: number;
  trex: { duration: number; size: number; flags: number };
}

interface Reader {
  source: ByteSource;
  maxBox: number;
  maxSamples: number;
  samples: number;
  movieTimescale: number;
  tracks: Map<number, TrackState>;
}

/** Reads progressive (moov sample tables) and fragmented (moof/traf/trun) files; stops at a torn tail. */
export async function readMp4Index(source: ByteSource, limits: Mp4ReadLimits = {}): Promise<Mp4Index> {
  const r: Reader = {
    source,
    maxBox: limits.maxBoxSize ?? DEFAULT_MAX_BOX,
    maxSamples: limits.maxSamples ?? DEFAULT_MAX_SAMPLES,
    samples: 0,
    movieTimescale: 0,
    tracks: new Map(),
  };
  const size = source.size;
  let off = 0;
  let validEnd = 0;
  let torn = false;
  let moovSeen = false;
  let fragmented = false;
  /** samples of read moofs whose data has not been seen whole yet */
  let pending: { state: TrackState; samples: Mp4IndexedSample[]; nextDts: number }[] = [];
  let pendingEnd = 0;
  while (off < size) {
    const head = await readExactly(source, off, Math.min(16, size - off));
    const h = guard(() => parseBoxHeader(head, 0, size - off));
    if (!h || off + h.size > size) {
      torn = true;
      break;
    }
    if (h.type === 'moov' || h.type === 'moof') {
      if (h.size > r.maxBox) throw new MediaError('UNSUPPORTED', `${h.type} box of ${h.size} bytes`);
      const buf = await readExactly(source, off, h.size);
      if (h.type === 'moov') {
        if (moovSeen) throw new MediaError('BAD_RECORD', 'two moov boxes');
        moovSeen = true;
        guard(() => parseMoov(r, buf, h.headerSize));
      } else {
        if (!moovSeen) throw new MediaError('BAD_RECORD', 'moof before moov');
        fragmented = true;
        const frag = guard(() => parseMoof(r, buf, h.headerSize, off, pending));
        pending = frag.parts;
        pendingEnd = Math.max(pendingEnd, frag.dataEnd, off + h.size);
      }
    }
    off += h.size;
    if (pending.length > 0 && pendingEnd <= off) {
      for (const p of pending) {
        for (const s of p.samples) p.state.samples.push(s);
        p.state.nextDts = p.nextDts;
      }
      pending = [];
    }
    if (pending.length === 0) validEnd = off;
  }
  if (pending.length > 0) torn = true;
  if (!moovSeen) throw new MediaError(torn ? 'TRUNCATED' : 'BAD_RECORD', 'no moov box');
  const tracks: Mp4Index['tracks'] = [];
  for (const t of r.tracks.values()) {
    if (!t.config) continue;
    let samples = t.samples;
    if (!fragmented) {
      // a progressive file cut inside its mdat: keep the samples whose bytes are all there
      const whole = samples.filter((s) => s.offset + s.size <= size);
      if (whole.length < samples.length) torn = true;
      samples = whole;
    }
    const shift = rescale(t.empty, r.movieTimescale || 1, t.timescale) - t.mediaTime;
    if (shift !== 0) for (const s of samples) s.dts += shift;
    tracks.push({ track: { id: t.id, config: t.config, timescale: t.timescale }, samples });
  }
  return { tracks, fragmented, complete: !torn, validEnd };
}

async function readExactly(source: ByteSource, offset: number, length: number): Promise<Buffer> {
  const buf = await source.read(offset, length);
  if (buf.length < length) throw new MediaError('TRUNCATED', `read ${buf.length} of ${length} bytes at ${offset}`);
  return buf.length === length ? buf : buf.subarray(0, length);
}

/** Runs a parse step, turning out-of-range reads of a malformed box into MediaError. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    // Buffer reads past the end throw RangeError (by name: Node's error may come from another realm)
    if ((e as Error | undefined)?.name === 'RangeError') throw new MediaError('TRUNCATED', `box field past its end: ${(e as Error).message}`);
    throw e;
  }
}

function payload(buf: Buffer, b: ChildBox): Buffer {
  return buf.subarray(b.payload, b.end);
}

/** Checks that a table of `count` entries of `entrySize` bytes fits in `p` after `start` bytes. */
function table(p: Buffer, start: number, count: number, entrySize: number, what: string): void {
  if (count * entrySize > p.length - start) throw new MediaError('TRUNCATED', `${what}: ${count} entries do not fit`);
}

function addSamples(r: Reader, n: number): void {
  r.samples += n;
  if (r.samples > r.maxSamples) throw new MediaError('UNSUPPORTED', `more than ${r.maxSamples} samples`);
}

// ---------------------------------------------------------------------------------------------------
// moov

function parseMoov(r: Reader, buf: Buffer, headerSize: number): void {
  const boxes = childBoxes(buf, headerSize, buf.length);
  const mvhd = payload(buf, requireBox(buf, 'mvhd', headerSize, buf.length));
  r.movieTimescale = mvhd.readUInt32BE(mvhd[0] === 1 ? 20 : 12);
  const traks = boxes.filter((b) => b.type === 'trak');
  if (traks.length > MAX_TRACKS) throw new MediaError('UNSUPPORTED', `${traks.length} tracks`);
  for (const trak of traks) {
    const t = parseTrak(r, buf, trak);
    if (r.tracks.has(t.id)) throw new MediaError('BAD_RECORD', `two tracks with id ${t.id}`);
    r.tracks.set(t.id, t);
  }
  const mvex = boxes.find((b) => b.type === 'mvex');
  if (mvex) {
    for (const b of childBoxes(buf, mvex.payload, mvex.end)) {
      if (b.type !== 'trex') continue;
      const p = payload(buf, b);
      const t = r.tracks.get(p.readUInt32BE(4));
      if (t) t.trex = { duration: p.readUInt32BE(12), size: p.readUInt32BE(16), flags: p.readUInt32BE(20) };
    }
  }
}

function parseTrak(r: Reader, buf: Buffer, trak: ChildBox): TrackState {
  const tkhd = payload(buf, requireBox(buf, 'tkhd', trak.payload, trak.end));
  const id = tkhd.readUInt32BE(tkhd[0] === 1 ? 20 : 12);
  const mdia = requireBox(buf, 'mdia', trak.payload, trak.end);
  const mdhd = payload(buf, requireBox(buf, 'mdhd', mdia.payload, mdia.end));
  const timescale = mdhd.readUInt32BE(mdhd[0] === 1 ? 20 : 12);
  if (timescale === 0) throw new MediaError('BAD_RECORD', `track ${id}: timescale 0`);
  const handler = payload(buf, requireBox(buf, 'hdlr', mdia.payload, mdia.end)).toString('latin1', 8, 12);
  const minf = requireBox(buf, 'minf', mdia.payload, mdia.end);
  const stbl = requireBox(buf, 'stbl', minf.payload, minf.end);
  const stsd = payload(buf, requireBox(buf, 'stsd', stbl.payload, stbl.end));
  let config: TrackConfig | undefined;
  if ((handler === 'vide' || handler === 'soun') && stsd.readUInt32BE(4) > 0) {
    const [entry] = childBoxes(stsd, 8, stsd.length);
    config = entry ? configFromSampleEntry(stsd, entry) : undefined;
    if (config && config.kind !== (handler === 'vide' ? 'video' : 'audio')) config = undefined;
  }
  const state: TrackState = {
    id,
    timescale,
    config,
    samples: [],
    nextDts: 0,
    empty: 0,
    mediaTime: 0,
    trex: { duration: 0, size: 0, flags: 0 },
  };
  const edts = childBoxes(buf, trak.payload, trak.end).find((b) => b.type === 'edts');
  const elst = edts && childBoxes(buf, edts.payload, edts.end).find((b) => b.type === 'elst');
  if (elst) readEditList(state, payload(buf, elst));
  readSampleTables(r, state, buf, stbl);
  return state;
}

function readEditList(state: TrackState, p: Buffer): void {
  const v1 = p[0] === 1;
  const count = p.readUInt32BE(4);
  const size = v1 ? 20 : 12;
  table(p, 8, count, size, 'elst');
  for (let i = 0; i < count; i++) {
    const o = 8 + i * size;
    const duration = v1 ? readU64(p, o) : p.readUInt32BE(o);
    const mediaTime = v1 ? readI64(p, o + 8) : p.readInt32BE(o + 4);
    if (mediaTime === -1) {
      state.empty += duration;
      continue;
    }
    state.mediaTime = Math.max(0, mediaTime);
    return;
  }
}

function readSampleTables(r: Reader, t: TrackState, buf: Buffer, stbl: ChildBox): void {
  const boxes = childBoxes(buf, stbl.payload, stbl.end);
  const get = (type: string) => {
    const b = boxes.find((x) => x.type === type);
    return b && payload(buf, b);
  };
  // sizes
  let count: number;
  let sizeOf: (i: number) => number;
  const stsz = get('stsz');
  const stz2 = get('stz2');
  if (stsz) {
    const fixed = stsz.readUInt32BE(4);
    count = stsz.readUInt32BE(8);
    if (fixed === 0) table(stsz, 12, count, 4, 'stsz');
    sizeOf = fixed !== 0 ? () => fixed : (i) => stsz.readUInt32BE(12 + 4 * i);
  } else if (stz2) {
    const field = stz2[7];
    count = stz2.readUInt32BE(8);
    if (field !== 4 && field !== 8 && field !== 16) throw new MediaError('BAD_RECORD', `stz2 field size ${field}`);
    table(stz2, 12, Math.ceil((count * field) / 8), 1, 'stz2');
    sizeOf =
      field === 16
        ? (i) => stz2.readUInt16BE(12 + 2 * i)
        : field === 8
          ? (i) => stz2[12 + i]
          : (i) => (i % 2 === 0 ? stz2[12 + (i >> 1)] >> 4 : stz2[12 + (i >> 1)] & 15);
  } else {
    throw new MediaError('BAD_RECORD', `track ${t.id}: no stsz`);
  }
  if (count === 0) return;
  addSamples(r, count);
  // chunk offsets
  const stco = get('stco');
  const co64 = get('co64');
  const chunkBox = stco ?? co64;
  if (!chunkBox) throw new MediaError('BAD_RECORD', `track ${t.id}: no stco`);
  const chunks = chunkBox.readUInt32BE(4);
  table(chunkBox, 8, chunks, stco ? 4 : 8, 'stco');
  const chunkOffset = stco ? (c: number) => stco.readUInt32BE(8 + 4 * c) : (c: number) => readU64(chunkBox, 8 + 8 * c);
  const stsc = get('stsc');
  if (!stsc) throw new MediaError('BAD_RECORD', `track ${t.id}: no stsc`);
  const stscCount = stsc.readUInt32BE(4);
  table(stsc, 8, stscCount, 12, 'stsc');
  // decode times
  const stts = get('stts');
  if (!stts) throw new MediaError('BAD_RECORD', `track ${t.id}: no stts`);
  const sttsCount = stts.readUInt32BE(4);
  table(stts, 8, sttsCount, 8, 'stts');
  const ctts = get('ctts');
  const cttsCount = ctts ? ctts.readUInt32BE(4) : 0;
  if (ctts) table(ctts, 8, cttsCount, 8, 'ctts');
  const stss = get('stss');
  let sync: Set<number> | undefined;
  if (stss && t.config?.kind === 'video') {
    const n = stss.readUInt32BE(4);
    table(stss, 8, n, 4, 'stss');
    sync = new Set();
    for (let i = 0; i < n; i++) sync.add(stss.readUInt32BE(8 + 4 * i) - 1);
  }

  const samples: Mp4IndexedSample[] = new Array(count);
  let i = 0;
  // stsc -> offsets
  for (let e = 0; e < stscCount && i < count; e++) {
    const first = stsc.readUInt32BE(8 + 12 * e) - 1;
    const perChunk = stsc.readUInt32BE(12 + 12 * e);
    const next = e + 1 < stscCount ? stsc.readUInt32BE(8 + 12 * (e + 1)) - 1 : chunks;
    if (first < 0 || next > chunks || next < first) throw new MediaError('BAD_RECORD', 'stsc chunk numbers');
    for (let c = first; c < next && i < count; c++) {
      let offset = chunkOffset(c);
      for (let k = 0; k < perChunk && i < count; k++, i++) {
        const size = sizeOf(i);
        samples[i] = { offset, size, dts: 0, duration: 0, cts: 0, keyFrame: sync ? sync.has(i) : true };
        offset += size;
      }
    }
  }
  if (i < count) throw new MediaError('BAD_RECORD', `track ${t.id}: chunks hold ${i} of ${count} samples`);
  // stts -> dts, duration
  let dts = 0;
  i = 0;
  for (let e = 0; e < sttsCount && i < count; e++) {
    const n = stts.readUInt32BE(8 + 8 * e);
    const delta = stts.readUInt32BE(12 + 8 * e);
    for (let k = 0; k < n && i < count; k++, i++) {
      samples[i].dts = dts;
      samples[i].duration = delta;
      dts += delta;
    }
  }
  if (i < count) throw new MediaError('BAD_RECORD', `track ${t.id}: stts covers ${i} of ${count} samples`);
  // ctts -> composition offsets
  i = 0;
  for (let e = 0; ctts && e < cttsCount && i < count; e++) {
    const n = ctts.readUInt32BE(8 + 8 * e);
    const off = ctts.readInt32BE(12 + 8 * e);
    for (let k = 0; k < n && i < count; k++, i++) samples[i].cts = off;
  }
  t.samples = samples;
  t.nextDts = dts;
}

// ---------------------------------------------------------------------------------------------------
// moof

interface FragmentParts {
  parts: { state: TrackState; samples: Mp4IndexedSample[]; nextDts: number }[];
  /** end of the last sample's data */
  dataEnd: number;
}

function parseMoof(
  r: Reader,
  buf: Buffer,
  headerSize: number,
  moofOffset: number,
  pending: FragmentParts['parts'],
): FragmentParts {
  // A moof whose data never came (two moofs in a row) is dropped with the previous pending parts kept.
  const parts = [...pending];
  let dataEnd = 0;
  let previousTrafEnd = moofOffset;
  for (const traf of childBoxes(buf, headerSize, buf.length)) {
    if (traf.type !== 'traf') continue;
    const boxes = childBoxes(buf, traf.payload, traf.end);
    const tfhdBox = boxes.find((b) => b.type === 'tfhd');
    if (!tfhdBox) throw new MediaError('BAD_RECORD', 'traf without tfhd');
    const tfhd = payload(buf, tfhdBox);
    const flags = tfhd.readUInt32BE(0) & 0xffffff;
    const t = r.tracks.get(tfhd.readUInt32BE(4));
    if (!t) throw new MediaError('BAD_RECORD', `traf of unknown track ${tfhd.readUInt32BE(4)}`);
    let o = 8;
    /** the next 32-bit field of the tfhd */
    const field = () => tfhd.readUInt32BE((o += 4) - 4);
    let base = moofOffset;
    if (flags & 0x01) {
      base = readU64(tfhd, o);
      o += 8;
    } else if (!(flags & 0x020000)) {
      base = previousTrafEnd;
    }
    if (flags & 0x02) o += 4;
    const defDuration = flags & 0x08 ? field() : t.trex.duration;
    const defSize = flags & 0x10 ? field() : t.trex.size;
    const defFlags = flags & 0x20 ? field() : t.trex.flags;

    const already = parts.find((p) => p.state === t);
    let dts = already ? already.nextDts : t.nextDts;
    const tfdt = boxes.find((b) => b.type === 'tfdt');
    if (tfdt) {
      const p = payload(buf, tfdt);
      dts = p[0] === 1 ? readU64(p, 4) : p.readUInt32BE(4);
    }
    const samples: Mp4IndexedSample[] = [];
    let cursor = base;
    for (const trunBox of boxes) {
      if (trunBox.type !== 'trun') continue;
      const p = payload(buf, trunBox);
      const tf = p.readUInt32BE(0) & 0xffffff;
      const n = p.readUInt32BE(4);
      let q = 8;
      if (tf & 0x01) {
        cursor = base + p.readInt32BE(q);
        q += 4;
      }
      let firstFlags: number | undefined;
      if (tf & 0x04) {
        firstFlags = p.readUInt32BE(q);
        q += 4;
      }
      const per = ((tf & 0x100) >> 8) + ((tf & 0x200) >> 9) + ((tf & 0x400) >> 10) + ((tf & 0x800) >> 11);
      table(p, q, n, per * 4, 'trun');
      addSamples(r, n);
      if (cursor < 0) throw new MediaError('BAD_RECORD', 'trun data before the file start');
      for (let i = 0; i < n; i++) {
        const duration = tf & 0x100 ? p.readUInt32BE((q += 4) - 4) : defDuration;
        const size = tf & 0x200 ? p.readUInt32BE((q += 4) - 4) : defSize;
        let sampleFlags = tf & 0x400 ? p.readUInt32BE((q += 4) - 4) : defFlags;
        if (i === 0 && firstFlags !== undefined) sampleFlags = firstFlags;
        const cts = tf & 0x800 ? p.readInt32BE((q += 4) - 4) : 0;
        const keyFrame = t.config?.kind !== 'video' || !(sampleFlags & SAMPLE_IS_NON_SYNC);
        samples.push({ offset: cursor, size, dts, duration, cts, keyFrame });
        cursor += size;
        dts += duration;
      }
      dataEnd = Math.max(dataEnd, cursor);
    }
    previousTrafEnd = cursor;
    if (!t.config) continue;
    if (already) {
      already.samples.push(...samples);
      already.nextDts = dts;
    } else {
      parts.push({ state: t, samples, nextDts: dts });
    }
  }
  return { parts, dataEnd };
}

