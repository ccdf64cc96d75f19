import { aacConfig } from '../codecs/aac';
import { av1Config } from '../codecs/av1';
import { g711Config } from '../codecs/g711';
import { h264ConfigFromRecord } from '../codecs/h264';
import { h265ConfigFromRecord } from '../codecs/h265';
import { buildOpusHead, opusConfig, parseOpusHead } from '../codecs/opus';
import { vp9Config } from '../codecs/vp9';
import { MediaError } from '../media.errors';
import { AudioConfig, TrackConfig, VideoConfig } from '../media.types';
import { box, childBoxes, ChildBox, fullBox, u32 } from './mp4-box';

/**
 * Sample entries (the child of stsd) for the codecs the server carries, and the way back from a
 * sample entry to a TrackConfig: avc1/avc3 (avcC), hvc1/hev1 (hvcC), av01 (av1C), vp09 (vpcC),
 * mp4a (esds: AAC or MP3), Opus (dOps), alaw/ulaw.
 */

const OTI_AAC = 0x40;
const OTI_MP3 = 0x6b;
const AAC_OTIS = new Set([0x40, 0x66, 0x67, 0x68]);
const MP3_OTIS = new Set([0x69, 0x6b]);

/** The handler type of a track: 'vide' or 'soun'. */
export function handlerType(config: TrackConfig): 'vide' | 'soun' {
  return config.kind === 'video' ? 'vide' : 'soun';
}

/** The sample entry box of a track (what stsd holds). */
function buildSampleEntry(config: TrackConfig, trackId = 1): Buffer {
  return config.kind === 'video' ? videoEntry(config) : audioEntry(config, trackId);
}

/** Ensures the length-size field of an avcC/hvcC record says 4 bytes (the samples are written so). */
function withLengthSize4(record: Buffer, byteIndex: number): Buffer {
  if (record.length <= byteIndex) throw new MediaError('BAD_RECORD', 'decoder configuration record too short');
  if ((record[byteIndex] & 3) === 3) return record;
  const copy = Buffer.from(record);
  copy[byteIndex] |= 3;
  return copy;
}

function videoEntry(c: VideoConfig): Buffer {
  let type: string;
  let config: Buffer;
  switch (c.codec) {
    case 'h264':
      type = 'avc1';
      config = box('avcC', withLengthSize4(c.record, 4));
      break;
    case 'h265':
      type = 'hvc1';
      config = box('hvcC', withLengthSize4(c.record, 21));
      break;
    case 'av1':
      type = 'av01';
      config = box('av1C', c.record);
      break;
    case 'vp9': {
      type = 'vp09';
      const hasPrefix = c.record.length >= 12 && c.record[0] === 1 && c.record.readUIntBE(1, 3) === 0;
      config = hasPrefix ? box('vpcC', c.record) : fullBox('vpcC', 1, 0, c.record);
      break;
    }
    default:
      throw new MediaError('UNSUPPORTED', `video codec ${String((c as VideoConfig).codec)} in MP4`);
  }
  if (!(c.width >= 0 && c.width <= 0xffff && c.height >= 0 && c.height <= 0xffff)) {
    throw new MediaError('BAD_ARGUMENT', `video size ${c.width}x${c.height}`);
  }
  const head = Buffer.alloc(78);
  head.writeUInt16BE(1, 6); // data_reference_index
  head.writeUInt16BE(c.width, 24);
  head.writeUInt16BE(c.height, 26);
  head.writeUInt32BE(0x00480000, 28); // 72 dpi
  head.writeUInt32BE(0x00480000, 32);
  head.writeUInt16BE(1, 40); // frame_count
  head.writeUInt16BE(0x18, 74); // depth
  head.writeInt16BE(-1, 76);
  return box(type, head, config);
}

function audioHead(channels: number, sampleRate: number): Buffer {
  const head = Buffer.alloc(28);
  head.writeUInt16BE(1, 6);
  head.writeUInt16BE(channels, 16);
  head.writeUInt16BE(16, 18);
  head.writeUInt32BE(sampleRate <= 0xffff ? sampleRate * 65536 : 0, 24);
  return head;
}

function descriptor(tag: number, ...body: Buffer[]): Buffer {
  let len = 0;
  for (const b of body) len += b.length;
  const sizeBytes: number[] = [len & 0x7f];
  for (let n = len >>> 7; n > 0; n >>>= 7) sizeBytes.unshift((n & 0x7f) | 0x80);
  return Buffer.concat([Buffer.from([tag, ...sizeBytes]), ...body]);
}

