import type { AudioCodec, AudioConfig } from '@m7s/media';
import type { AudioTranscoder, AudioTranscoderPort, TranscodedAudioOutput } from './audio-transcoder';
import { AVFrame } from './av-frame';
import type { Subscriber } from './subscriber';
import { AudioTrack, Track } from './track';

/**
 * A stream's audio transcoded into another codec, for the players that cannot carry the publisher's. One
 * transcoder feeds every such player; each frame is built once, so its serializations (frame.cached) are
 * shared like the publisher's. Its frames stay out of the ring and the publisher's counters.
 */
export class DerivedAudio implements TranscodedAudioOutput {
  /** Known once the transcoder tells its output config. */
  track: AudioTrack | undefined;
  readonly players = new Set<Subscriber>();
  private transcoder: AudioTranscoder | undefined;
  /** Its own frame numbering (readers that number by seq, e.g. shared RTP, see an increasing sequence). */
  private seq = 0;
  private stopped = false;

  constructor(
    readonly streamPath: string,
    readonly codec: AudioCodec,
    input: AudioConfig,
    port: AudioTranscoderPort,
  ) {
    this.transcoder = port.start({ streamPath, input, target: codec, players: () => this.players.size }, this);
  }

  /** The publisher's write path: an original audio frame in. */
  input(frame: AVFrame): void {
    this.transcoder?.write(frame);
  }

  config(config: AudioConfig): void {
    if (this.stopped || config.codec !== this.codec) return;
    if (this.track) this.track.update(config);
    else this.track = new Track(config);
  }

  frame(dts: number, data: Buffer): void {
    const track = this.track;
    if (this.stopped || !track) return;
    const frame = new AVFrame('audio', this.codec, dts, dts, true, [data], track.config, data.length);
    frame.seq = ++this.seq;
    track.frames++;
    track.bytes += data.length;
    for (const player of this.players) player.offerDerived(frame, this);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.players.clear();
    const transcoder = this.transcoder;
    this.transcoder = undefined;
    transcoder?.stop();
  }
}
