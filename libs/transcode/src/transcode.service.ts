import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AudioTranscodeRequest, AudioTranscoder, AudioTranscoderPort, ConfigService, StreamRegistry, TranscodedAudioOutput } from '@m7s/core';
import type { AudioCodec, AudioConfig } from '@m7s/media';
import { FfmpegAudioTranscoder } from './ffmpeg-audio-transcoder';
import type { TranscodeConfig } from './transcode.config';
import { inputFormat, TRANSCODE_OUTPUTS } from './transcode-formats';

/** One running transcoder as the API lists it. */
export interface TranscoderInfo {
  streamPath: string;
  from: AudioCodec;
  to: AudioCodec;
  /** Players bound to its output. */
  players: number;
  /** ms since the epoch. */
  startedAt: number;
  framesIn: number;
  framesOut: number;
  /** Input frames not fed to ffmpeg (it was behind, or restarting). */
  dropped: number;
  restarts: number;
  /** The ffmpeg process running now (none while it restarts). */
  pid: number | undefined;
  /** CPU seconds (user + system) its ffmpeg processes used. */
  cpuSeconds: number;
}

/**
 * The engine's audio transcoder port, on ffmpeg: one process per stream and target codec, started by the
 * engine when the first player that needs it begins and stopped when the last one leaves (or the publisher
 * does). Lists the running ones with their counters and CPU time.
 */
@Injectable()
export class TranscodeService implements AudioTranscoderPort, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Transcode');
  private readonly running = new Set<FfmpegAudioTranscoder>();

  constructor(
    private readonly registry: StreamRegistry,
    private readonly config: ConfigService,
  ) {}

  get settings(): TranscodeConfig {
    return this.config.section<TranscodeConfig>('transcode');
  }

  onModuleInit(): void {
    this.registry.audioTranscoder = this;
  }

  onModuleDestroy(): void {
    if (this.registry.audioTranscoder === this) this.registry.audioTranscoder = undefined;
    for (const transcoder of [...this.running]) transcoder.stop();
    this.running.clear();
  }

  canTranscode(input: AudioConfig, target: AudioCodec): boolean {
    return this.settings.enable && input.codec !== target && TRANSCODE_OUTPUTS.includes(target) && inputFormat(input) !== undefined;
  }

  start(request: AudioTranscodeRequest, output: TranscodedAudioOutput): AudioTranscoder {
    const s = this.settings;
    const transcoder = new FfmpegAudioTranscoder(request, output, {
      ffmpeg: s.ffmpeg,
      bitrate: request.target === 'opus' ? s.opusBitrate : s.aacBitrate,
      maxBacklog: s.maxBacklog,
      restartBackoff: s.restartBackoff,
      maxRestartBackoff: s.maxRestartBackoff,
    });
    this.running.add(transcoder);
    this.logger.log({ msg: 'transcoder started', streamPath: request.streamPath, from: request.input.codec, to: request.target, pid: transcoder.pid });
    return {
      write: (frame) => transcoder.write(frame),
      stop: () => {
        if (!this.running.delete(transcoder)) return;
        const cpuSeconds = transcoder.cpuSeconds();
        transcoder.stop();
        this.logger.log({
          msg: 'transcoder stopped',
          streamPath: request.streamPath,
          to: request.target,
          framesIn: transcoder.framesIn,
          framesOut: transcoder.framesOut,
          dropped: transcoder.dropped,
          restarts: transcoder.restarts,
          cpuSeconds,
        });
      },
    };
  }

  list(): TranscoderInfo[] {
    return [...this.running].map((t) => ({
      streamPath: t.request.streamPath,
      from: t.request.input.codec,
      to: t.request.target,
      players: t.request.players(),
      startedAt: t.startedAt,
      framesIn: t.framesIn,
      framesOut: t.framesOut,
      dropped: t.dropped,
      restarts: t.restarts,
      pid: t.pid,
      cpuSeconds: t.cpuSeconds(),
    }));
  }
}
