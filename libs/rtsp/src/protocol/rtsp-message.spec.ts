import fc from 'fast-check';
import {
  interleavedHeader,
  RtspChunk,
  RtspDecoder,
  RtspDecoderLimits,
  RtspHeaders,
  RtspProtocolError,
  rtspReason,
  serializeRequest,
  serializeResponse,
} from './rtsp-message';

// Requests and responses as the named peers write them (header order, spelling and line ends as they
// send them; addresses, session ids and lengths from a local run).
const FFMPEG_UA = 'Lavf60.16.100';
const LIVE555_UA = 'LibVLC/3.0.20 (LIVE555 Streaming Media v2016.11.28)';
const GST_UA = 'GStreamer/1.22.0';
const ANNOUNCE_SDP =
  'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=tool:libavformat 60.16.100\r\n' +
  'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n' +
  'a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=,aOvjyyLA; profile-level-id=64001F\r\n' +
  'a=control:streamid=0\r\nm=audio 0 RTP/AVP 97\r\nb=AS:128\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\n' +
  'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=121056E500\r\n' +
  'a=control:streamid=1\r\n';

const FFMPEG_PLAY = [
  `OPTIONS rtsp://127.0.0.1:8554/live/test RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: ${FFMPEG_UA}\r\n\r\n`,
  `DESCRIBE rtsp://127.0.0.1:8554/live/test RTSP/1.0\r\nAccept: application/sdp\r\nCSeq: 2\r\nUser-Agent: ${FFMPEG_UA}\r\n\r\n`,
  `SETUP rtsp://127.0.0.1:8554/live/test/trackID=0 RTSP/1.0\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nCSeq: 3\r\nUser-Agent: ${FFMPEG_UA}\r\n\r\n`,
  `SETUP rtsp://127.0.0.1:8554/live/test/trackID=1 RTSP/1.0\r\nTransport: RTP/AVP/TCP;unicast;interleaved=2-3\r\nCSeq: 4\r\nUser-Agent: ${FFMPEG_UA}\r\nSession: 7d4f0c2a9b1e\r\n\r\n`,
  `PLAY rtsp://127.0.0.1:8554/live/test RTSP/1.0\r\nRange: npt=0.000-\r\nCSeq: 5\r\nUser-Agent: ${FFMPEG_UA}\r\nSession: 7d4f0c2a9b1e\r\n\r\n`,
  `TEARDOWN rtsp://127.0.0.1:8554/live/test RTSP/1.0\r\nCSeq: 6\r\nUser-Agent: ${FFMPEG_UA}\r\nSession: 7d4f0c2a9b1e\r\n\r\n`,
];

const FFMPEG_PUBLISH = [
  `ANNOUNCE rtsp://127.0.0.1:8554/live/pub RTSP/1.0\r\nContent-Type: application/sdp\r\nCSeq: 2\r\nUser-Agent: ${FFMPEG_UA}\r\nContent-Length: ${Buffer.byteLength(ANNOUNCE_SDP)}\r\n\r\n${ANNOUNCE_SDP}`,
  `SETUP rtsp://127.0.0.1:8554/live/pub/streamid=0 RTSP/1.0\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\nCSeq: 3\r\nUser-Agent: ${FFMPEG_UA}\r\nSession: 3c1b5e\r\n\r\n`,
  `RECORD rtsp://127.0.0.1:8554/live/pub RTSP/1.0\r\nRange: npt=0.000-\r\nCSeq: 5\r\nUser-Agent: ${FFMPEG_UA}\r\nSession: 3c1b5e\r\n\r\n`,
];

