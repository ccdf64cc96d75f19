import { existsSync } from 'node:fs';
import { ApiClient, decodeErrors, killAllTracked, loginApi, makeTempDir, probeDuration, probeStreams, publishTestPattern, removeTempDir, startTestServer, TestServer, waitFor } from '@m7s/test-kit';

interface Row {
  id: number;
  startTime: number;
  endTime: number;
  duration: number;
  filePath: string;
  status: string;
}

describe('recording to HLS and HLS VOD of a time range (ffmpeg over RTMP, ffprobe)', () => {
  let server: TestServer;
  let admin: ApiClient;
  let dir: string;
  let rows: Row[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('m7s-hls-record-');
    server = await startTestServer({
      record: { dir, fragment: '4s', rules: [{ match: '^hrec/', formats: ['hls'] }] },
      hls: { segmentDuration: '1s' },
    });
    admin = await loginApi(server);
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
    await removeTempDir(dir);
  });

  it('records TS segments and a VOD playlist per file, split every 4 s', async () => {
    const publisher = publishTestPattern({ url: server.rtmpUrl('hrec/a'), duration: 10, fps: 25, gop: 25 });
    await waitFor(() => server.registry.get('hrec/a')?.isReady, 'the stream', 20_000);
    await publisher.exited;
    rows = await waitFor(
      async () => {
        const { body } = await admin.get('/api/record/list?streamPath=hrec/a&format=hls');
        return body.total >= 3 && body.list.every((r: Row) => r.status === 'complete') ? (body.list as Row[]) : undefined;
      },
      'complete HLS recordings',
      30_000,
    );
    const total = rows.reduce((n, r) => n + r.duration, 0);
    expect(Math.abs(total - 10_000)).toBeLessThan(1000);
    for (const row of rows) {
      expect(row.filePath).toMatch(/\.m3u8$/);
      expect(existsSync(row.filePath)).toBe(true);
      expect(await decodeErrors(row.filePath)).toBe('');
      expect(Math.abs((await probeDuration(row.filePath)) * 1000 - row.duration)).toBeLessThan(1000);
    }
  });

  it('serves a VOD playlist of any range across files, which ffmpeg plays to the expected duration', async () => {
    const start = rows[0].startTime + 1500;
    const end = rows[rows.length - 1].endTime - 1500;
    const url = `${server.httpUrl}/hls/vod/hrec/a.m3u8?start=${start}&end=${new Date(end).toISOString()}`;
    const playlist = await fetch(url);
    expect(playlist.status).toBe(200);
    const text = await playlist.text();
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(text).toContain('#EXT-X-ENDLIST');
    expect(text).toContain('#EXT-X-DISCONTINUITY');
    expect(await decodeErrors(url)).toBe('');
    // Whole 1 s segments overlapping the range: at least the range, at most a segment more on each side.
    const duration = (await probeDuration(url)) * 1000;
    expect(duration).toBeGreaterThan(end - start - 500);
    expect(duration).toBeLessThan(end - start + 2500);
    const streams = await probeStreams(url);
    expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
  });

  it('refuses bad ranges, unknown streams and segments of other recordings', async () => {
    const base = `${server.httpUrl}/hls/vod`;
    expect((await fetch(`${base}/hrec/a.m3u8?start=10`)).status).toBe(400);
    expect((await fetch(`${base}/hrec/a.m3u8?start=20&end=10`)).status).toBe(400);
    expect((await fetch(`${base}/hrec/a.m3u8?start=abc&end=10`)).status).toBe(400);
    expect((await fetch(`${base}/none/x.m3u8?start=0&end=${Date.now()}`)).status).toBe(404);
    const dirName = rows[0].filePath.split('/').pop()!.replace(/\.m3u8$/, '');
    expect((await fetch(`${base}/hrec/a/${rows[0].id}/${dirName}/000001.ts`)).status).toBe(200);
    expect((await fetch(`${base}/hrec/b/${rows[0].id}/${dirName}/000001.ts`)).status).toBe(404);
    expect((await fetch(`${base}/hrec/a/${rows[1].id}/${dirName}/000001.ts`)).status).toBe(404);
    expect((await fetch(`${base}/hrec/a/${rows[0].id}/..%2F..%2Fetc/000001.ts`)).status).toBe(404);
  });
});