function esds(trackId: number, oti: number, dsi: Buffer | undefined): Buffer {
  const dcd = Buffer.alloc(13);
  dcd[0] = oti;
  dcd[1] = (0x05 << 2) | 1; // audio stream
  const es = Buffer.from([(trackId >> 8) & 0xff, trackId & 0xff, 0]);
  const decoderConfig = dsi ? descriptor(0x04, dcd, descriptor(0x05, dsi)) : descriptor(0x04, dcd);
  return fullBox('esds', 0, 0, descriptor(0x03, es, decoderConfig, descriptor(0x06, Buffer.from([0x02]))));
}

function audioEntry(c: AudioConfig, trackId: number): Buffer {
  if (!(c.channels >= 1 && c.channels <= 0xffff)) throw new MediaError('BAD_ARGUMENT', `channels ${c.channels}`);
  switch (c.codec) {
    case 'aac':
      return box('mp4a', audioHead(c.channels, c.sampleRate), esds(trackId, OTI_AAC, c.record));
    case 'mp3':
      return box('mp4a', audioHead(c.channels, c.sampleRate), esds(trackId, OTI_MP3, undefined));
    case 'opus': {
      const h = parseOpusHead(c.record);
      const dops = Buffer.alloc(11 + (h.mappingFamily !== 0 ? 2 + h.channels : 0));
      dops[0] = 0;
      dops[1] = h.channels;
      dops.writeUInt16BE(h.preSkip, 2);
      dops.writeUInt32BE(h.inputSampleRate, 4);
      dops.writeInt16BE(h.outputGain, 8);
      dops[10] = h.mappingFamily;
      if (h.mappingFamily !== 0) {
        dops[11] = h.streamCount ?? 0;
        dops[12] = h.coupledCount ?? 0;
        (h.channelMapping ?? []).forEach((m, i) => (dops[13 + i] = m));
      }
      return box('Opus', audioHead(h.channels, 48000), box('dOps', dops));
    }
    case 'pcma':
    case 'pcmu':
      return box(c.codec === 'pcma' ? 'alaw' : 'ulaw', audioHead(c.channels, c.sampleRate));
    default:
      throw new MediaError('UNSUPPORTED', `audio codec ${String((c as AudioConfig).codec)} in MP4`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading

/**
 * The TrackConfig of a sample entry (`entry` = the box inside stsd, in `buf`). Returns undefined for
 * codecs the server does not carry (and for encrypted entries); throws MediaError for a malformed one.
 */
export function configFromSampleEntry(buf: Buffer, entry: ChildBox): TrackConfig | undefined {
  switch (entry.type) {
    case 'avc1':
    case 'avc3':
    case 'hvc1':
    case 'hev1':
    case 'av01':
    case 'vp09':
      return readVideoEntry(buf, entry);
    case 'mp4a':
    case 'Opus':
    case 'alaw':
    case 'ulaw':
      return readAudioEntry(buf, entry);
    default:
      return undefined;
  }
}

function need(entry: ChildBox, size: number): void {
  if (entry.end - entry.payload < size) throw new MediaError('TRUNCATED', `sample entry '${entry.type}' too short`);
}

function childPayload(buf: Buffer, children: ChildBox[], type: string, entry: string): Buffer {
  const c = children.find((b) => b.type === type);
  if (!c) throw new MediaError('BAD_RECORD', `'${entry}' without '${type}'`);
  return buf.subarray(c.payload, c.end);
}

function readVideoEntry(buf: Buffer, entry: ChildBox): VideoConfig {
  need(entry, 78);
  const width = buf.readUInt16BE(entry.payload + 24);
  const height = buf.readUInt16BE(entry.payload + 26);
  const children = childBoxes(buf, entry.payload + 78, entry.end);
  // Copies: the config outlives the moov buffer it came from.
  const record = (type: string) => Buffer.from(childPayload(buf, children, type, entry.type));
  switch (entry.type) {
    case 'avc1':
    case 'avc3':
      return h264ConfigFromRecord(record('avcC'));
    case 'hvc1':
    case 'hev1':
      return h265ConfigFromRecord(record('hvcC'));
    case 'av01':
      return av1Config(record('av1C'), width, height);
    default:
      return vp9Config(record('vpcC'), width, height);
  }
}

/** Walks an ES descriptor chain to the DecoderConfigDescriptor: objectTypeIndication and DecoderSpecificInfo. */
function parseEsds(p: Buffer): { oti: number; dsi?: Buffer } {
  let off = 4; // version + flags
  const readDescriptor = (): { tag: number; start: number; end: number } => {
    if (off + 2 > p.length) throw new MediaError('TRUNCATED', 'esds descriptor cut');
    const tag = p[off++];
    let len = 0;
    for (let i = 0; ; i++) {
      if (i === 4 || off >= p.length) throw new MediaError('BAD_RECORD', 'esds descriptor length');
      const b = p[off++];
      len = len * 128 + (b & 0x7f);
      if (!(b & 0x80)) break;
    }
    if (off + len > p.length) throw new MediaError('TRUNCATED', 'esds descriptor past the end');
    return { tag, start: off, end: off + len };
  };
  const es = readDescriptor();
  if (es.tag !== 0x03 || es.end - es.start < 3) throw new MediaError('BAD_RECORD', 'esds without ES_Descriptor');
  const flags = p[es.start + 2];
  off = es.start + 3;
  if (flags & 0x80) off += 2;
  if (flags & 0x40) off += 1 + (p[off] ?? 0);
  if (flags & 0x20) off += 2;
  while (off < es.end) {
    const d = readDescriptor();
    if (d.tag !== 0x04) {
      off = d.end;
      continue;
    }
    if (d.end - d.start < 13) throw new MediaError('BAD_RECORD', 'DecoderConfigDescriptor too short');
    const oti = p[d.start];
    off = d.start + 13;
    while (off < d.end) {
      const s = readDescriptor();
      if (s.tag === 0x05) return { oti, dsi: Buffer.from(p.subarray(s.start, s.end)) };
      off = s.end;
    }
    return { oti };
  }
  throw new MediaError('BAD_RECORD', 'esds without DecoderConfigDescriptor');
}

function readAudioEntry(buf: Buffer, entry: ChildBox): AudioConfig | undefined {
  need(entry, 28);
  const version = buf.readUInt16BE(entry.payload + 8); // QuickTime sound description version
  const channels = buf.readUInt16BE(entry.payload + 16);
  const sampleRate = buf.readUInt32BE(entry.payload + 24) >>> 16;
  const skip = version === 1 ? 16 : version === 2 ? 36 : 0;
  need(entry, 28 + skip);
  let children = childBoxes(buf, entry.payload + 28 + skip, entry.end);
  switch (entry.type) {
    case 'mp4a': {
      const wave = children.find((c) => c.type === 'wave');
      if (wave && !children.some((c) => c.type === 'esds')) children = childBoxes(buf, wave.payload, wave.end);
      const { oti, dsi } = parseEsds(childPayload(buf, children, 'esds', 'mp4a'));
      if (AAC_OTIS.has(oti)) {
        if (!dsi) throw new MediaError('BAD_RECORD', 'AAC esds without AudioSpecificConfig');
        return aacConfig(dsi);
      }
      if (MP3_OTIS.has(oti)) {
        if (!(channels >= 1 && sampleRate > 0)) throw new MediaError('BAD_RECORD', 'MP3 sample entry without rate/channels');
        return { kind: 'audio', codec: 'mp3', record: Buffer.alloc(0), sampleRate, channels };
      }
      return undefined;
    }
    case 'Opus': {
      const d = childPayload(buf, children, 'dOps', 'Opus');
      if (d.length < 11) throw new MediaError('TRUNCATED', 'dOps too short');
      const family = d[10];
      if (family !== 0 && d.length < 13 + d[1]) throw new MediaError('TRUNCATED', 'dOps channel mapping cut');
      const head = buildOpusHead({
        channels: d[1],
        preSkip: d.readUInt16BE(2),
        inputSampleRate: d.readUInt32BE(4),
        outputGain: d.readInt16BE(8),
        mapping:
          family !== 0 ? { family, streamCount: d[11], coupledCount: d[12], channelMapping: Array.from(d.subarray(13, 13 + d[1])) } : undefined,
      });
      return opusConfig(head);
    }
    default:
      return g711Config(entry.type === 'alaw' ? 'pcma' : 'pcmu', sampleRate || 8000, channels || 1);
  }
}

/** The stsd box holding one sample entry. */
export function buildStsd(config: TrackConfig, trackId: number): Buffer {
  return fullBox('stsd', 0, 0, u32(1), buildSampleEntry(config, trackId));
}

