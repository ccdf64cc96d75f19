import { BitReader, removeEmulationPrevention } from '../bit-reader';
import { MediaError } from '../media.errors';
import { VideoConfig } from '../media.types';
import { SAR_TABLE } from './h264';

/** nal_unit_type values (ITU-T H.265 Table 7-1). */
export const H265NalType = {
  TRAIL_N: 0,
  TRAIL_R: 1,
  TSA_N: 2,
  TSA_R: 3,
  STSA_N: 4,
  STSA_R: 5,
  RADL_N: 6,
  RADL_R: 7,
  RASL_N: 8,
  RASL_R: 9,
  BLA_W_LP: 16,
  BLA_W_RADL: 17,
  BLA_N_LP: 18,
  IDR_W_RADL: 19,
  IDR_N_LP: 20,
  CRA_NUT: 21,
  RSV_IRAP_22: 22,
  RSV_IRAP_23: 23,
  VPS: 32,
  SPS: 33,
  PPS: 34,
  AUD: 35,
  EOS: 36,
  EOB: 37,
  FD: 38,
  PREFIX_SEI: 39,
  SUFFIX_SEI: 40,
} as const;

export function h265NalType(nal: Uint8Array): number {
  return nal.length > 0 ? (nal[0] >>> 1) & 0x3f : -1;
}

/** general profile_tier_level fields, as hvcC carries them */
export interface H265ProfileTierLevel {
  profileSpace: number;
  tierFlag: number;
  profileIdc: number;
  /** general_profile_compatibility_flags (32 bits, bit 31 = flag 0) */
  compatibilityFlags: number;
  /** general_progressive_source_flag .. 48 bits, as 6 bytes */
  constraintFlags: Buffer;
  levelIdc: number;
}

export interface H265SpsInfo extends H265ProfileTierLevel {
  vpsId: number;
  maxSubLayers: number;
  temporalIdNesting: boolean;
  spsId: number;
  /** 'Main', 'Main 10', 'Main Still Picture', 'Rext', ... */
  profile: string;
  /** 'Main' | 'High' */
  tier: string;
  /** general_level_idc / 30, e.g. 3.1, 4 */
  level: number;
  chromaFormatIdc: number;
  chromaFormat: string;
  separateColourPlane: boolean;
  bitDepthLuma: number;
  bitDepthChroma: number;
  /** width/height after the conformance window */
  width: number;
  height: number;
  codedWidth: number;
  codedHeight: number;
  conformanceWindow: { left: number; right: number; top: number; bottom: number };
  sarWidth?: number;
  sarHeight?: number;
  videoFullRange?: boolean;
  colourPrimaries?: number;
  transferCharacteristics?: number;
  matrixCoefficients?: number;
  /** VUI timing: time_scale / num_units_in_tick */
  fps?: number;
  numUnitsInTick?: number;
  timeScale?: number;
  /** VUI bitstream restriction, 0 when absent (hvcC min_spatial_segmentation_idc) */
  minSpatialSegmentationIdc: number;
}

const CHROMA_NAMES = ['4:0:0', '4:2:0', '4:2:2', '4:4:4'];

/** Profile name as ffprobe prints it. */
export function h265ProfileName(profileIdc: number, compatibilityFlags = 0): string {
  let idc = profileIdc;
  if (idc === 0) {
    // take the first compatible profile signalled
    for (let j = 1; j < 32; j++) {
      if ((compatibilityFlags >>> (31 - j)) & 1) {
        idc = j;
        break;
      }
    }
  }
  switch (idc) {
    case 1:
      return 'Main';
    case 2:
      return 'Main 10';
    case 3:
      return 'Main Still Picture';
    case 4:
      return 'Rext';
    case 5:
      return 'High Throughput';
    case 6:
      return 'Multiview Main';
    case 7:
      return 'Scalable Main';
    case 8:
      return '3D Main';
    case 9:
      return 'Screen Extended';
    case 10:
      return 'Scalable Rext';
    case 11:
      return 'High Throughput Screen Extended';
    default:
      return `Profile ${profileIdc}`;
  }
}

