import type { MediaKind } from '@m7s/media';

/** What the segmenter needs of a frame (an AVFrame is one). */
export interface SegmenterFrame {
  kind: MediaKind;
  /** ms */
  dts: number;
  keyFrame: boolean;
}

export interface HlsPart {
  index: number;
  /** ms (stream clock) */
  start: number;
  /** ms */
  duration: number;
  /** Starts with a key frame (always true for audio-only streams). */
  independent: boolean;
  data: Buffer;
}

export interface HlsSegment {
  /** Media sequence number. */
  msn: number;
  /** ms (stream clock) */
  start: number;
  /** ms; while the segment is in progress, the sum of its parts so far. */
  duration: number;
  /** Wall-clock time of the first frame, ms since the epoch (EXT-X-PROGRAM-DATE-TIME). */
  programDateTime: number;
  /** The first segment of a new publisher or of new track configs (EXT-X-DISCONTINUITY). */
  discontinuity: boolean;
  /** The init section it needs (fMP4; EXT-X-MAP). */
  initId: number;
  parts: HlsPart[];
  complete: boolean;
  /** Bytes of all its parts. */
  size: number;
}

/** Serializes the frames of one part: TS packets or a moof + mdat. */
export interface PartPackager<F> {
  /** `segmentStart`: the first part of a segment (TS repeats PAT/PMT there); `end`: ms where the part ends. */
  pack(frames: readonly F[], segmentStart: boolean, end: number): Buffer;
}

export interface SegmenterOptions {
  /** ms: a segment ends at the first key frame (audio-only: the first frame) after this long. */
  segmentDuration: number;
  /** ms: parts end before the frame that would take them past this. */
  partDuration: number;
  /** Complete segments listed in the playlist. */
  windowSize: number;
  /** Complete segments kept beyond the window for players that read an older playlist. */
  extraSegments: number;
}

/** The playlist's view: listed segments, oldest first (the last one in progress when `current` is set). */
export interface SegmentWindow {
  segments: HlsSegment[];
  /** EXT-X-DISCONTINUITY-SEQUENCE of the first listed segment. */
  discontinuitySequence: number;
}

/** Timestamps within this of the limit count as reaching it (ms timestamps are rounded). */
const TOLERANCE_MS = 1;

/**
 * Cuts a stream into segments and parts. Video streams: a segment begins at a key frame once the current
 * one has lasted `segmentDuration`; parts end before the video frame that would take them past
 * `partDuration`. Audio-only streams: the same by time on audio frames. Audio of a video stream rides in
 * the part in progress. Pure: the caller gives the wall-clock time with each frame.
 */
export class HlsSegmenter<F extends SegmenterFrame> {
  /** In memory: complete segments (window + extra), then the one in progress (if any). */
  readonly segments: HlsSegment[] = [];
  /** Longest complete segment so far, ms. */
  maxSegmentDuration = 0;
  private removedDiscontinuities = 0;
  private nextMsn = 0;
  private packager: PartPackager<F> | undefined;
  private hasVideo = false;
  private initId = 0;
  private pendingDiscontinuity = false;
  private pending: F[] = [];
  private partStart = 0;
  private partIndependent = false;
  private lastClockDts: number | undefined;
  private lastInterval = 0;
  private wallBase: number | undefined;

  constructor(readonly options: SegmenterOptions) {}

  /** The segment in progress, if any. */
  get current(): HlsSegment | undefined {
    const last = this.segments[this.segments.length - 1];
    return last && !last.complete ? last : undefined;
  }

