import { BitReader, removeEmulationPrevention } from '../bit-reader';
import { MediaError } from '../media.errors';
import { VideoConfig } from '../media.types';

/** nal_unit_type values (ITU-T H.264 Table 7-1). */
export const H264NalType = {
  SLICE: 1,
  SLICE_DPA: 2,
  SLICE_DPB: 3,
  SLICE_DPC: 4,
  IDR: 5,
  SEI: 6,
  SPS: 7,
  PPS: 8,
  AUD: 9,
  END_OF_SEQUENCE: 10,
  END_OF_STREAM: 11,
  FILLER: 12,
  SPS_EXT: 13,
  PREFIX: 14,
  SUBSET_SPS: 15,
  SLICE_AUX: 19,
  SLICE_EXT: 20,
} as const;

export function h264NalType(nal: Uint8Array): number {
  return nal.length > 0 ? nal[0] & 0x1f : -1;
}

export interface H264SpsInfo {
  profileIdc: number;
  /** constraint_set0..5 flags + reserved bits, the byte after profile_idc */
  constraintFlags: number;
  /** 'Baseline', 'Constrained Baseline', 'Main', 'High', 'High 10', ... */
  profile: string;
  levelIdc: number;
  /** level_idc / 10, e.g. 3.1 (level 1b is reported as its raw level_idc / 10: 1.1 or 0.9) */
  level: number;
  spsId: number;
  chromaFormatIdc: number;
  /** '4:0:0', '4:2:0', '4:2:2', '4:4:4' */
  chromaFormat: string;
  separateColourPlane: boolean;
  bitDepthLuma: number;
  bitDepthChroma: number;
  log2MaxFrameNum: number;
  picOrderCntType: number;
  log2MaxPocLsb?: number;
  maxNumRefFrames: number;
  frameMbsOnly: boolean;
  /** width/height after cropping */
  width: number;
  height: number;
  /** decoded size before cropping */
  codedWidth: number;
  codedHeight: number;
  crop: { left: number; right: number; top: number; bottom: number };
  /** sample aspect ratio when the VUI signals it */
  sarWidth?: number;
  sarHeight?: number;
  videoFullRange?: boolean;
  colourPrimaries?: number;
  transferCharacteristics?: number;
  matrixCoefficients?: number;
  /** VUI timing: time_scale / (2 * num_units_in_tick) */
  fps?: number;
  numUnitsInTick?: number;
  timeScale?: number;
  fixedFrameRate?: boolean;
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

const CHROMA_NAMES = ['4:0:0', '4:2:0', '4:2:2', '4:4:4'];

/** Profile name as ffprobe prints it. */
export function h264ProfileName(profileIdc: number, constraintFlags = 0): string {
  const cs1 = (constraintFlags & 0x40) !== 0;
  const cs3 = (constraintFlags & 0x10) !== 0;
  switch (profileIdc) {
    case 66:
      return cs1 ? 'Constrained Baseline' : 'Baseline';
    case 77:
      return 'Main';
    case 88:
      return 'Extended';
    case 100:
      return 'High';
    case 110:
      return cs3 ? 'High 10 Intra' : 'High 10';
    case 122:
      return cs3 ? 'High 4:2:2 Intra' : 'High 4:2:2';
    case 244:
      return cs3 ? 'High 4:4:4 Intra' : 'High 4:4:4 Predictive';
    case 44:
      return 'CAVLC 4:4:4 Intra';
    case 83:
      return 'Scalable Baseline';
    case 86:
      return 'Scalable High';
    case 118:
      return 'Multiview High';
    case 128:
      return 'Stereo High';
    case 134:
      return 'MFC High';
    case 135:
      return 'MFC Depth High';
    case 138:
      return 'Multiview Depth High';
    case 139:
      return 'Enhanced Multiview Depth High';
    default:
      return `Profile ${profileIdc}`;
  }
}

function skipScalingList(r: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) {
      const delta = r.readSE();
      if (delta < -128 || delta > 127) throw new MediaError('BAD_SPS', 'delta_scale out of range');
      next = (last + delta + 256) % 256;
    }
    last = next === 0 ? last : next;
  }
}

/**
 * Parse an H.264 sequence parameter set NAL unit (with its 1-byte NAL header, without start code).
 * Throws MediaError('BAD_SPS') on anything malformed.
 */
