import { AVFrame, StreamError, Subscriber, SubscriberSink, Track, TrackSet } from '@m7s/core';
import type { AudioCodec } from '@m7s/media';
import { createPackager, Fmp4Packager, usableTracks } from './hls-packager';
import type { HlsContainer } from './hls-path';
import { HlsSegmenter, SegmenterOptions } from './hls-segmenter';

/** Audio HLS players (Safari, hls.js, TVs) read in TS and fMP4 alike: AAC, MP3; Opus and G.711 reach them as AAC. */
export const HLS_AUDIO_CODECS: readonly AudioCodec[] = ['aac', 'mp3'];

/**
 * The HLS muxer of one stream in one container, a player of the stream like any other (protocol 'hls').
 * Every part and segment is serialized once here and served from memory to every HLS client. It stays on
 * across publishers (a new publisher or new track configs begin a discontinuity) until it is dropped.
 */
export class HlsLive implements SubscriberSink {
  readonly segmenter: HlsSegmenter<AVFrame>;
  readonly audioCodecs = HLS_AUDIO_CODECS;
  /** fMP4 init sections by id (EXT-X-MAP), those still used by a segment in memory. */
  readonly inits = new Map<number, Buffer>();
  subscriber: Subscriber | undefined;
  /** When an HLS client last asked for anything of this muxer. */
  lastRequest = Date.now();
  /** Runs from publish start whatever the requests (hls.alwaysOn). */
  alwaysOn = false;
  /** Set when the engine ended it (no publisher in time, stopped, shutdown) or it was dropped. */
  ended: StreamError | undefined;
  /** Set when no track of the stream fits the container. */
  unsupported: string | undefined;
  /** Called once when it ends. */
  onEnd: (() => void) | undefined;
  private tracks: TrackSet = {};
  private initId = 0;
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly streamPath: string,
    readonly container: HlsContainer,
    options: SegmenterOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.segmenter = new HlsSegmenter<AVFrame>(options);
  }

  touch(): void {
    this.lastRequest = Date.now();
  }

  // SubscriberSink

  backlog(): number {
    return 0; // held in memory, bounded by the window
  }

  start(tracks: TrackSet): void {
    this.tracks = { ...tracks };
    this.restart();
  }

  track(track: Track): void {
    this.tracks = { ...this.tracks, [track.kind]: track };
    this.restart();
  }

  frame(frame: AVFrame): void {
    if (this.unsupported) return;
    if (this.segmenter.push(frame, this.now()) > 0) this.notify();
  }

  publisherLeft(): boolean {
    this.segmenter.flush();
    this.notify();
    return true; // wait for the next publisher (a discontinuity)
  }

  end(error: StreamError): void {
    if (this.ended) return;
    this.ended = error;
    this.segmenter.flush();
    this.notify();
    this.onEnd?.();
  }

  /**
   * Resolves true as soon as `ready()` holds (checked now and after each new part), false when `timeoutMs`
   * passes, the muxer ends, or `cancel` fires (the client went away).
   */
  waitFor(ready: () => boolean, timeoutMs: number, cancel?: (abort: () => void) => void): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    if (this.ended || this.unsupported) return Promise.resolve(false);
    return new Promise((resolve) => {
      let settled = false;
      const done = (value: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const check = (): void => {
        if (ready()) done(true);
        else if (this.ended || this.unsupported) done(false);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.waiters.add(check);
      cancel?.(() => done(false));
    });
  }

  private notify(): void {
    for (const check of [...this.waiters]) check();
  }

  private restart(): void {
    const configs = usableTracks(this.container, { video: this.tracks.video?.config, audio: this.tracks.audio?.config });
    if (!configs.video && !configs.audio) {
      const codecs = [this.tracks.video?.codec, this.tracks.audio?.codec].filter(Boolean).join(', ');
      this.unsupported = `no track of ${this.streamPath} (${codecs}) fits HLS ${this.container}`;
      this.segmenter.flush();
      this.notify();
      return;
    }
    this.unsupported = undefined;
    const packager = createPackager(this.container, configs);
    this.initId++;
    if (packager instanceof Fmp4Packager) this.inits.set(this.initId, packager.init);
    this.segmenter.begin(packager, configs.video !== undefined, this.initId);
    // Keep the init sections that segments in memory (or the next one) still need.
    const used = new Set(this.segmenter.segments.map((s) => s.initId).concat(this.initId));
    for (const id of this.inits.keys()) if (!used.has(id)) this.inits.delete(id);
    this.notify();
  }
}
