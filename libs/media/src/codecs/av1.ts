import { BitReader } from '../bit-reader';
import { MediaError } from '../media.errors';
import { VideoConfig } from '../media.types';

/** obu_type values (AV1 spec 6.2.2). */
export const Av1ObuType = {
  SEQUENCE_HEADER: 1,
  TEMPORAL_DELIMITER: 2,
  FRAME_HEADER: 3,
  TILE_GROUP: 4,
  METADATA: 5,
  FRAME: 6,
  REDUNDANT_FRAME_HEADER: 7,
  TILE_LIST: 8,
  PADDING: 15,
} as const;

export interface Av1Obu {
  type: number;
  temporalId: number;
  spatialId: number;
  /** true when the OBU carried obu_size */
  hasSizeField: boolean;
  /** the whole OBU (header + size + payload) */
  obu: Buffer;
  /** the payload after the header and size field */
  payload: Buffer;
}

/** Read a leb128() value at `offset`; returns [value, bytes used]. */
export function readLeb128(buf: Uint8Array, offset: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    if (offset + i >= buf.length) throw new MediaError('BAD_OBU', 'leb128 truncated');
    const b = buf[offset + i];
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (value > 0xffffffff) throw new MediaError('BAD_OBU', 'leb128 value too large');
      return [value, i + 1];
    }
  }
  throw new MediaError('BAD_OBU', 'leb128 longer than 8 bytes');
}

/** leb128() encoding of a value (minimal length). */
export function writeLeb128(value: number): Buffer {
  if (!(value >= 0) || value > 0xffffffff || !Number.isInteger(value)) {
    throw new MediaError('BAD_ARGUMENT', `leb128 value ${value}`);
  }
  const bytes: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    bytes.push(b);
  } while (v > 0);
  return Buffer.from(bytes);
}

/**
 * Split a low-overhead bitstream (a temporal unit / sample, or av1C configOBUs) into OBUs.
 * An OBU without obu_size extends to the end of the buffer. Subarrays, no copy.
 */
export function splitObus(buf: Buffer): Av1Obu[] {
  const out: Av1Obu[] = [];
  let off = 0;
  while (off < buf.length) {
    const h = buf[off];
    if (h & 0x80) throw new MediaError('BAD_OBU', 'obu_forbidden_bit set');
    const type = (h >>> 3) & 0x0f;
    const ext = (h & 0x04) !== 0;
    const hasSize = (h & 0x02) !== 0;
    let p = off + 1;
    let temporalId = 0;
    let spatialId = 0;
    if (ext) {
      if (p >= buf.length) throw new MediaError('BAD_OBU', 'OBU extension header truncated');
      temporalId = buf[p] >>> 5;
      spatialId = (buf[p] >>> 3) & 3;
      p++;
    }
    let end: number;
    if (hasSize) {
      const [size, used] = readLeb128(buf, p);
      p += used;
      end = p + size;
      if (end > buf.length) throw new MediaError('BAD_OBU', 'obu_size past the end');
    } else {
      end = buf.length;
    }
    out.push({ type, temporalId, spatialId, hasSizeField: hasSize, obu: buf.subarray(off, end), payload: buf.subarray(p, end) });
    off = end;
  }
  return out;
}

export interface Av1SequenceHeader {
  seqProfile: number;
  stillPicture: boolean;
  reducedStillPictureHeader: boolean;
  /** seq_level_idx of operating point 0 */
  seqLevelIdx: number;
  seqTier: number;
  /** e.g. 4.0 for seq_level_idx 8; 0 for 31 (no level constraint) */
  level: number;
  /** 'Main' | 'High' | 'Professional' */
  profile: string;
  width: number;
  height: number;
  bitDepth: number;
  highBitdepth: boolean;
  twelveBit: boolean;
  monochrome: boolean;
  chromaSubsamplingX: number;
  chromaSubsamplingY: number;
  chromaSamplePosition: number;
  colourPrimaries: number;
  transferCharacteristics: number;
  matrixCoefficients: number;
  colorRange: boolean;
  initialDisplayDelayPresent: boolean;
  initialDisplayDelayMinusOne?: number;
  fps?: number;
}

