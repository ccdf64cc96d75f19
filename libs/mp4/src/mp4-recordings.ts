import { Injectable, Optional } from '@nestjs/common';
import { AppError, ConfigService, normalizeStreamPath } from '@m7s/core';
import { Mp4Index, readMp4Index } from '@m7s/media';
import { InjectRepository, LessThan, MoreThan, RecordingEntity, Repository } from '@m7s/persistence';
import { StorageService, StoredFile } from '@m7s/storage';
import type { Mp4Config } from './mp4.config';
import { stitchRange, Stitched } from './mp4-stitch';

/** The recordings of a range, open, with the samples of the range on one timeline. */
export interface OpenRange {
  stitched: Stitched;
  /** The files, in the order the samples' `source` refers to. */
  files: StoredFile[];
  recordings: RecordingEntity[];
  close(): Promise<void>;
}

/**
 * Complete MP4 recordings of a stream, read wherever they are stored (local disk or S3). Sample indexes
 * of recently read files are kept (bounded), so the range requests of one download do not read them again.
 */
@Injectable()
export class Mp4Recordings {
  private readonly indexes = new Map<string, Promise<Mp4Index>>();

  constructor(
    @InjectRepository(RecordingEntity) private readonly recordings: Repository<RecordingEntity>,
    private readonly config: ConfigService,
    @Optional() private readonly storage?: StorageService,
  ) {}

  /** Complete MP4 recordings of `streamPath` overlapping [start, end], oldest first. */
  find(streamPath: string, start: number, end: number): Promise<RecordingEntity[]> {
    return this.recordings.find({
      where: { streamPath: normalizeStreamPath(streamPath), format: 'mp4', status: 'complete', startTime: LessThan(end), endTime: MoreThan(start) },
      order: { startTime: 'ASC' },
    });
  }

  /**
   * Opens the recordings of [start, end] and stitches their samples (from the key frame at or before
   * `start`). Throws NOT_FOUND when no recording has media in the range; the caller closes the result.
   */
  async openRange(streamPath: string, start: number, end: number, maxRange: number): Promise<OpenRange> {
    if (!(end > start)) throw new AppError('INVALID_ARGUMENT', 'end must be after start');
    if (end - start > maxRange) throw new AppError('INVALID_ARGUMENT', `the range is longer than ${maxRange} ms`);
    if (!this.storage) throw new AppError('UNAVAILABLE', 'recording storage is not configured');
    const recordings = await this.find(streamPath, start, end);
    const files: StoredFile[] = [];
    const close = async () => {
      await Promise.all(files.map((f) => f.close().catch(() => undefined)));
    };
    try {
      const indexed = [];
      for (const recording of recordings) {
        const file = await this.storage.open(recording);
        files.push(file);
        indexed.push({ index: await this.index(recording, file), startTime: recording.startTime });
      }
      const stitched = stitchRange(indexed, start, end);
      if (!stitched) throw new AppError('NOT_FOUND', `no MP4 recording of ${streamPath} in that range`);
      // Files after a change of track config are not part of the result.
      for (const file of files.splice(stitched.filesUsed)) await file.close().catch(() => undefined);
      return { stitched, files, recordings: recordings.slice(0, stitched.filesUsed), close };
    } catch (error) {
      await close();
      throw error;
    }
  }

  /** The sample index of a recording (cached by storage, path and size). */
  private index(recording: RecordingEntity, file: StoredFile): Promise<Mp4Index> {
    const key = `${recording.storage}:${recording.filePath}:${file.size}`;
    let index = this.indexes.get(key);
    if (index) {
      // Most recently used last.
      this.indexes.delete(key);
      this.indexes.set(key, index);
      return index;
    }
    index = readMp4Index(file);
    const limit = this.config.section<Mp4Config>('mp4').download.indexCacheSize;
    if (limit > 0) {
      this.indexes.set(key, index);
      index.catch(() => this.indexes.delete(key));
      while (this.indexes.size > limit) this.indexes.delete(this.indexes.keys().next().value!);
    }
    return index;
  }
}
