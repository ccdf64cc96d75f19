import { Logger } from '@nestjs/common';
import type { Publisher } from '@m7s/core';
import { splitAvcc, TrackConfig } from '@m7s/media';
import type { StoredFile } from '@m7s/storage';
import type { OpenRange } from './mp4-recordings';
import { toMs } from './mp4-tracks';

/** One frame of the replay's timeline (times in ms of the stitched range). */
interface ReplayItem {
  config: TrackConfig;
  dts: number;
  pts: number;
  keyFrame: boolean;
  source: number;
  offset: number;
  size: number;
}

/** Frames are written this far ahead of their time. */
const LEAD_MS = 20;
/** The timer never sleeps longer (a speed change or seek is picked up within it). */
const MAX_SLEEP_MS = 200;
/** Bytes read from a file at once (sample data of a range is mostly contiguous). */
const WINDOW = 1024 * 1024;

/** Forward reads of one file through a window, so each sample is not one read (one request on S3). */
class WindowReader {
  private start = 0;
  private data = Buffer.alloc(0);

  constructor(private readonly file: StoredFile) {}

  async read(offset: number, size: number): Promise<Buffer> {
    if (offset < this.start || offset + size > this.start + this.data.length) {
      this.start = offset;
      this.data = await this.file.read(offset, Math.max(size, WINDOW));
      if (this.data.length < size) throw new Error(`recording ended early at ${offset + this.data.length}`);
    }
    return this.data.subarray(offset - this.start, offset - this.start + size);
  }
}

export interface ReplayInfo {
  id: string;
  streamPath: string;
  targetPath: string;
  /** The range asked for, ms since the epoch. */
  start: number;
  end: number;
  speed: number;
  /** Wall-clock time (ms since the epoch) of the frame being played. */
  position: number;
  state: 'playing' | 'ended' | 'stopped';
  startedAt: number;
}

/**
 * Plays a range of MP4 recordings as a live stream: a publisher (protocol 'replay') writes the frames at
 * the pace of their decode times divided by the speed, so every protocol can play the target path. Output
 * timestamps are scaled by the speed too (players see a smooth fast or slow stream) and never go back, also
 * across a seek; audio is sent at speed 1 only (audio frames cannot be played faster). Ends at the end of
 * the range. One timer per replay, cleared when it ends.
 */
export class ReplaySession {
  private static readonly logger = new Logger('Replay');
  state: ReplayInfo['state'] = 'playing';
  readonly startedAt = Date.now();
  private readonly items: ReplayItem[];
  private readonly readers: WindowReader[];
  private cursor = 0;
  /** Pacing: item time `media` is due at `wall` and stamped `out`; moved by seek and speed changes. */
  private anchor = { wall: 0, media: 0, out: 0 };
  private lastOut = 0;
  private lastMedia = 0;
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private pumping = false;

  constructor(
    readonly id: string,
    readonly streamPath: string,
    readonly targetPath: string,
    readonly start: number,
    readonly end: number,
    public speed: number,
    private readonly range: OpenRange,
    private readonly publisher: Publisher,
    private readonly onEnd: (session: ReplaySession) => void,
  ) {
    const items: ReplayItem[] = [];
    for (const { track, samples } of range.stitched.tracks) {
      publisher.setTrack(track.config);
      for (const s of samples) {
        const dts = toMs(s.dts, track.timescale);
        items.push({ config: track.config, dts, pts: dts + toMs(s.cts, track.timescale), keyFrame: s.keyFrame, source: s.source, offset: s.offset, size: s.size });
      }
    }
    // Decode order across tracks; video first at equal times.
    items.sort((a, b) => a.dts - b.dts || (a.config.kind === 'video' ? -1 : 1));
    this.items = items;
    this.readers = range.files.map((f) => new WindowReader(f));
    publisher.expectVideo = range.stitched.tracks.some((t) => t.track.config.kind === 'video');
    publisher.onStop = (error) => this.finish('stopped', error.message);
    this.anchor = { wall: Date.now(), media: items[0]?.dts ?? 0, out: 0 };
    void this.pump();
  }