  /** Newest part made so far, with its segment. */
  get lastPart(): { msn: number; index: number } | undefined {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const s = this.segments[i];
      if (s.parts.length) return { msn: s.msn, index: s.parts.length - 1 };
    }
    return undefined;
  }

  /** Newest complete segment's msn, or -1. */
  get lastCompleteMsn(): number {
    for (let i = this.segments.length - 1; i >= 0; i--) if (this.segments[i].complete) return this.segments[i].msn;
    return -1;
  }

  /** The msn and index the next part will have (EXT-X-PRELOAD-HINT). */
  get nextPart(): { msn: number; index: number } {
    const current = this.current;
    return current ? { msn: current.msn, index: current.parts.length } : { msn: this.nextMsn, index: 0 };
  }

  /**
   * (Re)starts on a set of tracks: ends what is in progress, and the next segment begins a discontinuity
   * (unless it is the first) with init section `initId`.
   */
  begin(packager: PartPackager<F>, hasVideo: boolean, initId: number): void {
    this.flush();
    this.packager = packager;
    this.hasVideo = hasVideo;
    this.initId = initId;
    this.pendingDiscontinuity = this.segments.length > 0 || this.nextMsn > 0;
    this.lastClockDts = undefined;
    this.lastInterval = 0;
    this.wallBase = undefined;
  }

  /** Adds a frame; returns how many parts it completed (0, or 1 when it began a new part). */
  push(frame: F, now: number): number {
    if (!this.packager) return 0;
    const clock = this.hasVideo ? frame.kind === 'video' : frame.kind === 'audio';
    if (!clock) {
      // Audio of a video stream: in the part in progress (dropped before the first key frame).
      if (this.pending.length) this.pending.push(frame);
      return 0;
    }
    if (!this.current && this.hasVideo && !frame.keyFrame) return 0;
    const interval = this.lastClockDts === undefined ? 0 : Math.max(0, frame.dts - this.lastClockDts);
    let completed = 0;
    const current = this.current;
    if (current && this.pending.length) {
      const segmentDue = frame.dts - current.start >= this.options.segmentDuration - TOLERANCE_MS && (frame.keyFrame || !this.hasVideo);
      const partDue = frame.dts - this.partStart + interval > this.options.partDuration + TOLERANCE_MS;
      if (segmentDue || partDue) completed += this.closePart(frame.dts);
      if (segmentDue) this.closeSegment(frame.dts);
    }
    if (!this.current) this.openSegment(frame.dts, now);
    if (!this.pending.length) {
      this.partStart = frame.dts;
      this.partIndependent = frame.keyFrame || !this.hasVideo;
    }
    this.pending.push(frame);
    if (interval > 0) this.lastInterval = interval;
    this.lastClockDts = frame.dts;
    return completed;
  }

  /** Ends the part and segment in progress (publisher left, new tracks); returns parts completed. */
  flush(): number {
    const current = this.current;
    if (!current) return 0;
    const end = (this.lastClockDts ?? current.start) + this.lastInterval;
    const completed = this.closePart(end);
    if (current.parts.length) this.closeSegment(end);
    else this.segments.pop(); // nothing in it
    return completed;
  }

  /** Listed segments: the newest `windowSize` complete ones, plus the one in progress when `withCurrent`. */
  window(withCurrent: boolean): SegmentWindow {
    const complete = this.segments.filter((s) => s.complete);
    const listedComplete = complete.slice(-this.options.windowSize);
    const unlisted = complete.slice(0, complete.length - listedComplete.length);
    const segments = withCurrent && this.current ? [...listedComplete, this.current] : listedComplete;
    // The first listed segment's own discontinuity is counted only once it leaves the playlist.
    const discontinuitySequence = this.removedDiscontinuities + unlisted.filter((s) => s.discontinuity).length;
    return { segments, discontinuitySequence };
  }

  find(msn: number): HlsSegment | undefined {
    const first = this.segments[0];
    if (!first) return undefined;
    const s = this.segments[msn - first.msn];
    return s?.msn === msn ? s : undefined;
  }

  private openSegment(start: number, now: number): void {
    this.wallBase ??= now - start;
    this.segments.push({
      msn: this.nextMsn++,
      start,
      duration: 0,
      programDateTime: this.wallBase + start,
      discontinuity: this.pendingDiscontinuity,
      initId: this.initId,
      parts: [],
      complete: false,
      size: 0,
    });
    this.pendingDiscontinuity = false;
  }

  private closePart(end: number): number {
    const segment = this.current;
    if (!segment || !this.pending.length || !this.packager) return 0;
    const data = this.packager.pack(this.pending, segment.parts.length === 0, end);
    const duration = Math.max(0, end - this.partStart);
    segment.parts.push({ index: segment.parts.length, start: this.partStart, duration, independent: this.partIndependent, data });
    segment.duration = Math.max(0, end - segment.start);
    segment.size += data.length;
    this.pending = [];
    return 1;
  }

  private closeSegment(end: number): void {
    const segment = this.current;
    if (!segment) return;
    segment.duration = Math.max(0, end - segment.start);
    segment.complete = true;
    this.maxSegmentDuration = Math.max(this.maxSegmentDuration, segment.duration);
    const keep = this.options.windowSize + this.options.extraSegments;
    while (this.segments.filter((s) => s.complete).length > keep) {
      const removed = this.segments.shift()!;
      if (removed.discontinuity) this.removedDiscontinuities++;
    }
  }
}