/** Reads profile_tier_level(1, maxSubLayersMinus1) and returns the general part. */
export function readProfileTierLevel(r: BitReader, maxSubLayersMinus1: number): H265ProfileTierLevel {
  const profileSpace = r.readBits(2);
  const tierFlag = r.readBit();
  const profileIdc = r.readBits(5);
  const compatibilityFlags = r.readBits(32);
  const constraintFlags = Buffer.allocUnsafe(6);
  for (let i = 0; i < 6; i++) constraintFlags[i] = r.readBits(8);
  const levelIdc = r.readBits(8);
  const subProfile: boolean[] = [];
  const subLevel: boolean[] = [];
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    subProfile.push(r.readFlag());
    subLevel.push(r.readFlag());
  }
  if (maxSubLayersMinus1 > 0) for (let i = maxSubLayersMinus1; i < 8; i++) r.skipBits(2);
  for (let i = 0; i < maxSubLayersMinus1; i++) {
    if (subProfile[i]) r.skipBits(88);
    if (subLevel[i]) r.skipBits(8);
  }
  return { profileSpace, tierFlag, profileIdc, compatibilityFlags, constraintFlags, levelIdc };
}

function skipScalingListData(r: BitReader): void {
  for (let sizeId = 0; sizeId < 4; sizeId++) {
    for (let matrixId = 0; matrixId < 6; matrixId += sizeId === 3 ? 3 : 1) {
      if (!r.readFlag()) {
        r.readUE(); // scaling_list_pred_matrix_id_delta
      } else {
        const coefNum = Math.min(64, 1 << (4 + (sizeId << 1)));
        if (sizeId > 1) r.readSE(); // scaling_list_dc_coef_minus8
        for (let i = 0; i < coefNum; i++) r.readSE();
      }
    }
  }
}

function skipShortTermRefPicSets(r: BitReader, count: number): void {
  const numDeltaPocs: number[] = [];
  for (let idx = 0; idx < count; idx++) {
    let interPred = false;
    if (idx !== 0) interPred = r.readFlag();
    if (interPred) {
      // delta_idx_minus1 is only present in slice headers (idx == count)
      r.skipBits(1); // delta_rps_sign
      r.readUE(); // abs_delta_rps_minus1
      const ref = numDeltaPocs[idx - 1];
      let n = 0;
      for (let j = 0; j <= ref; j++) {
        const used = r.readFlag();
        const useDelta = used ? true : r.readFlag();
        if (useDelta) n++;
      }
      numDeltaPocs.push(n);
    } else {
      const neg = r.readUE();
      const pos = r.readUE();
      if (neg > 16 || pos > 16 || neg + pos > 16) throw new MediaError('BAD_SPS', 'short-term RPS too large');
      for (let i = 0; i < neg + pos; i++) {
        r.readUE();
        r.skipBits(1);
      }
      numDeltaPocs.push(neg + pos);
    }
  }
}

/**
 * Parse an H.265 SPS NAL unit (2-byte NAL header included, no start code).
 * Throws MediaError('BAD_SPS') on anything malformed.
 */
