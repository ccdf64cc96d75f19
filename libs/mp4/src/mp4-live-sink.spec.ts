import { AVFrame, SubscribeConfig, Track } from '@m7s/core';
import { aacConfig, AudioConfig } from '@m7s/media';
import type { PlayerWriter } from '@m7s/flv';
import { Mp4LiveSink } from './mp4-live-sink';

const config = aacConfig(Buffer.from([0x12, 0x10]));

function writer(): PlayerWriter & { chunks: Buffer[]; ended: boolean } {
  const w = { chunks: [] as Buffer[], ended: false, write: (c: Buffer) => void w.chunks.push(c), backlog: () => 0, end: () => void (w.ended = true) };
  return w;
}

describe('Mp4LiveSink', () => {
  const policy = { writeMergeTime: 0 } as SubscribeConfig;

  it('sends the init segment, then one fragment per frame built once for every player', () => {
    const track = new Track<AudioConfig>(config);
    const [a, b] = [writer(), writer()];
    const sinks = [new Mp4LiveSink(a), new Mp4LiveSink(b)];
    for (const sink of sinks) sink.start({ audio: track }, policy);
    const frame = new AVFrame('audio', 'aac', 1000, 1000, true, [Buffer.alloc(50, 1)], config);
    frame.seq = 7;
    for (const sink of sinks) sink.frame(frame);
    expect(a.chunks).toHaveLength(2);
    expect(a.chunks[1]).toBe(b.chunks[1]); // the same Buffer
    const chunk = a.chunks[1].toString('latin1');
    expect(chunk).toContain('moof');
    expect(chunk).toContain('mdat');
    expect(a.chunks[0].toString('latin1')).toContain('ftyp');
  });

  it('ends the response when a track changes (the player reconnects for a new init segment)', () => {
    const w = writer();
    const sink = new Mp4LiveSink(w);
    const track = new Track<AudioConfig>(config);
    sink.start({ audio: track }, policy);
    sink.track(track);
    expect(w.ended).toBe(true);
    sink.frame(new AVFrame('audio', 'aac', 0, 0, true, [Buffer.alloc(10)], config));
    expect(w.chunks).toHaveLength(1);
  });
});