  info(): ReplayInfo {
    const item = this.items[Math.min(this.cursor, this.items.length - 1)];
    return {
      id: this.id,
      streamPath: this.streamPath,
      targetPath: this.targetPath,
      start: this.start,
      end: this.end,
      speed: this.speed,
      position: Math.round(this.range.stitched.start + (item?.dts ?? 0)),
      state: this.state,
      startedAt: this.startedAt,
    };
  }

  /** Continues from the key frame at or before `time` (ms since the epoch, clamped to the range). */
  seek(time: number): void {
    const media = time - this.range.stitched.start;
    const hasVideo = this.items.some((i) => i.config.kind === 'video');
    let target = -1;
    for (let i = 0; i < this.items.length; i++) {
      const item = this.items[i];
      if (hasVideo && !(item.config.kind === 'video' && item.keyFrame)) continue;
      if (target === -1 || item.dts <= media) target = i;
      if (item.dts > media) break;
    }
    this.cursor = Math.max(0, target);
    this.generation++;
    // Output time continues one frame after the last one written.
    this.rebase(this.lastOut + 40);
  }

  setSpeed(speed: number): void {
    const next = this.items[this.cursor];
    this.speed = speed;
    this.rebase(this.lastOut + (next ? Math.max(0, next.dts - this.lastMedia) / speed : 0));
  }

  /** Stops the replay (its publisher leaves). */
  stop(): void {
    this.finish('stopped', 'stopped by an operator');
  }

  private rebase(out: number): void {
    const next = this.items[this.cursor];
    this.anchor = { wall: Date.now(), media: next?.dts ?? 0, out };
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.state !== 'playing') return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.pump(), Math.min(MAX_SLEEP_MS, Math.max(0, ms)));
  }

  private async pump(): Promise<void> {
    if (this.pumping || this.state !== 'playing') return;
    this.pumping = true;
    try {
      while (this.state === 'playing' && this.cursor < this.items.length) {
        const item = this.items[this.cursor];
        const offset = (item.dts - this.anchor.media) / this.speed;
        const due = this.anchor.wall + offset;
        const wait = due - LEAD_MS - Date.now();
        if (wait > 0) return this.schedule(wait);
        const generation = this.generation;
        const audioMuted = item.config.kind === 'audio' && this.speed !== 1;
        const data = audioMuted ? undefined : await this.readers[item.source].read(item.offset, item.size);
        if (generation !== this.generation) continue; // seeked while reading
        this.cursor++;
        const dts = this.anchor.out + offset;
        this.lastOut = Math.max(this.lastOut, dts);
        this.lastMedia = item.dts;
        if (data) this.write(item, dts, this.anchor.out + (item.pts - this.anchor.media) / this.speed, data);
      }
      if (this.state === 'playing') this.finish('ended', 'end of the range');
    } catch (error) {
      this.finish('stopped', `reading the recording failed: ${String(error)}`);
    } finally {
      this.pumping = false;
    }
  }

  private write(item: ReplayItem, dts: number, pts: number, data: Buffer): void {
    if (item.config.kind === 'audio') {
      this.publisher.writeAudio(dts, Buffer.from(data));
      return;
    }
    const codec = item.config.codec;
    const units = codec === 'h264' || codec === 'h265' ? splitAvcc(data) : [data];
    // Copies: a frame in the ring would otherwise keep the whole read window alive.
    this.publisher.writeVideo(dts, pts, item.keyFrame, units.map((u) => Buffer.from(u)));
  }

  private finish(state: 'ended' | 'stopped', reason: string): void {
    if (this.state !== 'playing') return;
    this.state = state;
    clearTimeout(this.timer);
    this.timer = undefined;
    ReplaySession.logger.log({ msg: 'replay end', id: this.id, streamPath: this.streamPath, targetPath: this.targetPath, reason });
    this.publisher.close(reason);
    void this.range.close();
    this.onEnd(this);
  }
}

