import type { VideoConfig } from '@m7s/media';
import { ConfigService } from '../config/config.service';
import { loadConfig } from '../config/config.loader';
import { EngineEvents, EngineEventMap } from '../events/engine-events';
import { StreamError } from './stream.errors';
import { StreamRegistry } from './stream-registry';
import type { SubscriberSink } from './subscriber';

const video: VideoConfig = { kind: 'video', codec: 'h264', record: Buffer.from([1]), parameterSets: [], width: 320, height: 240 };
const info = () => ({ protocol: 'test', remoteAddress: '127.0.0.1:1', query: new URLSearchParams() });

function sink(): SubscriberSink & { frames: number; ended?: StreamError } {
  const s = {
    frames: 0,
    ended: undefined as StreamError | undefined,
    backlog: () => 0,
    start: () => undefined,
    track: () => undefined,
    frame: () => void s.frames++,
    publisherLeft: () => false,
    end: (error: StreamError) => void (s.ended = error),
  };
  return s;
}

describe('StreamRegistry aliases and subscriber lookup', () => {
  let registry: StreamRegistry;
  const seen: (keyof EngineEventMap)[] = [];

  beforeEach(() => {
    const events = new EngineEvents();
    seen.length = 0;
    for (const name of ['subscribe_start', 'subscribe_end', 'stream_close'] as const) events.on(name, () => seen.push(name));
    registry = new StreamRegistry(new ConfigService(loadConfig({ plugins: [], env: {} })), events);
  });
  afterEach(() => registry.shutdown());

  it('plays the target of an alias, and the alias path itself once the alias is removed', () => {
    registry.setAlias('cam', 'live/real');
    const publisher = registry.publish('live/real', info());
    publisher.setTrack(video);
    publisher.writeVideo(0, 0, true, [Buffer.alloc(4)]);
    const player = sink();
    const subscriber = registry.subscribe('/cam/', info(), player);
    expect(subscriber.streamPath).toBe('live/real');
    expect(player.frames).toBe(1);
    expect(registry.get('cam')).toBeUndefined();
    expect(registry.aliasList()).toEqual([{ alias: 'cam', streamPath: 'live/real' }]);

    expect(registry.removeAlias('cam')).toBe(true);
    expect(registry.removeAlias('cam')).toBe(false);
    expect(registry.subscribe('cam', info(), sink()).streamPath).toBe('cam');
  });

  it('finds a player by id and stops it, telling its adapter and closing an unused stream', () => {
    const player = sink();
    const subscriber = registry.subscribe('live/wait', info(), player);
    expect(registry.findSubscriber(subscriber.id)).toBe(subscriber);
    expect(registry.findSubscriber('999')).toBeUndefined();
    expect(registry.stopSubscriber(subscriber.id)).toBe(true);
    expect(player.ended?.code).toBe('STOPPED');
    expect(registry.findSubscriber(subscriber.id)).toBeUndefined();
    expect(registry.get('live/wait')).toBeUndefined();
    expect(seen).toEqual(['stream_close']); // it only waited: no subscribe_start, so no subscribe_end
    expect(registry.stopSubscriber(subscriber.id)).toBe(false);
  });

  it('ends a playing player with subscribe_end when stopped', () => {
    const publisher = registry.publish('live/p', info());
    publisher.setTrack(video);
    publisher.writeVideo(0, 0, true, [Buffer.alloc(4)]);
    const subscriber = registry.subscribe('live/p', info(), sink());
    registry.stopSubscriber(subscriber.id);
    expect(seen).toEqual(['subscribe_start', 'subscribe_end']);
    expect(registry.get('live/p')?.subscribers.size).toBe(0);
  });
});