export function parseH265Sps(nal: Buffer): H265SpsInfo {
  if (nal.length < 4 || h265NalType(nal) !== H265NalType.SPS || (nal[0] & 0x80) !== 0) {
    throw new MediaError('BAD_SPS', 'not an H.265 SPS NAL unit');
  }
  const rbsp = removeEmulationPrevention(nal);
  const r = new BitReader(rbsp, 2, rbsp.length - 2, 'BAD_SPS');
  const vpsId = r.readBits(4);
  const maxSubLayersMinus1 = r.readBits(3);
  if (maxSubLayersMinus1 > 6) throw new MediaError('BAD_SPS', 'sps_max_sub_layers_minus1');
  const temporalIdNesting = r.readFlag();
  const ptl = readProfileTierLevel(r, maxSubLayersMinus1);
  const spsId = r.readUE();
  if (spsId > 15) throw new MediaError('BAD_SPS', `sps_seq_parameter_set_id ${spsId}`);
  const chromaFormatIdc = r.readUE();
  if (chromaFormatIdc > 3) throw new MediaError('BAD_SPS', `chroma_format_idc ${chromaFormatIdc}`);
  let separateColourPlane = false;
  if (chromaFormatIdc === 3) separateColourPlane = r.readFlag();
  const codedWidth = r.readUE();
  const codedHeight = r.readUE();
  if (codedWidth === 0 || codedHeight === 0 || codedWidth > 65536 || codedHeight > 65536) {
    throw new MediaError('BAD_SPS', 'picture size');
  }
  const win = { left: 0, right: 0, top: 0, bottom: 0 };
  if (r.readFlag()) {
    win.left = r.readUE();
    win.right = r.readUE();
    win.top = r.readUE();
    win.bottom = r.readUE();
  }
  const bitDepthLuma = r.readUE() + 8;
  const bitDepthChroma = r.readUE() + 8;
  if (bitDepthLuma > 16 || bitDepthChroma > 16) throw new MediaError('BAD_SPS', 'bit depth');
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const subWidthC = chromaArrayType === 1 || chromaArrayType === 2 ? 2 : 1;
  const subHeightC = chromaArrayType === 1 ? 2 : 1;
  const width = codedWidth - subWidthC * (win.left + win.right);
  const height = codedHeight - subHeightC * (win.top + win.bottom);
  if (width <= 0 || height <= 0) throw new MediaError('BAD_SPS', 'conformance window larger than the picture');

  const info: H265SpsInfo = {
    ...ptl,
    vpsId,
    maxSubLayers: maxSubLayersMinus1 + 1,
    temporalIdNesting,
    spsId,
    profile: h265ProfileName(ptl.profileIdc, ptl.compatibilityFlags),
    tier: ptl.tierFlag ? 'High' : 'Main',
    level: ptl.levelIdc / 30,
    chromaFormatIdc,
    chromaFormat: CHROMA_NAMES[chromaFormatIdc],
    separateColourPlane,
    bitDepthLuma,
    bitDepthChroma,
    width,
    height,
    codedWidth,
    codedHeight,
    conformanceWindow: win,
    minSpatialSegmentationIdc: 0,
  };

  // The rest only matters for the VUI; a failure past this point keeps what we have.
  try {
    parseSpsTail(r, info, maxSubLayersMinus1);
  } catch (e) {
    if (!(e instanceof MediaError)) throw e;
  }
  return info;
}

