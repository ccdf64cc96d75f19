import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { probeRemote, remoteEndpoint } from './source-probe';

describe('remoteEndpoint', () => {
  it.each([
    ['rtsp://cam.local/stream1', 'cam.local', 554],
    ['rtsps://cam.local/stream1', 'cam.local', 322],
    ['rtmp://h/live/a', 'h', 1935],
    ['rtmps://h/live/a', 'h', 443],
    ['http://h/live/a.flv', 'h', 80],
    ['https://h/live/a.flv', 'h', 443],
    ['rtsp://user:pw@[::1]:8554/x', '::1', 8554],
  ])('%s -> %s:%d', (url, host, port) => {
    expect(remoteEndpoint(url)).toEqual({ host, port });
  });

  it('refuses a scheme without a default port', () => {
    expect(() => remoteEndpoint('srt://h/x')).toThrow(/no default port/);
  });
});

describe('probeRemote', () => {
  it('resolves with the connect time when the port accepts, rejects with the reason when it does not', async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await expect(probeRemote(`rtmp://127.0.0.1:${port}/live/a`, 2000)).resolves.toEqual(expect.any(Number));
    await new Promise((resolve) => server.close(resolve));
    await expect(probeRemote(`rtmp://127.0.0.1:${port}/live/a`, 2000)).rejects.toThrow(/ECONNREFUSED/);
    await expect(probeRemote('srt://127.0.0.1/x', 2000)).rejects.toThrow(/no default port/);
  });

  it('an abort ends a check under way at once', async () => {
    const controller = new AbortController();
    // 192.0.2.1 (TEST-NET-1) never answers: the check would wait for its timeout.
    const pending = probeRemote('rtsp://192.0.2.1/x', 30_000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toThrow('check aborted');
    await expect(probeRemote('rtsp://192.0.2.1/x', 30_000, controller.signal)).rejects.toThrow('check aborted');
  });
});
