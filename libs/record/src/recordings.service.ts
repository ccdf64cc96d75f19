import { existsSync } from 'node:fs';
import { rm, statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { AppError, ConfigService, JobContext, JobHandler, WorkQueue } from '@m7s/core';
import { In, InjectRepository, RecordingEntity, RecordingFormat, RecordingStatus, Repository } from '@m7s/persistence';
import { StorageService } from '@m7s/storage';
import { RECORD_FORMATS, RecordConfig } from './record.config';
import { streamPatternToLike } from './record-files';
import { RecordFormats } from './record-format';
import { diskPercent, maxAgeCutoff, nextSlot, pickForDiskLimit } from './retention';

export const UPLOAD_QUEUE = 'storage-upload';
export const RETENTION_QUEUE = 'record-retention';
export const finalizeQueue = (format: string) => `${format}-finalize`;

export interface FinalizePayload {
  id: number;
}

export interface UploadPayload {
  id: number;
  /** 1 on the first try (the job re-queues itself with a capped backoff). */
  attempt?: number;
}

/** A query of the recordings table (every field optional). */
export interface RecordingQuery {
  /** Stream path, `*` matching any run of characters (`live/*`, `*cam*`). */
  streamPath?: string;
  /** Recordings overlapping [start, end] (ms since the epoch). */
  start?: number;
  end?: number;
  format?: string;
  status?: RecordingStatus;
  /** Paging (pageNum from 1); all rows when pageSize is omitted. */
  pageNum?: number;
  pageSize?: number;
}

/** Retention deletes at most this many recordings per run (the next run goes on). */
const RETENTION_BATCH = 500;

/**
 * The recordings table and the jobs that follow a file after it closes: `{format}-finalize` (format.finalize,
 * then complete), `storage-upload` (to the target storage, verified, row moved, local copy removed), the
 * scheduled `record-retention`; crash recovery at start; queries and deletes of rows with their files.
 */
@Injectable()
export class RecordingsService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('Recordings');
  private readonly config: RecordConfig;

  constructor(
    configService: ConfigService,
    private readonly queue: WorkQueue,
    private readonly formats: RecordFormats,
    private readonly storage: StorageService,
    @InjectRepository(RecordingEntity) private readonly repo: Repository<RecordingEntity>,
  ) {
    this.config = configService.section<RecordConfig>('record');
  }

  /** The recording directory, absolute. */
  get dir(): string {
    return resolve(this.config.dir);
  }

  /** Before the queues start (QueueRunner, at bootstrap): one finalize queue per format; the handler finds the format when it runs. */
  onModuleInit(): void {
    for (const format of RECORD_FORMATS) {
      this.queue.register<FinalizePayload>(finalizeQueue(format), (payload, job) => this.finalize(format, payload, job));
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    // Rows left open by the previous process, read before any publisher can start a new recording.
    const stale = await this.repo.find({ where: { status: In(['recording', 'finalizing']) }, order: { startTime: 'ASC' } });
    if (stale.length) this.logger.log(`recovering ${stale.length} recording(s) left unfinished`);
    void this.recover(stale);
    await this.scheduleRetention();
  }

  // Rows

  async insert(row: Pick<RecordingEntity, 'streamPath' | 'format' | 'startTime' | 'filePath' | 'videoCodec' | 'audioCodec'>): Promise<number> {
    const saved = await this.repo.save(this.repo.create({ ...row, storage: 'local', status: 'recording', duration: 0, size: 0, endTime: null }));
    return saved.id;
  }

  /** The file is closed: its end, size and status 'finalizing'; then its finalize job. */
  async closed(id: number, format: string, fields: { endTime: number; duration: number; size: number }): Promise<void> {
    await this.repo.update(id, { ...fields, status: 'finalizing' });
    await this.enqueueFinalize(format, id);
  }

  enqueueFinalize(format: string, id: number): Promise<string> {
    return this.queue.add<FinalizePayload>(finalizeQueue(format), { id }, { jobId: `${finalizeQueue(format)}:${id}`, attempts: this.config.finalizeAttempts, backoff: { type: 'exponential', delay: 1000 } });
  }

  get(id: number): Promise<RecordingEntity | null> {
    return this.repo.findOneBy({ id });
  }

  /** Rows matching a query, ordered by start time (then id), with the total count. */
  async find(query: RecordingQuery = {}): Promise<{ total: number; list: RecordingEntity[] }> {
    const qb = this.repo.createQueryBuilder('r');
    if (query.streamPath !== undefined) {
      if (query.streamPath.includes('*')) qb.andWhere(`r.streamPath LIKE :pattern ESCAPE '!'`, { pattern: streamPatternToLike(query.streamPath) });
      else qb.andWhere('r.streamPath = :streamPath', { streamPath: query.streamPath });
    }
    // Overlap with [start, end]; a file still being written reaches to now.
    if (query.end !== undefined) qb.andWhere('r.startTime <= :end', { end: query.end });
    if (query.start !== undefined) qb.andWhere('COALESCE(r.endTime, :now) >= :start', { start: query.start, now: Date.now() });
    if (query.format) qb.andWhere('r.format = :format', { format: query.format });
    if (query.status) qb.andWhere('r.status = :status', { status: query.status });
    qb.orderBy('r.startTime', 'ASC').addOrderBy('r.id', 'ASC');
    if (query.pageSize !== undefined) qb.skip(((query.pageNum ?? 1) - 1) * query.pageSize).take(query.pageSize);
    const [list, total] = await qb.getManyAndCount();
    return { total, list };
  }

  /** Deletes a recording: its file(s) wherever they are, then its row. A file being written is refused. */
  async remove(id: number): Promise<void> {
    const row = await this.get(id);
    if (!row) throw new AppError('NOT_FOUND', `no recording ${id}`);
    if (row.status === 'recording') throw new AppError('FAILED_PRECONDITION', `recording ${id} is being written; stop the recording first`);
    await this.removeRow(row);
  }

  /** Deletes the finished recordings of a query (not the ones being written); returns how many. */
  async removeMatching(query: RecordingQuery): Promise<number> {
    const { list } = await this.find({ ...query, pageNum: undefined, pageSize: undefined });
    let removed = 0;
    for (const row of list) {
      if (row.status === 'recording') continue;
      await this.removeRow(row);
      removed++;
    }
    return removed;
  }

  private async removeRow(row: RecordingEntity): Promise<void> {
    if (row.storage === 'local') await this.removeLocal(row.format, row.filePath);
    else {
      await this.storage.driver(row.storage).delete(row.filePath);
      // A local copy kept after the upload (deleteLocalAfterUpload: false).
      await this.removeLocal(row.format, this.storage.local.path(row.filePath));
    }
    await this.repo.delete(row.id);
    this.logger.log({ msg: 'recording deleted', id: row.id, streamPath: row.streamPath, filePath: row.filePath, storage: row.storage });
  }

  private async removeLocal(format: string, path: string): Promise<void> {
    const recordFormat = this.formats.get(format);
    if (recordFormat) await recordFormat.remove(path);
    else await rm(path, { force: true });
  }

  // Jobs

  /** `{format}-finalize`: the format brings the file to its final form; the row is complete; then the upload. */
  async finalize(format: RecordingFormat, { id }: FinalizePayload, job: JobContext): Promise<void> {
    const row = await this.get(id);
    if (!row || row.status === 'complete' || row.storage !== 'local') return;
    const recordFormat = this.formats.get(format);
    try {
      if (!recordFormat) throw new Error(`format ${format} is not part of this build`);
      const result = await recordFormat.finalize(row.filePath);
      await this.repo.update(id, { size: result.size, duration: Math.round(result.duration), endTime: row.startTime + Math.round(result.duration), status: 'complete' });
    } catch (error) {
      if (job.attempt >= this.config.finalizeAttempts) {
        await this.repo.update(id, { status: 'failed' });
        this.logger.error({ msg: 'finalizing a recording failed for good', id, filePath: row.filePath, error: errorText(error) });
      }
      throw error;
    }
    await this.enqueueUpload(id, format);
  }

  private async enqueueUpload(id: number, format: string, attempt = 1, delay = 0): Promise<void> {
    if (this.storage.target === 'local') return;
    // An HLS recording is a playlist and its segments: it stays on the local disk.
    if (format === 'hls') return;
    await this.queue.add<UploadPayload>(UPLOAD_QUEUE, { id, attempt }, { jobId: `${UPLOAD_QUEUE}:${id}:${attempt}`, delay });
  }

  /**
   * `storage-upload`: copies a complete local recording to the target storage, verifies it, moves the row there
   * and removes the local copy (record.deleteLocalAfterUpload). A failure queues the next try after a backoff
   * doubling from upload.retryMin up to upload.retryMax, for as long as it takes.
   */
  @JobHandler(UPLOAD_QUEUE)
  async upload({ id, attempt = 1 }: UploadPayload): Promise<void> {
    const row = await this.get(id);
    const target = this.storage.target;
    if (!row || row.status !== 'complete' || row.storage !== 'local' || target === 'local') return;
    const key = this.storage.local.keyOf(row.filePath);
    try {
      await this.storage.driver(target).upload(row.filePath, key);
    } catch (error) {
      const delay = Math.min(this.config.upload.retryMax, this.config.upload.retryMin * 2 ** Math.min(30, attempt - 1));
      this.logger.warn({ msg: 'upload failed, retrying', id, filePath: row.filePath, storage: target, attempt, retryInMs: delay, error: errorText(error) });
      await this.enqueueUpload(id, row.format, attempt + 1, delay);
      return;
    }
    await this.repo.update(id, { storage: target, filePath: key });
    if (this.config.deleteLocalAfterUpload) await rm(row.filePath, { force: true });
    this.logger.log({ msg: 'recording uploaded', id, storage: target, key, attempt });
  }

  /** `record-retention`: one run, then the next one queued for the next slot. */
  @JobHandler(RETENTION_QUEUE)
  async retention(): Promise<void> {
    try {
      await this.applyRetention();
    } finally {
      await this.scheduleRetention();
    }
  }

  /** Queues the next retention run (job id per slot: one run per slot however many nodes share the queue). */
  private async scheduleRetention(): Promise<void> {
    const { maxAgeDays, maxDiskPercent, interval } = this.config.retention;
    if (maxAgeDays <= 0 && maxDiskPercent <= 0) return;
    const now = Date.now();
    const at = nextSlot(now, interval);
    await this.queue.add(RETENTION_QUEUE, {}, { jobId: `${RETENTION_QUEUE}:${at}`, delay: at - now });
  }

  /** Deletes complete recordings older than maxAgeDays, then the oldest local ones while the disk is over maxDiskPercent. */
  async applyRetention(now = Date.now()): Promise<number> {
    const { maxAgeDays, maxDiskPercent } = this.config.retention;
    let removed = 0;
    const cutoff = maxAgeCutoff(now, maxAgeDays);
    if (cutoff !== undefined) {
      const old = await this.repo
        .createQueryBuilder('r')
        .where('r.status = :status', { status: 'complete' })
        .andWhere('COALESCE(r.endTime, r.startTime) < :cutoff', { cutoff })
        .orderBy('r.startTime', 'ASC')
        .take(RETENTION_BATCH)
        .getMany();
      for (const row of old) removed += await this.tryRemove(row);
    }
    if (maxDiskPercent > 0 && existsSync(this.dir)) {
      const fs = await statfs(this.dir);
      const usage = { total: fs.blocks * fs.bsize, used: (fs.blocks - fs.bavail) * fs.bsize };
      if (diskPercent(usage) > maxDiskPercent) {
        const oldest = await this.repo.find({ where: { status: 'complete', storage: 'local' }, order: { startTime: 'ASC' }, take: RETENTION_BATCH });
        for (const row of pickForDiskLimit(oldest, usage, maxDiskPercent)) removed += await this.tryRemove(row);
      }
    }
    if (removed) this.logger.log({ msg: 'retention deleted recordings', removed });
    return removed;
  }

  private async tryRemove(row: RecordingEntity): Promise<number> {
    try {
      await this.removeRow(row);
      return 1;
    } catch (error) {
      this.logger.warn({ msg: 'retention could not delete a recording', id: row.id, error: errorText(error) });
      return 0;
    }
  }

  /** Crash recovery: files left open are made valid and finalized by their format (or dropped when empty); finalizing ones are queued again. */
  private async recover(rows: RecordingEntity[]): Promise<void> {
    for (const row of rows) {
      try {
        if (row.status === 'finalizing') {
          await this.enqueueFinalize(row.format, row.id);
          continue;
        }
        const format = this.formats.get(row.format);
        if (!format) {
          this.logger.warn({ msg: 'cannot recover a recording: format not in this build', id: row.id, format: row.format });
          continue;
        }
        const result = existsSync(row.filePath) ? await format.recover(row.filePath) : undefined;
        if (!result) {
          await format.remove(row.filePath);
          await this.repo.delete(row.id);
          this.logger.warn({ msg: 'nothing usable in an unfinished recording: removed', id: row.id, filePath: row.filePath });
          continue;
        }
        const duration = Math.round(result.duration);
        await this.repo.update(row.id, { size: result.size, duration, endTime: row.startTime + duration, status: 'complete' });
        this.logger.log({ msg: 'recording recovered', id: row.id, filePath: row.filePath, duration, size: result.size });
        await this.enqueueUpload(row.id, row.format);
      } catch (error) {
        await this.repo.update(row.id, { status: 'failed' }).catch(() => undefined);
        this.logger.error({ msg: 'recovering a recording failed', id: row.id, filePath: row.filePath, error: errorText(error) });
      }
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
