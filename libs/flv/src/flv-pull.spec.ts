import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { createServer, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConfigService, EngineEventMap, EngineEvents, loadConfig, RelayDrivers, StreamRegistry } from '@m7s/core';
import { encodeAmf0, FlvTagReader, isMediaError } from '@m7s/media';
import { FlvIngest, FlvPullService, isHttpFlvUrl } from './flv-pull';
import { waitFor } from '@m7s/test-kit';

Logger.overrideLogger(false);

/** ffmpeg's H.264 + AAC FLV (libs/media/test-fixtures/generate.sh). */
const FLV = readFileSync(join(__dirname, '../../media/test-fixtures/h264-aac.flv'));
const HEADER = FLV.subarray(0, 13);
/** The header and the first 20 tags (ends on a tag boundary). */
const FLV_START = FLV.subarray(0, 13 + new FlvTagReader().push(FLV).slice(0, 20).reduce((n, tag) => n + 15 + tag.body.length, 0));

/** Writes `data` in small pieces, as a live server would. */
function writeInPieces(res: ServerResponse, data: Buffer, piece = 1000): void {
  for (let at = 0; at < data.length; at += piece) res.write(data.subarray(at, at + piece));
}

describe('FlvPullService (HTTP-FLV pull driver)', () => {
  let server: Server;
  let base: string;
  let registry: StreamRegistry;
  let events: EngineEvents;
  let drivers: RelayDrivers;
  let service: FlvPullService;
  const seen: Array<{ name: string; event: EngineEventMap['pull_start'] }> = [];
  const open = new Set<ServerResponse>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      open.add(res);
      res.on('close', () => open.delete(res));
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/live/cam.flv') {
        res.writeHead(200, { 'content-type': 'video/x-flv' });
        writeInPieces(res, FLV); // and stays open: a live stream
      } else if (path === '/finite.flv') {
        res.writeHead(200, { 'content-type': 'video/x-flv' });
        res.end(FLV);
      } else if (path === '/moved.flv') {
        res.writeHead(302, { location: '/live/cam.flv' });
        res.end();
      } else if (path === '/loop.flv') {
        res.writeHead(302, { location: '/loop.flv' });
        res.end();
      } else if (path === '/html.flv') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>not a stream</body></html>');
      } else if (path === '/silent.flv') {
        res.writeHead(200, { 'content-type': 'video/x-flv' });
        res.flushHeaders();
      } else if (path === '/garbage.flv') {
        res.writeHead(200, { 'content-type': 'video/x-flv' });
        res.write(FLV_START);
        // A tag header with reserved bits set in its type byte.
        setTimeout(() => res.write(Buffer.from([0xc9, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 15])), 50);
      } else if (path === '/huge.flv') {
        res.writeHead(200, { 'content-type': 'video/x-flv' });
        res.write(Buffer.concat([HEADER, Buffer.from([9, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0])]));
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const res of open) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    events = new EngineEvents();
    seen.length = 0;
    for (const name of ['pull_start', 'pull_end'] as const) events.on(name, (event) => seen.push({ name, event }));
    registry = new StreamRegistry(new ConfigService(loadConfig({ plugins: [], env: {} })), events);
    drivers = new RelayDrivers();
    service = new FlvPullService(registry, events, drivers);
    service.onModuleInit();
  });

  afterEach(() => {
    service.onApplicationShutdown();
    registry.shutdown();
  });

  it('registers itself for http and https pulls', () => {
    expect(drivers.forUrl('http://h/live/a.flv', 'pull')).toBe(service);
    expect(drivers.forUrl('https://h/live/a.flv', 'pull')).toBe(service);
    expect(() => drivers.forUrl('http://h/live/a.flv', 'push')).toThrow(/no push support/);
  });

  it('tells .flv URLs from others', () => {
    expect(isHttpFlvUrl('http://h:8080/flv/live/cam.flv?token=1')).toBe(true);
    expect(isHttpFlvUrl('HTTPS://h/a.FLV')).toBe(true);
    expect(isHttpFlvUrl('http://h/live/cam.m3u8')).toBe(false);
    expect(isHttpFlvUrl('rtmp://h/live/cam.flv')).toBe(false);
    expect(isHttpFlvUrl('not a url')).toBe(false);
  });

  it('publishes a live FLV as a local stream (video and audio), and stop() ends it', async () => {
    const session = await service.pull(`${base}/live/cam.flv`, 'live/pulled', {});
    expect(session).toMatchObject({ url: `${base}/live/cam.flv`, streamPath: 'live/pulled' });
    expect(session.rtt()).toEqual(expect.any(Number));
    const stream = registry.get('live/pulled')!;
    expect(stream.publisher?.info.protocol).toBe('http-flv-pull');
    await waitFor(() => stream.isReady && stream.publisher?.tracks.audio !== undefined, 'the pulled stream with audio', 5000);
    expect(stream.publisher?.tracks.video?.config).toMatchObject({ codec: 'h264', width: 320, height: 240 });
    expect(stream.publisher?.tracks.audio?.config).toMatchObject({ codec: 'aac' });
    expect(seen.map((s) => s.name)).toEqual(['pull_start']);

    session.stop();
    await expect(session.done).resolves.toBe('stopped');
    expect(registry.get('live/pulled')?.publisher).toBeUndefined();
    expect(seen.at(-1)).toMatchObject({ name: 'pull_end', event: { streamPath: 'live/pulled', url: `${base}/live/cam.flv`, reason: 'stopped' } });
  });

  it('audio: false publishes the video only', async () => {
    const session = await service.pull(`${base}/live/cam.flv`, 'live/video-only', { audio: false });
    const stream = registry.get('live/video-only')!;
    await waitFor(() => stream.isReady, 'the pulled stream', 5000);
    expect(stream.publisher?.tracks.video).toBeDefined();
    expect(stream.publisher?.tracks.audio).toBeUndefined();
    session.stop();
  });

  it('ends with the reason when the source ends the response', async () => {
    const session = await service.pull(`${base}/finite.flv`, 'live/finite', {});
    await expect(session.done).resolves.toBe('the source ended the stream');
    expect(registry.get('live/finite')?.publisher).toBeUndefined();
  });

  it('follows a redirect, within a limit', async () => {
    const session = await service.pull(`${base}/moved.flv`, 'live/moved', {});
    expect(registry.get('live/moved')?.publisher).toBeDefined();
    session.stop();
    await expect(service.pull(`${base}/loop.flv`, 'live/loop', { maxRedirects: 2 })).rejects.toThrow(/too many redirects/);
  });

  it('refuses what is not a live FLV: an HTTP error, an HTML page, silence, a non-.flv URL', async () => {
    await expect(service.pull(`${base}/nothing.flv`, 'live/x', {})).rejects.toThrow('HTTP 404 Not Found');
    await expect(service.pull(`${base}/html.flv`, 'live/x', {})).rejects.toThrow(/bad FLV from the source: no FLV signature/);
    await expect(service.pull(`${base}/silent.flv`, 'live/x', { timeout: 300 })).rejects.toThrow(/no FLV header within 300 ms/);
    await expect(service.pull(`${base}/live/cam.m3u8`, 'live/x', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(service.pull('http://127.0.0.1:1/a.flv', 'live/x', {})).rejects.toThrow(/ECONNREFUSED/);
    expect(registry.get('live/x')?.publisher).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it('a stream path that is already published is refused with the engine reason', async () => {
    const publisher = registry.publish('live/busy', { protocol: 'rtmp', remoteAddress: 'x', query: new URLSearchParams() });
    await expect(service.pull(`${base}/live/cam.flv`, 'live/busy', {})).rejects.toThrow(/already being published/);
    expect(registry.get('live/busy')?.publisher).toBe(publisher);
  });

  it('malformed FLV mid-stream ends that pull with the reason; a tag over the size limit too', async () => {
    const session = await service.pull(`${base}/garbage.flv`, 'live/garbage', {});
    await expect(session.done).resolves.toMatch(/^bad FLV from the source: reserved bits/);
    expect(registry.get('live/garbage')?.publisher).toBeUndefined();

    // Here the oversized tag comes with the header: the attempt fails before anything is published.
    await expect(service.pull(`${base}/huge.flv`, 'live/huge', { maxTagSize: 1024 * 1024 })).rejects.toThrow('bad FLV from the source: tag of 16777215 bytes (limit 1048576)');
  });

  it('the engine stopping the publisher (operator, kick) ends the pull', async () => {
    const session = await service.pull(`${base}/live/cam.flv`, 'live/op', {});
    registry.stopPublisher('live/op');
    await expect(session.done).resolves.toBe('stopped by the engine: STOPPED');
  });

  it('FlvIngest throws nothing but MediaError on any tag (random and mutated bodies)', () => {
    const tags = new FlvTagReader().push(FLV).slice(0, 40);
    const tagArb = fc.oneof(
      fc.record({ type: fc.constantFrom(8 as const, 9 as const, 18 as const), timestamp: fc.nat(), streamId: fc.constant(0), body: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) }),
      fc.tuple(fc.constantFrom(...tags), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([tag, at, byte]) => {
        const body = Buffer.from(tag.body);
        if (body.length) body[at % body.length] = byte;
        return { ...tag, body };
      }),
    );
    fc.assert(
      fc.property(fc.array(tagArb, { maxLength: 20 }), (list) => {
        const events = new EngineEvents();
        const reg = new StreamRegistry(new ConfigService(loadConfig({ plugins: [], env: {} })), events);
        try {
          const ingest = new FlvIngest(reg.publish('live/fuzz', { protocol: 'test', remoteAddress: 'x', query: new URLSearchParams() }));
          for (const tag of [...tags.slice(0, 3), ...list]) {
            try {
              ingest.handle(tag);
            } catch (error) {
              if (!isMediaError(error)) throw error;
            }
          }
        } finally {
          reg.shutdown();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('FlvIngest reads the tags ffmpeg wrote, script data included', () => {
    const publisher = registry.publish('live/direct', { protocol: 'test', remoteAddress: 'x', query: new URLSearchParams() });
    const ingest = new FlvIngest(publisher);
    for (const tag of new FlvTagReader().push(FLV)) ingest.handle(tag);
    expect(publisher.expectVideo).toBe(true);
    expect(publisher.tracks.video?.frames).toBeGreaterThan(10);
    expect(publisher.tracks.audio?.frames).toBeGreaterThan(10);
    // An onMetaData that announces no video lets an audio-only stream start without waiting for video.
    const audioOnly = registry.publish('live/audio', { protocol: 'test', remoteAddress: 'x', query: new URLSearchParams() });
    new FlvIngest(audioOnly).handle({ type: 18, timestamp: 0, streamId: 0, body: encodeAmf0('onMetaData', { videocodecid: 0, audiocodecid: 10 }) });
    expect(audioOnly.expectVideo).toBe(false);
  });
});
