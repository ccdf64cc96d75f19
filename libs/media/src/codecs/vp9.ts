import { BitReader } from '../bit-reader';
import { MediaError } from '../media.errors';
import { VideoConfig } from '../media.types';

/** VPCodecConfigurationRecord (VP Codec ISO Media File Format Binding, vpcC version 1). */
export interface VpcCInfo {
  profile: number;
  /** level * 10, e.g. 31 for level 3.1 (0 = unknown) */
  levelIdc: number;
  bitDepth: number;
  /** 0 = 4:2:0 vertical, 1 = 4:2:0 colocated, 2 = 4:2:2, 3 = 4:4:4 */
  chromaSubsampling: number;
  videoFullRange: boolean;
  colourPrimaries: number;
  transferCharacteristics: number;
  matrixCoefficients: number;
  codecInitializationData: Buffer;
}

/**
 * Parse a vpcC payload. Accepts it with the FullBox version/flags prefix (what ffmpeg writes in
 * MP4 and Enhanced FLV: 01 00 00 00 ...) or without it.
 */
export function parseVpcC(record: Buffer): VpcCInfo {
  let off = 0;
  if (record.length >= 12 && record[0] === 1 && record[1] === 0 && record[2] === 0 && record[3] === 0) off = 4;
  if (record.length < off + 8) throw new MediaError('BAD_RECORD', 'vpcC too short');
  const b = record[off + 2];
  const initSize = record.readUInt16BE(off + 6);
  if (off + 8 + initSize > record.length) throw new MediaError('BAD_RECORD', 'vpcC initialization data past the end');
  const info: VpcCInfo = {
    profile: record[off],
    levelIdc: record[off + 1],
    bitDepth: b >>> 4,
    chromaSubsampling: (b >>> 1) & 7,
    videoFullRange: (b & 1) === 1,
    colourPrimaries: record[off + 3],
    transferCharacteristics: record[off + 4],
    matrixCoefficients: record[off + 5],
    codecInitializationData: record.subarray(off + 8, off + 8 + initSize),
  };
  if (info.profile > 3) throw new MediaError('BAD_RECORD', `VP9 profile ${info.profile}`);
  return info;
}

export interface VpcCOptions {
  profile?: number;
  levelIdc?: number;
  bitDepth?: number;
  chromaSubsampling?: number;
  videoFullRange?: boolean;
  colourPrimaries?: number;
  transferCharacteristics?: number;
  matrixCoefficients?: number;
}

/** Build a vpcC payload with the version 1 FullBox prefix (12 bytes). Defaults: profile 0, 8-bit 4:2:0, BT.709. */
export function buildVpcC(o: VpcCOptions = {}): Buffer {
  const out = Buffer.alloc(12);
  out[0] = 1; // version; flags = 0
  out[4] = o.profile ?? 0;
  out[5] = o.levelIdc ?? 0;
  out[6] = ((o.bitDepth ?? 8) << 4) | ((o.chromaSubsampling ?? 1) << 1) | (o.videoFullRange ? 1 : 0);
  out[7] = o.colourPrimaries ?? 1;
  out[8] = o.transferCharacteristics ?? 1;
  out[9] = o.matrixCoefficients ?? 1;
  // codecIntializationDataSize = 0
  return out;
}

export interface Vp9FrameInfo {
  profile: number;
  showExistingFrame: boolean;
  keyFrame: boolean;
  showFrame: boolean;
  intraOnly: boolean;
  /** present on key frames and intra-only frames */
  width?: number;
  height?: number;
  bitDepth?: number;
  /** color_space (0..7, 7 = sRGB) */
  colorSpace?: number;
  colorRange?: boolean;
  subsamplingX?: number;
  subsamplingY?: number;
}

/**
 * Parse the start of a VP9 uncompressed frame header. Width/height are returned for key frames and
 * intra-only frames (other frames take their size from references).
 */
export function parseVp9FrameHeader(frame: Buffer): Vp9FrameInfo {
  const r = new BitReader(frame, 0, frame.length, 'BAD_VP9_HEADER');
  if (r.readBits(2) !== 2) throw new MediaError('BAD_VP9_HEADER', 'frame_marker');
  const low = r.readBit();
  const high = r.readBit();
  const profile = (high << 1) | low;
  if (profile === 3) r.skipBits(1);
  const info: Vp9FrameInfo = { profile, showExistingFrame: false, keyFrame: false, showFrame: false, intraOnly: false };
  if (r.readFlag()) {
    info.showExistingFrame = true;
    return info;
  }
  info.keyFrame = r.readBit() === 0;
  info.showFrame = r.readFlag();
  const errorResilient = r.readFlag();
  const colorConfig = () => {
    let bitDepth = 8;
    if (profile >= 2) bitDepth = r.readFlag() ? 12 : 10;
    const cs = r.readBits(3);
    info.bitDepth = bitDepth;
    info.colorSpace = cs;
    if (cs !== 7) {
      info.colorRange = r.readFlag();
      if (profile === 1 || profile === 3) {
        info.subsamplingX = r.readBit();
        info.subsamplingY = r.readBit();
        r.skipBits(1);
      } else {
        info.subsamplingX = 1;
        info.subsamplingY = 1;
      }
    } else {
      info.colorRange = true;
      if (profile === 1 || profile === 3) {
        info.subsamplingX = 0;
        info.subsamplingY = 0;
        r.skipBits(1);
      }
    }
  };
  const syncCode = () => {
    if (r.readBits(24) !== 0x498342) throw new MediaError('BAD_VP9_HEADER', 'frame_sync_code');
  };
  const frameSize = () => {
    info.width = r.readBits(16) + 1;
    info.height = r.readBits(16) + 1;
  };
  if (info.keyFrame) {
    syncCode();
    colorConfig();
    frameSize();
  } else {
    if (!info.showFrame) info.intraOnly = r.readFlag();
    if (!errorResilient) r.skipBits(2); // reset_frame_context
    if (info.intraOnly) {
      syncCode();
      if (profile > 0) {
        colorConfig();
      } else {
        info.bitDepth = 8;
        info.colorSpace = 1; // BT.601
        info.subsamplingX = 1;
        info.subsamplingY = 1;
        info.colorRange = false;
      }
      r.skipBits(8); // refresh_frame_flags
      frameSize();
    }
  }
  return info;
}

