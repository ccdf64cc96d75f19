import type { AudioConfig, VideoConfig } from '@m7s/media';
import { ConfigService } from '../config/config.service';
import { loadConfig, PlainConfig } from '../config/config.loader';
import { EngineEvents, EngineEventMap } from '../events/engine-events';
import type { AVFrame } from './av-frame';
import { StreamError } from './stream.errors';
import { normalizeStreamPath, StreamRegistry } from './stream-registry';
import type { SubscriberSink } from './subscriber';
import type { Track, TrackSet } from './track';

const video: VideoConfig = { kind: 'video', codec: 'h264', record: Buffer.from([1]), parameterSets: [], width: 320, height: 240 };
const audio: AudioConfig = { kind: 'audio', codec: 'aac', record: Buffer.from([0x12, 0x10]), sampleRate: 44100, channels: 2 };

class FakeSink implements SubscriberSink {
  started: TrackSet | undefined;
  frames: AVFrame[] = [];
  tracks: Track[] = [];
  ended: StreamError | undefined;
  left = 0;
  queued = 0;
  constructor(private readonly stay = false) {}
  backlog() {
    return this.queued;
  }
  start(tracks: TrackSet, _policy?: unknown) {
    this.started = tracks;
  }
  track(track: Track) {
    this.tracks.push(track);
  }
  frame(frame: AVFrame) {
    this.frames.push(frame);
  }
  publisherLeft() {
    this.left++;
    return this.stay;
  }
  end(error: StreamError) {
    this.ended = error;
  }
}

function setup(overrides: PlainConfig = {}) {
  const config = new ConfigService(loadConfig({ plugins: [], env: {}, overrides }));
  const events = new EngineEvents();
  const seen: Array<keyof EngineEventMap> = [];
  for (const name of ['publish_start', 'publish_end', 'subscribe_start', 'subscribe_end', 'stream_close'] as const) {
    events.on(name, () => seen.push(name));
  }
  const registry = new StreamRegistry(config, events);
  return { registry, seen };
}

const info = (protocol = 'test', query = '') => ({ protocol, remoteAddress: '127.0.0.1:1', query: new URLSearchParams(query) });

/** Writes a GOP: a key frame then `n - 1` delta frames, one audio frame after each. */
function writeGop(publisher: ReturnType<StreamRegistry['publish']>, start: number, n: number, size = 100) {
  for (let i = 0; i < n; i++) {
    const t = start + i * 40;
    publisher.writeVideo(t, t, i === 0, [Buffer.alloc(size, i)]);
    publisher.writeAudio(t + 1, Buffer.alloc(10));
  }
}