const PROFILE_NAMES = ['Main', 'High', 'Professional'];

/** seq_level_idx -> level number (2.0 .. 7.3); 31 means unconstrained and maps to 0. */
export function av1LevelFromIdx(idx: number): number {
  if (idx >= 24) return 0;
  return 2 + (idx >>> 2) + (idx & 3) / 10;
}

function readUvlc(r: BitReader): number {
  let zeros = 0;
  while (r.readBit() === 0) {
    zeros++;
    if (zeros >= 32) return 2 ** 32 - 1;
  }
  return 2 ** zeros - 1 + r.readBits(zeros);
}

/** Parse a sequence_header_obu() payload (the bytes after the OBU header and size). */
export function parseAv1SequenceHeaderPayload(payload: Buffer): Av1SequenceHeader {
  const r = new BitReader(payload, 0, payload.length, 'BAD_OBU');
  const seqProfile = r.readBits(3);
  if (seqProfile > 2) throw new MediaError('BAD_OBU', `seq_profile ${seqProfile}`);
  const stillPicture = r.readFlag();
  const reduced = r.readFlag();
  let seqLevelIdx = 0;
  let seqTier = 0;
  let fps: number | undefined;
  let initialDisplayDelayPresent = false;
  let initialDisplayDelayMinusOne: number | undefined;
  if (reduced) {
    seqLevelIdx = r.readBits(5);
  } else {
    let decoderModelInfoPresent = false;
    let bufferDelayLength = 0;
    if (r.readFlag()) {
      // timing_info()
      const numUnits = r.readBits(32);
      const timeScale = r.readBits(32);
      let ticksPerPicture = 1;
      if (r.readFlag()) ticksPerPicture = readUvlc(r) + 1;
      if (numUnits > 0 && timeScale > 0) fps = timeScale / (numUnits * ticksPerPicture);
      decoderModelInfoPresent = r.readFlag();
      if (decoderModelInfoPresent) {
        bufferDelayLength = r.readBits(5) + 1;
        r.skipBits(32 + 5 + 5);
      }
    }
    initialDisplayDelayPresent = r.readFlag();
    const opCount = r.readBits(5) + 1;
    for (let i = 0; i < opCount; i++) {
      r.skipBits(12); // operating_point_idc
      const lvl = r.readBits(5);
      const tier = lvl > 7 ? r.readBit() : 0;
      if (decoderModelInfoPresent && r.readFlag()) {
        r.skipBits(bufferDelayLength * 2 + 1);
      }
      let idd: number | undefined;
      if (initialDisplayDelayPresent && r.readFlag()) idd = r.readBits(4);
      if (i === 0) {
        seqLevelIdx = lvl;
        seqTier = tier;
        initialDisplayDelayMinusOne = idd;
      }
    }
  }
  const wBits = r.readBits(4) + 1;
  const hBits = r.readBits(4) + 1;
  const width = r.readBits(wBits) + 1;
  const height = r.readBits(hBits) + 1;
  if (!reduced && r.readFlag()) {
    // frame_id_numbers_present_flag
    r.skipBits(4 + 3);
  }
  r.skipBits(3); // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter
  if (!reduced) {
    r.skipBits(4); // interintra, masked, warped, dual filter
    const orderHint = r.readFlag();
    if (orderHint) r.skipBits(2); // jnt_comp, ref_frame_mvs
    let forceScreenContentTools = 2;
    if (!r.readFlag()) forceScreenContentTools = r.readBit();
    if (forceScreenContentTools > 0) {
      if (!r.readFlag()) r.skipBits(1); // seq_force_integer_mv
    }
    if (orderHint) r.skipBits(3);
  }
  r.skipBits(3); // superres, cdef, restoration
  // color_config()
  const highBitdepth = r.readFlag();
  let twelveBit = false;
  let bitDepth = 8;
  if (seqProfile === 2 && highBitdepth) {
    twelveBit = r.readFlag();
    bitDepth = twelveBit ? 12 : 10;
  } else {
    bitDepth = highBitdepth ? 10 : 8;
  }
  const monochrome = seqProfile === 1 ? false : r.readFlag();
  let cp = 2;
  let tc = 2;
  let mc = 2;
  if (r.readFlag()) {
    cp = r.readBits(8);
    tc = r.readBits(8);
    mc = r.readBits(8);
  }
  let colorRange: boolean;
  let sx = 1;
  let sy = 1;
  let csp = 0;
  if (monochrome) {
    colorRange = r.readFlag();
  } else if (cp === 1 && tc === 13 && mc === 0) {
    colorRange = true;
    sx = 0;
    sy = 0;
  } else {
    colorRange = r.readFlag();
    if (seqProfile === 0) {
      sx = 1;
      sy = 1;
    } else if (seqProfile === 1) {
      sx = 0;
      sy = 0;
    } else if (bitDepth === 12) {
      sx = r.readBit();
      sy = sx ? r.readBit() : 0;
    } else {
      sx = 1;
      sy = 0;
    }
    if (sx && sy) csp = r.readBits(2);
  }
  return {
    seqProfile,
    stillPicture,
    reducedStillPictureHeader: reduced,
    seqLevelIdx,
    seqTier,
    level: av1LevelFromIdx(seqLevelIdx),
    profile: PROFILE_NAMES[seqProfile],
    width,
    height,
    bitDepth,
    highBitdepth,
    twelveBit,
    monochrome,
    chromaSubsamplingX: sx,
    chromaSubsamplingY: sy,
    chromaSamplePosition: csp,
    colourPrimaries: cp,
    transferCharacteristics: tc,
    matrixCoefficients: mc,
    colorRange,
    initialDisplayDelayPresent,
    initialDisplayDelayMinusOne,
    fps,
  };
}

