import { existsSync, readFileSync, statSync } from 'node:fs';
import { EngineEvents, RecordEvent } from '@m7s/core';
import { FlvTagReader, parseScriptData } from '@m7s/media';
import { DataSource, RecordingEntity } from '@m7s/persistence';
import { ApiClient, decodeErrors, killAllTracked, loginApi, makeTempDir, publishTestPattern, removeTempDir, startTestServer, TestServer, waitFor } from '@m7s/test-kit';

interface Row {
  id: number;
  streamPath: string;
  format: string;
  startTime: number;
  endTime: number;
  duration: number;
  videoCodec: string;
  audioCodec: string;
  size: number;
  filePath: string;
  storage: string;
  status: string;
}

function onMetaData(file: string): Record<string, any> {
  const tag = new FlvTagReader().push(readFileSync(file)).find((t) => t.type === 18)!;
  return parseScriptData(tag.body).value as Record<string, any>;
}

describe('recording to FLV (ffmpeg over RTMP, rules, API, retention)', () => {
  let server: TestServer;
  let admin: ApiClient;
  let dir: string;
  const events: { name: string; event: RecordEvent }[] = [];

  const list = async (query: string): Promise<{ total: number; pageNum: number; pageSize: number; list: Row[] }> => {
    const response = await admin.get(`/api/record/list?${query}`);
    expect(response.status).toBe(200);
    return response.body;
  };

  beforeAll(async () => {
    dir = await makeTempDir('m7s-record-');
    server = await startTestServer({
      record: { dir, fragment: '3s', rules: [{ match: '^rec/', formats: ['flv'] }], pullProxyFormats: ['flv'], retention: { maxAgeDays: 1, interval: '1s' } },
    });
    admin = await loginApi(server);
    const bus = server.app.get(EngineEvents);
    bus.on('record_start', (event) => events.push({ name: 'record_start', event }));
    bus.on('record_end', (event) => events.push({ name: 'record_end', event }));
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
    await removeTempDir(dir);
  });

  let rows: Row[] = [];
  let published: { start: number; end: number };

  it('records a stream matching a rule into files split every 3 s, indexed and finalized', async () => {
    const start = Date.now();
    const publisher = publishTestPattern({ url: server.rtmpUrl('rec/a'), duration: 8, fps: 25, gop: 25 });
    await waitFor(() => server.registry.get('rec/a')?.isReady, 'the stream', 20_000);
    await publisher.exited;
    published = { start, end: Date.now() };
    const result = await waitFor(
      async () => {
        const page = await list('streamPath=rec/a');
        return page.total >= 3 && page.list.every((r) => r.status === 'complete') ? page : undefined;
      },
      'complete recordings',
      20_000,
    );
    rows = result.list;
    const total = rows.reduce((n, r) => n + r.duration, 0);
    expect(Math.abs(total - 8000)).toBeLessThan(1000);
    expect(Math.abs(rows[0].startTime - published.start)).toBeLessThan(1500);
    expect(Math.abs(rows[rows.length - 1].endTime - published.end)).toBeLessThan(1500);
    for (const [i, row] of rows.entries()) {
      expect(row).toMatchObject({ streamPath: 'rec/a', format: 'flv', videoCodec: 'h264', audioCodec: 'aac', storage: 'local', status: 'complete' });
      expect(row.filePath.startsWith(`${dir}/rec/a/`)).toBe(true);
      expect(row.filePath).toMatch(/\/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.flv$/);
      expect(row.size).toBe(statSync(row.filePath).size);
      expect(row.endTime - row.startTime).toBe(row.duration);
      if (i < rows.length - 1) {
        expect(row.duration).toBeGreaterThanOrEqual(2900);
        expect(row.duration).toBeLessThan(4100);
        expect(Math.abs(rows[i + 1].startTime - row.endTime)).toBeLessThan(200);
      }
      expect(await decodeErrors(row.filePath)).toBe('');
      const meta = onMetaData(row.filePath);
      expect(meta.keyframes.filepositions.length).toBeGreaterThanOrEqual(2);
      expect(meta.keyframes.times[0]).toBe(0);
      expect(meta.duration).toBeCloseTo(row.duration / 1000, 1);
    }
    const ends = events.filter((e) => e.name === 'record_end' && e.event.streamPath === 'rec/a');
    expect(ends.map((e) => Number(e.event.recordingId)).sort()).toEqual(rows.map((r) => r.id).sort());
    expect(events.filter((e) => e.name === 'record_start' && e.event.streamPath === 'rec/a')).toHaveLength(rows.length);
  });

  it('starts and stops a recording through the API', async () => {
    publishTestPattern({ url: server.rtmpUrl('other/b'), fps: 25, gop: 25 });
    await waitFor(() => server.registry.get('other/b')?.isReady, 'the stream', 20_000);
    expect((await admin.post('/api/record/start/other/b', { format: 'flv', fragment: '0' })).status).toBe(200);
    const recorder = await waitFor(async () => (await admin.get('/api/record/recording')).body.list.find((r: any) => r.streamPath === 'other/b' && r.recordingId), 'the recorder');
    expect(recorder).toMatchObject({ format: 'flv', origin: 'api', fragment: 0 });
    expect((await admin.post('/api/record/start/other/b', { format: 'xyz' })).status).toBe(400);
    expect((await admin.post('/api/record/start/none/here', { format: 'flv' })).status).toBe(404);
    await waitFor(async () => (await list('streamPath=other/b')).list[0]?.duration === 0 && Date.now() - recorder.fileStartTime > 2500, 'some media');
    const stopped = await admin.post('/api/record/stop/other/b', {});
    expect(stopped.body).toEqual({ stopped: 1 });
    expect((await admin.post('/api/record/stop/other/b', {})).status).toBe(404);
    const row = await waitFor(async () => (await list('streamPath=other/b&status=complete')).list[0], 'the complete row');
    expect(row.duration).toBeGreaterThan(2000);
    expect(await decodeErrors(row.filePath)).toBe('');
    expect((await admin.get('/api/record/recording')).body.list.filter((r: any) => r.streamPath === 'other/b')).toEqual([]);
  });

  it('lists by wildcard, time range and page, ordered by start time', async () => {
    const all = await list('streamPath=*');
    expect(all.total).toBe(rows.length + 1);
    expect(all.list.map((r) => r.startTime)).toEqual([...all.list.map((r) => r.startTime)].sort((a, b) => a - b));
    expect((await list('streamPath=rec/*')).total).toBe(rows.length);
    expect((await list('streamPath=*/b')).total).toBe(1);
    expect((await list('streamPath=rec')).total).toBe(0);
    const page = await list('streamPath=rec/*&pageSize=1&pageNum=2');
    expect(page).toMatchObject({ total: rows.length, pageNum: 2, pageSize: 1 });
    expect(page.list.map((r) => r.id)).toEqual([rows[1].id]);
    const middle = await list(`streamPath=rec/*&start=${rows[1].startTime + 300}&end=${new Date(rows[1].endTime - 300).toISOString()}`);
    expect(middle.list.map((r) => r.id)).toEqual([rows[1].id]);
    expect((await list(`format=mp4&streamPath=rec/*`)).total).toBe(0);
    expect((await admin.get('/api/record/list?start=yesterday')).status).toBe(400);
    expect((await admin.get(`/api/record/get/${rows[0].id}`)).body).toMatchObject({ id: rows[0].id, streamPath: 'rec/a' });
  });

  it('deletes by id and by stream path and time range: rows and files', async () => {
    expect((await admin.post(`/api/record/remove/${rows[0].id}`)).status).toBe(200);
    expect(existsSync(rows[0].filePath)).toBe(false);
    expect((await admin.get(`/api/record/get/${rows[0].id}`)).status).toBe(404);
    expect((await admin.post(`/api/record/remove/${rows[0].id}`)).status).toBe(404);
    expect((await admin.post('/api/record/delete', {})).status).toBe(400);
    expect((await admin.post('/api/record/delete', { streamPath: "rec/%' OR 1=1" })).status).toBe(400);
    const deleted = await admin.post('/api/record/delete', { streamPath: 'rec/*', start: rows[1].startTime + 300, end: rows[rows.length - 1].endTime });
    expect(deleted.body).toEqual({ deleted: rows.length - 1 });
    for (const row of rows) expect(existsSync(row.filePath)).toBe(false);
    expect((await list('streamPath=rec/*')).total).toBe(0);
  });

  it('records the stream of a pull proxy whose record flag is set', async () => {
    publishTestPattern({ url: server.rtmpUrl('src/x'), fps: 25, gop: 25 });
    await waitFor(() => server.registry.get('src/x')?.isReady, 'the source', 20_000);
    const added = await admin.post('/api/proxy/pull/add', { name: 'pulled', streamPath: 'pulled/x', url: server.rtmpUrl('src/x'), pullOnStart: true, record: true });
    expect(added.status).toBe(200);
    const recorder = await waitFor(async () => (await admin.get('/api/record/recording')).body.list.find((r: any) => r.streamPath === 'pulled/x' && r.recordingId), 'the recorder', 20_000);
    expect(recorder).toMatchObject({ format: 'flv', origin: 'pull proxy' });
    expect((await admin.post(`/api/proxy/pull/remove/${added.body.id}`)).status).toBe(200);
    const row = await waitFor(async () => (await list('streamPath=pulled/x&status=complete')).list[0], 'the complete row', 20_000);
    expect(await decodeErrors(row.filePath)).toBe('');
    await admin.post('/api/record/delete', { streamPath: 'pulled/*' });
  });

  it('retention deletes recordings older than maxAgeDays on its scheduled run', async () => {
    const [row] = (await list('streamPath=other/b')).list;
    const repo = server.app.get(DataSource).getRepository(RecordingEntity);
    await repo.update(row.id, { startTime: Date.now() - 3 * 86_400_000, endTime: Date.now() - 3 * 86_400_000 + row.duration });
    await waitFor(async () => (await admin.get(`/api/record/get/${row.id}`)).status === 404, 'the retention job', 10_000);
    expect(existsSync(row.filePath)).toBe(false);
  });
});
