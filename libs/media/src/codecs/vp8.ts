import { MediaError, MediaErrorCode } from '../media.errors';
import { VideoConfig } from '../media.types';

/** MediaErrorCode has no VP8 code yet: a VP8 frame header error is reported as the VP9 one. */
const BAD_HEADER: MediaErrorCode = 'BAD_VP8_HEADER';

/** The start of a VP8 frame (RFC 6386 9.1): the 3-byte frame tag and, on key frames, the start code and size. */
export interface Vp8FrameHeader {
  keyFrame: boolean;
  /** version (0..3; the profile) */
  version: number;
  showFrame: boolean;
  /** size of the first partition in bytes */
  firstPartitionSize: number;
  /** key frames only */
  width?: number;
  height?: number;
  /** key frames only: 0 = none, 1 = 5/4, 2 = 5/3, 3 = 2 */
  horizontalScale?: number;
  verticalScale?: number;
}

const VP8_START_CODE = 0x2a019d;

/** Parse a VP8 frame tag (and a key frame's start code and size). Throws MediaError('BAD_VP8_HEADER'). */
export function parseVp8FrameHeader(frame: Buffer): Vp8FrameHeader {
  if (frame.length < 3) throw new MediaError(BAD_HEADER, `VP8 frame of ${frame.length} bytes`);
  const tag = frame[0] | (frame[1] << 8) | (frame[2] << 16);
  const header: Vp8FrameHeader = { keyFrame: (tag & 1) === 0, version: (tag >>> 1) & 7, showFrame: ((tag >>> 4) & 1) === 1, firstPartitionSize: tag >>> 5 };
  if (header.version > 3) throw new MediaError(BAD_HEADER, `VP8 version ${header.version}`);
  if (!header.keyFrame) return header;
  if (frame.length < 10) throw new MediaError(BAD_HEADER, `VP8 key frame of ${frame.length} bytes`);
  if (frame.readUIntLE(3, 3) !== VP8_START_CODE) throw new MediaError(BAD_HEADER, 'VP8 key frame start code');
  const w = frame.readUInt16LE(6);
  const h = frame.readUInt16LE(8);
  header.width = w & 0x3fff;
  header.height = h & 0x3fff;
  header.horizontalScale = w >>> 14;
  header.verticalScale = h >>> 14;
  if (header.width === 0 || header.height === 0) throw new MediaError(BAD_HEADER, `VP8 size ${header.width}x${header.height}`);
  return header;
}

/** Whether a VP8 frame is a key frame (the inverse key frame bit of its tag). */
export function isVp8KeyFrame(frame: Buffer): boolean {
  return frame.length > 0 && (frame[0] & 1) === 0;
}

/** VideoConfig of a VP8 stream from one of its key frames (VP8 has no decoder configuration record). */
export function vp8Config(keyFrame: Buffer): VideoConfig {
  const h = parseVp8FrameHeader(keyFrame);
  if (!h.keyFrame) throw new MediaError(BAD_HEADER, 'not a key frame');
  return { kind: 'video', codec: 'vp8', record: Buffer.alloc(0), parameterSets: [], width: h.width!, height: h.height!, profile: `Profile ${h.version}` };
}
