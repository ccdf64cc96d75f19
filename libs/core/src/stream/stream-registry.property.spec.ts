import fc from 'fast-check';
import type { VideoConfig, AudioConfig } from '@m7s/media';
import { ConfigService } from '../config/config.service';
import { loadConfig } from '../config/config.loader';
import { EngineEvents } from '../events/engine-events';
import type { AVFrame } from './av-frame';
import type { Publisher } from './publisher';
import { StreamRegistry } from './stream-registry';
import type { Subscriber, SubscriberSink } from './subscriber';

const video: VideoConfig = { kind: 'video', codec: 'h264', record: Buffer.from([1]), parameterSets: [], width: 2, height: 2 };
const audio: AudioConfig = { kind: 'audio', codec: 'aac', record: Buffer.from([0x12, 0x10]), sampleRate: 48000, channels: 2 };

/** A sink that checks what the engine promises every player. */
class CheckingSink implements SubscriberSink {
  started = false;
  frames: AVFrame[] = [];
  ended = false;
  backlogBytes = 0;
  constructor(private readonly stays: boolean) {}
  backlog() {
    return this.backlogBytes;
  }
  start() {
    this.started = true;
    this.frames = [];
  }
  track() {}
  frame(frame: AVFrame) {
    if (!this.started || this.ended) throw new Error('frame before start or after end');
    if (this.frames.length === 0 && frame.kind === 'video' && !frame.keyFrame) throw new Error('first video frame is not a key frame');
    this.frames.push(frame);
  }
  publisherLeft() {
    this.started = false;
    return this.stays;
  }
  end() {
    this.ended = true;
  }
}

type Op =
  | { op: 'publish'; path: number; kick: boolean }
  | { op: 'closePublisher'; path: number }
  | { op: 'video'; path: number; key: boolean; size: number }
  | { op: 'audio'; path: number }
  | { op: 'subscribe'; path: number; stays: boolean; audio: boolean; video: boolean }
  | { op: 'unsubscribe'; index: number }
  | { op: 'stall'; index: number; bytes: number }
  | { op: 'tick'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('publish' as const), path: fc.nat(2), kick: fc.boolean() }),
  fc.record({ op: fc.constant('closePublisher' as const), path: fc.nat(2) }),
  fc.record({ op: fc.constant('video' as const), path: fc.nat(2), key: fc.boolean(), size: fc.integer({ min: 1, max: 50_000 }) }),
  fc.record({ op: fc.constant('audio' as const), path: fc.nat(2) }),
  fc.record({ op: fc.constant('subscribe' as const), path: fc.nat(2), stays: fc.boolean(), audio: fc.boolean(), video: fc.boolean() }),
  fc.record({ op: fc.constant('unsubscribe' as const), index: fc.nat(20) }),
  fc.record({ op: fc.constant('stall' as const), index: fc.nat(20), bytes: fc.integer({ min: 0, max: 4 * 1024 * 1024 }) }),
  fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 20_000 }) }),
);

describe('StreamRegistry under random operation sequences', () => {
  it('never throws, keeps rings bounded, starts players at key frames, and cleans up', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 300 }), (ops) => {
        const config = new ConfigService(
          loadConfig({ plugins: [], env: {}, overrides: { publish: { maxRingFrames: 64, maxRingBytes: '256kb', delayCloseTimeout: '1s' }, subscribe: { waitTimeout: '5s' } } }),
        );
        const registry = new StreamRegistry(config, new EngineEvents());
        const publishers = new Map<number, Publisher>();
        const players: Array<{ sub: Subscriber; sink: CheckingSink }> = [];
        const clock = { now: Date.now(), dts: 0 };
        try {
          for (const o of ops) {
            const path = 'path' in o ? `live/s${o.path}` : '';
            switch (o.op) {
              case 'publish': {
                try {
                  const p = registry.publish(path, { protocol: 't', remoteAddress: 'x', query: new URLSearchParams(o.kick ? 'kickExisting=1' : '') });
                  p.setTrack(video);
                  p.setTrack(audio);
                  publishers.set(o.path, p);
                } catch (error) {
                  if ((error as { code?: string }).code !== 'STREAM_BUSY') throw error;
                }
                break;
              }
              case 'closePublisher':
                publishers.get(o.path)?.close();
                break;
              case 'video':
                clock.dts += 40;
                publishers.get(o.path)?.writeVideo(clock.dts, clock.dts, o.key, [Buffer.alloc(o.size)]);
                break;
              case 'audio':
                clock.dts += 1;
                publishers.get(o.path)?.writeAudio(clock.dts, Buffer.alloc(10));
                break;
              case 'subscribe': {
                const sink = new CheckingSink(o.stays);
                const query = new URLSearchParams(`audio=${o.audio ? 1 : 0}&video=${o.video ? 1 : 0}`);
                players.push({ sub: registry.subscribe(path, { protocol: 't', remoteAddress: 'x', query }, sink), sink });
                break;
              }
              case 'unsubscribe': {
                const player = players[o.index % Math.max(1, players.length)];
                if (player) registry.unsubscribe(player.sub);
                break;
              }
              case 'stall': {
                const player = players[o.index % Math.max(1, players.length)];
                if (player) player.sink.backlogBytes = o.bytes;
                break;
              }
              case 'tick':
                clock.now += o.ms;
                registry.tick(clock.now);
                break;
            }
            for (const stream of registry.list()) {
              if (stream.ring.length > 64 || stream.ring.byteSize > 256 * 1024 + 50_000) throw new Error('ring over its bounds');
            }
          }
          // Everyone leaves: nothing may remain once delay-close has passed.
          for (const p of publishers.values()) p.close();
          for (const { sub } of players) registry.unsubscribe(sub);
          registry.tick(clock.now + 60_000);
          return registry.list().length === 0;
        } finally {
          registry.shutdown();
        }
      }),
      { numRuns: 300 },
    );
  });
});
