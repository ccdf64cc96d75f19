import { ConfigService } from '@m7s/core';
import {
  api,
  ApiClient,
  apiAs,
  createTestDatabase,
  fillPath,
  framesOf,
  killAllTracked,
  login,
  openApiOperations,
  playHttpFlv,
  probeStreams,
  publishTestPattern,
  startTestServer,
  stopTracked,
  TEST_DB_KINDS,
  TestDatabase,
  TestServer,
  waitFor,
} from '@m7s/test-kit';

const PATH_VALUES = { streamPath: 'live/nobody', id: '1', name: 'publish' };
/** Metrics too need a token here (metrics.public is what lets a scraper in without one). */
const OVERRIDES = { metrics: { public: false } };

describe.each(TEST_DB_KINDS)('REST API on %s', (kind) => {
  let db: TestDatabase;
  let server: TestServer;
  let admin: ApiClient;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    server = await startTestServer(OVERRIDES, { db });
    admin = api(server, await login(server));
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
    await db?.drop();
  });

  it('answers sysinfo and summary', async () => {
    const info = await admin.get('/api/sysinfo');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ version: expect.any(String), nodeName: 'm7s', nodeVersion: process.version, cpus: expect.any(Number) });
    expect(info.body.startTime).toBeLessThanOrEqual(Date.now());
    expect(info.body.plugins).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'rtmp', enabled: true }), expect.objectContaining({ name: 'flv', enabled: true })]));
    const summary = await admin.get('/api/summary');
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ streamCount: expect.any(Number), subscribeCount: expect.any(Number), memory: { total: expect.any(Number) } });
  });

  it('lists a published stream with its tracks, shows its players, stops a player and then the stream', async () => {
    const publisher = publishTestPattern({ url: server.rtmpUrl('live/api'), fps: 25, gop: 25 });
    await waitFor(() => server.registry.get('live/api')?.isReady, 'the publisher');

    const list = await admin.get('/api/stream/list?pageNum=1&pageSize=10');
    expect(list.status).toBe(200);
    const entry = list.body.list.find((s: { path: string }) => s.path === 'live/api');
    expect(entry).toMatchObject({
      state: 'publishing',
      type: 'rtmp',
      remoteAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      videoTrack: { codec: 'h264', width: 320, height: 240 },
      audioTrack: { codec: 'aac', sampleRate: 44100 },
    });
    expect(list.body).toMatchObject({ pageNum: 1, pageSize: 10, total: expect.any(Number) });
    expect((await admin.get('/api/stream/list?pageNum=0')).body.code).toBe('INVALID_ARGUMENT');

    const player = playHttpFlv(server.flvUrl('live/api'));
    await waitFor(() => framesOf(player).length > 5, 'the player to get frames');
    const info = await admin.get('/api/stream/info/live/api');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ path: 'live/api', subscribers: 1, subscriberList: [{ protocol: 'http-flv', state: 'playing' }] });
    expect(info.body.videoTrack.fps).toBeGreaterThan(0);
    const summary = await admin.get('/api/summary');
    expect(summary.body.publishersByProtocol.rtmp).toBeGreaterThanOrEqual(1);
    expect(summary.body.subscribersByProtocol['http-flv']).toBeGreaterThanOrEqual(1);

    const subscribers = await admin.get('/api/subscribers/live/api');
    expect(subscribers.status).toBe(200);
    expect(subscribers.body.list).toHaveLength(1);
    const id = subscribers.body.list[0].id as number;
    const stopped = await admin.post(`/api/subscribe/stop/${id}`);
    expect(stopped.status).toBe(200);
    await waitFor(() => player.ended, 'the player to be disconnected');
    expect((await admin.get('/api/subscribers/live/api')).body.list).toHaveLength(0);
    expect((await admin.post(`/api/subscribe/stop/${id}`)).body.code).toBe('NOT_FOUND');

    const stop = await admin.post('/api/stream/stop/live/api');
    expect(stop.status).toBe(200);
    await publisher.exited; // ffmpeg was disconnected
    const gone = await waitFor(async () => {
      const r = await admin.get('/api/stream/info/live/api');
      return r.status === 404 ? r : undefined;
    }, 'the stream to go');
    expect(gone.body.code).toBe('STREAM_NOT_FOUND');
    const again = await admin.post('/api/stream/stop/live/api');
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ code: 'STREAM_NOT_FOUND', message: expect.stringContaining('live/api') });
    expect((await admin.get('/api/stream/info/live/bad%20path')).body.code).toBe('BAD_STREAM_PATH');
  });

  it('plays an alias over HTTP-FLV and RTMP, lists and removes it, and an autoRemove alias goes with its stream', async () => {
    const set = await admin.post('/api/stream/alias', { alias: 'live/cam', streamPath: 'live/real' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ success: true, action: 'set', alias: { alias: 'live/cam', streamPath: 'live/real', autoRemove: false, live: false } });
    expect((await admin.post('/api/stream/alias', { alias: 'live/cam', streamPath: 'live/cam' })).status).toBe(400);
    expect((await admin.post('/api/stream/alias', { alias: 'live/other', streamPath: 'live/cam' })).status).toBe(400); // no chains
    expect((await admin.post('/api/stream/alias', { alias: '../x', streamPath: 'live/real' })).body.code).toBe('BAD_STREAM_PATH');

    const publisher = publishTestPattern({ url: server.rtmpUrl('live/real'), fps: 25, gop: 25 });
    await waitFor(() => server.registry.get('live/real')?.isReady, 'the publisher');
    const overFlv = await probeStreams(server.flvUrl('live/cam'));
    expect(overFlv.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    const overRtmp = await probeStreams(server.rtmpUrl('live/cam'));
    expect(overRtmp.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(server.registry.get('live/cam')).toBeUndefined(); // players went to the target

    const list = await admin.get('/api/stream/alias/list');
    expect(list.body.list).toEqual([expect.objectContaining({ alias: 'live/cam', streamPath: 'live/real', live: true })]);
    const removed = await admin.post('/api/stream/alias', { alias: 'live/cam' });
    expect(removed.body).toMatchObject({ success: true, action: 'removed' });
    expect((await admin.get('/api/stream/alias/list')).body.list).toEqual([]);
    expect((await admin.post('/api/stream/alias', { alias: 'live/cam', streamPath: '' })).status).toBe(404);

    await admin.post('/api/stream/alias', { alias: 'live/auto', streamPath: 'live/real', autoRemove: true });
    await admin.post('/api/stream/alias', { alias: 'live/kept', streamPath: 'live/real' });
    await stopTracked(publisher);
    await waitFor(async () => (await admin.get('/api/stream/alias/list')).body.list.length === 1, 'the autoRemove alias to go with its stream');
    expect((await admin.get('/api/stream/alias/list')).body.list).toEqual([expect.objectContaining({ alias: 'live/kept' })]);
  });

  it('shows config sections with secrets masked, and applies a change at once', async () => {
    const auth = await admin.get('/api/config/get/auth');
    expect(auth.status).toBe(200);
    expect(auth.body.value.adminPassword).toBe('***');
    expect(auth.text).not.toContain('test-admin-password');
    const all = await admin.get('/api/config/get');
    expect(all.body.value.subscribe.waitTimeout).toBe('10s');
    expect(all.text).not.toContain('test-admin-password');
    expect((await admin.get('/api/config/get/nosuch')).status).toBe(404);

    // A player of a stream nobody publishes waits subscribe.waitTimeout (10 s by default), then gets a 404.
    const changed = await admin.post('/api/config/modify', { name: 'subscribe', values: { waitTimeout: '1s' } });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ success: true, applied: ['subscribe.waitTimeout'], restartRequired: [], unchanged: [] });
    const askedAt = Date.now();
    const response = await fetch(server.flvUrl('live/nobody-yet'));
    expect(response.status).toBe(404);
    expect(Date.now() - askedAt).toBeLessThan(5000);

    const restart = await admin.post('/api/config/modify', { values: { rtmp: { maxConnections: 500 }, log: { level: 'error' } } });
    expect(restart.body).toMatchObject({ restartRequired: ['rtmp.maxConnections'], unchanged: ['log.level'] });

    const bad = await admin.post('/api/config/modify', { name: 'subscribe', values: { waitTimeout: 'soon' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_ARGUMENT', details: { problems: [{ key: 'subscribe.waitTimeout', value: 'soon', reason: expect.stringContaining('duration') }] } });
    expect((await admin.post('/api/config/modify', { name: 'subscribe', values: { nosuch: 1 } })).status).toBe(400);
    expect((await admin.post('/api/config/modify', { name: 'nosuch', values: { a: 1 } })).status).toBe(400);
    const db = await admin.post('/api/config/modify', { name: 'db', values: { logging: true } });
    expect(db.status).toBe(400);
    expect(db.body.message).toMatch(/db/);
    const masked = await admin.post('/api/config/modify', { name: 'auth', values: { adminPassword: '***' } });
    expect(masked.status).toBe(400);
    expect((await admin.get('/api/config/get/subscribe')).body.modified).toEqual({ waitTimeout: '1s' });
  });

  it('creates, reads, updates and removes pull and push proxies', async () => {
    const added = await admin.post('/api/proxy/pull/add', { name: 'cam-1', streamPath: '/live/pulled/', url: 'rtsp://192.0.2.1:554/stream1' });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ id: expect.any(Number), name: 'cam-1', streamPath: 'live/pulled', enabled: true, pullOnStart: false, stopOnIdleMs: 10000, status: 'offline' });
    const id = added.body.id as number;
    expect((await admin.get(`/api/proxy/pull/get/${id}`)).body.name).toBe('cam-1');
    const dupName = await admin.post('/api/proxy/pull/add', { name: 'cam-1', streamPath: 'live/other', url: 'rtmp://192.0.2.1/live/x' });
    expect(dupName.status).toBe(409);
    expect(dupName.body.code).toBe('ALREADY_EXISTS');
    expect((await admin.post('/api/proxy/pull/add', { name: 'cam-2', streamPath: 'live/pulled', url: 'rtmp://192.0.2.1/live/x' })).status).toBe(409);
    const badScheme = await admin.post('/api/proxy/pull/add', { name: 'cam-3', streamPath: 'live/c3', url: 'ftp://192.0.2.1/x' });
    expect(badScheme.status).toBe(400);
    expect(badScheme.body.message).toMatch(/url/);
    expect((await admin.post('/api/proxy/pull/add', { name: 'cam-3', streamPath: 'live/c3', url: 'rtsp://192.0.2.1/x', status: 'pulling' })).status).toBe(400);

    const updated = await admin.post('/api/proxy/pull/update', { id, enabled: false, description: 'lobby' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id, enabled: false, status: 'disabled', description: 'lobby', name: 'cam-1' });
    expect((await admin.post('/api/proxy/pull/update', { id: 99999, enabled: true })).status).toBe(404);
    expect((await admin.get('/api/proxy/pull/list')).body.list).toEqual([expect.objectContaining({ id, name: 'cam-1' })]);

    const push = await admin.post('/api/proxy/push/add', { name: 'up-1', streamPath: 'live/pulled', url: 'rtmp://192.0.2.2/live/key' });
    expect(push.status).toBe(200);
    expect(push.body).toMatchObject({ name: 'up-1', pushOnStart: true, status: 'offline' });
    const second = await admin.post('/api/proxy/push/add', { name: 'up-2', streamPath: 'live/pulled', url: 'rtsp://192.0.2.3/live' });
    expect(second.status).toBe(200); // a stream may go to several targets
    expect((await admin.post('/api/proxy/push/add', { name: 'up-3', streamPath: 'live/pulled', url: 'http://192.0.2.3/live' })).status).toBe(400);
    expect((await admin.post('/api/proxy/push/update', { id: second.body.id, name: 'up-1' })).status).toBe(409);
    expect((await admin.post('/api/proxy/push/update', { id: second.body.id, url: 'rtmps://192.0.2.3/live/k' })).body.url).toBe('rtmps://192.0.2.3/live/k');
    expect((await admin.get('/api/proxy/push/list')).body.list).toHaveLength(2);
    expect((await admin.post(`/api/proxy/push/remove/${second.body.id}`)).status).toBe(200);
    expect((await admin.get(`/api/proxy/push/get/${second.body.id}`)).status).toBe(404);
    expect((await admin.get('/api/proxy/push/get/abc')).status).toBe(400);
    expect((await admin.get('/api/proxy/push/list')).body.list).toHaveLength(1);
  });

  it('lets a viewer read but not stop a stream or read the config (403)', async () => {
    const viewer = await apiAs(server, admin, 'viewer', `viewer${kind}`);
    expect((await viewer.get('/api/stream/list')).status).toBe(200);
    const stop = await viewer.post('/api/stream/stop/live/any');
    expect(stop.status).toBe(403);
    expect(stop.body).toMatchObject({ code: 'PERMISSION_DENIED', message: expect.any(String) });
    expect((await viewer.get('/api/config/get/publish')).status).toBe(403);
    expect((await viewer.post('/api/stream/alias', { alias: 'live/v', streamPath: 'live/w' })).status).toBe(403);
    expect((await viewer.post('/api/proxy/pull/add', { name: 'v', streamPath: 'live/v', url: 'rtsp://192.0.2.1/x' })).status).toBe(403);
    expect((await admin.get('/api/stream/alias/list')).body.list.some((a: { alias: string }) => a.alias === 'live/v')).toBe(false);
  });

  it('refuses every protected route without a token or with a bad one (401)', async () => {
    const doc = (await fetch(`${server.httpUrl}/api/docs-json`).then((r) => r.json())) as Parameters<typeof openApiOperations>[0];
    const protectedOps = openApiOperations(doc).filter((o) => o.operation.security?.length);
    expect(protectedOps.length).toBeGreaterThan(20);
    for (const { method, path } of protectedOps) {
      const url = fillPath(path, PATH_VALUES);
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      for (const client of [api(server), api(server, 'not-a-token')]) {
        const response = await client.request(method, url, body);
        expect({ route: `${method} ${path}`, status: response.status, code: response.body?.code }).toEqual({ route: `${method} ${path}`, status: 401, code: 'UNAUTHENTICATED' });
      }
    }
  });

  it('keeps config changes, aliases and proxies across a restart on the same database', async () => {
    await server.close();
    server = await startTestServer(OVERRIDES, { db });
    admin = api(server, await login(server));
    expect(server.app.get(ConfigService).subscribePolicy().waitTimeout).toBe(1000);
    expect((await admin.get('/api/config/get/subscribe')).body).toMatchObject({ value: { waitTimeout: '1s' }, modified: { waitTimeout: '1s' } });
    expect((await admin.get('/api/stream/alias/list')).body.list).toEqual([expect.objectContaining({ alias: 'live/kept', streamPath: 'live/real' })]);
    expect(server.registry.resolveAlias('live/kept')).toBe('live/real');
    expect((await admin.get('/api/proxy/pull/list')).body.list).toEqual([expect.objectContaining({ name: 'cam-1' })]);

    // null resets a key to what the files say.
    const reset = await admin.post('/api/config/modify', { name: 'subscribe', values: { waitTimeout: null } });
    expect(reset.body.applied).toEqual(['subscribe.waitTimeout']);
    expect(server.app.get(ConfigService).subscribePolicy().waitTimeout).toBe(10_000);
    expect((await admin.get('/api/config/get/subscribe')).body.modified).toBeNull();
  });
});
