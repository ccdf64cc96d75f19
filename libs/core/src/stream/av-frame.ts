import type { AudioCodec, MediaKind, TrackConfig, VideoCodec } from '@m7s/media';

/**
 * One immutable frame in the canonical form (see media.types.ts), shared by every reader.
 * `cached` builds a protocol's serialization of the frame once; every player of that protocol then
 * writes the same Buffers.
 */
export class AVFrame {
  /** Position in the stream's ring, assigned when the publisher writes the frame. */
  seq = 0;
  private cache: Map<string, unknown> | undefined;

  constructor(
    readonly kind: MediaKind,
    readonly codec: VideoCodec | AudioCodec,
    /** Decode time, ms from the start of the stream. */
    readonly dts: number,
    /** Presentation time, ms (>= dts for video with B-frames; = dts for audio). */
    readonly pts: number,
    readonly keyFrame: boolean,
    /** Video: NAL units / one sample; audio: one raw frame. */
    readonly data: readonly Buffer[],
    /** The track's codec configuration when the frame was written. */
    readonly config: TrackConfig,
    readonly size: number = data.reduce((n, b) => n + b.length, 0),
  ) {}

  /** Composition time offset (pts - dts) in ms. */
  get cts(): number {
    return this.pts - this.dts;
  }

  cached<T>(format: string, build: (frame: AVFrame) => T): T {
    this.cache ??= new Map();
    let value = this.cache.get(format) as T | undefined;
    if (value === undefined) {
      value = build(this);
      this.cache.set(format, value);
    }
    return value;
  }
}
