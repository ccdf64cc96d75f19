import type { AudioCodec, AudioConfig } from '@m7s/media';
import type { AVFrame } from './av-frame';

/** Where a transcoder delivers: its output config (as soon as it can tell, again if it changes) and frames on the stream's clock. */
export interface TranscodedAudioOutput {
  config(config: AudioConfig): void;
  /** One frame of the target codec; `dts` in ms on the stream's clock (that of the input frames it came from). */
  frame(dts: number, data: Buffer): void;
}

export interface AudioTranscodeRequest {
  streamPath: string;
  /** The publisher's audio config the input frames carry. */
  input: AudioConfig;
  target: AudioCodec;
  /** Players bound to the output right now (for listings). */
  players(): number;
}

/**
 * One running transcode of a stream's audio into one codec, shared by every player of that codec.
 * `write` is called on the publisher's write path and never waits; after `stop` nothing is delivered and no
 * process, timer or listener is left.
 */
export interface AudioTranscoder {
  write(frame: AVFrame): void;
  stop(): void;
}

/** The engine's port to whatever transcodes audio; the transcode lib sets it on the registry (StreamRegistry.audioTranscoder). */
export interface AudioTranscoderPort {
  /** Whether `start` can make `target` from this input. */
  canTranscode(input: AudioConfig, target: AudioCodec): boolean;
  /** Starts a transcoder; it may call `output.config` before returning (the config it will produce). */
  start(request: AudioTranscodeRequest, output: TranscodedAudioOutput): AudioTranscoder;
}
