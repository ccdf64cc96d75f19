/**
 * The canonical media model shared by every protocol. Pure data: no Nest, no sockets.
 *
 * Timestamps are milliseconds (fractional allowed) in one timebase for every track of a stream.
 * Video frames carry NAL units without start codes (H.264/H.265) or one sample (AV1 OBUs in
 * low-overhead format, VP9 frame or superframe, VP8 frame); audio frames carry one raw frame (AAC
 * without ADTS, Opus packet, G.711 bytes).
 */
export type VideoCodec = 'h264' | 'h265' | 'av1' | 'vp9' | 'vp8';
export type AudioCodec = 'aac' | 'opus' | 'pcma' | 'pcmu' | 'mp3';
export type MediaKind = 'video' | 'audio';

export interface VideoConfig {
  kind: 'video';
  codec: VideoCodec;
  /** The decoder configuration record as MP4/FLV carry it: avcC, hvcC, av1C or vpcC bytes (empty for VP8). */
  record: Buffer;
  /** H.264: SPS/PPS; H.265: VPS/SPS/PPS (NAL units without start codes). Empty for AV1/VP9/VP8. */
  parameterSets: Buffer[];
  width: number;
  height: number;
  /** e.g. 'High', 'Main', 'Main 10' */
  profile?: string;
  /** e.g. 3.1, 4.0 */
  level?: number;
  /** frames per second when the bitstream signals it */
  fps?: number;
}

export interface AudioConfig {
  kind: 'audio';
  codec: AudioCodec;
  /** AAC: AudioSpecificConfig; Opus: OpusHead (RFC 7845 ID header); empty for G.711/MP3. */
  record: Buffer;
  sampleRate: number;
  channels: number;
  /** AAC: 'LC', 'HE-AAC', ... */
  profile?: string;
}

export type TrackConfig = VideoConfig | AudioConfig;
