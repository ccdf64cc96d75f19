import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AVFrame, Track } from '@m7s/core';
import { AudioConfig, buildFlvHeader, FlvTagReader, parseScriptData, VideoConfig } from '@m7s/media';
import { aacTrack, decodeErrors, h264Track, makeTempDir, probe, removeDir, TestTrack } from '../../media/src/mp4/mp4-test-fixtures';
import { FlvRecordFormat, isKeyFrameBody } from './flv-record';

/** The frames of an H.264 + AAC clip as the engine carries them (ms timestamps), in dts order. */
function engineFrames(video: TestTrack, audio: TestTrack): { tracks: { video: Track<VideoConfig>; audio: Track<AudioConfig> }; frames: AVFrame[] } {
  const v = new Track(video.track.config as VideoConfig);
  const a = new Track(audio.track.config as AudioConfig);
  const frames = [
    ...video.frames.map((f) => new AVFrame('video', 'h264', f.dts / 90, (f.dts + f.cts) / 90, f.keyFrame, f.data, v.config)),
    ...audio.frames.map((f) => new AVFrame('audio', 'aac', (f.dts / audio.track.timescale) * 1000, (f.dts / audio.track.timescale) * 1000, true, f.data, a.config)),
  ].sort((x, y) => x.dts - y.dts);
  return { tracks: { video: v, audio: a }, frames };
}

function onMetaData(file: string): Record<string, any> {
  const reader = new FlvTagReader();
  const tag = reader.push(readFileSync(file)).find((t) => t.type === 18)!;
  return parseScriptData(tag.body).value as Record<string, any>;
}

describe('FLV recording format', () => {
  let dir: string;
  let clip: ReturnType<typeof engineFrames>;
  const format = new FlvRecordFormat();

  beforeAll(() => {
    dir = makeTempDir();
    clip = engineFrames(h264Track(dir, 2, 25), aacTrack(dir, 2, 44100));
  });

  afterAll(() => removeDir(dir));

  async function record(name: string, frames = clip.frames): Promise<string> {
    const file = join(dir, 'out', name);
    const writer = await format.open(file, clip.tracks);
    for (const frame of frames) writer.frame(frame);
    const closed = await writer.close();
    expect(closed.size).toBe(statSync(file).size);
    return file;
  }

  it('writes a file ffmpeg decodes, and finalizes it with duration, filesize and a keyframe index', async () => {
    const file = await record('a.flv');
    expect(decodeErrors(file)).toBe('');
    const result = await format.finalize(file);
    expect(decodeErrors(file)).toBe('');
    expect(result.size).toBe(statSync(file).size);
    expect(result.duration).toBeGreaterThan(1900);
    expect(result.duration).toBeLessThan(2100);
    const meta = onMetaData(file);
    expect(meta.duration).toBeCloseTo(result.duration / 1000, 3);
    expect(meta.filesize).toBe(result.size);
    expect(meta.keyframes.times).toEqual([0, 1]);
    // Each position is a key frame tag of the finalized file.
    const bytes = readFileSync(file);
    for (const position of meta.keyframes.filepositions as number[]) {
      expect(bytes[position]).toBe(9);
      const bodySize = bytes.readUIntBE(position + 1, 3);
      expect(isKeyFrameBody(bytes.subarray(position + 11, position + 11 + bodySize))).toBe(true);
    }
    expect(Number(probe(file).format.duration)).toBeCloseTo(result.duration / 1000, 0);
  });

  it('finalizes idempotently', async () => {
    const file = await record('b.flv');
    const first = await format.finalize(file);
    const bytes = readFileSync(file);
    const second = await format.finalize(file);
    expect(second).toEqual(first);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('recovers a file torn mid-tag: drops the tail, finalizes the rest', async () => {
    const file = await record('c.flv');
    truncateSync(file, Math.floor(statSync(file).size * 0.6) + 7);
    const result = await format.recover(file);
    expect(result).toBeDefined();
    expect(result!.duration).toBeGreaterThan(800);
    expect(result!.duration).toBeLessThan(1600);
    expect(decodeErrors(file)).toBe('');
    expect(onMetaData(file).keyframes.times[0]).toBe(0);
  });

  it('recovers nothing from a file without media', async () => {
    const file = join(dir, 'empty.flv');
    writeFileSync(file, Buffer.concat([buildFlvHeader(true, true), Buffer.from([9, 0, 0])]));
    expect(await format.recover(file)).toBeUndefined();
    await format.remove(file);
    expect(() => statSync(file)).toThrow();
  });

  it('writes a new sequence header on a config change', async () => {
    const file = join(dir, 'out', 'd.flv');
    const writer = await format.open(file, clip.tracks);
    const half = Math.floor(clip.frames.length / 2);
    for (const frame of clip.frames.slice(0, half)) writer.frame(frame);
    writer.track!(clip.tracks.video);
    for (const frame of clip.frames.slice(half)) writer.frame(frame);
    await writer.close();
    await format.finalize(file);
    expect(decodeErrors(file)).toBe('');
  });
});
