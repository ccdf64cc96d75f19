import type { AudioConfig, MediaKind, TrackConfig, VideoConfig } from '@m7s/media';

/**
 * A track's codec configuration. `version` grows each time the publisher changes it (a new sequence
 * header mid-stream), and serializations of the config are cached per version like frames are.
 */
export class Track<C extends TrackConfig = TrackConfig> {
  version = 1;
  /** Frames and payload bytes the publisher wrote to this track (read by metrics to compute fps and bitrate). */
  frames = 0;
  bytes = 0;
  /** When the counters started at 0. */
  readonly createdAt = Date.now();
  private cache = new Map<string, unknown>();

  constructor(public config: C) {}

  get kind(): MediaKind {
    return this.config.kind;
  }

  get codec(): C['codec'] {
    return this.config.codec;
  }

  update(config: C): boolean {
    if (config.codec === this.config.codec && config.record.equals(this.config.record)) return false;
    this.config = config;
    this.version++;
    this.cache.clear();
    return true;
  }

  cached<T>(format: string, build: (config: C) => T): T {
    let value = this.cache.get(format) as T | undefined;
    if (value === undefined) {
      value = build(this.config);
      this.cache.set(format, value);
    }
    return value;
  }
}

export type VideoTrack = Track<VideoConfig>;
export type AudioTrack = Track<AudioConfig>;

export interface TrackSet {
  video?: VideoTrack;
  audio?: AudioTrack;
}