const VLC_PLAY = [
  `OPTIONS rtsp://127.0.0.1:8554/live/test RTSP/1.0\r\nCSeq: 2\r\nUser-Agent: ${LIVE555_UA}\r\n\r\n`,
  `DESCRIBE rtsp://127.0.0.1:8554/live/test RTSP/1.0\r\nCSeq: 3\r\nUser-Agent: ${LIVE555_UA}\r\nAccept: application/sdp\r\n\r\n`,
  `DESCRIBE rtsp://127.0.0.1:8554/live/test RTSP/1.0\r\nCSeq: 4\r\nAuthorization: Digest username="admin", realm="m7s", nonce="0190a1b2c3d4aabbccddeeff00112233", uri="rtsp://127.0.0.1:8554/live/test", response="8f2c1a0e3b4d5c6f7a8b9c0d1e2f3a4b"\r\nUser-Agent: ${LIVE555_UA}\r\nAccept: application/sdp\r\n\r\n`,
  `SETUP rtsp://127.0.0.1:8554/live/test/trackID=0 RTSP/1.0\r\nCSeq: 5\r\nUser-Agent: ${LIVE555_UA}\r\nTransport: RTP/AVP;unicast;client_port=52514-52515\r\n\r\n`,
  `PLAY rtsp://127.0.0.1:8554/live/test/ RTSP/1.0\r\nCSeq: 7\r\nUser-Agent: ${LIVE555_UA}\r\nSession: 5F2A9C01\r\nRange: npt=0.000-\r\n\r\n`,
  `GET_PARAMETER rtsp://127.0.0.1:8554/live/test/ RTSP/1.0\r\nCSeq: 8\r\nUser-Agent: ${LIVE555_UA}\r\nSession: 5F2A9C01\r\n\r\n`,
];

const GST_PLAY = [
  `OPTIONS rtsp://127.0.0.1:8554/live/test RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: ${GST_UA}\r\nDate: Tue, 02 Jan 2024 10:00:00 GMT\r\n\r\n`,
  `DESCRIBE rtsp://127.0.0.1:8554/live/test RTSP/1.0\r\nCSeq: 2\r\nUser-Agent: ${GST_UA}\r\nAccept: application/sdp\r\nDate: Tue, 02 Jan 2024 10:00:00 GMT\r\n\r\n`,
  `SETUP rtsp://127.0.0.1:8554/live/test/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nUser-Agent: ${GST_UA}\r\nTransport: RTP/AVP;unicast;client_port=39820-39821\r\nDate: Tue, 02 Jan 2024 10:00:00 GMT\r\n\r\n`,
  `PLAY rtsp://127.0.0.1:8554/live/test/ RTSP/1.0\r\nCSeq: 5\r\nUser-Agent: ${GST_UA}\r\nRange: npt=0-\r\nSession: 9a8b7c6d\r\nDate: Tue, 02 Jan 2024 10:00:01 GMT\r\n\r\n`,
  `ANNOUNCE rtsp://127.0.0.1:8554/live/gst RTSP/1.0\r\nContent-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(ANNOUNCE_SDP)}\r\nCSeq: 1\r\nUser-Agent: ${GST_UA}\r\nDate: Tue, 02 Jan 2024 10:00:02 GMT\r\n\r\n${ANNOUNCE_SDP}`,
  `SETUP rtsp://127.0.0.1:8554/live/gst/stream=0 RTSP/1.0\r\nCSeq: 2\r\nUser-Agent: ${GST_UA}\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\nDate: Tue, 02 Jan 2024 10:00:02 GMT\r\n\r\n`,
];

// Responses as a live555 server (and a camera) writes them, read by our client.
const LIVE555_DESCRIBE_SDP =
  'v=0\r\no=- 1704189600000000 1 IN IP4 127.0.0.1\r\ns=Session streamed by "testOnDemandRTSPServer"\r\ni=test.264\r\nt=0 0\r\n' +
  'a=tool:LIVE555 Streaming Media v2023.11.30\r\na=type:broadcast\r\na=control:*\r\na=range:npt=0-\r\n' +
  'm=video 0 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\nb=AS:500\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n';