/** Find the first sequence header OBU in a low-overhead bitstream (sample or configOBUs). */
export function findAv1SequenceHeader(buf: Buffer): Av1Obu | undefined {
  for (const o of splitObus(buf)) if (o.type === Av1ObuType.SEQUENCE_HEADER) return o;
  return undefined;
}

export interface Av1CInfo {
  version: number;
  seqProfile: number;
  seqLevelIdx0: number;
  seqTier0: number;
  highBitdepth: boolean;
  twelveBit: boolean;
  monochrome: boolean;
  chromaSubsamplingX: number;
  chromaSubsamplingY: number;
  chromaSamplePosition: number;
  initialPresentationDelayMinusOne?: number;
  configObus: Buffer;
  /** parsed from configOBUs when a sequence header is present there */
  sequenceHeader?: Av1SequenceHeader;
  width?: number;
  height?: number;
}

/** Parse an AV1CodecConfigurationRecord (AV1-ISOBMFF 2.3). */
export function parseAv1C(record: Buffer): Av1CInfo {
  if (record.length < 4) throw new MediaError('BAD_RECORD', 'av1C too short');
  if ((record[0] & 0x80) === 0) throw new MediaError('BAD_RECORD', 'av1C marker bit not set');
  const version = record[0] & 0x7f;
  if (version !== 1) throw new MediaError('BAD_RECORD', `av1C version ${version}`);
  const info: Av1CInfo = {
    version,
    seqProfile: record[1] >>> 5,
    seqLevelIdx0: record[1] & 0x1f,
    seqTier0: record[2] >>> 7,
    highBitdepth: ((record[2] >>> 6) & 1) === 1,
    twelveBit: ((record[2] >>> 5) & 1) === 1,
    monochrome: ((record[2] >>> 4) & 1) === 1,
    chromaSubsamplingX: (record[2] >>> 3) & 1,
    chromaSubsamplingY: (record[2] >>> 2) & 1,
    chromaSamplePosition: record[2] & 3,
    configObus: record.subarray(4),
  };
  if (record[3] & 0x10) info.initialPresentationDelayMinusOne = record[3] & 0x0f;
  if (info.configObus.length > 0) {
    const sh = findAv1SequenceHeader(info.configObus);
    if (sh) {
      info.sequenceHeader = parseAv1SequenceHeaderPayload(sh.payload);
      info.width = info.sequenceHeader.width;
      info.height = info.sequenceHeader.height;
    }
  }
  return info;
}

