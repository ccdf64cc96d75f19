import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AVFrame, ConfigService, Track, TrackSet } from '@m7s/core';
import { AudioConfig, FlvTagReader, parseAudioBody, parseVideoBody, VideoConfig } from '@m7s/media';
import { fixture } from '../../media/test-fixtures/fixtures';
import { HlsRecordFormat, hlsSegmentDir } from './hls-record';
import { buildVodPlaylist, parseMediaPlaylist } from './hls-vod';

/** The frames of an FLV fixture as the engine hands them to a recorder. */
function flvStream(name: string): { tracks: TrackSet; frames: AVFrame[] } {
  let video: VideoConfig | undefined;
  let audio: AudioConfig | undefined;
  const frames: AVFrame[] = [];
  for (const tag of new FlvTagReader().push(fixture(name))) {
    if (tag.type === 9) {
      const r = parseVideoBody(tag.body, video);
      if (r.type === 'config') video = r.config;
      else if (r.type === 'frame' && video) frames.push(new AVFrame('video', 'h264', tag.timestamp, tag.timestamp + r.cts, r.keyFrame, r.units, video));
    } else if (tag.type === 8) {
      const r = parseAudioBody(tag.body, audio);
      if (r.type === 'config') audio = r.config;
      else if (r.type === 'frame' && audio) frames.push(new AVFrame('audio', 'aac', tag.timestamp, tag.timestamp, true, [r.data], audio));
    }
  }
  return { tracks: { video: new Track(video!), audio: new Track(audio!) }, frames };
}

function decodeErrors(file: string): string {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  return r.stderr + (r.status === 0 ? '' : `exit ${r.status}`);
}

function probeDuration(file: string): number {
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

describe('HlsRecordFormat', () => {
  let dir: string;
  const config = { section: () => ({ segmentDuration: 200 }) } as unknown as ConfigService;
  const format = new HlsRecordFormat(config);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hls-record-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function record(): Promise<string> {
    const file = join(dir, 'live/cam1/2026-11-24T10-00-00.000.m3u8');
    const { tracks, frames } = flvStream('h264-aac.flv');
    const writer = await format.open(file, tracks);
    expect(readFileSync(file, 'utf8')).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    for (const frame of frames) writer.frame(frame);
    const closed = await writer.close();
    expect(closed.size).toBeGreaterThan(10_000);
    return file;
  }

  it('writes TS segments in a directory beside an EVENT playlist, then finalizes it as VOD', async () => {
    const file = await record();
    expect(hlsSegmentDir(file)).toBe(join(dir, 'live/cam1/2026-11-24T10-00-00.000'));
    expect(readdirSync(hlsSegmentDir(file))).toEqual(['000001.ts', '000002.ts', '000003.ts']);
    const event = readFileSync(file, 'utf8');
    expect(event).toContain('#EXT-X-PLAYLIST-TYPE:EVENT');
    expect(event).not.toContain('#EXT-X-ENDLIST');
    expect(event).toContain('2026-11-24T10-00-00.000/000001.ts');
    expect(event.match(/#EXT-X-PROGRAM-DATE-TIME:/g)).toHaveLength(3);
    const finalized = await format.finalize(file);
    const vod = readFileSync(file, 'utf8');
    expect(vod).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(vod.trim().endsWith('#EXT-X-ENDLIST')).toBe(true);
    expect(finalized.duration).toBeGreaterThan(500);
    expect(Math.abs(probeDuration(file) * 1000 - finalized.duration)).toBeLessThan(100);
    expect(decodeErrors(file)).toBe('');
    // Idempotent.
    expect(await format.finalize(file)).toEqual(finalized);
  });

  it('recovers a playlist the crash left behind: segments on disk are timed from their PTS, a torn tail is cut', async () => {
    const file = await record();
    const recorded = parseMediaPlaylist(readFileSync(file, 'utf8')).segments;
    writeFileSync(file, '#EXTM3U\n'); // as if the crash came before any playlist update
    appendFileSync(join(hlsSegmentDir(file), '000003.ts'), Buffer.alloc(100, 0x47)); // a torn packet
    writeFileSync(join(hlsSegmentDir(file), '000004.ts'), Buffer.alloc(0)); // a segment just opened
    const recovered = await format.recover(file);
    expect(recovered).toBeDefined();
    const rebuilt = parseMediaPlaylist(readFileSync(file, 'utf8'));
    expect(rebuilt.ended).toBe(true);
    expect(rebuilt.segments.map((s) => s.uri)).toEqual(recorded.map((s) => s.uri));
    rebuilt.segments.forEach((s, i) => expect(Math.abs(s.duration - recorded[i].duration)).toBeLessThan(60));
    expect(existsSync(join(hlsSegmentDir(file), '000004.ts'))).toBe(false);
    expect(decodeErrors(file)).toBe('');
  });

  it('recovers nothing from an empty recording, and removes playlist and segments', async () => {
    const file = join(dir, 'empty.m3u8');
    const { tracks } = flvStream('h264-aac.flv');
    await (await format.open(file, tracks)).close();
    expect(await format.recover(file)).toBeUndefined();
    const full = await record();
    await format.remove(full);
    expect(existsSync(full)).toBe(false);
    expect(existsSync(hlsSegmentDir(full))).toBe(false);
  });
});

describe('buildVodPlaylist', () => {
  const t0 = Date.parse('2026-11-24T10:00:00.000Z');
  const playlist = (start: number, count: number): string =>
    ['#EXTM3U', '#EXT-X-TARGETDURATION:2', ...Array.from({ length: count }, (_, i) => `${i === 0 ? `#EXT-X-PROGRAM-DATE-TIME:${new Date(start).toISOString()}\n` : ''}#EXTINF:2.000,\nrec/${String(i + 1).padStart(6, '0')}.ts`), '#EXT-X-ENDLIST'].join('\n');

  it('keeps the segments overlapping the range, across files, in time order', () => {
    const text = buildVodPlaylist(
      [
        { text: playlist(t0 + 60_000, 5), segmentUri: (u) => `/b/${u}` },
        { text: playlist(t0, 5), segmentUri: (u) => `/a/${u}` },
      ],
      t0 + 5_000,
      t0 + 63_000,
    );
    const parsed = parseMediaPlaylist(text);
    expect(parsed.ended).toBe(true);
    expect(parsed.segments.map((s) => s.uri)).toEqual(['/a/rec/000003.ts', '/a/rec/000004.ts', '/a/rec/000005.ts', '/b/rec/000001.ts', '/b/rec/000002.ts']);
    expect(parsed.segments[3].programDateTime).toBe(t0 + 60_000);
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(text).toContain('/a/rec/000005.ts\n#EXT-X-DISCONTINUITY\n');
    expect(text.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
  });

  it('gives an empty VOD playlist when nothing overlaps', () => {
    const text = buildVodPlaylist([{ text: playlist(t0, 2), segmentUri: (u) => u }], t0 + 10_000, t0 + 20_000);
    expect(parseMediaPlaylist(text).segments).toEqual([]);
    expect(text).toContain('#EXT-X-ENDLIST');
  });
});