const SERVER_RESPONSES = [
  'RTSP/1.0 200 OK\r\nCSeq: 2\r\nDate: Tue, Jan 02 2024 10:00:00 GMT\r\nPublic: OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE, GET_PARAMETER, SET_PARAMETER\r\n\r\n',
  'RTSP/1.0 401 Unauthorized\r\nCSeq: 3\r\nDate: Tue, Jan 02 2024 10:00:00 GMT\r\nWWW-Authenticate: Digest realm="LIVE555 Streaming Media", nonce="a0d3f1f9b1b5e9d2c4e1a7b3c9f0e2d1"\r\n\r\n',
  `RTSP/1.0 200 OK\r\nCSeq: 4\r\nDate: Tue, Jan 02 2024 10:00:00 GMT\r\nContent-Base: rtsp://127.0.0.1:8554/test.264/\r\nContent-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(LIVE555_DESCRIBE_SDP)}\r\n\r\n${LIVE555_DESCRIBE_SDP}`,
  'RTSP/1.0 200 OK\r\nCSeq: 5\r\nDate: Tue, Jan 02 2024 10:00:00 GMT\r\nTransport: RTP/AVP;unicast;destination=127.0.0.1;source=127.0.0.1;client_port=52514-52515;server_port=6970-6971\r\nSession: 5F2A9C01;timeout=65\r\n\r\n',
  'RTSP/1.0 200 OK\r\nCSeq: 7\r\nDate: Tue, Jan 02 2024 10:00:00 GMT\r\nRange: npt=0.000-\r\nSession: 5F2A9C01\r\nRTP-Info: url=rtsp://127.0.0.1:8554/test.264/track1;seq=5873;rtptime=2466309932\r\n\r\n',
  // a camera that ends lines with bare LF and puts a space before the colon
  'RTSP/1.0 200 OK\nCSeq : 9\nServer: Hipcam RealServer/V1.0\nSession: 12345678;timeout=60\n\n',
];

function decodeAll(decoder: RtspDecoder, chunks: Buffer[]): RtspChunk[] {
  return chunks.flatMap((c) => decoder.push(c));
}

/** A comparable, cheap summary of decoded units (hex for binary parts). */
function summary(units: RtspChunk[]): string[] {
  return units.map((u) => {
    if (u.type === 'interleaved') return `$${u.channel}:${u.data.toString('hex')}`;
    const headers = [...u.message.headers.entries()].map(([n, v]) => `${n}=${v}`).join('|');
    const start = u.type === 'request' ? `${u.message.method} ${u.message.uri} ${u.message.version}` : `${u.message.version} ${u.message.statusCode} ${u.message.reason}`;
    return `${start} [${headers}] ${u.message.body.toString('hex')}`;
  });
}

function expectProtocolError(fn: () => unknown, code: string, status: number): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RtspProtocolError);
    expect((e as RtspProtocolError).code).toBe(code);
    expect((e as RtspProtocolError).status).toBe(status);
    return;
  }
  throw new Error(`expected ${code}`);
}

const interleaved = (channel: number, data: Buffer) => Buffer.concat([interleavedHeader(channel, data.length), data]);

describe('RtspHeaders', () => {
  it('is case-insensitive, keeps order and the first spelling, holds several values', () => {
    const h = RtspHeaders.from({ CSeq: 3, 'WWW-Authenticate': ['Digest realm="a", nonce="b"', 'Basic realm="a"'], Skipped: undefined });
    h.append('session', 'abc');
    expect(h.get('cseq')).toBe('3');
    expect(h.getAll('www-authenticate')).toEqual(['Digest realm="a", nonce="b"', 'Basic realm="a"']);
    expect(h.has('SKIPPED')).toBe(false);
    expect(h.size).toBe(4);
    h.set('WWW-AUTHENTICATE', 'Basic realm="x"');
    expect([...h.entries()]).toEqual([
      ['CSeq', '3'],
      ['WWW-AUTHENTICATE', 'Basic realm="x"'],
      ['session', 'abc'],
    ]);
    h.delete('Session').set('Content-Type', 'application/sdp');
    expect([...h].map(([n]) => n)).toEqual(['CSeq', 'WWW-AUTHENTICATE', 'Content-Type']);
    expect(h.get('missing')).toBeUndefined();
    expect(h.getAll('missing')).toEqual([]);
  });
});

