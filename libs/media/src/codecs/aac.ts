import { BitReader, BitWriter } from '../bit-reader';
import { MediaError } from '../media.errors';
import { AudioConfig } from '../media.types';

/** samplingFrequencyIndex -> Hz (ISO/IEC 14496-3 Table 1.18); 13, 14 reserved, 15 = explicit. */
export const AAC_SAMPLE_RATES: readonly number[] = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** channelConfiguration -> channel count (0 = defined by a program config element). */
const CHANNELS_BY_CONFIG = [0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8];

export const AacObjectType = {
  MAIN: 1,
  LC: 2,
  SSR: 3,
  LTP: 4,
  SBR: 5,
  SCALABLE: 6,
  ER_LC: 17,
  ER_LTP: 19,
  ER_SCALABLE: 20,
  ER_BSAC: 22,
  LD: 23,
  PS: 29,
  ESCAPE: 31,
  ELD: 39,
  USAC: 42,
} as const;

export interface AacSpecificConfig {
  /** the core object type: 2 for LC, also for HE-AAC with explicit signalling */
  objectType: number;
  /** core sampling frequency */
  sampleRate: number;
  /** 0..12, or 15 when the rate is written explicitly */
  samplingFrequencyIndex: number;
  channelConfig: number;
  /** channel count of the core stream (from the PCE when channelConfig is 0) */
  channels: number;
  /** SBR signalled (HE-AAC) */
  sbr: boolean;
  /** parametric stereo signalled (HE-AAC v2) */
  ps: boolean;
  /** SBR output rate, when signalled */
  extensionSampleRate?: number;
  /** samples per frame: 1024 (or 960) for the core codec */
  frameLength: number;
  /** 'LC', 'HE-AAC', 'HE-AACv2', 'Main', 'LTP', 'SSR', 'LD', 'ELD', ... */
  profile: string;
}

/** GetAudioObjectType() (ISO/IEC 14496-3 1.6.2.1): 5 bits, or 32 + 6 more bits after the escape value 31. */
export function readAudioObjectType(r: BitReader): number {
  const t = r.readBits(5);
  return t === 31 ? 32 + r.readBits(6) : t;
}

function readSampleRate(r: BitReader): [number, number] {
  const idx = r.readBits(4);
  if (idx === 15) {
    const rate = r.readBits(24);
    if (rate === 0) throw new MediaError('BAD_ASC', 'explicit sampling frequency 0');
    return [idx, rate];
  }
  if (idx >= AAC_SAMPLE_RATES.length) throw new MediaError('BAD_ASC', `samplingFrequencyIndex ${idx}`);
  return [idx, AAC_SAMPLE_RATES[idx]];
}

/**
 * Reads program_config_element() (4.4.1.1) and returns the channel count it describes. Its byte_alignment()
 * is relative to the reader's buffer start.
 */
export function readPceChannels(r: BitReader): number {
  r.skipBits(4 + 2 + 4); // element_instance_tag, object_type, sampling_frequency_index
  const front = r.readBits(4);
  const side = r.readBits(4);
  const back = r.readBits(4);
  const lfe = r.readBits(2);
  const assoc = r.readBits(3);
  const cc = r.readBits(4);
  if (r.readFlag()) r.skipBits(4);
  if (r.readFlag()) r.skipBits(4);
  if (r.readFlag()) r.skipBits(3);
  let channels = 0;
  for (let i = 0; i < front + side + back; i++) {
    channels += r.readFlag() ? 2 : 1;
    r.skipBits(4);
  }
  channels += lfe;
  r.skipBits(lfe * 4 + assoc * 4 + cc * 5);
  r.byteAlign();
  const comment = r.readBits(8);
  r.skipBits(comment * 8);
  return channels;
}

const GA_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);

function profileName(objectType: number, sbr: boolean, ps: boolean): string {
  if (ps) return 'HE-AACv2';
  if (sbr) return 'HE-AAC';
  switch (objectType) {
    case 1:
      return 'Main';
    case 2:
      return 'LC';
    case 3:
      return 'SSR';
    case 4:
      return 'LTP';
    case 17:
      return 'ER LC';
    case 23:
      return 'LD';
    case 39:
      return 'ELD';
    case 42:
      return 'USAC';
    default:
      return `AOT ${objectType}`;
  }
}