function parseSpsTail(r: BitReader, info: H265SpsInfo, maxSubLayersMinus1: number): void {
  const log2MaxPocLsb = r.readUE() + 4;
  if (log2MaxPocLsb > 16) throw new MediaError('BAD_SPS', 'log2_max_pic_order_cnt_lsb');
  const orderingInfo = r.readFlag();
  for (let i = orderingInfo ? 0 : maxSubLayersMinus1; i <= maxSubLayersMinus1; i++) {
    r.readUE();
    r.readUE();
    r.readUE();
  }
  r.readUE(); // log2_min_luma_coding_block_size_minus3
  r.readUE(); // log2_diff_max_min_luma_coding_block_size
  r.readUE(); // log2_min_luma_transform_block_size_minus2
  r.readUE(); // log2_diff_max_min_luma_transform_block_size
  r.readUE(); // max_transform_hierarchy_depth_inter
  r.readUE(); // max_transform_hierarchy_depth_intra
  if (r.readFlag() && r.readFlag()) skipScalingListData(r);
  r.skipBits(1); // amp_enabled_flag
  r.skipBits(1); // sample_adaptive_offset_enabled_flag
  if (r.readFlag()) {
    r.skipBits(8); // pcm bit depths
    r.readUE();
    r.readUE();
    r.skipBits(1);
  }
  const numStRps = r.readUE();
  if (numStRps > 64) throw new MediaError('BAD_SPS', 'num_short_term_ref_pic_sets');
  skipShortTermRefPicSets(r, numStRps);
  if (r.readFlag()) {
    const numLt = r.readUE();
    if (numLt > 32) throw new MediaError('BAD_SPS', 'num_long_term_ref_pics_sps');
    for (let i = 0; i < numLt; i++) {
      r.skipBits(log2MaxPocLsb);
      r.skipBits(1);
    }
  }
  r.skipBits(1); // sps_temporal_mvp_enabled_flag
  r.skipBits(1); // strong_intra_smoothing_enabled_flag
  if (!r.readFlag()) return;
  // vui_parameters()
  if (r.readFlag()) {
    const idc = r.readBits(8);
    if (idc === 255) {
      info.sarWidth = r.readBits(16);
      info.sarHeight = r.readBits(16);
    } else if (idc > 0 && idc < SAR_TABLE.length) {
      [info.sarWidth, info.sarHeight] = SAR_TABLE[idc];
    }
  }
  if (r.readFlag()) r.skipBits(1);
  if (r.readFlag()) {
    r.skipBits(3);
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
  r.skipBits(3); // neutral_chroma_indication, field_seq, frame_field_info_present
  if (r.readFlag()) {
    // default display window
    r.readUE();
    r.readUE();
    r.readUE();
    r.readUE();
  }
  if (r.readFlag()) {
    const numUnitsInTick = r.readBits(32);
    const timeScale = r.readBits(32);
    if (numUnitsInTick > 0 && timeScale > 0) {
      info.numUnitsInTick = numUnitsInTick;
      info.timeScale = timeScale;
      info.fps = timeScale / numUnitsInTick;
    }
    if (r.readFlag()) r.readUE(); // poc proportional to timing
    if (r.readFlag()) skipHrdParameters(r, true, maxSubLayersMinus1);
  }
  if (r.readFlag()) {
    // bitstream_restriction
    r.skipBits(3);
    info.minSpatialSegmentationIdc = r.readUE();
    if (info.minSpatialSegmentationIdc > 4095) info.minSpatialSegmentationIdc = 0;
  }
}

function skipSubLayerHrd(r: BitReader, cpbCnt: number, subPicParams: boolean): void {
  for (let i = 0; i < cpbCnt; i++) {
    r.readUE();
    r.readUE();
    if (subPicParams) {
      r.readUE();
      r.readUE();
    }
    r.skipBits(1);
  }
}

function skipHrdParameters(r: BitReader, commonInf: boolean, maxSubLayersMinus1: number): void {
  let nal = false;
  let vcl = false;
  let subPic = false;
  if (commonInf) {
    nal = r.readFlag();
    vcl = r.readFlag();
    if (nal || vcl) {
      subPic = r.readFlag();
      if (subPic) r.skipBits(8 + 5 + 1 + 5);
      r.skipBits(4 + 4);
      if (subPic) r.skipBits(4);
      r.skipBits(5 + 5 + 5);
    }
  }
  for (let i = 0; i <= maxSubLayersMinus1; i++) {
    const fixedGeneral = r.readFlag();
    let fixedWithinCvs = true;
    if (!fixedGeneral) fixedWithinCvs = r.readFlag();
    let lowDelay = false;
    if (fixedWithinCvs) r.readUE();
    else lowDelay = r.readFlag();
    let cpbCnt = 1;
    if (!lowDelay) {
      cpbCnt = r.readUE() + 1;
      if (cpbCnt > 32) throw new MediaError('BAD_SPS', 'cpb_cnt');
    }
    if (nal) skipSubLayerHrd(r, cpbCnt, subPic);
    if (vcl) skipSubLayerHrd(r, cpbCnt, subPic);
  }
}


/** RFC 6381 / ISO 14496-15 codec string, e.g. 'hvc1.1.6.L93.B0'. */
export function h265CodecString(info: H265ProfileTierLevel, sampleEntry: 'hvc1' | 'hev1' = 'hvc1'): string {
  const space = ['', 'A', 'B', 'C'][info.profileSpace];
  // compatibility flags in reverse bit order
  let rev = 0;
  for (let i = 0; i < 32; i++) if ((info.compatibilityFlags >>> i) & 1) rev |= 1 << (31 - i);
  let cons = Array.from(info.constraintFlags).map((b) => b.toString(16).toUpperCase());
  while (cons.length > 0 && cons[cons.length - 1] === '0') cons = cons.slice(0, -1);
  return [
    sampleEntry,
    `${space}${info.profileIdc}`,
    (rev >>> 0).toString(16).toUpperCase(),
    `${info.tierFlag ? 'H' : 'L'}${info.levelIdc}`,
    ...cons,
  ].join('.');
}

export interface HvcCArray {
  nalType: number;
  completeness: boolean;
  nals: Buffer[];
}

export interface HvcCInfo extends H265ProfileTierLevel {
  version: number;
  minSpatialSegmentationIdc: number;
  parallelismType: number;
  chromaFormatIdc: number;
  bitDepthLuma: number;
  bitDepthChroma: number;
  avgFrameRate: number;
  constantFrameRate: number;
  numTemporalLayers: number;
  temporalIdNested: boolean;
  nalLengthSize: number;
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
  /** every NAL array in order, including SEI arrays */
  arrays: HvcCArray[];
}

/**
 * HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1) from VPS/SPS/PPS NAL units.
 * The general profile/tier/level, chroma format, bit depths and temporal layering come from the first SPS.
 */
export function buildHvcC(
  vps: readonly Buffer[],
  sps: readonly Buffer[],
  pps: readonly Buffer[],
  opts: { nalLengthSize?: number; sei?: readonly Buffer[] } = {},
): Buffer {
  if (sps.length === 0) throw new MediaError('BAD_SPS', 'hvcC needs at least one SPS');
  const nalLengthSize = opts.nalLengthSize ?? 4;
  if (nalLengthSize !== 1 && nalLengthSize !== 2 && nalLengthSize !== 4) {
    throw new MediaError('BAD_ARGUMENT', `NAL length size ${nalLengthSize}`);
  }
  const info = parseH265Sps(sps[0]);
  const arrays: Array<[number, readonly Buffer[]]> = [];
  if (vps.length) arrays.push([H265NalType.VPS, vps]);
  arrays.push([H265NalType.SPS, sps]);
  if (pps.length) arrays.push([H265NalType.PPS, pps]);
  if (opts.sei?.length) arrays.push([H265NalType.PREFIX_SEI, opts.sei]);
  let size = 23;
  for (const [, nals] of arrays) {
    if (nals.length > 0xffff) throw new MediaError('UNSUPPORTED', 'too many NAL units in an hvcC array');
    size += 3;
    for (const n of nals) {
      if (n.length > 0xffff) throw new MediaError('UNSUPPORTED', 'parameter set larger than 65535 bytes');
      size += 2 + n.length;
    }
  }
  const out = Buffer.allocUnsafe(size);
  out[0] = 1;
  out[1] = (info.profileSpace << 6) | (info.tierFlag << 5) | info.profileIdc;
  out.writeUInt32BE(info.compatibilityFlags >>> 0, 2);
  info.constraintFlags.copy(out, 6);
  out[12] = info.levelIdc;
  const mss = info.minSpatialSegmentationIdc;
  out.writeUInt16BE(0xf000 | mss, 13);
  out[15] = 0xfc | 0; // parallelismType unknown (0)
  out[16] = 0xfc | info.chromaFormatIdc;
  out[17] = 0xf8 | (info.bitDepthLuma - 8);
  out[18] = 0xf8 | (info.bitDepthChroma - 8);
  out.writeUInt16BE(0, 19); // avgFrameRate
  out[21] = (0 << 6) | (info.maxSubLayers << 3) | ((info.temporalIdNesting ? 1 : 0) << 2) | (nalLengthSize - 1);
  out[22] = arrays.length;
  let off = 23;
  for (const [type, nals] of arrays) {
    // array_completeness: every parameter set is in the record (SEI arrays: not claimed, as ffmpeg does)
    out[off] = (type === H265NalType.PREFIX_SEI ? 0 : 0x80) | type;
    out.writeUInt16BE(nals.length, off + 1);
    off += 3;
    for (const n of nals) {
      out.writeUInt16BE(n.length, off);
      n.copy(out, off + 2);
      off += 2 + n.length;
    }
  }
  return out;
}

/** Parse an HEVCDecoderConfigurationRecord; NAL units are subarrays of `record`. */
export function parseHvcC(record: Buffer): HvcCInfo {
  if (record.length < 23) throw new MediaError('BAD_RECORD', 'hvcC too short');
  if (record[0] !== 1) throw new MediaError('BAD_RECORD', `hvcC version ${record[0]}`);
  const nalLengthSize = (record[21] & 3) + 1;
  if (nalLengthSize === 3) throw new MediaError('BAD_RECORD', 'hvcC NAL length size 3');
  const info: HvcCInfo = {
    version: record[0],
    profileSpace: record[1] >>> 6,
    tierFlag: (record[1] >>> 5) & 1,
    profileIdc: record[1] & 0x1f,
    compatibilityFlags: record.readUInt32BE(2),
    constraintFlags: record.subarray(6, 12),
    levelIdc: record[12],
    minSpatialSegmentationIdc: record.readUInt16BE(13) & 0x0fff,
    parallelismType: record[15] & 3,
    chromaFormatIdc: record[16] & 3,
    bitDepthLuma: (record[17] & 7) + 8,
    bitDepthChroma: (record[18] & 7) + 8,
    avgFrameRate: record.readUInt16BE(19),
    constantFrameRate: record[21] >>> 6,
    numTemporalLayers: (record[21] >>> 3) & 7,
    temporalIdNested: ((record[21] >>> 2) & 1) === 1,
    nalLengthSize,
    vps: [],
    sps: [],
    pps: [],
    arrays: [],
  };
  const numArrays = record[22];
  let off = 23;
  for (let a = 0; a < numArrays; a++) {
    if (off + 3 > record.length) throw new MediaError('BAD_RECORD', 'hvcC array header truncated');
    const completeness = (record[off] & 0x80) !== 0;
    const nalType = record[off] & 0x3f;
    const count = record.readUInt16BE(off + 1);
    off += 3;
    const nals: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      if (off + 2 > record.length) throw new MediaError('BAD_RECORD', 'hvcC NAL length truncated');
      const len = record.readUInt16BE(off);
      off += 2;
      if (off + len > record.length) throw new MediaError('BAD_RECORD', 'hvcC NAL unit past the end');
      nals.push(record.subarray(off, off + len));
      off += len;
    }
    info.arrays.push({ nalType, completeness, nals });
    if (nalType === H265NalType.VPS) info.vps.push(...nals);
    else if (nalType === H265NalType.SPS) info.sps.push(...nals);
    else if (nalType === H265NalType.PPS) info.pps.push(...nals);
  }
  return info;
}