describe('RtspDecoder on real clients and servers', () => {
  const sessions: [string, string[]][] = [
    ['ffmpeg play', FFMPEG_PLAY],
    ['ffmpeg publish', FFMPEG_PUBLISH],
    ['VLC (live555) play', VLC_PLAY],
    ['GStreamer play and publish', GST_PLAY],
    ['live555 server and a camera', SERVER_RESPONSES],
  ];

  it.each(sessions)('%s: whole messages in one chunk', (_name, messages) => {
    const units = new RtspDecoder().push(Buffer.from(messages.join('')));
    expect(units).toHaveLength(messages.length);
  });

  it('reads the fields of an ffmpeg ANNOUNCE and SETUP', () => {
    const [announce, setup] = decodeAll(new RtspDecoder(), FFMPEG_PUBLISH.map((m) => Buffer.from(m)));
    expect(announce.type).toBe('request');
    if (announce.type !== 'request' || setup.type !== 'request') return;
    expect(announce.message.method).toBe('ANNOUNCE');
    expect(announce.message.uri).toBe('rtsp://127.0.0.1:8554/live/pub');
    expect(announce.message.version).toBe('RTSP/1.0');
    expect(announce.message.headers.get('content-type')).toBe('application/sdp');
    expect(announce.message.body.toString()).toBe(ANNOUNCE_SDP);
    expect(setup.message.headers.get('transport')).toBe('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record');
    expect(setup.message.body.length).toBe(0);
  });

  it('reads live555 responses, a body, bare-LF lines and a spaced colon', () => {
    const units = decodeAll(new RtspDecoder(), SERVER_RESPONSES.map((m) => Buffer.from(m)));
    const responses = units.map((u) => (u.type === 'response' ? u.message : undefined));
    expect(responses.map((r) => r?.statusCode)).toEqual([200, 401, 200, 200, 200, 200]);
    expect(responses[1]?.reason).toBe('Unauthorized');
    expect(responses[1]?.headers.getAll('www-authenticate')).toHaveLength(1);
    expect(responses[2]?.body.toString()).toBe(LIVE555_DESCRIBE_SDP);
    expect(responses[2]?.headers.get('content-base')).toBe('rtsp://127.0.0.1:8554/test.264/');
    expect(responses[5]?.headers.get('cseq')).toBe('9');
    expect(responses[5]?.headers.get('session')).toBe('12345678;timeout=60');
  });

  it.each(sessions)('%s: the same units when split at every byte', (_name, messages) => {
    const bytes = Buffer.from(messages.join(''));
    const whole = summary(new RtspDecoder().push(bytes));
    for (let cut = 1; cut < bytes.length; cut++) {
      const d = new RtspDecoder();
      const units = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
      expect(summary(units)).toEqual(whole);
      expect(d.bufferedBytes).toBe(0);
    }
    // and fed one byte at a time
    const d = new RtspDecoder();
    const units: RtspChunk[] = [];
    for (let i = 0; i < bytes.length; i++) units.push(...d.push(bytes.subarray(i, i + 1)));
    expect(summary(units)).toEqual(whole);
  });
});

