import type { AVFrame, Track, TrackSet } from '@m7s/core';
import type { AudioCodec } from '@m7s/media';
import type { RecordingFormat } from '@m7s/persistence';

/** What a format writer reports when its file closes. */
export interface ClosedFile {
  /** Bytes on disk. */
  size: number;
}

/**
 * Writes one recording file. Calls come synchronously from the publisher's write path (through the
 * recorder's subscriber sink): queue bytes, never wait. Frames carry the stream clock (ms).
 */
export interface RecordFileWriter {
  /** Bytes queued and not yet on disk (over the subscriber's maxBacklog, frames skip to the next key frame). */
  backlog(): number;
  /** One frame, in stream order. */
  frame(frame: AVFrame): void;
  /** A track changed its config mid-file (only called when the format's acceptsConfigChange says yes; else the recorder splits the file). */
  track?(track: Track): void;
  /** Flushes and closes the file. */
  close(): Promise<ClosedFile>;
}

/** What finalize or recover found in a file. */
export interface FinalizedFile {
  size: number;
  /** ms of media in the file. */
  duration: number;
}

/**
 * A recording format (mp4, flv, hls), registered by its protocol module into RecordFormats at init.
 * The record lib does the rest: rules and API, file naming and splitting, the recordings rows, the
 * `{format}-finalize` job that calls finalize(), crash recovery at start, upload, retention.
 */
export interface RecordFormat {
  readonly format: RecordingFormat;
  /** File name extension without the dot ('mp4', 'flv', 'm3u8'). */
  readonly extension: string;
  /** Audio codecs its files carry (what players of such files read); others are recorded transcoded. Undefined = any. */
  readonly audioCodecs?: readonly AudioCodec[];
  /** Whether a file can carry a change of this track's config; when false, the recorder closes the file and opens the next. */
  acceptsConfigChange?(kind: 'video' | 'audio'): boolean;
  /** Creates the file (and its parent directories) and writes its header for these tracks. */
  open(filePath: string, tracks: TrackSet): Promise<RecordFileWriter>;
  /** Brings a closed file to its final form, atomically (write beside it, then rename). Idempotent. */
  finalize(filePath: string): Promise<FinalizedFile>;
  /**
   * At start: the file was left open by a crash. Make it a valid closed file (drop a torn tail) and
   * finalize it; undefined when nothing usable is in it (the caller deletes the file and its row).
   */
  recover(filePath: string): Promise<FinalizedFile | undefined>;
  /** Removes the file and anything that belongs to it (HLS segments). */
  remove(filePath: string): Promise<void>;
}

/** The formats this build records, filled by the protocol modules at init. */
export class RecordFormats {
  private readonly formats = new Map<string, RecordFormat>();

  register(format: RecordFormat): void {
    this.formats.set(format.format, format);
  }

  get(format: string): RecordFormat | undefined {
    return this.formats.get(format);
  }

  list(): RecordFormat[] {
    return [...this.formats.values()];
  }
}