export function parseH264Sps(nal: Buffer): H264SpsInfo {
  if (nal.length < 4 || (nal[0] & 0x1f) !== H264NalType.SPS || (nal[0] & 0x80) !== 0) {
    throw new MediaError('BAD_SPS', 'not an H.264 SPS NAL unit');
  }
  const rbsp = removeEmulationPrevention(nal);
  const r = new BitReader(rbsp, 1, rbsp.length - 1, 'BAD_SPS');
  const profileIdc = r.readBits(8);
  const constraintFlags = r.readBits(8);
  const levelIdc = r.readBits(8);
  const spsId = r.readUE();
  if (spsId > 31) throw new MediaError('BAD_SPS', `seq_parameter_set_id ${spsId}`);
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  let bitDepthLuma = 8;
  let bitDepthChroma = 8;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.readUE();
    if (chromaFormatIdc > 3) throw new MediaError('BAD_SPS', `chroma_format_idc ${chromaFormatIdc}`);
    if (chromaFormatIdc === 3) separateColourPlane = r.readFlag();
    bitDepthLuma = r.readUE() + 8;
    bitDepthChroma = r.readUE() + 8;
    if (bitDepthLuma > 14 || bitDepthChroma > 14) throw new MediaError('BAD_SPS', 'bit depth');
    r.skipBits(1); // qpprime_y_zero_transform_bypass_flag
    if (r.readFlag()) {
      const lists = chromaFormatIdc !== 3 ? 8 : 12;
      for (let i = 0; i < lists; i++) {
        if (r.readFlag()) skipScalingList(r, i < 6 ? 16 : 64);
      }
    }
  }
  const log2MaxFrameNum = r.readUE() + 4;
  if (log2MaxFrameNum > 16) throw new MediaError('BAD_SPS', 'log2_max_frame_num');
  const picOrderCntType = r.readUE();
  let log2MaxPocLsb: number | undefined;
  if (picOrderCntType === 0) {
    log2MaxPocLsb = r.readUE() + 4;
    if (log2MaxPocLsb > 16) throw new MediaError('BAD_SPS', 'log2_max_pic_order_cnt_lsb');
  } else if (picOrderCntType === 1) {
    r.skipBits(1); // delta_pic_order_always_zero_flag
    r.readSE(); // offset_for_non_ref_pic
    r.readSE(); // offset_for_top_to_bottom_field
    const cycle = r.readUE();
    if (cycle > 255) throw new MediaError('BAD_SPS', 'num_ref_frames_in_pic_order_cnt_cycle');
    for (let i = 0; i < cycle; i++) r.readSE();
  } else if (picOrderCntType !== 2) {
    throw new MediaError('BAD_SPS', `pic_order_cnt_type ${picOrderCntType}`);
  }
  const maxNumRefFrames = r.readUE();
  r.skipBits(1); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.readUE() + 1;
  const heightMapUnits = r.readUE() + 1;
  const frameMbsOnly = r.readFlag();
  if (!frameMbsOnly) r.skipBits(1); // mb_adaptive_frame_field_flag
  r.skipBits(1); // direct_8x8_inference_flag
  const crop = { left: 0, right: 0, top: 0, bottom: 0 };
  if (r.readFlag()) {
    crop.left = r.readUE();
    crop.right = r.readUE();
    crop.top = r.readUE();
    crop.bottom = r.readUE();
  }
  const codedWidth = widthMbs * 16;
  const codedHeight = (frameMbsOnly ? 1 : 2) * heightMapUnits * 16;
  if (codedWidth > 16384 * 4 || codedHeight > 16384 * 4) throw new MediaError('BAD_SPS', 'picture too large');
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaFormatIdc === 3 ? 1 : 2;
  const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
  const cropUnitX = chromaArrayType === 0 ? 1 : subWidthC;
  const cropUnitY = (chromaArrayType === 0 ? 1 : subHeightC) * (frameMbsOnly ? 1 : 2);
  const width = codedWidth - (crop.left + crop.right) * cropUnitX;
  const height = codedHeight - (crop.top + crop.bottom) * cropUnitY;
  if (width <= 0 || height <= 0) throw new MediaError('BAD_SPS', 'cropping larger than the picture');

  const info: H264SpsInfo = {
    profileIdc,
    constraintFlags,
    profile: h264ProfileName(profileIdc, constraintFlags),
    levelIdc,
    level: levelIdc / 10,
    spsId,
    chromaFormatIdc,
    chromaFormat: CHROMA_NAMES[chromaFormatIdc],
    separateColourPlane,
    bitDepthLuma,
    bitDepthChroma,
    log2MaxFrameNum,
    picOrderCntType,
    log2MaxPocLsb,
    maxNumRefFrames,
    frameMbsOnly,
    width,
    height,
    codedWidth,
    codedHeight,
    crop,
  };
  if (r.bitsLeft > 0 && r.readFlag()) {
    // The VUI is optional information: a damaged one must not lose the picture size.
    try {
      parseVui(r, info);
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
    }
  }
  return info;
}