describe('RtspDecoder framing', () => {
  it('reads interleaved frames between, before and after messages', () => {
    const rtp = Buffer.from('80e0000100000064deadbeef0102030405', 'hex');
    const rtcp = Buffer.from('80c80006deadbeef', 'hex');
    const bytes = Buffer.concat([
      interleaved(0, rtp),
      Buffer.from(FFMPEG_PLAY[5]),
      interleaved(1, rtcp),
      interleaved(2, Buffer.alloc(0)),
      Buffer.from(SERVER_RESPONSES[0]),
      interleaved(0, rtp),
    ]);
    const units = new RtspDecoder().push(bytes);
    expect(units.map((u) => u.type)).toEqual(['interleaved', 'request', 'interleaved', 'interleaved', 'response', 'interleaved']);
    expect(summary(units)[2]).toBe(`$1:${rtcp.toString('hex')}`);
    expect(summary(units)[3]).toBe('$2:');
    for (let cut = 1; cut < bytes.length; cut++) {
      const d = new RtspDecoder();
      expect(summary([...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))])).toEqual(summary(units));
    }
  });

  it('hands out a whole frame as a view of the input, and assembles a split one', () => {
    const payload = Buffer.alloc(1400, 7);
    const input = interleaved(4, payload);
    const [unit] = new RtspDecoder().push(input);
    expect(unit.type === 'interleaved' && unit.data.buffer === input.buffer).toBe(true);
    const d = new RtspDecoder();
    expect(d.push(input.subarray(0, 700))).toEqual([]);
    expect(d.bufferedBytes).toBe(696);
    const [late] = d.push(input.subarray(700));
    expect(late.type === 'interleaved' && late.data.equals(payload)).toBe(true);
    expect(d.bufferedBytes).toBe(0);
  });

  it('skips empty lines before a message and reads RTSP/2.0', () => {
    const units = new RtspDecoder().push(Buffer.from('\r\n\r\n\nOPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n\r\n'));
    expect(units).toHaveLength(1);
    expect(units[0].type === 'request' && units[0].message.uri).toBe('*');
    expect(units[0].type === 'request' && units[0].message.version).toBe('RTSP/2.0');
  });

  it('accepts folded header lines and an empty reason phrase', () => {
    const [u] = new RtspDecoder().push(Buffer.from('RTSP/1.0 200\r\nCSeq: 1\r\nPublic: OPTIONS,\r\n  DESCRIBE\r\n\r\n'));
    expect(u.type === 'response' && u.message.reason).toBe('');
    expect(u.type === 'response' && u.message.headers.get('public')).toBe('OPTIONS, DESCRIBE');
  });

  const errors: [string, string, RtspDecoderLimits, string, number][] = [
    ['a garbage request line', 'HELLO\r\n\r\n', {}, 'BAD_REQUEST_LINE', 400],
    ['a request line without version', 'OPTIONS rtsp://a\r\n\r\n', {}, 'BAD_REQUEST_LINE', 400],
    ['HTTP', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', {}, 'UNSUPPORTED_VERSION', 505],
    ['RTSP/1.1', 'OPTIONS * RTSP/1.1\r\nCSeq: 1\r\n\r\n', {}, 'UNSUPPORTED_VERSION', 505],
    ['a bad status line', 'RTSP/1.0 2000 OK\r\n\r\n', {}, 'BAD_STATUS_LINE', 400],
    ['a header line without colon', 'OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n', {}, 'BAD_HEADER', 400],
    ['a negative Content-Length', 'ANNOUNCE rtsp://a/b RTSP/1.0\r\nContent-Length: -1\r\n\r\n', {}, 'BAD_CONTENT_LENGTH', 400],
    ['a non-numeric Content-Length', 'ANNOUNCE rtsp://a/b RTSP/1.0\r\nContent-Length: 12x\r\n\r\n', {}, 'BAD_CONTENT_LENGTH', 400],
    ['two different Content-Lengths', 'ANNOUNCE rtsp://a/b RTSP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', {}, 'BAD_CONTENT_LENGTH', 400],
    ['a body over the limit', 'ANNOUNCE rtsp://a/b RTSP/1.0\r\nContent-Length: 65537\r\n\r\n', {}, 'BODY_TOO_LARGE', 413],
    ['a huge Content-Length', `ANNOUNCE rtsp://a/b RTSP/1.0\r\nContent-Length: ${'9'.repeat(40)}\r\n\r\n`, {}, 'BODY_TOO_LARGE', 413],
    ['too many headers', `OPTIONS * RTSP/1.0\r\n${'X-A: 1\r\n'.repeat(65)}\r\n`, {}, 'TOO_MANY_HEADERS', 431],
    ['a header block over the limit', `OPTIONS * RTSP/1.0\r\nX-Big: ${'a'.repeat(200)}\r\n\r\n`, { maxHeaderBytes: 100 }, 'HEADER_TOO_LARGE', 431],
    ['an endless line', 'a'.repeat(9000), {}, 'HEADER_TOO_LARGE', 431],
    ['a frame over the limit', '$\x00\x05\xdc', { maxInterleavedBytes: 1400 }, 'INTERLEAVED_TOO_LARGE', 413],
  ];

  it.each(errors)('rejects %s', (_name, text, limits, code, status) => {
    expectProtocolError(() => new RtspDecoder(limits).push(Buffer.from(text, 'latin1')), code, status);
  });

  it('rejects an over-long header block as soon as it cannot fit, before its end arrives', () => {
    const d = new RtspDecoder({ maxHeaderBytes: 64 });
    expect(d.push(Buffer.from('OPTIONS * RTSP/1.0\r\n'))).toEqual([]);
    for (let i = 0; i < 4; i++) d.push(Buffer.from('X-A: 1\r\n'));
    expect(d.bufferedBytes).toBeLessThanOrEqual(64);
    expectProtocolError(() => d.push(Buffer.from('X-Bbbbbbbbbbbbb: 1\r\n')), 'HEADER_TOO_LARGE', 431);
  });

  it('accepts a header block of exactly maxHeaderBytes', () => {
    const text = 'OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n';
    expect(new RtspDecoder({ maxHeaderBytes: text.length }).push(Buffer.from(text))).toHaveLength(1);
    expectProtocolError(() => new RtspDecoder({ maxHeaderBytes: text.length - 1 }).push(Buffer.from(text)), 'HEADER_TOO_LARGE', 431);
  });

  it('rejects a bad limit', () => {
    expectProtocolError(() => new RtspDecoder({ maxBodyBytes: -1 }), 'BAD_ARGUMENT', 500);
  });
});

