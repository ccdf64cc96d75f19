import type { VideoConfig } from '@m7s/media';
import { ConfigService } from '../config/config.service';
import { loadConfig } from '../config/config.loader';
import { EngineEvents, StreamDemandEvent } from '../events/engine-events';
import { StreamRegistry } from './stream-registry';
import type { SubscriberSink } from './subscriber';

const video: VideoConfig = { kind: 'video', codec: 'h264', record: Buffer.from([1]), parameterSets: [], width: 320, height: 240 };
const info = (protocol = 'test') => ({ protocol, remoteAddress: '127.0.0.1:1', query: new URLSearchParams() });
const sink = (): SubscriberSink => ({ backlog: () => 0, start: () => undefined, track: () => undefined, frame: () => undefined, publisherLeft: () => false, end: () => undefined });

describe('StreamRegistry stream_demand (a player asks for a stream nobody publishes)', () => {
  let registry: StreamRegistry;
  let demands: StreamDemandEvent[];

  beforeEach(() => {
    const events = new EngineEvents();
    demands = [];
    events.on('stream_demand', (event) => demands.push(event));
    registry = new StreamRegistry(new ConfigService(loadConfig({ plugins: [], env: {} })), events);
  });
  afterEach(() => registry.shutdown());

  it('is emitted for every player that has to wait, with the resolved path, its id and protocol', () => {
    const first = registry.subscribe('/live/cam/', info('http-flv'), sink());
    const second = registry.subscribe('live/cam', info('rtsp'), sink());
    expect(demands).toEqual([
      { streamPath: 'live/cam', time: expect.any(Number), subscriberId: first.id, protocol: 'http-flv', remoteAddress: '127.0.0.1:1' },
      { streamPath: 'live/cam', time: expect.any(Number), subscriberId: second.id, protocol: 'rtsp', remoteAddress: '127.0.0.1:1' },
    ]);
    // The waiting player already counts as a reader when listeners run.
    expect(registry.get('live/cam')?.subscribers.size).toBe(2);
  });

  it('names the target of an alias, not the alias', () => {
    registry.setAlias('cam', 'live/real');
    registry.subscribe('cam', info(), sink());
    expect(demands.map((d) => d.streamPath)).toEqual(['live/real']);
  });

  it('is not emitted when the stream has a publisher, ready or not', () => {
    const publisher = registry.publish('live/on', info());
    registry.subscribe('live/on', info(), sink()); // publisher not ready yet (no key frame): waits, but no demand
    publisher.setTrack(video);
    publisher.writeVideo(0, 0, true, [Buffer.alloc(4)]);
    registry.subscribe('live/on', info(), sink());
    expect(demands).toEqual([]);
  });

  it('is emitted again once the publisher has left', () => {
    const publisher = registry.publish('live/gone', info());
    publisher.close('done');
    registry.subscribe('live/gone', info(), sink());
    expect(demands.map((d) => d.streamPath)).toEqual(['live/gone']);
  });
});