function parseVui(r: BitReader, info: H264SpsInfo): void {
  if (r.readFlag()) {
    const idc = r.readBits(8);
    if (idc === 255) {
      info.sarWidth = r.readBits(16);
      info.sarHeight = r.readBits(16);
    } else if (idc > 0 && idc < SAR_TABLE.length) {
      [info.sarWidth, info.sarHeight] = SAR_TABLE[idc];
    }
  }
  if (r.readFlag()) r.skipBits(1); // overscan
  if (r.readFlag()) {
    r.skipBits(3); // video_format
    info.videoFullRange = r.readFlag();
    if (r.readFlag()) {
      info.colourPrimaries = r.readBits(8);
      info.transferCharacteristics = r.readBits(8);
      info.matrixCoefficients = r.readBits(8);
    }
  }
  if (r.readFlag()) {
    r.readUE();
    r.readUE();
  }
  if (r.readFlag()) {
    const numUnitsInTick = r.readBits(32);
    const timeScale = r.readBits(32);
    const fixed = r.readFlag();
    if (numUnitsInTick > 0 && timeScale > 0) {
      info.numUnitsInTick = numUnitsInTick;
      info.timeScale = timeScale;
      info.fixedFrameRate = fixed;
      info.fps = timeScale / (2 * numUnitsInTick);
    }
  }
}

/** Table E-1 sample aspect ratios (index = aspect_ratio_idc). */
export const SAR_TABLE: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [1, 1],
  [12, 11],
  [10, 11],
  [16, 11],
  [40, 33],
  [24, 11],
  [20, 11],
  [32, 11],
  [80, 33],
  [18, 11],
  [15, 11],
  [64, 33],
  [160, 99],
  [4, 3],
  [3, 2],
  [2, 1],
];

/** RFC 6381 codec string, e.g. 'avc1.64001f'. */
export function h264CodecString(sps: Buffer): string {
  if (sps.length < 4) throw new MediaError('BAD_SPS', 'SPS too short');
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `avc1.${hex(sps[1])}${hex(sps[2])}${hex(sps[3])}`;
}

export interface AvcCInfo {
  version: number;
  profileIdc: number;
  profileCompatibility: number;
  levelIdc: number;
  nalLengthSize: number;
  sps: Buffer[];
  pps: Buffer[];
  /** High profile extension, when present */
  chromaFormatIdc?: number;
  bitDepthLuma?: number;
  bitDepthChroma?: number;
  spsExt?: Buffer[];
}

/**
 * AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1) from SPS and PPS NAL units.
 * Writes the high-profile extension (chroma format, bit depths) like ffmpeg does.
 */