describe('serializers', () => {
  it('writes an ffmpeg-like SETUP byte for byte', () => {
    const bytes = serializeRequest({
      method: 'SETUP',
      uri: 'rtsp://127.0.0.1:8554/live/test/trackID=0',
      headers: { Transport: 'RTP/AVP/TCP;unicast;interleaved=0-1', CSeq: 3, 'User-Agent': FFMPEG_UA, Session: undefined },
    });
    expect(bytes.toString()).toBe(FFMPEG_PLAY[2]);
  });

  it('writes an ANNOUNCE with its Content-Length', () => {
    const bytes = serializeRequest({
      method: 'ANNOUNCE',
      uri: 'rtsp://127.0.0.1:8554/live/pub',
      headers: { 'Content-Type': 'application/sdp', CSeq: 2, 'User-Agent': FFMPEG_UA, 'Content-Length': 1 },
      body: ANNOUNCE_SDP,
    });
    expect(bytes.toString()).toBe(FFMPEG_PUBLISH[0]);
  });

  it('writes responses with the RFC 2326 reason phrase, several WWW-Authenticate and a body', () => {
    const unauthorized = serializeResponse({
      statusCode: 401,
      headers: RtspHeaders.from({ CSeq: 4, 'WWW-Authenticate': ['Digest realm="m7s", nonce="abc"', 'Basic realm="m7s"'] }),
    });
    expect(unauthorized.toString()).toBe('RTSP/1.0 401 Unauthorized\r\nCSeq: 4\r\nWWW-Authenticate: Digest realm="m7s", nonce="abc"\r\nWWW-Authenticate: Basic realm="m7s"\r\n\r\n');
    const describe = serializeResponse({ statusCode: 200, headers: { CSeq: 3, 'Content-Type': 'application/sdp' }, body: Buffer.from('v=0\r\n') });
    expect(describe.toString()).toBe('RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n');
    expect(serializeResponse({ statusCode: 454, reason: 'No Such Session', headers: {} }).toString()).toBe('RTSP/1.0 454 No Such Session\r\n\r\n');
  });

  it('knows the phrases of the codes the server answers with', () => {
    const expected: Record<number, string> = {
      200: 'OK',
      301: 'Moved Permanently',
      302: 'Moved Temporarily',
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      405: 'Method Not Allowed',
      406: 'Not Acceptable',
      413: 'Request Entity Too Large',
      414: 'Request-URI Too Large',
      431: 'Request Header Fields Too Large',
      451: 'Parameter Not Understood',
      453: 'Not Enough Bandwidth',
      454: 'Session Not Found',
      455: 'Method Not Valid in This State',
      457: 'Invalid Range',
      459: 'Aggregate Operation Not Allowed',
      461: 'Unsupported Transport',
      500: 'Internal Server Error',
      501: 'Not Implemented',
      503: 'Service Unavailable',
      505: 'RTSP Version Not Supported',
    };
    for (const [code, reason] of Object.entries(expected)) expect(rtspReason(Number(code))).toBe(reason);
    expect(rtspReason(499)).toBe('Client Error');
  });

  it('refuses header injection and bad start lines', () => {
    expectProtocolError(() => serializeResponse({ statusCode: 200, headers: { Session: 'a\r\nX-Evil: 1' } }), 'BAD_ARGUMENT', 500);
    expectProtocolError(() => serializeRequest({ method: 'OPTIONS', uri: 'rtsp://a/b c', headers: {} }), 'BAD_ARGUMENT', 500);
    expectProtocolError(() => serializeRequest({ method: 'OPT IONS', uri: '*', headers: {} }), 'BAD_ARGUMENT', 500);
    expectProtocolError(() => serializeResponse({ statusCode: 20, headers: {} }), 'BAD_ARGUMENT', 500);
  });

  it('writes interleaved frame headers', () => {
    expect(interleavedHeader(1, 1400).toString('hex')).toBe('24010578');
    expect(interleavedHeader(255, 65535).toString('hex')).toBe('24ffffff');
    expectProtocolError(() => interleavedHeader(256, 1), 'BAD_ARGUMENT', 500);
    expectProtocolError(() => interleavedHeader(0, 65536), 'BAD_ARGUMENT', 500);
  });
});

