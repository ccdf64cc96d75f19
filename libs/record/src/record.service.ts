import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppError, ConfigService, EngineEvents, PublishEvent, StreamRegistry } from '@m7s/core';
import { InjectRepository, PullProxyEntity, Repository } from '@m7s/persistence';
import { RecordConfig } from './record.config';
import { RecordFormats } from './record-format';
import { RecordFile, Recorder, RecorderHost } from './recorder';
import { RecordingsService } from './recordings.service';

export interface StartRecordOptions {
  /** Split duration, ms (default: the matching rule's, else record.fragment). */
  fragment?: number;
  /** Why: 'rule', 'api', 'pull proxy'. */
  origin?: string;
}

/** A recorder as the API lists it. */
export interface RecorderInfo {
  streamPath: string;
  format: string;
  origin: string;
  fragment: number;
  /** When the recorder started, ms since the epoch. */
  startTime: number;
  files: number;
  /** The file being written (none while waiting for a key frame). */
  filePath?: string;
  fileStartTime?: number;
  recordingId?: number;
}

const recorderKey = (streamPath: string, format: string) => `${streamPath}\n${format}`;

/**
 * Starts and stops the recorders: one per (stream, format), started on publish_start by a matching rule or a
 * pull proxy with `record` set, or through the API; turns their files into recordings rows and events.
 */