/** Parse an AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1). Throws MediaError('BAD_ASC'). */
export function parseAudioSpecificConfig(asc: Buffer): AacSpecificConfig {
  const r = new BitReader(asc, 0, asc.length, 'BAD_ASC');
  let objectType = readAudioObjectType(r);
  if (objectType === 0) throw new MediaError('BAD_ASC', 'audioObjectType 0');
  const [sfIndex, sampleRate] = readSampleRate(r);
  const channelConfig = r.readBits(4);
  if (channelConfig >= CHANNELS_BY_CONFIG.length || (channelConfig >= 8 && channelConfig <= 10)) {
    throw new MediaError('BAD_ASC', `channelConfiguration ${channelConfig}`);
  }
  let sbr = false;
  let ps = false;
  let extensionSampleRate: number | undefined;
  let extensionType = 0;
  if (objectType === 5 || objectType === 29) {
    extensionType = 5;
    sbr = true;
    ps = objectType === 29;
    extensionSampleRate = readSampleRate(r)[1];
    objectType = readAudioObjectType(r);
    if (objectType === 22) r.skipBits(4);
  }
  let channels = CHANNELS_BY_CONFIG[channelConfig];
  let frameLength = 1024;
  if (GA_TYPES.has(objectType)) {
    // GASpecificConfig()
    if (r.readFlag()) frameLength = 960;
    if (r.readFlag()) r.skipBits(14); // coreCoderDelay
    const extensionFlag = r.readFlag();
    if (channelConfig === 0) channels = readPceChannels(r);
    if (objectType === 6 || objectType === 20) r.skipBits(3);
    if (extensionFlag) {
      if (objectType === 22) r.skipBits(5 + 11);
      if (objectType === 17 || objectType === 19 || objectType === 20 || objectType === 23) r.skipBits(3);
      r.skipBits(1); // extensionFlag3
    }
    // Backward-compatible explicit SBR/PS signalling after the GA config.
    if (extensionType !== 5 && r.bitsLeft >= 16) {
      try {
        if (r.readBits(11) === 0x2b7) {
          const ext = readAudioObjectType(r);
          if (ext === 5) {
            sbr = r.readFlag();
            if (sbr) {
              extensionSampleRate = readSampleRate(r)[1];
              if (r.bitsLeft >= 12 && r.readBits(11) === 0x548) ps = r.readFlag();
            }
          }
        }
      } catch (e) {
        if (!(e instanceof MediaError)) throw e;
      }
    }
  }
  if (channels === 0 && channelConfig !== 0) throw new MediaError('BAD_ASC', 'no channels');
  return {
    objectType,
    sampleRate,
    samplingFrequencyIndex: sfIndex,
    channelConfig,
    channels,
    sbr,
    ps,
    extensionSampleRate,
    frameLength,
    profile: profileName(objectType, sbr, ps),
  };
}

/** AudioConfig from an AudioSpecificConfig (kept as the record). sampleRate/channels are the core stream's. */
export function aacConfig(asc: Buffer): AudioConfig {
  const info = parseAudioSpecificConfig(asc);
  return {
    kind: 'audio',
    codec: 'aac',
    record: asc,
    sampleRate: info.sampleRate,
    channels: info.channels,
    profile: info.profile,
  };
}

function channelConfigFor(channels: number): number {
  if (channels >= 1 && channels <= 6) return channels;
  if (channels === 8) return 7;
  if (channels === 7) return 11;
  throw new MediaError('UNSUPPORTED', `no AAC channelConfiguration for ${channels} channels`);
}

function writeObjectType(w: BitWriter, t: number): void {
  if (t >= 31) {
    w.writeBits(31, 5);
    w.writeBits(t - 32, 6);
  } else {
    w.writeBits(t, 5);
  }
}

function writeSampleRate(w: BitWriter, rate: number): void {
  const idx = AAC_SAMPLE_RATES.indexOf(rate);
  if (idx >= 0) {
    w.writeBits(idx, 4);
  } else {
    w.writeBits(15, 4);
    w.writeBits(rate, 24);
  }
}