describe('StreamRegistry', () => {
  let registry: StreamRegistry;
  afterEach(() => registry?.shutdown());

  it('normalizes stream paths and rejects bad ones', () => {
    expect(normalizeStreamPath('/live/cam1/')).toBe('live/cam1');
    for (const bad of ['', '/', 'live/../x', 'a b', 'x'.repeat(300), 'live//x']) {
      expect(() => normalizeStreamPath(bad)).toThrow(StreamError);
    }
  });

  it('starts a late player at the latest key frame, with the track configs first', () => {
    const s = setup();
    registry = s.registry;
    const publisher = registry.publish('live/a', info());
    publisher.setTrack(video);
    publisher.setTrack(audio);
    writeGop(publisher, 1000, 10);
    writeGop(publisher, 1400, 5);
    const sink = new FakeSink();
    registry.subscribe('live/a', info(), sink);
    expect(sink.started?.video?.config).toBe(video);
    expect(sink.started?.audio?.config).toBe(audio);
    expect(sink.frames[0].kind).toBe('video');
    expect(sink.frames[0].keyFrame).toBe(true);
    expect(sink.frames[0].dts).toBe(400); // rebased to the stream's clock
    expect(sink.frames.length).toBe(10); // the current GOP: 5 video + 5 audio
    expect(s.seen).toEqual(['publish_start', 'subscribe_start']);
  });

  it('ends only the player whose sink throws; the publisher and the other players go on', () => {
    const s = setup();
    registry = s.registry;
    const publisher = registry.publish('live/throws', info());
    publisher.setTrack(video);
    writeGop(publisher, 0, 2);
    const broken = new FakeSink();
    let calls = 0;
    broken.frame = () => {
      if (++calls === 3) throw new Error('cannot carry this');
    };
    const healthy = new FakeSink();
    registry.subscribe('live/throws', info(), broken);
    registry.subscribe('live/throws', info(), healthy);
    expect(() => writeGop(publisher, 80, 3)).not.toThrow();
    expect(broken.ended?.code).toBe('PLAYER_FAILED');
    expect(broken.ended?.message).toBe('cannot carry this');
    expect(calls).toBe(3);
    expect(healthy.ended).toBeUndefined();
    expect(healthy.frames.length).toBe(2 + 3); // video only: the GOP cache, then every new frame
  });

  it('makes a waiting player start at the first key frame of a publisher that comes later', () => {
    const s = setup();
    registry = s.registry;
    const sink = new FakeSink();
    registry.subscribe('live/b', info(), sink);
    const publisher = registry.publish('live/b', info());
    publisher.setTrack(video);
    publisher.writeVideo(0, 0, false, [Buffer.alloc(1)]); // no key frame yet
    expect(sink.started).toBeUndefined();
    publisher.writeVideo(40, 40, true, [Buffer.alloc(1)]);
    expect(sink.frames.map((f) => f.keyFrame)).toEqual([true]);
  });

  it('refuses a second publisher unless kick-existing, which stops the first', () => {
    const s = setup();
    registry = s.registry;
    const first = registry.publish('live/c', info());
    let stopped: StreamError | undefined;
    first.onStop = (e) => (stopped = e);
    expect(() => registry.publish('live/c', info())).toThrow(expect.objectContaining({ code: 'STREAM_BUSY' }));
    const second = registry.publish('live/c', info('test', 'kickExisting=1'));
    expect(stopped?.code).toBe('KICKED');
    expect(registry.get('live/c')?.publisher).toBe(second);
  });

  it('skips a slow reader to the next key frame and counts the drops, without touching others', () => {
    const s = setup();
    registry = s.registry;
    const publisher = registry.publish('live/d', info());
    publisher.setTrack(video);
    const slow = new FakeSink();
    const fast = new FakeSink();
    const slowSub = registry.subscribe('live/d', info(), slow);
    registry.subscribe('live/d', info(), fast);
    publisher.writeVideo(0, 0, true, [Buffer.alloc(10)]);
    slow.queued = 10 * 1024 * 1024; // its socket is backed up
    for (let i = 1; i < 5; i++) publisher.writeVideo(i * 40, i * 40, false, [Buffer.alloc(10)]);
    slow.queued = 0; // drained, but mid-GOP: it must wait for a key frame
    publisher.writeVideo(200, 200, false, [Buffer.alloc(10)]);
    publisher.writeVideo(240, 240, true, [Buffer.alloc(10)]);
    expect(fast.frames).toHaveLength(7);
    expect(slow.frames.map((f) => f.dts)).toEqual([0, 240]);
    expect(slowSub.droppedFrames).toBe(5);
  });

  it('honours audio-only and video-only choices from the query', () => {
    const s = setup();
    registry = s.registry;
    const publisher = registry.publish('live/e', info());
    publisher.setTrack(video);
    publisher.setTrack(audio);
    const audioOnly = new FakeSink();
    const videoOnly = new FakeSink();
    registry.subscribe('live/e', info('test', 'video=0'), audioOnly);
    registry.subscribe('live/e', info('test', 'audio=0'), videoOnly);
    writeGop(publisher, 0, 3);
    expect(audioOnly.frames.every((f) => f.kind === 'audio')).toBe(true);
    expect(audioOnly.started?.video).toBeUndefined();
    expect(videoOnly.frames.every((f) => f.kind === 'video')).toBe(true);
    expect(videoOnly.frames).toHaveLength(3);
  });

  it('serves an audio-only stream once audio has flowed without video', () => {
    const s = setup();
    registry = s.registry;
    const publisher = registry.publish('live/f', info());
    publisher.setTrack(audio);
    const sink = new FakeSink();
    registry.subscribe('live/f', info(), sink);
    for (let t = 0; t <= 1100; t += 23) publisher.writeAudio(t, Buffer.alloc(4));
    expect(sink.started?.audio).toBeDefined();
    expect(sink.frames.length).toBeGreaterThan(0);
  });

  it('ends FLV-like players when the publisher leaves and keeps RTMP-like ones waiting for the next', () => {
    const s = setup({ publish: { delayCloseTimeout: '5s' } });
    registry = s.registry;
    const publisher = registry.publish('live/g', info());
    publisher.setTrack(video);
    publisher.writeVideo(0, 0, true, [Buffer.alloc(1)]);
    const leaves = new FakeSink(false);
    const stays = new FakeSink(true);
    registry.subscribe('live/g', info(), leaves);
    const waiting = registry.subscribe('live/g', info(), stays);
    publisher.close();
    expect(leaves.left).toBe(1);
    expect(waiting.state).toBe('waiting');
    expect(registry.get('live/g')?.subscribers.size).toBe(1);
    const next = registry.publish('live/g', info());
    next.setTrack(video);
    next.writeVideo(5000, 5000, true, [Buffer.alloc(1)]);
    expect(stays.frames).toHaveLength(2);
    expect(stays.frames[1].dts).toBeGreaterThan(stays.frames[0].dts); // the stream clock goes on
    registry.unsubscribe(waiting);
    // One start/end pair per player, even for the one that saw two publishers.
    const count = (name: string) => s.seen.filter((e) => e === name).length;
    expect([count('subscribe_start'), count('subscribe_end')]).toEqual([2, 2]);
  });

  it('applies the publish timeout, the idle timeout, the wait timeout and delay-close', () => {
    const s = setup({ publish: { publishTimeout: '1s', idleTimeout: '2s', delayCloseTimeout: '3s' }, subscribe: { waitTimeout: '1s' } });
    registry = s.registry;
    const now = Date.now();
    const quiet = registry.publish('live/h', info());
    let stopped: StreamError | undefined;
    quiet.onStop = (e) => (stopped = e);
    registry.tick(now + 1500);
    expect(stopped?.code).toBe('PUBLISH_TIMEOUT');
    expect(registry.get('live/h')).toBeDefined(); // delay-close keeps it
    registry.tick(now + 3600);
    expect(registry.get('live/h')).toBeUndefined();

    const idle = registry.publish('live/i', info());
    idle.onStop = (e) => (stopped = e);
    idle.lastFrameAt = now + 10_000;
    registry.tick(now + 2500);
    expect(stopped?.code).toBe('IDLE_TIMEOUT');

    const sink = new FakeSink();
    registry.subscribe('live/j', info(), sink);
    registry.tick(Date.now() + 1500);
    expect(sink.ended?.code).toBe('WAIT_TIMEOUT');
    expect(registry.get('live/j')).toBeUndefined();
  });

  it('keeps the ring bounded by frames and bytes whatever the GOP length', () => {
    const s = setup({ publish: { maxRingFrames: 100, maxRingBytes: '64kb' } });
    registry = s.registry;
    const publisher = registry.publish('live/k', info());
    publisher.setTrack(video);
    publisher.writeVideo(0, 0, true, [Buffer.alloc(100)]);
    for (let i = 1; i < 10_000; i++) publisher.writeVideo(i, i, false, [Buffer.alloc(1000)]);
    const ring = registry.get('live/k')!.ring;
    expect(ring.length).toBeLessThanOrEqual(100);
    expect(ring.byteSize).toBeLessThanOrEqual(64 * 1024);
  });
});
