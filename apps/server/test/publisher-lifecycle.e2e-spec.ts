import { framesOf, killAllTracked, playHttpFlv, playRtmp, publishTestPattern, startTestServer, stopTracked, TestServer, waitFor } from '@m7s/test-kit';
import type { EngineEventMap } from '@m7s/core';
import { EngineEvents } from '@m7s/core';

describe('publisher lifecycle: leave, players told, delay-close, a new publisher serves waiting players', () => {
  let server: TestServer;
  const events: Array<keyof EngineEventMap> = [];

  beforeAll(async () => {
    server = await startTestServer({ publish: { delayCloseTimeout: '2s' }, subscribe: { waitTimeout: '30s' } });
    const bus = server.app.get(EngineEvents);
    for (const name of ['publish_start', 'publish_end', 'stream_close'] as const) bus.on(name, (e) => e.streamPath === 'live/life' && events.push(name));
  });

  afterAll(async () => {
    await killAllTracked();
    await server?.close();
  });

  it('tells players, ends FLV, keeps RTMP players for the next publisher, then closes the stream after delay-close', async () => {
    const first = publishTestPattern({ url: server.rtmpUrl('live/life'), fps: 25, gop: 25 });
    await waitFor(() => server.registry.get('live/life')?.isReady, 'the first publisher');
    const rtmp = await playRtmp(server.rtmpUrl('live/life'));
    const flv = playHttpFlv(server.flvUrl('live/life'));
    await waitFor(() => framesOf(rtmp).length > 10 && framesOf(flv).length > 10, 'both players playing');

    await stopTracked(first, 'SIGKILL');
    // RTMP: UnpublishNotify, connection kept. FLV: the response ends.
    await waitFor(() => rtmp.statuses.includes('NetStream.Play.UnpublishNotify'), 'UnpublishNotify');
    await waitFor(() => flv.ended, 'the end of the FLV response');
    expect(rtmp.ended).toBe(false);
    expect(server.registry.get('live/life')?.publisher).toBeUndefined();

    const framesBefore = framesOf(rtmp).length;
    const lastTimestamp = framesOf(rtmp)[framesBefore - 1].timestamp;
    publishTestPattern({ url: server.rtmpUrl('live/life'), fps: 25, gop: 25 });
    await waitFor(() => rtmp.statuses.includes('NetStream.Play.PublishNotify'), 'PublishNotify');
    await waitFor(() => framesOf(rtmp).length > framesBefore + 10, 'frames from the new publisher');
    const resumed = framesOf(rtmp).slice(framesBefore);
    expect(resumed[0].keyFrame).toBe(true);
    expect(resumed[0].timestamp).toBeGreaterThan(lastTimestamp); // the stream clock goes on

    // Everyone leaves: the stream lingers for delay-close, then is gone.
    rtmp.close();
    server.registry.stopPublisher('live/life');
    await waitFor(() => events.filter((e) => e === 'publish_end').length === 2, 'the second publish_end');
    const endedAt = Date.now();
    expect(server.registry.get('live/life')).toBeDefined();
    await waitFor(() => !server.registry.get('live/life'), 'the stream to close after delay-close', 10_000);
    expect(Date.now() - endedAt).toBeGreaterThanOrEqual(1500);
    expect(events).toEqual(['publish_start', 'publish_end', 'publish_start', 'publish_end', 'stream_close']);
  });

  it('refuses a second publisher on a busy path with an onStatus error, and kick-existing replaces it', async () => {
    const pub = publishTestPattern({ url: server.rtmpUrl('live/busy') });
    await waitFor(() => server.registry.get('live/busy')?.isReady, 'the first publisher');
    const { RtmpClient } = await import('@m7s/rtmp');
    const second = await RtmpClient.connect(server.rtmpUrl('live/busy'));
    await expect(second.publish()).rejects.toMatchObject({ code: 'NetStream.Publish.BadName' });
    const kicker = await RtmpClient.connect(server.rtmpUrl('live/busy') + '?kickExisting=1');
    await kicker.publish();
    await pub.exited; // ffmpeg was disconnected
    expect(server.registry.get('live/busy')?.publisher?.info.query.get('kickExisting')).toBe('1');
    kicker.close();
  });

  it('ends a player that waited longer than waitTimeout with NetStream.Play.StreamNotFound', async () => {
    const { RtmpClient } = await import('@m7s/rtmp');
    const client = await RtmpClient.connect(server.rtmpUrl('live/nobody') + '?waitTimeout=1s');
    const statuses: string[] = [];
    client.on('status', (info: Record<string, unknown>) => statuses.push(String(info.code)));
    await client.play();
    await waitFor(() => statuses.includes('NetStream.Play.StreamNotFound'), 'StreamNotFound', 10_000);
    await waitFor(() => client.conn.closed, 'the connection to close');
  });

  it('closes a publisher that stops sending after publishTimeout', async () => {
    const { RtmpClient } = await import('@m7s/rtmp');
    const client = await RtmpClient.connect(server.rtmpUrl('live/silent') + '?publishTimeout=1s');
    await client.publish();
    expect(server.registry.get('live/silent')?.publisher).toBeDefined();
    await waitFor(() => client.conn.closed, 'the silent publisher to be closed', 10_000);
    expect(server.registry.get('live/silent')?.publisher).toBeUndefined();
  });
});
