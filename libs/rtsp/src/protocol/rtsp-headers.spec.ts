import fc from 'fast-check';
import { formatNptRange, formatPublic, formatRtpInfo, formatSession, parseCSeq, parsePublic, parseRange, parseRtpInfo, parseSession } from './rtsp-headers';
import { RtspProtocolError } from './rtsp-message';

function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof RtspProtocolError) return e.status;
    throw e;
  }
  return undefined;
}

describe('CSeq', () => {
  it('reads numbers, refuses the rest with 400', () => {
    expect(parseCSeq('1')).toBe(1);
    expect(parseCSeq(' 4294967295 ')).toBe(4294967295);
    for (const bad of ['', 'abc', '-1', '1.5', '4294967296', '12345678901', '0x10']) expect(statusOf(() => parseCSeq(bad))).toBe(400);
  });
});

describe('Session', () => {
  it('reads ids with and without timeout, as servers and cameras write them', () => {
    expect(parseSession('5F2A9C01;timeout=65')).toEqual({ id: '5F2A9C01', timeout: 65 });
    expect(parseSession('12345678')).toEqual({ id: '12345678' });
    expect(parseSession(' 1185d20035702ca ; timeout = 60')).toEqual({ id: '1185d20035702ca', timeout: 60 });
    expect(parseSession('abc;timeout="30"')).toEqual({ id: 'abc', timeout: 30 });
    expect(parseSession('abc;timeout=0;other=1')).toEqual({ id: 'abc' });
    expect(parseSession('abc;timeout=soon')).toEqual({ id: 'abc' });
    expect(parseSession('a.b-c_d$e+f')).toEqual({ id: 'a.b-c_d$e+f' });
  });

  it('refuses empty, spaced or huge ids with 454', () => {
    for (const bad of ['', ' ;timeout=60', 'a b', 'x'.repeat(300)]) expect(statusOf(() => parseSession(bad))).toBe(454);
  });

  it('writes id;timeout', () => {
    expect(formatSession('9f8e7d6c', 60)).toBe('9f8e7d6c;timeout=60');
    expect(formatSession('9f8e7d6c')).toBe('9f8e7d6c');
    expect(parseSession(formatSession('id1', 45))).toEqual({ id: 'id1', timeout: 45 });
  });
});

describe('Range', () => {
  it('reads npt ranges as players send them', () => {
    expect(parseRange('npt=0.000-')).toEqual({ npt: { start: 0 } });
    expect(parseRange('npt=0-')).toEqual({ npt: { start: 0 } });
    expect(parseRange('npt=12.5-30')).toEqual({ npt: { start: 12.5, end: 30 } });
    expect(parseRange('npt=1:02:03.25-')).toEqual({ npt: { start: 3723.25 } });
    expect(parseRange('NPT = 10 - 20 ;time=19970123T153600Z')).toEqual({ npt: { start: 10, end: 20 } });
    expect(parseRange('npt=-30')).toEqual({ npt: { start: 0, end: 30 } });
    expect(parseRange('npt=5.-')).toEqual({ npt: { start: 5 } });
  });

  it('has no seek position for now, smpte and clock', () => {
    expect(parseRange('npt=now-')).toEqual({});
    expect(parseRange('smpte=10:07:00-10:07:33:05.01')).toEqual({});
    expect(parseRange('clock=19961108T142300Z-19961108T143520Z')).toEqual({});
    expect(parseRange('')).toBeUndefined();
  });

  it('refuses malformed npt with 457', () => {
    for (const bad of ['npt=abc-', 'npt=20-10', 'npt=10', 'npt=now-5', 'npt=1:99:00-', 'npt=1e5-']) expect(statusOf(() => parseRange(bad))).toBe(457);
  });

  it('writes npt ranges', () => {
    expect(formatNptRange({ start: 0 })).toBe('npt=0.000-');
    expect(formatNptRange({ start: 1.5, end: 10 })).toBe('npt=1.500-10.000');
  });

  it('throws only 457 on random values', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('n', 'p', 't', '=', '-', ':', '.', '0', '5', '9', ';', ' ', 'o', 'w') })), (v) => {
        const status = statusOf(() => parseRange(v));
        expect(status === undefined || status === 457).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('RTP-Info', () => {
  it('writes and reads what a server answers PLAY with', () => {
    const value = formatRtpInfo([
      { url: 'rtsp://127.0.0.1:8554/live/test/trackID=0', seq: 5873, rtptime: 2466309932 },
      { url: 'rtsp://127.0.0.1:8554/live/test/trackID=1', seq: 1 },
    ]);
    expect(value).toBe('url=rtsp://127.0.0.1:8554/live/test/trackID=0;seq=5873;rtptime=2466309932,url=rtsp://127.0.0.1:8554/live/test/trackID=1;seq=1');
    expect(parseRtpInfo(value)).toEqual([
      { url: 'rtsp://127.0.0.1:8554/live/test/trackID=0', seq: 5873, rtptime: 2466309932 },
      { url: 'rtsp://127.0.0.1:8554/live/test/trackID=1', seq: 1 },
    ]);
  });

  it('tolerates commas and semicolons in URLs, spaces, quotes, ssrc and bad numbers', () => {
    expect(parseRtpInfo('url=rtsp://cam/a,b;x=1/track1;seq=1;rtptime=2, url="rtsp://cam/track2";ssrc=1234ABCD;seq=70000;rtptime=9,')).toEqual([
      { url: 'rtsp://cam/a,b;x=1/track1', seq: 1, rtptime: 2 },
      { url: 'rtsp://cam/track2', rtptime: 9 },
    ]);
    expect(parseRtpInfo('')).toEqual([]);
    expect(parseRtpInfo('seq=1')).toEqual([]);
  });

  it('never throws on random values', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('u', 'r', 'l', '=', ';', ',', 's', 'e', 'q', '1', ' ', '"') })), (v) => {
        for (const e of parseRtpInfo(v)) expect(typeof e.url).toBe('string');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('Public', () => {
  it('reads and writes method lists', () => {
    expect(parsePublic('OPTIONS, DESCRIBE,SETUP ,teardown,')).toEqual(['OPTIONS', 'DESCRIBE', 'SETUP', 'TEARDOWN']);
    expect(formatPublic(['OPTIONS', 'DESCRIBE'])).toBe('OPTIONS, DESCRIBE');
  });
});
