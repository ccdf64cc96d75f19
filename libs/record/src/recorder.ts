import { Logger } from '@nestjs/common';
import type { AVFrame, StreamError, Subscriber, SubscriberSink, Track, TrackSet } from '@m7s/core';
import { isFileStart, recordFilePath, shouldSplit } from './record-files';
import type { ClosedFile, RecordFileWriter, RecordFormat } from './record-format';

/** One file of a recorder, from its first frame to its close. */
export class RecordFile {
  writer: RecordFileWriter | undefined;
  /** The recordings row id, once inserted (set by the host). */
  rowId: Promise<number | undefined> = Promise.resolve(undefined);
  lastDts: number;
  /** What came before the writer was open, in order. */
  private pending: (AVFrame | Track)[] = [];
  private pendingBytes = 0;
  private failed = false;
  readonly ready: Promise<void>;

  constructor(
    readonly format: RecordFormat,
    readonly filePath: string,
    readonly tracks: TrackSet,
    /** Wall clock of the first frame, ms since the epoch. */
    readonly startTime: number,
    readonly firstDts: number,
  ) {
    this.lastDts = firstDts;
    this.ready = format.open(filePath, tracks).then(
      (writer) => {
        this.writer = writer;
        for (const item of this.pending) this.deliver(item);
        this.pending = [];
        this.pendingBytes = 0;
      },
      (error: unknown) => {
        this.failed = true;
        this.pending = [];
        throw error;
      },
    );
    // Observed by close(); an unobserved rejection must not crash the process meanwhile.
    this.ready.catch(() => undefined);
  }

  get videoCodec(): string | undefined {
    return this.tracks.video?.codec;
  }

  get audioCodec(): string | undefined {
    return this.tracks.audio?.codec;
  }

  /** ms of media written so far (first to last frame). */
  get duration(): number {
    return Math.max(0, this.lastDts - this.firstDts);
  }

  has(kind: 'video' | 'audio'): boolean {
    return this.tracks[kind] !== undefined;
  }

  backlog(): number {
    return this.writer ? this.writer.backlog() : this.pendingBytes;
  }

  frame(frame: AVFrame): void {
    if (frame.dts > this.lastDts) this.lastDts = frame.dts;
    if (this.writer) this.writer.frame(frame);
    else if (!this.failed) {
      this.pending.push(frame);
      this.pendingBytes += frame.size;
    }
  }

  track(track: Track): void {
    if (this.writer) this.writer.track?.(track);
    else if (!this.failed) this.pending.push(track);
  }

  /** Flushes and closes; undefined when the file could not be opened. */
  async close(): Promise<ClosedFile | undefined> {
    try {
      await this.ready;
    } catch {
      return undefined;
    }
    return this.writer!.close();
  }

  private deliver(item: AVFrame | Track): void {
    if ('keyFrame' in item) this.writer!.frame(item);
    else this.writer!.track?.(item);
  }
}

/** What a recorder reports to the record service. */
export interface RecorderHost {
  /** A file was opened (store its row, emit record_start). */
  fileOpened(recorder: Recorder, file: RecordFile): void;
  /** A file is to be closed (close it, update its row, emit record_end, queue its finalize). */
  fileClosed(recorder: Recorder, file: RecordFile, reason: string): void;
  /** The recorder is over (its last file was handed to fileClosed). */
  recorderEnded(recorder: Recorder, reason: string): void;
}

export interface RecorderOptions {
  dir: string;
  /** Split duration, ms (0 = never). */
  fragment: number;
  /** Why it records: rule, api, pull proxy. */
  origin: string;
  /** The stream's clock (newest dts), to date the first frame by the wall clock. */
  streamClock: () => number;
}

/**
 * Records one stream in one format: an engine subscriber whose sink never waits (the format writer queues).
 * Files start at a key frame (any audio frame without video), are split at the first key frame after
 * `fragment` ms, and at a track change the format cannot carry.
 */
export class Recorder implements SubscriberSink {
  private static readonly logger = new Logger('Recorder');
  subscriber: Subscriber | undefined;
  readonly startedAt = Date.now();
  files = 0;
  private tracks: TrackSet = {};
  private current: RecordFile | undefined;
  /** After a split, the next file continues the previous one's wall clock. */
  private continueFrom: { startTime: number; firstDts: number } | undefined;
  private ended = false;

  constructor(
    readonly streamPath: string,
    readonly format: RecordFormat,
    readonly options: RecorderOptions,
    private readonly host: RecorderHost,
  ) {}

  /** What the format's files carry (the engine transcodes other audio for it). */
  get audioCodecs(): RecordFormat['audioCodecs'] {
    return this.format.audioCodecs;
  }

  get currentFile(): RecordFile | undefined {
    return this.current;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  backlog(): number {
    return this.current?.backlog() ?? 0;
  }

  start(tracks: TrackSet): void {
    this.tracks = { ...tracks };
  }

  track(track: Track): void {
    this.tracks = { ...this.tracks, [track.kind]: track };
    const file = this.current;
    if (!file) return;
    if (file.has(track.kind) && (this.format.acceptsConfigChange?.(track.kind) ?? false)) file.track(track);
    else this.closeFile(`${track.kind} track changed`);
  }

  frame(frame: AVFrame): void {
    if (this.ended) return;
    const hasVideo = this.tracks.video !== undefined;
    try {
      if (this.current && shouldSplit(frame, this.current.firstDts, this.options.fragment, hasVideo)) {
        // The file's media lasts until the next one starts.
        this.current.lastDts = frame.dts;
        this.closeFile('fragment', true);
      }
      if (!this.current) {
        if (!isFileStart(frame, hasVideo)) return;
        this.openFile(frame);
      }
      this.current!.frame(frame);
    } catch (error) {
      Recorder.logger.error({ msg: 'recording a frame failed; the file is closed', streamPath: this.streamPath, format: this.format.format, error: String(error) });
      this.closeFile('error');
    }
  }

  publisherLeft(): boolean {
    this.finish('publisher left');
    return false;
  }

  end(error: StreamError): void {
    this.finish(error.code);
  }

  /** Ends the recorder (its subscriber is removed by the caller). */
  finish(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.closeFile(reason);
    this.host.recorderEnded(this, reason);
  }

  private openFile(frame: AVFrame): void {
    const startTime = this.continueFrom
      ? this.continueFrom.startTime + Math.round(frame.dts - this.continueFrom.firstDts)
      : Math.round(Date.now() - Math.max(0, this.options.streamClock() - frame.dts));
    this.continueFrom = undefined;
    const filePath = recordFilePath(this.options.dir, this.streamPath, startTime, this.format.extension);
    const file = new RecordFile(this.format, filePath, { ...this.tracks }, startTime, frame.dts);
    this.current = file;
    this.files++;
    this.host.fileOpened(this, file);
  }

  private closeFile(reason: string, split = false): void {
    const file = this.current;
    if (!file) return;
    this.current = undefined;
    if (split) this.continueFrom = { startTime: file.startTime, firstDts: file.firstDts };
    this.host.fileClosed(this, file, reason);
  }
}
