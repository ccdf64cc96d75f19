import type { AudioCodec, AudioConfig, VideoConfig } from '@m7s/media';
import { ConfigService } from '../config/config.service';
import { loadConfig } from '../config/config.loader';
import { EngineEvents } from '../events/engine-events';
import type { AudioTranscodeRequest, AudioTranscoder, AudioTranscoderPort, TranscodedAudioOutput } from './audio-transcoder';
import type { AVFrame } from './av-frame';
import type { Publisher } from './publisher';
import type { StreamError } from './stream.errors';
import { StreamRegistry } from './stream-registry';
import type { SubscriberSink } from './subscriber';
import type { Track, TrackSet } from './track';

const video: VideoConfig = { kind: 'video', codec: 'h264', record: Buffer.from([1]), parameterSets: [], width: 320, height: 240 };
const aac: AudioConfig = { kind: 'audio', codec: 'aac', record: Buffer.from([0x12, 0x10]), sampleRate: 44100, channels: 2 };
const aac48k: AudioConfig = { ...aac, record: Buffer.from([0x11, 0x90]), sampleRate: 48000 };
const pcma: AudioConfig = { kind: 'audio', codec: 'pcma', record: Buffer.alloc(0), sampleRate: 8000, channels: 1 };

function made(codec: AudioCodec, tag = 0): AudioConfig {
  return { kind: 'audio', codec, record: Buffer.from([tag]), sampleRate: 48000, channels: 2 };
}

class FakeTranscoder implements AudioTranscoder {
  inputs: AVFrame[] = [];
  stopped = false;
  constructor(
    readonly request: AudioTranscodeRequest,
    readonly output: TranscodedAudioOutput,
  ) {}
  write(frame: AVFrame): void {
    this.inputs.push(frame);
  }
  stop(): void {
    this.stopped = true;
  }
  /** Output of the frame it got last, on its clock. */
  emit(): void {
    const last = this.inputs[this.inputs.length - 1];
    this.output.frame(last?.dts ?? 0, Buffer.from([0xfc]));
  }
}

class FakePort implements AudioTranscoderPort {
  readonly started: FakeTranscoder[] = [];
  constructor(
    private readonly targets: readonly AudioCodec[] = ['opus', 'aac'],
    /** Tell the output config at start (else only when `announce` is called). */
    private readonly early = true,
  ) {}
  canTranscode(input: AudioConfig, target: AudioCodec): boolean {
    return input.codec !== target && this.targets.includes(target);
  }
  start(request: AudioTranscodeRequest, output: TranscodedAudioOutput): AudioTranscoder {
    const transcoder = new FakeTranscoder(request, output);
    this.started.push(transcoder);
    if (this.early) output.config(made(request.target));
    return transcoder;
  }
  get running(): FakeTranscoder[] {
    return this.started.filter((t) => !t.stopped);
  }
}

class Sink implements SubscriberSink {
  started: TrackSet | undefined;
  starts = 0;
  tracks: Track[] = [];
  /** The config of each track() call, as it was then. */
  configs: AudioConfig[] = [];
  frames: AVFrame[] = [];
  ended: StreamError | undefined;
  constructor(
    readonly audioCodecs?: readonly AudioCodec[],
    private readonly stay = false,
  ) {}
  backlog() {
    return 0;
  }
  start(tracks: TrackSet) {
    this.started = tracks;
    this.starts++;
  }
  track(track: Track) {
    this.tracks.push(track);
    if (track.config.kind === 'audio') this.configs.push(track.config);
  }
  frame(frame: AVFrame) {
    this.frames.push(frame);
  }
  publisherLeft() {
    return this.stay;
  }
  end(error: StreamError) {
    this.ended = error;
  }
  audio(): AVFrame[] {
    return this.frames.filter((f) => f.kind === 'audio');
  }
}

const info = (query = '') => ({ protocol: 'test', remoteAddress: '127.0.0.1:1', query: new URLSearchParams(query) });

function setup(port: AudioTranscoderPort | undefined = new FakePort()) {
  const registry = new StreamRegistry(new ConfigService(loadConfig({ plugins: [], env: {}, overrides: {} })), new EngineEvents());
  registry.audioTranscoder = port;
  return registry;
}

function live(registry: StreamRegistry, audio: AudioConfig = aac, path = 'live/a'): Publisher {
  const publisher = registry.publish(path, info());
  publisher.setTrack(video);
  publisher.setTrack(audio);
  publisher.writeVideo(0, 0, true, [Buffer.alloc(10)]);
  publisher.writeAudio(1, Buffer.alloc(4));
  return publisher;
}

/** A video frame then an audio frame at t. */
function tick(publisher: Publisher, t: number): void {
  publisher.writeVideo(t, t, false, [Buffer.alloc(10)]);
  publisher.writeAudio(t + 1, Buffer.alloc(4));
}