/**
 * Build an AudioSpecificConfig. objectType 5/29 (HE-AAC/v2) writes explicit hierarchical signalling
 * with `sampleRate` as the core rate and `extensionSampleRate` (default 2x) as the SBR rate.
 */
export function buildAudioSpecificConfig(o: {
  objectType: number;
  sampleRate: number;
  channels: number;
  extensionSampleRate?: number;
}): Buffer {
  if (!(o.objectType >= 1 && o.objectType <= 95) || !Number.isInteger(o.objectType)) {
    throw new MediaError('BAD_ARGUMENT', `objectType ${o.objectType}`);
  }
  if (!(o.sampleRate > 0 && o.sampleRate < 2 ** 24) || !Number.isInteger(o.sampleRate)) {
    throw new MediaError('BAD_ARGUMENT', `sampleRate ${o.sampleRate}`);
  }
  const w = new BitWriter(8);
  writeObjectType(w, o.objectType);
  writeSampleRate(w, o.sampleRate);
  w.writeBits(channelConfigFor(o.channels), 4);
  let core = o.objectType;
  if (o.objectType === 5 || o.objectType === 29) {
    const ext = o.extensionSampleRate ?? o.sampleRate * 2;
    if (!(ext > 0 && ext < 2 ** 24) || !Number.isInteger(ext)) throw new MediaError('BAD_ARGUMENT', `extension sample rate ${ext}`);
    writeSampleRate(w, ext);
    writeObjectType(w, 2);
    core = 2;
  }
  if (GA_TYPES.has(core)) {
    w.writeBits(0, 3); // frameLengthFlag, dependsOnCoreCoder, extensionFlag
    if (core === 6 || core === 20) w.writeBits(0, 3);
  }
  return w.byteAlign().toBuffer();
}

export interface AdtsHeader {
  /** MPEG-4 audio object type (profile + 1) */
  objectType: number;
  samplingFrequencyIndex: number;
  sampleRate: number;
  channelConfig: number;
  channels: number;
  /** whole frame including the header */
  frameLength: number;
  /** 7, or 9 with CRC */
  headerLength: number;
  /** number_of_raw_data_blocks_in_frame + 1 */
  rawBlocks: number;
  mpegVersion: 2 | 4;
}

/** Parse the ADTS header at `offset`. Throws MediaError('BAD_ADTS') or ('TRUNCATED'). */
export function parseAdtsHeader(buf: Buffer, offset = 0): AdtsHeader {
  if (offset < 0 || offset + 7 > buf.length) throw new MediaError('TRUNCATED', 'ADTS header truncated');
  const b0 = buf[offset];
  const b1 = buf[offset + 1];
  if (b0 !== 0xff || (b1 & 0xf6) !== 0xf0) throw new MediaError('BAD_ADTS', 'no ADTS syncword');
  const protectionAbsent = b1 & 1;
  const b2 = buf[offset + 2];
  const b3 = buf[offset + 3];
  const objectType = (b2 >>> 6) + 1;
  const sfi = (b2 >>> 2) & 0x0f;
  if (sfi >= AAC_SAMPLE_RATES.length) throw new MediaError('BAD_ADTS', `sampling_frequency_index ${sfi}`);
  const channelConfig = ((b2 & 1) << 2) | (b3 >>> 6);
  const frameLength = ((b3 & 3) << 11) | (buf[offset + 4] << 3) | (buf[offset + 5] >>> 5);
  const headerLength = protectionAbsent ? 7 : 9;
  if (frameLength < headerLength) throw new MediaError('BAD_ADTS', `aac_frame_length ${frameLength}`);
  return {
    objectType,
    samplingFrequencyIndex: sfi,
    sampleRate: AAC_SAMPLE_RATES[sfi],
    channelConfig,
    channels: CHANNELS_BY_CONFIG[channelConfig],
    frameLength,
    headerLength,
    rawBlocks: (buf[offset + 6] & 3) + 1,
    mpegVersion: b1 & 0x08 ? 2 : 4,
  };
}

/**
 * Split a buffer of back-to-back ADTS frames into raw AAC frames (subarrays, no header).
 * A frame holding several raw data blocks is returned whole. Throws on a bad or truncated frame.
 */