/**
 * av1C record from a sequence header OBU (or any low-overhead buffer holding one, e.g. a key frame
 * temporal unit). The sequence header is stored in configOBUs with an obu_size field.
 */
export function buildAv1C(sequenceHeaderObu: Buffer): Buffer {
  const sh = findAv1SequenceHeader(sequenceHeaderObu);
  if (!sh) throw new MediaError('BAD_OBU', 'no sequence header OBU');
  const seq = parseAv1SequenceHeaderPayload(sh.payload);
  let obu = sh.obu;
  if (!sh.hasSizeField) {
    const headerLen = sh.obu.length - sh.payload.length;
    const size = writeLeb128(sh.payload.length);
    obu = Buffer.concat([sh.obu.subarray(0, headerLen), size, sh.payload]);
    obu[0] |= 0x02;
  }
  const out = Buffer.allocUnsafe(4 + obu.length);
  out[0] = 0x81;
  out[1] = (seq.seqProfile << 5) | seq.seqLevelIdx;
  out[2] =
    (seq.seqTier << 7) |
    ((seq.highBitdepth ? 1 : 0) << 6) |
    ((seq.twelveBit ? 1 : 0) << 5) |
    ((seq.monochrome ? 1 : 0) << 4) |
    (seq.chromaSubsamplingX << 3) |
    (seq.chromaSubsamplingY << 2) |
    seq.chromaSamplePosition;
  out[3] = seq.initialDisplayDelayMinusOne !== undefined ? 0x10 | seq.initialDisplayDelayMinusOne : 0;
  obu.copy(out, 4);
  return out;
}

/** RFC 6381-style codec string 'av01.P.LLT.DD' (e.g. 'av01.0.08M.08'). */
export function av1CodecString(info: Av1CInfo): string {
  const depth = info.twelveBit ? 12 : info.highBitdepth ? 10 : 8;
  return `av01.${info.seqProfile}.${String(info.seqLevelIdx0).padStart(2, '0')}${info.seqTier0 ? 'H' : 'M'}.${String(depth).padStart(2, '0')}`;
}

/**
 * VideoConfig from an av1C record. Width/height come from the sequence header in configOBUs
 * (0 when the record carries none: pass them from elsewhere).
 */
export function av1Config(record: Buffer, width?: number, height?: number): VideoConfig {
  const info = parseAv1C(record);
  const config: VideoConfig = {
    kind: 'video',
    codec: 'av1',
    record,
    parameterSets: [],
    width: info.width ?? width ?? 0,
    height: info.height ?? height ?? 0,
    profile: PROFILE_NAMES[info.seqProfile] ?? `Profile ${info.seqProfile}`,
    level: av1LevelFromIdx(info.seqLevelIdx0),
  };
  const fps = info.sequenceHeader?.fps;
  if (fps !== undefined) config.fps = fps;
  return config;
}

/**
 * Whether a temporal unit holds a key frame: its first frame header (OBU_FRAME / OBU_FRAME_HEADER)
 * says show_existing_frame = 0 and frame_type = KEY_FRAME (always true for a reduced still-picture
 * sequence header).
 */
export function isAv1KeyFrame(sample: Buffer): boolean {
  let reduced = false;
  for (const o of splitObus(sample)) {
    if (o.type === Av1ObuType.SEQUENCE_HEADER) {
      try {
        reduced = parseAv1SequenceHeaderPayload(o.payload).reducedStillPictureHeader;
      } catch (e) {
        if (!(e instanceof MediaError)) throw e;
      }
      if (reduced) return true;
      continue;
    }
    if (o.type === Av1ObuType.FRAME || o.type === Av1ObuType.FRAME_HEADER) {
      if (o.payload.length === 0) return false;
      const b = o.payload[0];
      if (b & 0x80) return false; // show_existing_frame
      return ((b >>> 5) & 3) === 0;
    }
  }
  return false;
}