@Injectable()
export class RecordService implements OnModuleInit, BeforeApplicationShutdown, RecorderHost {
  private readonly logger = new Logger('Record');
  private readonly recorders = new Map<string, Recorder>();
  /** Closes under way (awaited at shutdown). */
  private readonly closing = new Set<Promise<void>>();
  private readonly fileIds = new WeakMap<RecordFile, number>();
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly configService: ConfigService,
    private readonly registry: StreamRegistry,
    private readonly events: EngineEvents,
    private readonly formats: RecordFormats,
    private readonly recordings: RecordingsService,
    @InjectRepository(PullProxyEntity) private readonly pullProxies: Repository<PullProxyEntity>,
  ) {}

  private get config(): RecordConfig {
    return this.configService.section<RecordConfig>('record');
  }

  onModuleInit(): void {
    this.offs.push(this.events.on('publish_start', (event) => this.onPublish(event)));
  }

  async beforeApplicationShutdown(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    for (const recorder of [...this.recorders.values()]) this.stopRecorder(recorder, 'shutdown');
    while (this.closing.size) await Promise.allSettled([...this.closing]);
  }

  /** Starts recording a live stream in a format; the running recorder when there is one already. */
  start(streamPath: string, format: string, options: StartRecordOptions = {}): RecorderInfo {
    const recordFormat = this.formats.get(format);
    if (!recordFormat) throw new AppError('INVALID_ARGUMENT', `format ${format} is not recorded by this build (${this.formats.list().map((f) => f.format).join(', ') || 'none'})`);
    const path = this.registry.resolveAlias(streamPath);
    const existing = this.recorders.get(recorderKey(path, format));
    if (existing) return this.info(existing);
    if (!this.registry.get(path)?.publisher) throw new AppError('NOT_FOUND', `${path} is not being published`);
    const recorder = new Recorder(
      path,
      recordFormat,
      {
        dir: this.recordings.dir,
        fragment: options.fragment ?? this.ruleFragment(path) ?? this.config.fragment,
        origin: options.origin ?? 'api',
        streamClock: () => this.registry.get(path)?.clock ?? 0,
      },
      this,
    );
    this.recorders.set(recorderKey(path, format), recorder);
    recorder.subscriber = this.registry.subscribe(path, { protocol: 'record', remoteAddress: 'record', query: new URLSearchParams() }, recorder);
    this.logger.log({ msg: 'recording started', streamPath: path, format, origin: recorder.options.origin, fragment: recorder.options.fragment });
    return this.info(recorder);
  }

  /** Stops the recorders of a stream (one format, or all); returns how many. */
  stop(streamPath: string, format?: string): number {
    const path = this.registry.resolveAlias(streamPath);
    let stopped = 0;
    for (const recorder of [...this.recorders.values()]) {
      if (recorder.streamPath !== path || (format && recorder.format.format !== format)) continue;
      this.stopRecorder(recorder, 'stopped');
      stopped++;
    }
    return stopped;
  }

  list(): RecorderInfo[] {
    return [...this.recorders.values()].map((r) => this.info(r));
  }

  /** Resolves once every file closed so far is closed and its row updated (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.closing.size) await Promise.allSettled([...this.closing]);
  }

  // RecorderHost

  fileOpened(recorder: Recorder, file: RecordFile): void {
    file.rowId = this.recordings
      .insert({ streamPath: recorder.streamPath, format: recorder.format.format, startTime: file.startTime, filePath: file.filePath, videoCodec: file.videoCodec ?? null, audioCodec: file.audioCodec ?? null })
      .then(
        (id) => {
          this.fileIds.set(file, id);
          this.events.emit('record_start', { streamPath: recorder.streamPath, time: Date.now(), recordingId: String(id), format: recorder.format.format, filePath: file.filePath });
          return id;
        },
        (error: unknown) => {
          this.logger.error({ msg: 'storing a recording row failed', filePath: file.filePath, error: errorText(error) });
          return undefined;
        },
      );
  }

  fileClosed(recorder: Recorder, file: RecordFile, reason: string): void {
    const task = this.closeFile(recorder, file, reason).finally(() => this.closing.delete(task));
    this.closing.add(task);
  }

  recorderEnded(recorder: Recorder, reason: string): void {
    const key = recorderKey(recorder.streamPath, recorder.format.format);
    if (this.recorders.get(key) === recorder) this.recorders.delete(key);
    this.logger.log({ msg: 'recording ended', streamPath: recorder.streamPath, format: recorder.format.format, files: recorder.files, reason });
  }

  private async closeFile(recorder: Recorder, file: RecordFile, reason: string): Promise<void> {
    const format = recorder.format.format;
    let size = 0;
    let failed: unknown;
    try {
      size = (await file.close())?.size ?? 0;
    } catch (error) {
      failed = error;
    }
    const id = await file.rowId;
    if (failed !== undefined || id === undefined) {
      this.logger.error({ msg: 'closing a recording failed', filePath: file.filePath, error: errorText(failed ?? 'no row') });
      if (id !== undefined) await this.recordings.closed(id, format, { endTime: file.startTime + Math.round(file.duration), duration: Math.round(file.duration), size }).catch(() => undefined);
      return;
    }
    const duration = Math.round(file.duration);
    this.events.emit('record_end', { streamPath: recorder.streamPath, time: Date.now(), recordingId: String(id), format, filePath: file.filePath, duration, size, reason });
    try {
      await this.recordings.closed(id, format, { endTime: file.startTime + duration, duration, size });
    } catch (error) {
      // The row stays 'recording': recovery at the next start finishes it.
      this.logger.error({ msg: 'queuing the finalize of a recording failed', id, filePath: file.filePath, error: errorText(error) });
    }
  }

  private stopRecorder(recorder: Recorder, reason: string): void {
    if (recorder.subscriber) this.registry.unsubscribe(recorder.subscriber, reason);
    recorder.finish(reason);
  }

  private onPublish(event: PublishEvent): void {
    const { streamPath } = event;
    for (const rule of this.config.rules) {
      if (!new RegExp(rule.match).test(streamPath)) continue;
      for (const format of rule.formats) this.startQuietly(streamPath, format, { fragment: rule.fragment, origin: 'rule' });
    }
    this.pullProxies
      .findOneBy({ streamPath, record: true, enabled: true })
      .then((proxy) => {
        if (!proxy || !this.registry.get(streamPath)?.publisher) return;
        for (const format of this.config.pullProxyFormats) this.startQuietly(streamPath, format, { origin: 'pull proxy' });
      })
      .catch((error: unknown) => this.logger.warn({ msg: 'looking up the pull proxy of a stream failed', streamPath, error: errorText(error) }));
  }

  private startQuietly(streamPath: string, format: string, options: StartRecordOptions): void {
    try {
      this.start(streamPath, format, options);
    } catch (error) {
      this.logger.warn({ msg: 'recording could not start', streamPath, format, error: errorText(error) });
    }
  }

  /** The fragment of the first rule matching the stream that sets one. */
  private ruleFragment(streamPath: string): number | undefined {
    return this.config.rules.find((rule) => rule.fragment !== undefined && new RegExp(rule.match).test(streamPath))?.fragment;
  }

  private info(recorder: Recorder): RecorderInfo {
    const file = recorder.currentFile;
    return {
      streamPath: recorder.streamPath,
      format: recorder.format.format,
      origin: recorder.options.origin,
      fragment: recorder.options.fragment,
      startTime: recorder.startedAt,
      files: recorder.files,
      filePath: file?.filePath,
      fileStartTime: file?.startTime,
      recordingId: file ? this.fileIds.get(file) : undefined,
    };
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