export function splitAdts(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off < buf.length) {
    const h = parseAdtsHeader(buf, off);
    if (off + h.frameLength > buf.length) throw new MediaError('TRUNCATED', 'ADTS frame truncated');
    out.push(buf.subarray(off + h.headerLength, off + h.frameLength));
    off += h.frameLength;
  }
  return out;
}

/** AudioSpecificConfig for the stream an ADTS header describes. */
export function adtsToAudioSpecificConfig(h: AdtsHeader): Buffer {
  return buildAudioSpecificConfig({ objectType: h.objectType, sampleRate: h.sampleRate, channels: h.channels || 2 });
}

/**
 * 7-byte ADTS header (no CRC) for a raw frame of `payloadLength` bytes.
 * `info` is what parseAudioSpecificConfig returns (the core object type / rate / channel config).
 */
export function buildAdtsHeader(
  info: Pick<AacSpecificConfig, 'objectType' | 'samplingFrequencyIndex' | 'channelConfig'> & { sampleRate?: number },
  payloadLength: number,
): Buffer {
  const out = Buffer.allocUnsafe(7);
  writeAdtsHeader(out, 0, info, payloadLength);
  return out;
}

/** Write a 7-byte ADTS header into `out` at `offset` (for callers that build the whole frame at once). */
export function writeAdtsHeader(
  out: Buffer,
  offset: number,
  info: Pick<AacSpecificConfig, 'objectType' | 'samplingFrequencyIndex' | 'channelConfig'> & { sampleRate?: number },
  payloadLength: number,
): void {
  let sfi = info.samplingFrequencyIndex;
  if (sfi === 15 || sfi >= AAC_SAMPLE_RATES.length) {
    sfi = info.sampleRate !== undefined ? AAC_SAMPLE_RATES.indexOf(info.sampleRate) : -1;
    if (sfi < 0) throw new MediaError('UNSUPPORTED', 'ADTS cannot carry an explicit sampling rate');
  }
  if (info.objectType < 1 || info.objectType > 4) throw new MediaError('UNSUPPORTED', `ADTS cannot carry object type ${info.objectType}`);
  if (info.channelConfig > 7) throw new MediaError('UNSUPPORTED', `ADTS channel configuration ${info.channelConfig}`);
  const len = payloadLength + 7;
  if (len > 0x1fff) throw new MediaError('UNSUPPORTED', `ADTS frame of ${len} bytes`);
  out[offset] = 0xff;
  out[offset + 1] = 0xf1; // MPEG-4, layer 0, no CRC
  out[offset + 2] = ((info.objectType - 1) << 6) | (sfi << 2) | (info.channelConfig >>> 2);
  out[offset + 3] = ((info.channelConfig & 3) << 6) | (len >>> 11);
  out[offset + 4] = (len >>> 3) & 0xff;
  out[offset + 5] = ((len & 7) << 5) | 0x1f;
  out[offset + 6] = 0xfc; // buffer fullness 0x7ff (VBR), one raw data block
}

/** A raw AAC frame with its 7-byte ADTS header in front (one allocation). */
export function buildAdtsFrame(
  info: Pick<AacSpecificConfig, 'objectType' | 'samplingFrequencyIndex' | 'channelConfig'> & { sampleRate?: number },
  payload: Buffer,
): Buffer {
  const out = Buffer.allocUnsafe(7 + payload.length);
  writeAdtsHeader(out, 0, info, payload.length);
  payload.copy(out, 7);
  return out;
}

/** One frame read from an ADTS stream: its header and the raw frame after it. */
export interface AdtsFrame {
  header: AdtsHeader;
  payload: Buffer;
}

/**
 * Reads ADTS frames from a byte stream cut anywhere (e.g. a pipe from an encoder): push chunks, get the
 * frames completed so far. Throws MediaError on a bad header, after which the reader is not usable. Holds
 * at most one frame (< 8 KB).
 */
export class AdtsReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): AdtsFrame[] {
    const buf = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: AdtsFrame[] = [];
    let at = 0;
    while (buf.length - at >= 7) {
      const header = parseAdtsHeader(buf, at);
      if (buf.length - at < header.frameLength) break;
      frames.push({ header, payload: buf.subarray(at + header.headerLength, at + header.frameLength) });
      at += header.frameLength;
    }
    this.buffered = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
    return frames;
  }
}