/** Width/height from a VP9 key frame or intra-only frame; undefined for other frames. */
export function vp9FrameSize(frame: Buffer): { width: number; height: number } | undefined {
  const h = parseVp9FrameHeader(frame);
  return h.width !== undefined && h.height !== undefined ? { width: h.width, height: h.height } : undefined;
}

/** True when the frame (or the first frame of a superframe) is a key frame. */
export function isVp9KeyFrame(frame: Buffer): boolean {
  return parseVp9FrameHeader(frame).keyFrame;
}

/** vpcC options derived from a key frame header (for ingest paths that carry no vpcC). */
export function vpcCOptionsFromFrame(frame: Buffer): VpcCOptions {
  const h = parseVp9FrameHeader(frame);
  if (!h.keyFrame && !h.intraOnly) throw new MediaError('BAD_VP9_HEADER', 'not a key frame');
  const sx = h.subsamplingX ?? 1;
  const sy = h.subsamplingY ?? 1;
  return {
    profile: h.profile,
    bitDepth: h.bitDepth ?? 8,
    chromaSubsampling: sx && sy ? 1 : sx ? 2 : 3,
    videoFullRange: h.colorRange ?? false,
  };
}

/** RFC 6381-style codec string 'vp09.PP.LL.DD'. */
export function vp9CodecString(info: VpcCInfo): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `vp09.${two(info.profile)}.${two(info.levelIdc)}.${two(info.bitDepth)}`;
}

/** VideoConfig from a vpcC record; VP9 carries its size in key frames, so pass it when known. */
export function vp9Config(record: Buffer, width = 0, height = 0): VideoConfig {
  const info = parseVpcC(record);
  const config: VideoConfig = {
    kind: 'video',
    codec: 'vp9',
    record,
    parameterSets: [],
    width,
    height,
    profile: `Profile ${info.profile}`,
  };
  if (info.levelIdc > 0) config.level = info.levelIdc / 10;
  return config;
}

/**
 * The frames of a VP9 superframe (VP9 spec Annex B: frames followed by an index of their sizes), or the
 * data itself when it ends without a superframe index. Subarrays, no copy. Throws
 * MediaError('BAD_VP9_HEADER') when the sizes in the index do not fit the data.
 */
export function splitVp9Superframe(data: Buffer): Buffer[] {
  if (data.length === 0) return [data];
  const marker = data[data.length - 1];
  if ((marker & 0xe0) !== 0xc0) return [data];
  const frames = (marker & 7) + 1;
  const mag = ((marker >>> 3) & 3) + 1;
  const indexSize = 2 + mag * frames;
  if (data.length < indexSize || data[data.length - indexSize] !== marker) return [data];
  const out: Buffer[] = [];
  let off = 0;
  let at = data.length - indexSize + 1;
  for (let i = 0; i < frames; i++, at += mag) {
    const size = data.readUIntLE(at, mag);
    if (off + size > data.length - indexSize) throw new MediaError('BAD_VP9_HEADER', 'VP9 superframe index sizes past the data');
    // a zero size is allowed by the index but carries no frame
    if (size > 0) out.push(data.subarray(off, off + size));
    off += size;
  }
  if (out.length === 0) throw new MediaError('BAD_VP9_HEADER', 'VP9 superframe without frames');
  return out;
}

/** A superframe of 1..8 VP9 frames (one frame is returned as is). */
export function buildVp9Superframe(frames: readonly Buffer[]): Buffer {
  if (frames.length === 1) return frames[0];
  if (frames.length === 0 || frames.length > 8) throw new MediaError('BAD_ARGUMENT', `VP9 superframe of ${frames.length} frames`);
  const largest = Math.max(...frames.map((f) => f.length));
  if (largest > 0xffffffff) throw new MediaError('BAD_ARGUMENT', 'VP9 frame over 4 GiB');
  const mag = largest < 0x100 ? 1 : largest < 0x10000 ? 2 : largest < 0x1000000 ? 3 : 4;
  const marker = 0xc0 | ((mag - 1) << 3) | (frames.length - 1);
  const indexSize = 2 + mag * frames.length;
  const body = frames.reduce((n, f) => n + f.length, 0);
  const out = Buffer.allocUnsafe(body + indexSize);
  let off = 0;
  for (const f of frames) off += f.copy(out, off);
  out[off++] = marker;
  for (const f of frames) off = out.writeUIntLE(f.length, off, mag);
  out[off] = marker;
  return out;
}
