import { EngineEvents } from '@m7s/core';
import {
  ApiClient,
  decodeErrors,
  killAllTracked,
  loginApi,
  makeTempDir,
  probeDuration,
  probePackets,
  probeStreams,
  publishTestPattern,
  removeTempDir,
  startTestServer,
  TestServer,
  topLevelBoxes,
  waitFor,
} from '@m7s/test-kit';

interface Row {
  id: number;
  startTime: number;
  endTime: number;
  duration: number;
  filePath: string;
  status: string;
  size: number;
}

describe('MP4 recording, download of a time range, replay', () => {
  let server: TestServer;
  let dir: string;
  let admin: ApiClient;
  let rows: Row[];

  beforeAll(async () => {
    dir = await makeTempDir('m7s-mp4-');
    server = await startTestServer({ record: { dir, rules: [{ match: '^live/', formats: ['mp4'], fragment: '3s' }] } });
    admin = await loginApi(server);
    const publisher = publishTestPattern({ url: server.rtmpUrl('live/rec'), duration: 10, fps: 25, gop: 25, size: '320x240' });
    expect(await publisher.exited).toBe(0);
    rows = await waitFor(async () => {
      const list = (await admin.get('/api/record/list?streamPath=live/rec&pageSize=100')).body.list as Row[];
      return list.length >= 3 && list.every((r) => r.status === 'complete') ? list : undefined;
    }, 'the recordings to be complete', 30_000, 200);
    rows.sort((a, b) => a.startTime - b.startTime);
  }, 120_000);

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
    await removeTempDir(dir);
  });

  it('records at least three progressive MP4 files (moov before mdat) that decode silently, durations within 1 s', async () => {
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const row of rows) {
      const boxes = topLevelBoxes(row.filePath);
      expect(boxes[0]).toBe('ftyp');
      expect(boxes.indexOf('moov')).toBeGreaterThan(-1);
      expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
      expect(boxes).not.toContain('moof');
      expect(await decodeErrors(row.filePath)).toBe('');
      expect(Math.abs((await probeDuration(row.filePath)) * 1000 - row.duration)).toBeLessThan(1000);
    }
    // Split every 3 s at a key frame: all files but the last hold about 3 s.
    for (const row of rows.slice(0, -1)) expect(Math.abs(row.duration - 3000)).toBeLessThan(1000);
    const total = rows.reduce((n, r) => n + r.duration, 0);
    expect(Math.abs(total - 10_000)).toBeLessThan(1500);
  });

  describe('download', () => {
    let url: string;
    let expected: number;
    let full: Buffer;

    beforeAll(async () => {
      // From 1 s into the first file to 1.5 s into the third: a range spanning three files.
      const start = rows[0].startTime + 1000;
      const end = rows[2].startTime + 1500;
      expected = end - start;
      url = `${server.httpUrl}/mp4/download/live/rec.mp4?start=${start}&end=${end}`;
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('accept-ranges')).toBe('bytes');
      full = Buffer.from(await response.arrayBuffer());
      expect(Number(response.headers.get('content-length'))).toBe(full.length);
    });

    it('is one MP4 of the expected duration that decodes silently', async () => {
      expect(Math.abs((await probeDuration(url)) * 1000 - expected)).toBeLessThan(1000);
      const streams = await probeStreams(url);
      expect(streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
      expect(await decodeErrors(url)).toBe('');
    });

    it('serves byte ranges (206 with exactly those bytes; 416 past the end)', async () => {
      const half = Math.floor(full.length / 2);
      const second = await fetch(url, { headers: { range: `bytes=${half}-` } });
      expect(second.status).toBe(206);
      expect(second.headers.get('content-range')).toBe(`bytes ${half}-${full.length - 1}/${full.length}`);
      expect(Buffer.from(await second.arrayBuffer()).equals(full.subarray(half))).toBe(true);
      const middle = await fetch(url, { headers: { range: 'bytes=100-199' } });
      expect(middle.status).toBe(206);
      expect(Buffer.from(await middle.arrayBuffer()).equals(full.subarray(100, 200))).toBe(true);
      const past = await fetch(url, { headers: { range: `bytes=${full.length}-` } });
      expect(past.status).toBe(416);
      expect(past.headers.get('content-range')).toBe(`bytes */${full.length}`);
    });

    it('lets ffmpeg seek in it', async () => {
      expect(await decodeErrors(url, ['-ss', String(Math.floor(expected / 2000))])).toBe('');
    });

    it('answers 404 for a range without recordings and 400 for a bad one', async () => {
      expect((await fetch(`${server.httpUrl}/mp4/download/live/rec.mp4?start=1000&end=2000`)).status).toBe(404);
      expect((await fetch(`${server.httpUrl}/mp4/download/live/rec.mp4?start=soon&end=2000`)).status).toBe(400);
    });
  });

  describe('replay', () => {
    const events = () => server.app.get(EngineEvents);

    /** When the replay's publisher started and ended (from the engine's events). */
    function publishTimes(streamPath: string): { start?: number; end?: number } {
      const times: { start?: number; end?: number } = {};
      events().on('publish_start', (e) => {
        if (e.streamPath === streamPath) times.start = e.time;
      });
      events().on('publish_end', (e) => {
        if (e.streamPath === streamPath) times.end = e.time;
      });
      return times;
    }

    it('plays a recorded range as a live stream over RTMP and HTTP-FLV, and at 2x in about half the time', async () => {
      const start = rows[0].startTime + 500;
      const end = rows[rows.length - 1].endTime - 500;
      const normal = publishTimes('replay/live/rec');
      const fast = publishTimes('replay/fast');
      const started = await admin.post('/api/replay/start', { streamPath: 'live/rec', start, end });
      expect(started.status).toBe(200);
      expect(started.body).toMatchObject({ targetPath: 'replay/live/rec', state: 'playing', speed: 1 });
      expect((await admin.get('/api/replay/list')).body.list).toHaveLength(1);
      const [rtmp, flv] = await Promise.all([probePackets(server.rtmpUrl('replay/live/rec'), 2), probePackets(server.flvUrl('replay/live/rec'), 2)]);
      for (const packets of [rtmp, flv]) {
        const video = packets.filter((p) => p.codec_type === 'video').map((p) => Number(p.dts_time));
        expect(video.length).toBeGreaterThan(25);
        for (let i = 1; i < video.length; i++) expect(video[i]).toBeGreaterThan(video[i - 1]);
        expect(packets.some((p) => p.codec_type === 'audio')).toBe(true);
      }
      const fastStarted = await admin.post('/api/replay/start', { streamPath: 'live/rec', start, end, speed: 2, targetPath: 'replay/fast' });
      expect(fastStarted.status).toBe(200);
      await waitFor(() => normal.end && fast.end, 'both replays to end', 30_000, 100);
      const range = end - start;
      const normalTook = normal.end! - normal.start!;
      const fastTook = fast.end! - fast.start!;
      expect(normalTook).toBeGreaterThan(range * 0.7);
      expect(fastTook).toBeLessThan(normalTook * 0.75);
      expect(fastTook).toBeGreaterThan(range * 0.3);
      expect((await admin.get('/api/replay/list')).body.list).toHaveLength(0);
    });

    it('seeks, changes speed and stops through the API', async () => {
      const start = rows[0].startTime;
      const end = rows[rows.length - 1].endTime;
      const started = await admin.post('/api/replay/start', { streamPath: 'live/rec', start, end, targetPath: 'replay/control' });
      expect(started.status).toBe(200);
      const id = started.body.id as string;
      await waitFor(() => server.registry.get('replay/control')?.isReady, 'the replay stream');
      const seeked = await admin.post(`/api/replay/${id}/seek`, { time: start + 6000 });
      expect(seeked.status).toBe(200);
      expect(Math.abs(seeked.body.position - (start + 6000))).toBeLessThan(1500);
      expect((await admin.post(`/api/replay/${id}/speed`, { speed: 100 })).status).toBe(400);
      expect((await admin.post(`/api/replay/${id}/speed`, { speed: 4 })).body.speed).toBe(4);
      expect((await admin.post(`/api/replay/${id}/stop`)).body.state).toBe('stopped');
      await waitFor(() => !server.registry.get('replay/control')?.publisher, 'the replay publisher to leave');
      expect((await admin.post(`/api/replay/${id}/stop`)).status).toBe(404);
      expect((await admin.post('/api/replay/start', { streamPath: 'live/rec', start: 1000, end: 2000 })).status).toBe(404);
    });
  });
});