describe('derived audio (transcoded tracks)', () => {
  let registry: StreamRegistry;
  afterEach(() => registry?.shutdown());

  it('gives a player that cannot carry the codec a transcoded track; others keep the original and start nothing', () => {
    const port = new FakePort();
    registry = setup(port);
    const publisher = live(registry);
    const any = new Sink();
    const takesAac = new Sink(['aac', 'mp3']);
    const opusOnly = new Sink(['opus']);
    for (const sink of [any, takesAac, opusOnly]) registry.subscribe('live/a', info(), sink);
    expect(port.started).toHaveLength(1);
    expect(port.started[0].request).toMatchObject({ streamPath: 'live/a', input: aac, target: 'opus' });
    expect(any.started?.audio?.codec).toBe('aac');
    expect(takesAac.started?.audio?.codec).toBe('aac');
    expect(opusOnly.started?.audio?.codec).toBe('opus');
    // The GOP burst carried an AAC frame: not to the Opus player.
    expect(opusOnly.audio()).toHaveLength(0);

    tick(publisher, 40);
    expect(port.started[0].inputs.map((f) => f.dts)).toEqual([41]);
    port.started[0].emit();
    expect(opusOnly.audio().map((f) => [f.codec, f.dts])).toEqual([['opus', 41]]);
    expect(any.audio().every((f) => f.codec === 'aac')).toBe(true);
    expect(takesAac.audio().every((f) => f.codec === 'aac')).toBe(true);
    expect(opusOnly.frames.filter((f) => f.kind === 'video')).toHaveLength(2);
  });

  it('shares one transcoder and one frame object between its players, outside the ring and the publisher counters', () => {
    const port = new FakePort();
    registry = setup(port);
    const publisher = live(registry);
    const a = new Sink(['opus']);
    const b = new Sink(['opus']);
    registry.subscribe('live/a', info(), a);
    registry.subscribe('live/a', info(), b);
    tick(publisher, 40);
    const stream = registry.get('live/a')!;
    const written = stream.framesWritten;
    const counted = publisher.tracks.audio!.frames;
    port.started[0].emit();
    port.started[0].emit();
    expect(port.started).toHaveLength(1);
    expect(port.started[0].request.players()).toBe(2);
    expect(a.audio()).toHaveLength(2);
    expect(a.audio()[0]).toBe(b.audio()[0]);
    expect(a.audio().map((f) => f.seq)).toEqual([1, 2]);
    expect(stream.framesWritten).toBe(written);
    expect(publisher.tracks.audio!.frames).toBe(counted);
    expect([...stream.ring.from(0)].some((f) => f.codec === 'opus')).toBe(false);
  });

  it('starts a player without audio when the transcoded config is not known yet, then gives the track before its first frame', () => {
    const port = new FakePort(['opus'], false);
    registry = setup(port);
    const publisher = live(registry);
    const sink = new Sink(['opus']);
    registry.subscribe('live/a', info(), sink);
    expect(sink.started?.video).toBeDefined();
    expect(sink.started?.audio).toBeUndefined();
    tick(publisher, 40);
    port.started[0].emit(); // no config yet: nothing to deliver
    expect(sink.audio()).toHaveLength(0);
    port.started[0].output.config(made('opus'));
    port.started[0].emit();
    expect(sink.tracks.map((t) => t.codec)).toEqual(['opus']);
    expect(sink.audio().map((f) => f.codec)).toEqual(['opus']);
    // A changed output config is given again before the next frame.
    port.started[0].output.config(made('opus', 7));
    port.started[0].emit();
    expect(sink.configs.map((c) => c.record[0])).toEqual([0, 7]);
  });

  it('stops the transcoder when its last player leaves, and starts a new one for the next', () => {
    const port = new FakePort();
    registry = setup(port);
    const publisher = live(registry);
    const a = registry.subscribe('live/a', info(), new Sink(['opus']));
    const b = registry.subscribe('live/a', info(), new Sink(['opus']));
    registry.unsubscribe(a);
    expect(port.running).toHaveLength(1);
    registry.unsubscribe(b);
    expect(port.running).toHaveLength(0);
    expect(registry.get('live/a')!.derivedAudio.size).toBe(0);
    tick(publisher, 40);
    expect(port.started[0].inputs).toHaveLength(0);
    registry.subscribe('live/a', info(), new Sink(['opus']));
    expect(port.started).toHaveLength(2);
    expect(port.running).toHaveLength(1);
  });

  it('stops the transcoder when the player is stopped by an operator', () => {
    const port = new FakePort();
    registry = setup(port);
    live(registry);
    const sub = registry.subscribe('live/a', info(), new Sink(['opus']));
    registry.stopSubscriber(sub.id);
    expect(port.running).toHaveLength(0);
  });

  it('stops the transcoder when the publisher leaves and starts one again for the next publisher', () => {
    const port = new FakePort();
    registry = setup(port);
    const first = live(registry);
    const staying = new Sink(['opus'], true);
    registry.subscribe('live/a', info(), staying);
    const stale = port.started[0];
    first.close();
    expect(stale.stopped).toBe(true);
    stale.emit(); // a late output of the stopped transcoder goes nowhere
    expect(staying.audio()).toHaveLength(0);
    live(registry);
    expect(staying.starts).toBe(2);
    expect(port.started).toHaveLength(2);
    expect(port.running).toEqual([port.started[1]]);
    expect(staying.started?.audio?.codec).toBe('opus');
  });

  it('restarts the transcoder for a new audio config, and rebinds players when the codec changes', () => {
    const port = new FakePort();
    registry = setup(port);
    const publisher = live(registry);
    const sink = new Sink(['aac']);
    const opusOnly = new Sink(['opus']);
    registry.subscribe('live/a', info(), sink);
    registry.subscribe('live/a', info(), opusOnly);
    expect(port.started).toHaveLength(1);
    expect(port.started[0].request.target).toBe('opus');
    publisher.setTrack(aac48k);
    tick(publisher, 40);
    expect(port.started).toHaveLength(2);
    expect(port.started[0].stopped).toBe(true);
    expect(port.started[1].request.input).toEqual(aac48k);
    expect(port.started[1].inputs.map((f) => f.dts)).toEqual([41]);
    // Now Opus: the first player needs AAC made, the Opus player takes the original.
    publisher.setTrack(made('opus', 9));
    tick(publisher, 80);
    expect(port.running.map((t) => t.request.target)).toEqual(['aac']);
    expect(opusOnly.audio().at(-1)).toMatchObject({ codec: 'opus', dts: 81 });
    expect(opusOnly.configs.at(-1)?.record[0]).toBe(9);
    port.running[0].emit();
    expect(sink.audio().at(-1)).toMatchObject({ codec: 'aac', dts: 81 });
    expect(sink.audio().filter((f) => f.codec === 'opus')).toHaveLength(0);
  });

  it('gives the original codec on transcodeAudio=false, and no audio when nothing can make a listed codec', () => {
    const port = new FakePort(['aac']);
    registry = setup(port);
    const publisher = live(registry, pcma);
    const asIs = new Sink(['opus']);
    const none = new Sink(['opus']);
    const aacPlayer = new Sink(['opus', 'aac']);
    registry.subscribe('live/a', info('transcodeAudio=false'), asIs);
    registry.subscribe('live/a', info(), none);
    registry.subscribe('live/a', info(), aacPlayer);
    tick(publisher, 40);
    expect(asIs.audio().map((f) => f.codec)).toEqual(['pcma', 'pcma']);
    expect(none.started?.audio).toBeUndefined();
    expect(none.audio()).toHaveLength(0);
    expect(port.started.map((t) => t.request.target)).toEqual(['aac']);
    expect(aacPlayer.started?.audio?.codec).toBe('aac');
  });

  it('without a transcoder port, a player that cannot carry the codec gets no audio', () => {
    registry = setup(undefined);
    const publisher = live(registry);
    const sink = new Sink(['opus']);
    registry.subscribe('live/a', info(), sink);
    tick(publisher, 40);
    expect(sink.audio()).toHaveLength(0);
    expect(sink.frames).toHaveLength(2);
  });

  it('routes players that came before the audio track once it appears', () => {
    const port = new FakePort();
    registry = setup(port);
    const publisher = registry.publish('live/a', info());
    publisher.setTrack(video);
    publisher.writeVideo(0, 0, true, [Buffer.alloc(10)]);
    const sink = new Sink(['opus']);
    registry.subscribe('live/a', info(), sink);
    expect(port.started).toHaveLength(0);
    publisher.setTrack(aac);
    publisher.writeAudio(1, Buffer.alloc(4));
    expect(port.started).toHaveLength(1);
    expect(sink.audio()).toHaveLength(0);
    port.started[0].emit();
    expect(sink.tracks.map((t) => t.codec)).toEqual(['opus']);
    expect(sink.audio().map((f) => f.codec)).toEqual(['opus']);
  });

  it('copes with a player that leaves from inside its own frame() call', () => {
    const port = new FakePort();
    registry = setup(port);
    const publisher = live(registry);
    const quitter = new Sink(['opus']);
    const stayer = new Sink(['opus']);
    const sub = registry.subscribe('live/a', info(), quitter);
    const other = registry.subscribe('live/a', info(), stayer);
    quitter.frame = (frame) => {
      if (frame.kind === 'audio') registry.unsubscribe(sub, 'client closed');
    };
    tick(publisher, 40);
    port.started[0].emit();
    expect(stayer.audio()).toHaveLength(1);
    expect(port.running).toHaveLength(1);
    registry.unsubscribe(other);
    expect(port.running).toHaveLength(0);
    port.started[0].emit();
    expect(stayer.audio()).toHaveLength(1);
  });

  it('leaves no transcoder running after shutdown', () => {
    const port = new FakePort();
    registry = setup(port);
    live(registry);
    registry.subscribe('live/a', info(), new Sink(['opus']));
    live(registry, aac, 'live/b');
    registry.subscribe('live/b', info(), new Sink(['opus']));
    registry.shutdown();
    expect(port.started).toHaveLength(2);
    expect(port.running).toHaveLength(0);
  });
});