describe('RtspDecoder properties', () => {
  const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,15}$/);
  const headerValue = fc.stringMatching(/^[!-~]([ -~]{0,40}[!-~])?$/);
  const headers = fc.array(fc.tuple(token, headerValue), { maxLength: 8 }).map((pairs) => pairs.filter(([n]) => n.toLowerCase() !== 'content-length'));
  const body = fc.option(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), { nil: undefined });
  const message = fc.oneof(
    fc.record({ kind: fc.constant('request' as const), method: fc.constantFrom('OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'ANNOUNCE', 'RECORD', 'GET_PARAMETER'), uri: fc.webUrl().map((u) => u.replace(/^https?/, 'rtsp')), headers, body }),
    fc.record({ kind: fc.constant('response' as const), status: fc.integer({ min: 100, max: 599 }), headers, body }),
    fc.record({ kind: fc.constant('interleaved' as const), channel: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 1500 }).map((a) => Buffer.from(a)) }),
  );

  it('decodes any serialized sequence the same at any split points', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 6 }), (messages, cuts) => {
        const parts = messages.map((m) => {
          if (m.kind === 'interleaved') return interleaved(m.channel, m.data);
          const h = new RtspHeaders();
          for (const [n, v] of m.headers) h.append(n, v);
          return m.kind === 'request' ? serializeRequest({ method: m.method, uri: m.uri, headers: h, body: m.body }) : serializeResponse({ statusCode: m.status, headers: h, body: m.body });
        });
        const bytes = Buffer.concat(parts);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const d = new RtspDecoder();
        const units: RtspChunk[] = [];
        let from = 0;
        for (const p of [...points, bytes.length]) {
          units.push(...d.push(bytes.subarray(from, p)));
          from = p;
        }
        expect(units).toHaveLength(messages.length);
        units.forEach((u, i) => {
          const m = messages[i];
          expect(u.type).toBe(m.kind);
          if (u.type === 'interleaved' && m.kind === 'interleaved') {
            expect(u.channel).toBe(m.channel);
            expect(u.data.toString('hex')).toBe(m.data.toString('hex'));
          } else if (u.type !== 'interleaved' && m.kind !== 'interleaved') {
            expect(u.message.body.toString('hex')).toBe((m.body ?? Buffer.alloc(0)).toString('hex'));
            expect(u.message.headers.getAll(m.headers[0]?.[0] ?? 'none')).toEqual(m.headers.filter(([n]) => n.toLowerCase() === (m.headers[0]?.[0] ?? 'none').toLowerCase()).map(([, v]) => v));
            if (u.type === 'request' && m.kind === 'request') expect(u.message.uri).toBe(m.uri);
            if (u.type === 'response' && m.kind === 'response') expect(u.message.statusCode).toBe(m.status);
          }
        });
        expect(d.bufferedBytes).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  const limits: Required<RtspDecoderLimits> = { maxHeaderBytes: 512, maxHeaders: 8, maxBodyBytes: 1024, maxInterleavedBytes: 2048 };
  const bound = Math.max(limits.maxHeaderBytes, limits.maxBodyBytes, limits.maxInterleavedBytes);

  function feedChecked(chunks: Buffer[]): void {
    const d = new RtspDecoder(limits);
    try {
      for (const c of chunks) {
        d.push(c);
        expect(d.bufferedBytes).toBeLessThanOrEqual(bound);
      }
    } catch (e) {
      if (!(e instanceof RtspProtocolError)) throw e;
      expect(e.status).toBeGreaterThanOrEqual(400);
    }
  }

  it('throws only RtspProtocolError on random bytes and keeps its buffer bounded', () => {
    const bytes = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));
    const textual = fc.string({ unit: fc.constantFrom('R', 'T', 'S', 'P', '/', '1', '.', '0', ' ', ':', '\r', '\n', '$', 'C', 'o', 'n', 't', 'e', '-', 'L', 'g', 'h', '9', 'a') }).map((s) => Buffer.from(s, 'latin1'));
    fc.assert(fc.property(fc.array(fc.oneof(bytes, textual), { maxLength: 20 }), feedChecked), { numRuns: 400 });
  });

  it('throws only RtspProtocolError on mutated real traffic', () => {
    const traffic = Buffer.concat([
      ...FFMPEG_PUBLISH.map((m) => Buffer.from(m)),
      interleaved(0, Buffer.alloc(300, 1)),
      ...SERVER_RESPONSES.map((m) => Buffer.from(m)),
      ...VLC_PLAY.map((m) => Buffer.from(m)),
    ]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }), fc.array(fc.nat(), { maxLength: 8 }), (mutations, cuts) => {
        const bytes = Buffer.from(traffic);
        for (const [at, value] of mutations) bytes[at % bytes.length] = value;
        const points = [...new Set(cuts.map((c) => c % bytes.length))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let from = 0;
        for (const p of [...points, bytes.length]) {
          chunks.push(bytes.subarray(from, p));
          from = p;
        }
        feedChecked(chunks);
      }),
      { numRuns: 300 },
    );
  });
});
