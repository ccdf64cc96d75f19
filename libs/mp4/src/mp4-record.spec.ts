import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AVFrame, Track } from '@m7s/core';
import { aacConfig, AudioConfig, readMp4Index } from '@m7s/media';
import { openLocalFile } from '@m7s/storage';
import { Mp4RecordFormat } from './mp4-record';

const config = aacConfig(Buffer.from([0x12, 0x10])); // AAC LC, 44.1 kHz, stereo
const frameMs = (1024 * 1000) / 44_100;

function audioFrame(i: number): AVFrame {
  const data = Buffer.alloc(100 + (i % 7), i & 0xff);
  return new AVFrame('audio', 'aac', i * frameMs, i * frameMs, true, [data], config);
}

async function indexOf(path: string) {
  const file = await openLocalFile(path);
  try {
    return await readMp4Index(file);
  } finally {
    await file.close();
  }
}

describe('Mp4RecordFormat', () => {
  let dir: string;
  const format = new Mp4RecordFormat(() => 1000);

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'm7s-mp4-record-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function record(path: string, frames: number): Promise<void> {
    const writer = await format.open(path, { audio: new Track<AudioConfig>(config) });
    for (let i = 0; i < frames; i++) writer.frame(audioFrame(i));
    await writer.close();
  }

  it('writes fragments while recording; finalize makes it progressive (moov first), once', async () => {
    const path = join(dir, 'a', 'b.mp4');
    await record(path, 200);
    const fragmented = await indexOf(path);
    expect(fragmented.fragmented).toBe(true);
    expect(fragmented.tracks[0].samples).toHaveLength(200);
    const result = await format.finalize(path);
    expect(Math.abs(result.duration - 200 * frameMs)).toBeLessThan(1);
    const bytes = readFileSync(path);
    expect(result.size).toBe(bytes.length);
    expect(bytes.toString('latin1', 4, 8)).toBe('ftyp');
    expect(bytes.indexOf('moov')).toBeLessThan(bytes.indexOf('mdat'));
    const progressive = await indexOf(path);
    expect(progressive.fragmented).toBe(false);
    expect(progressive.tracks[0].samples.map((s) => s.size)).toEqual(fragmented.tracks[0].samples.map((s) => s.size));
    // Idempotent: a progressive file is left alone.
    expect(await format.finalize(path)).toEqual(result);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('recovers a file cut mid-fragment (the torn fragment is dropped), and gives up on one without a fragment', async () => {
    const path = join(dir, 'torn.mp4');
    await record(path, 200);
    const whole = await indexOf(path);
    truncateSync(path, readFileSync(path).length - 500);
    const recovered = await format.recover(path);
    expect(recovered).toBeDefined();
    const index = await indexOf(path);
    expect(index.fragmented).toBe(false);
    expect(index.tracks[0].samples.length).toBeGreaterThan(100);
    expect(index.tracks[0].samples.length).toBeLessThan(whole.tracks[0].samples.length);

    const empty = join(dir, 'empty.mp4');
    await record(empty, 0);
    expect(await format.recover(empty)).toBeUndefined();
    writeFileSync(empty, Buffer.from('not an mp4 at all'));
    expect(await format.recover(empty)).toBeUndefined();
  });
});