/** NAL length size from an hvcC record, cheaply (no full parse). */
export function hvcCNalLengthSize(record: Buffer): number {
  if (record.length < 23) throw new MediaError('BAD_RECORD', 'hvcC too short');
  return (record[21] & 3) + 1;
}

function configFrom(vps: readonly Buffer[], sps: readonly Buffer[], pps: readonly Buffer[], record: Buffer): VideoConfig {
  if (sps.length === 0) throw new MediaError('BAD_RECORD', 'no SPS');
  const info = parseH265Sps(sps[0]);
  const config: VideoConfig = {
    kind: 'video',
    codec: 'h265',
    record,
    parameterSets: [...vps, ...sps, ...pps],
    width: info.width,
    height: info.height,
    profile: info.profile,
    level: info.level,
  };
  if (info.fps !== undefined) config.fps = info.fps;
  return config;
}

/** VideoConfig from VPS/SPS/PPS NAL units (builds the hvcC record). */
export function h265Config(vps: readonly Buffer[], sps: readonly Buffer[], pps: readonly Buffer[]): VideoConfig {
  return configFrom(vps, sps, pps, buildHvcC(vps, sps, pps));
}

/** VideoConfig from an existing hvcC record (kept as is). */
export function h265ConfigFromRecord(record: Buffer): VideoConfig {
  const h = parseHvcC(record);
  return configFrom(h.vps, h.sps, h.pps, record);
}

/** True when the access unit holds an IRAP picture (BLA/IDR/CRA, types 16..23). */
export function isH265KeyFrame(nals: readonly Buffer[]): boolean {
  for (const n of nals) {
    if (n.length === 0) continue;
    const t = (n[0] >>> 1) & 0x3f;
    if (t >= 16 && t <= 23) return true;
  }
  return false;
}
