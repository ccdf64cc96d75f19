import fc from 'fast-check';
import { RtspProtocolError } from './rtsp-message';
import { parseRtspUrl, rtspUrlWithoutCredentials, splitControl, streamPathOf } from './rtsp-url';

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof RtspProtocolError) return e.status;
    throw e;
  }
  return undefined;
}

describe('parseRtspUrl', () => {
  it('reads the parts, with the default ports', () => {
    expect(parseRtspUrl('rtsp://127.0.0.1:8554/live/cam1?token=abc&x=1')).toEqual({ secure: false, host: '127.0.0.1', port: 8554, path: 'live/cam1', query: 'token=abc&x=1' });
    expect(parseRtspUrl('rtsp://camera.local/Streaming/Channels/101')).toMatchObject({ host: 'camera.local', port: 554, path: 'Streaming/Channels/101', query: '' });
    expect(parseRtspUrl('RTSPS://host')).toMatchObject({ secure: true, port: 322, path: '' });
    expect(parseRtspUrl('rtsp://host:/a#frag')).toMatchObject({ port: 554, path: 'a', query: '' });
    expect(parseRtspUrl('rtsp://h/a%20b/%E6%91%84?q=%20')).toMatchObject({ path: 'a b/摄', query: 'q=%20' });
  });

  it('reads IPv6 literals', () => {
    expect(parseRtspUrl('rtsp://[::1]:8554/live')).toMatchObject({ host: '::1', port: 8554, path: 'live' });
    expect(parseRtspUrl('rtsp://admin:pw@[fe80::1%25eth0]/x')).toMatchObject({ host: 'fe80::1%eth0', port: 554, username: 'admin', password: 'pw' });
  });

  it('reads credentials with special characters, escaped or not', () => {
    expect(parseRtspUrl('rtsp://admin:12345@192.168.1.64:554/h264')).toMatchObject({ username: 'admin', password: '12345', host: '192.168.1.64' });
    expect(parseRtspUrl('rtsp://admin:p@ss@w0rd@10.0.0.2/live')).toMatchObject({ username: 'admin', password: 'p@ss@w0rd', host: '10.0.0.2', path: 'live' });
    expect(parseRtspUrl('rtsp://admin:p%40ss%3Aw%2F%23@10.0.0.2/live')).toMatchObject({ username: 'admin', password: 'p@ss:w/#' });
    expect(parseRtspUrl('rtsp://admin:a/b?c#d@10.0.0.2:8554/live/x')).toMatchObject({ username: 'admin', password: 'a/b?c#d', host: '10.0.0.2', port: 8554, path: 'live/x' });
    expect(parseRtspUrl('rtsp://user@host/p')).toEqual({ secure: false, host: 'host', port: 554, username: 'user', path: 'p', query: '' });
    expect(parseRtspUrl('rtsp://:secret@host/p')).toMatchObject({ username: '', password: 'secret' });
    expect(parseRtspUrl('rtsp://u:100%@host/p')).toMatchObject({ password: '100%' });
    // an @ in the path is not credentials
    expect(parseRtspUrl('rtsp://host:8554/live/user@example.com')).toEqual({ secure: false, host: 'host', port: 8554, path: 'live/user@example.com', query: '' });
  });

  it.each(['http://host/a', 'rtsp:/host', 'rtspu://host', 'rtsp://', 'rtsp://host:0/', 'rtsp://host:65536/', 'rtsp://host:123456/', 'rtsp://ho st/', 'rtsp://[::1/'])('refuses %s with 400', (url) => {
    expect(statusOf(() => parseRtspUrl(url))).toBe(400);
  });

  it('throws only RtspProtocolError on random input', () => {
    const unit = fc.constantFrom('r', 't', 's', 'p', ':', '/', '@', '[', ']', '%', '?', '#', '1', 'a', '.', ' ', 'E', '9');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit }).map((s) => `rtsp://${s}`)), (url) => {
        for (const f of [parseRtspUrl, rtspUrlWithoutCredentials, streamPathOf]) {
          try {
            f(url);
          } catch (e) {
            expect(e).toBeInstanceOf(RtspProtocolError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('rtspUrlWithoutCredentials', () => {
  it('removes user:password@ and keeps the rest as written', () => {
    expect(rtspUrlWithoutCredentials('rtsp://admin:p@ss@10.0.0.2:554/live?x=1')).toBe('rtsp://10.0.0.2:554/live?x=1');
    expect(rtspUrlWithoutCredentials('RTSPS://a:b/c@[::1]/x')).toBe('RTSPS://[::1]/x');
    expect(rtspUrlWithoutCredentials('rtsp://host/live/user@example.com')).toBe('rtsp://host/live/user@example.com');
  });
});

describe('streamPathOf', () => {
  it.each([
    ['rtsp://127.0.0.1:8554/live/cam1', 'live/cam1'],
    ['rtsp://127.0.0.1:8554/live/cam1/', 'live/cam1'],
    ['rtsp://127.0.0.1:8554/live/cam1/?token=x', 'live/cam1'],
    ['rtsp://u:p@127.0.0.1/live/cam%201', 'live/cam 1'],
    ['/live/cam1//', 'live/cam1'],
    ['/live/cam1?x=1', 'live/cam1'],
    ['*', ''],
    ['rtsp://host', ''],
  ])('%s -> %s', (uri, path) => {
    expect(streamPathOf(uri)).toBe(path);
  });

  it('refuses other schemes, .. segments and NULs', () => {
    for (const bad of ['http://host/a', 'rtsp://host/a/../b', 'rtsp://host/%2e%2e/etc', '/a/%00b', 'live/cam1']) expect(statusOf(() => streamPathOf(bad))).toBe(400);
  });
});

describe('splitControl', () => {
  it('splits a SETUP path at the control the session handed out', () => {
    expect(splitControl('live/cam1/trackID=1', ['trackID=0', 'trackID=1'])).toEqual({ streamPath: 'live/cam1', control: 'trackID=1' });
    expect(splitControl('/live/cam1/streamid=0/', ['streamid=0', 'streamid=1'])).toEqual({ streamPath: 'live/cam1', control: 'streamid=0' });
    expect(splitControl('live/cam1/TRACKID=0', ['trackID=0'])).toEqual({ streamPath: 'live/cam1', control: 'trackID=0' });
    expect(splitControl('trackID=0', ['trackID=0'])).toEqual({ streamPath: '', control: 'trackID=0' });
  });

  it('prefers the longer control and exact case', () => {
    expect(splitControl('live/a/track10', ['track0', 'track10'])).toEqual({ streamPath: 'live/a', control: 'track10' });
    expect(splitControl('live/a/video/track1', ['track1', 'video/track1'])).toEqual({ streamPath: 'live/a', control: 'video/track1' });
    expect(splitControl('live/a/Track1', ['track1', 'Track1'])).toEqual({ streamPath: 'live/a', control: 'Track1' });
  });

  it('gives the whole path when nothing matches (aggregate or single-track SETUP)', () => {
    expect(splitControl('live/cam1', ['trackID=0'])).toEqual({ streamPath: 'live/cam1' });
    expect(splitControl('live/cam1x/trackID=00', ['trackID=0', 'rtsp://host/x', ''])).toEqual({ streamPath: 'live/cam1x/trackID=00' });
  });
});