export function buildAvcC(sps: readonly Buffer[], pps: readonly Buffer[], nalLengthSize = 4): Buffer {
  if (sps.length === 0) throw new MediaError('BAD_SPS', 'avcC needs at least one SPS');
  if (sps.length > 31 || pps.length > 255) throw new MediaError('UNSUPPORTED', 'too many parameter sets');
  if (nalLengthSize !== 1 && nalLengthSize !== 2 && nalLengthSize !== 4) {
    throw new MediaError('BAD_ARGUMENT', `NAL length size ${nalLengthSize}`);
  }
  const info = parseH264Sps(sps[0]);
  const ext = info.profileIdc === 100 || info.profileIdc === 110 || info.profileIdc === 122 || info.profileIdc === 144 || info.profileIdc === 244;
  let size = 6 + 1 + (ext ? 4 : 0);
  for (const s of sps) size += 2 + s.length;
  for (const p of pps) size += 2 + p.length;
  for (const n of [...sps, ...pps]) {
    if (n.length > 0xffff) throw new MediaError('UNSUPPORTED', 'parameter set larger than 65535 bytes');
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = 1;
  out[1] = sps[0][1];
  out[2] = sps[0][2];
  out[3] = sps[0][3];
  out[4] = 0xfc | (nalLengthSize - 1);
  out[5] = 0xe0 | sps.length;
  let off = 6;
  for (const s of sps) {
    out.writeUInt16BE(s.length, off);
    s.copy(out, off + 2);
    off += 2 + s.length;
  }
  out[off++] = pps.length;
  for (const p of pps) {
    out.writeUInt16BE(p.length, off);
    p.copy(out, off + 2);
    off += 2 + p.length;
  }
  if (ext) {
    out[off++] = 0xfc | info.chromaFormatIdc;
    out[off++] = 0xf8 | (info.bitDepthLuma - 8);
    out[off++] = 0xf8 | (info.bitDepthChroma - 8);
    out[off++] = 0; // numOfSequenceParameterSetExt
  }
  return out;
}

/** Parse an AVCDecoderConfigurationRecord; parameter sets are subarrays of `record`. */
export function parseAvcC(record: Buffer): AvcCInfo {
  if (record.length < 7) throw new MediaError('BAD_RECORD', 'avcC too short');
  if (record[0] !== 1) throw new MediaError('BAD_RECORD', `avcC version ${record[0]}`);
  const nalLengthSize = (record[4] & 3) + 1;
  if (nalLengthSize === 3) throw new MediaError('BAD_RECORD', 'avcC NAL length size 3');
  const info: AvcCInfo = {
    version: record[0],
    profileIdc: record[1],
    profileCompatibility: record[2],
    levelIdc: record[3],
    nalLengthSize,
    sps: [],
    pps: [],
  };
  let off = 5;
  const numSps = record[off++] & 0x1f;
  const readSet = (): Buffer => {
    if (off + 2 > record.length) throw new MediaError('BAD_RECORD', 'avcC truncated');
    const len = record.readUInt16BE(off);
    off += 2;
    if (off + len > record.length) throw new MediaError('BAD_RECORD', 'avcC parameter set past the end');
    const b = record.subarray(off, off + len);
    off += len;
    return b;
  };
  for (let i = 0; i < numSps; i++) info.sps.push(readSet());
  if (off >= record.length) throw new MediaError('BAD_RECORD', 'avcC truncated before PPS count');
  const numPps = record[off++];
  for (let i = 0; i < numPps; i++) info.pps.push(readSet());
  // Optional high-profile extension; tolerate its absence or truncation (many encoders omit it).
  if (off + 4 <= record.length && [100, 110, 122, 144, 244].includes(info.profileIdc)) {
    info.chromaFormatIdc = record[off] & 3;
    info.bitDepthLuma = (record[off + 1] & 7) + 8;
    info.bitDepthChroma = (record[off + 2] & 7) + 8;
    const numExt = record[off + 3];
    off += 4;
    const ext: Buffer[] = [];
    try {
      for (let i = 0; i < numExt; i++) ext.push(readSet());
    } catch {
      // ignore a damaged extension
    }
    info.spsExt = ext;
  }
  return info;
}

/** NAL length size from an avcC record, cheaply (no full parse). */
export function avcCNalLengthSize(record: Buffer): number {
  if (record.length < 5) throw new MediaError('BAD_RECORD', 'avcC too short');
  return (record[4] & 3) + 1;
}

function configFrom(sps: readonly Buffer[], pps: readonly Buffer[], record: Buffer): VideoConfig {
  if (sps.length === 0) throw new MediaError('BAD_RECORD', 'no SPS');
  const info = parseH264Sps(sps[0]);
  const config: VideoConfig = {
    kind: 'video',
    codec: 'h264',
    record,
    parameterSets: [...sps, ...pps],
    width: info.width,
    height: info.height,
    profile: info.profile,
    level: info.level,
  };
  if (info.fps !== undefined) config.fps = info.fps;
  return config;
}

/** VideoConfig from SPS/PPS NAL units (builds the avcC record). */
export function h264Config(sps: readonly Buffer[], pps: readonly Buffer[]): VideoConfig {
  return configFrom(sps, pps, buildAvcC(sps, pps));
}

/** VideoConfig from an existing avcC record (kept as is). */
export function h264ConfigFromRecord(record: Buffer): VideoConfig {
  const avcc = parseAvcC(record);
  return configFrom(avcc.sps, avcc.pps, record);
}

/** True when the access unit holds an IDR slice. */
export function isH264KeyFrame(nals: readonly Buffer[]): boolean {
  for (const n of nals) if (n.length > 0 && (n[0] & 0x1f) === H264NalType.IDR) return true;
  return false;
}
