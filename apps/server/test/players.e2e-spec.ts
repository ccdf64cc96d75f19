import { framesOf, killAllTracked, playHttpFlv, playRtmp, publishTestPattern, stallHttpFlv, startTestServer, TestPlayer, TestServer, waitFor } from '@m7s/test-kit';

describe('players: GOP cache, fan-out, slow readers', () => {
  let server: TestServer;
  const players: TestPlayer[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    publishTestPattern({ url: server.rtmpUrl('live/fan'), size: '1280x720', fps: 25, gop: 50, videoBitrate: '3M' });
    await waitFor(() => server.registry.get('live/fan')?.isReady, 'the published stream', 20_000);
  });

  afterAll(async () => {
    for (const p of players) p.close();
    await killAllTracked();
    await server?.close();
  });

  it('starts a player that joins mid-stream with a key frame, at once (GOP cache)', async () => {
    // Join at a point where the latest key frame is in the past.
    await waitFor(() => (server.registry.get('live/fan')?.ring.length ?? 0) > 20, 'a GOP in progress');
    const rtmp = await playRtmp(server.rtmpUrl('live/fan'));
    const flv = playHttpFlv(server.flvUrl('live/fan'));
    players.push(rtmp, flv);
    for (const player of [rtmp, flv]) {
      const first = await waitFor(() => framesOf(player)[0], 'the first video frame');
      expect(player.video[0].type).toBe('config');
      expect(first.keyFrame).toBe(true);
      // Served from the ring, not after waiting for the publisher's next key frame (2 s away at most).
      expect(first.at - player.askedAt).toBeLessThan(100);
      expect(framesOf(player).length).toBeGreaterThan(1);
    }
  });

  it('serves 50 players at once while one stalled player is skipped, with memory bounded', async () => {
    const closeStalled = stallHttpFlv(server.flvUrl('live/fan'));
    players.push({ close: closeStalled } as TestPlayer);
    const stream = server.registry.get('live/fan')!;
    const stalledSub = await waitFor(() => [...stream.subscribers].find((s) => s.info.protocol === 'http-flv' && s.droppedFrames > 0), 'the stalled player to be skipped', 60_000);

    const rssAtStall = process.memoryUsage().rss;
    const fleet: TestPlayer[] = [];
    for (let i = 0; i < 25; i++) fleet.push(playHttpFlv(server.flvUrl('live/fan')));
    for (let i = 0; i < 25; i++) fleet.push(await playRtmp(server.rtmpUrl('live/fan')));
    players.push(...fleet);

    // Every player of the fleet gets 4 s of video (100 frames at 25 fps) from its first key frame.
    await waitFor(() => fleet.every((p) => framesOf(p).length >= 100), 'every player to receive 4 s of video', 30_000);
    for (const p of fleet) {
      const frames = framesOf(p);
      expect(frames[0].keyFrame).toBe(true);
      for (let i = 1; i < frames.length; i++) expect(frames[i].timestamp).toBeGreaterThanOrEqual(frames[i - 1].timestamp);
    }
    // Players never skipped anything; only the stalled one drops frames.
    const fleetSubs = [...stream.subscribers].filter((s) => s !== stalledSub);
    expect(fleetSubs.length).toBeGreaterThanOrEqual(50);
    for (const s of fleetSubs) expect(s.droppedFrames).toBe(0);
    expect(stalledSub.droppedFrames).toBeGreaterThan(50);
    expect(stalledSub.state).toBe('playing');
    // The stalled player costs at most its backlog limit plus a frame, and the process does not grow with it.
    expect(stalledSub.sink.backlog()).toBeLessThan(2 * 1024 * 1024 + 1024 * 1024);
    expect(process.memoryUsage().rss - rssAtStall).toBeLessThan(150 * 1024 * 1024);
    // The ring stays bounded to about a GOP.
    expect(stream.ring.length).toBeLessThan(200);
  });
});
