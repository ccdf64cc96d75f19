import fc from 'fast-check';
import { MediaError } from '../media.errors';
import {
  formatFmtp,
  mediaDirection,
  parseFmtp,
  parseRtpmap,
  parseSdp,
  resolveControlUrl,
  sdpAttribute,
  sdpAttributes,
  SessionDescription,
  writeSdp,
} from './sdp';

/** `ffmpeg -re -i in.mp4 -c copy -f rtsp rtsp://host/live/x` (the ANNOUNCE body libavformat writes). */
const FFMPEG_ANNOUNCE = [
  'v=0',
  'o=- 0 0 IN IP4 127.0.0.1',
  's=No Name',
  'c=IN IP4 127.0.0.1',
  't=0 0',
  'a=tool:libavformat 60.16.100',
  'm=video 0 RTP/AVP 96',
  'b=AS:1021',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=,aOvjyyLA; profile-level-id=64001F',
  'a=control:streamid=0',
  'm=audio 0 RTP/AVP 97',
  'b=AS:128',
  'a=rtpmap:97 MPEG4-GENERIC/44100/2',
  'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=121056E500',
  'a=control:streamid=1',
  '',
].join('\r\n');

/** GStreamer rtsp-server (test-launch) DESCRIBE answer. */
const GSTREAMER = [
  'v=0',
  'o=- 1188340656180883 1 IN IP4 127.0.0.1',
  's=Session streamed with GStreamer',
  'i=rtsp-server',
  't=0 0',
  'a=tool:GStreamer',
  'a=type:broadcast',
  'a=range:npt=now-',
  'a=control:rtsp://127.0.0.1:8554/test',
  'm=video 0 RTP/AVP 96',
  'c=IN IP4 0.0.0.0',
  'b=AS:2097',
  'a=rtpmap:96 H264/90000',
  'a=framerate:30',
  'a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z2QAKKzZQHgCJ+WEAAADAAQAAAMA8Dxgxlg=,aOvjyyLA;profile-level-id=640028;level-asymmetry-allowed=1',
  'a=control:rtsp://127.0.0.1:8554/test/stream=0',
  'a=ts-refclk:local',
  'a=mediaclk:sender',
  '',
].join('\r\n');

/** Hikvision-style: LF only, e= and b= before t=, absolute control URLs with a query, trailing spaces. */
const HIKVISION = [
  'v=0',
  'o=- 1109162014219182 1109162014219192 IN IP4 192.168.1.64',
  's=Media Presentation',
  'e=NONE',
  'b=AS:5050',
  't=0 0',
  'a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/?transportmode=unicast&profile=Profile_1',
  'm=video 0 RTP/AVP 96',
  'c=IN IP4 0.0.0.0',
  'b=AS:5000',
  'a=recvonly',
  'a=x-dimensions:1920,1080',
  'a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1?transportmode=unicast&profile=Profile_1',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 profile-level-id=420029; packetization-mode=1; sprop-parameter-sets=Z01AKI2NQDwBE/LCAAAOEAACvyAI,aO44gA==  ',
  'm=audio 0 RTP/AVP 8',
  'c=IN IP4 0.0.0.0',
  'b=AS:50',
  'a=recvonly',
  'a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=2?transportmode=unicast&profile=Profile_1',
  'a=rtpmap:8 PCMA/8000',
  'a=Media_header:MEDIAINFO=494D4B48010200000400000111710110401F000000FA000000000000000000000000000000000000;',
  'a=appversion:1.0',
  '',
].join('\n');

/** Dahua-style: session `a=control:*`, relative trackID controls, AAC in MPEG4-GENERIC, a trailing ';' in fmtp. */
const DAHUA = [
  'v=0',
  'o=- 2251938192 2251938192 IN IP4 0.0.0.0',
  's=Media Server',
  'c=IN IP4 0.0.0.0',
  't=0 0',
  'a=control:*',
  'a=packetization-supported:DH',
  'a=range:npt=now-',
  'm=video 0 RTP/AVP 96',
  'a=control:trackID=0',
  'a=framerate:25.000000',
  'a=rtpmap:96 H264/90000',
  'a=fmtp:96 packetization-mode=1;profile-level-id=4D002A;sprop-parameter-sets=Z00AKp2oHgCJ+WbgICAoAAADAAgAAAMBlCA=,aO48gA==',
  'a=recvonly',
  'm=audio 0 RTP/AVP 97',
  'a=control:trackID=1',
  'a=rtpmap:97 MPEG4-GENERIC/16000',
  'a=fmtp:97 streamtype=5;profile-level-id=15;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1408;',
  'a=recvonly',
  '',
].join('\r\n');

/** A camera with H.265 video and MP4A-LATM audio, no o=/s=/t= lines. */
const H265_LATM = [
  'v=0',
  'm=video 0 RTP/AVP 96',
  'a=rtpmap:96 H265/90000',
  'a=fmtp:96 sprop-vps=QAEMAf//AWAAAAMAgAAAAwAAAwBdrAk=; sprop-sps=QgEBAWAAAAMAgAAAAwAAAwBdoAKAgC0WNq5JMvwC; sprop-pps=RAHA8vA8kAA=',
  'a=control:trackID=1',
  'm=audio 0 RTP/AVP 97',
  'a=rtpmap:97 MP4A-LATM/44100/2',
  'a=fmtp:97 profile-level-id=15;object=2;cpresent=0;config=400024203fc0',
  'a=control:trackID=2',
].join('\n');

const SAMPLES = { FFMPEG_ANNOUNCE, GSTREAMER, HIKVISION, DAHUA, H265_LATM };

const isMediaError = (code: string) => expect.objectContaining({ name: 'MediaError', code });

describe('parseSdp on real descriptions', () => {
  it('reads an ffmpeg ANNOUNCE body', () => {
    const sd = parseSdp(Buffer.from(FFMPEG_ANNOUNCE));
    expect(sd.version).toBe(0);
    expect(sd.origin).toEqual({ username: '-', sessionId: '0', sessionVersion: '0', netType: 'IN', addrType: 'IP4', address: '127.0.0.1' });
    expect(sd.name).toBe('No Name');
    expect(sd.connection).toEqual({ netType: 'IN', addrType: 'IP4', address: '127.0.0.1' });
    expect(sd.timing).toEqual([{ start: 0, stop: 0 }]);
    expect(sd.attributes).toEqual([{ name: 'tool', value: 'libavformat 60.16.100' }]);
    expect(sd.media).toHaveLength(2);
    const [v, a] = sd.media;
    expect(v).toMatchObject({ type: 'video', port: 0, protocol: 'RTP/AVP', formats: ['96'], bandwidths: [{ type: 'AS', value: 1021 }] });
    expect(sdpAttribute(v.attributes, 'control')).toBe('streamid=0');
    expect(parseRtpmap(sdpAttribute(v.attributes, 'rtpmap')!)).toEqual({ payloadType: 96, encoding: 'H264', clockRate: 90000 });
    const fmtp = parseFmtp(sdpAttribute(v.attributes, 'fmtp')!);
    expect(fmtp.payloadType).toBe(96);
    expect({ ...fmtp.params }).toEqual({
      'packetization-mode': '1',
      'sprop-parameter-sets': 'Z2QAH6zZQFAFuwEQAAADABAAAAMDIPGDGWA=,aOvjyyLA',
      'profile-level-id': '64001F',
    });
    expect(parseRtpmap(sdpAttribute(a.attributes, 'rtpmap')!)).toEqual({ payloadType: 97, encoding: 'MPEG4-GENERIC', clockRate: 44100, channels: 2 });
    expect(parseFmtp(sdpAttribute(a.attributes, 'fmtp')!).params.config).toBe('121056E500');
    expect(resolveControlUrl('rtsp://h/live/x', sdpAttribute(a.attributes, 'control'))).toBe('rtsp://h/live/x/streamid=1');
  });

  it('reads a GStreamer rtsp-server description (absolute controls, session info)', () => {
    const sd = parseSdp(GSTREAMER);
    expect(sd.origin.sessionId).toBe('1188340656180883');
    expect(sd.info).toBe('rtsp-server');
    expect(sdpAttribute(sd.attributes, 'range')).toBe('npt=now-');
    const [v] = sd.media;
    expect(v.connection).toEqual({ netType: 'IN', addrType: 'IP4', address: '0.0.0.0' });
    expect(parseFmtp(sdpAttribute(v.attributes, 'fmtp')!).params['level-asymmetry-allowed']).toBe('1');
    const base = resolveControlUrl('rtsp://127.0.0.1:8554/test/', sdpAttribute(sd.attributes, 'control'));
    expect(base).toBe('rtsp://127.0.0.1:8554/test');
    expect(resolveControlUrl(base, sdpAttribute(v.attributes, 'control'))).toBe('rtsp://127.0.0.1:8554/test/stream=0');
    expect(mediaDirection(v, sd)).toBe('sendrecv');
  });

  it('reads a Hikvision-style description (LF, out of order lines, trailing spaces, PCMA)', () => {
    const sd = parseSdp(HIKVISION);
    expect(sd.bandwidths).toEqual([{ type: 'AS', value: 5050 }]);
    expect(sd.timing).toEqual([{ start: 0, stop: 0 }]);
    const [v, a] = sd.media;
    expect(mediaDirection(v, sd)).toBe('recvonly');
    const params = parseFmtp(sdpAttribute(v.attributes, 'fmtp')!).params;
    expect(params['sprop-parameter-sets']).toBe('Z01AKI2NQDwBE/LCAAAOEAACvyAI,aO44gA==');
    expect(params['profile-level-id']).toBe('420029');
    expect(a.formats).toEqual(['8']);
    expect(parseRtpmap(sdpAttribute(a.attributes, 'rtpmap')!)).toEqual({ payloadType: 8, encoding: 'PCMA', clockRate: 8000 });
    expect(sdpAttribute(a.attributes, 'media_header')).toMatch(/^MEDIAINFO=494D/);
    const control = sdpAttribute(a.attributes, 'control');
    expect(resolveControlUrl('rtsp://192.168.1.64:554/Streaming/Channels/101/', control)).toBe(control);
  });

  it('reads a Dahua-style description (control:* and relative trackID controls under a query base)', () => {
    const sd = parseSdp(DAHUA);
    const base = resolveControlUrl('rtsp://10.0.0.2:554/cam/realmonitor?channel=1&subtype=0/', sdpAttribute(sd.attributes, 'control'));
    expect(base).toBe('rtsp://10.0.0.2:554/cam/realmonitor?channel=1&subtype=0/');
    expect(sd.media.map((m) => resolveControlUrl(base, sdpAttribute(m.attributes, 'control')))).toEqual([
      'rtsp://10.0.0.2:554/cam/realmonitor?channel=1&subtype=0/trackID=0',
      'rtsp://10.0.0.2:554/cam/realmonitor?channel=1&subtype=0/trackID=1',
    ]);
    const aac = parseFmtp(sdpAttribute(sd.media[1].attributes, 'fmtp')!);
    expect({ ...aac.params }).toEqual({ streamtype: '5', 'profile-level-id': '15', mode: 'AAC-hbr', sizelength: '13', indexlength: '3', indexdeltalength: '3', config: '1408' });
    expect(parseRtpmap(sdpAttribute(sd.media[1].attributes, 'rtpmap')!).channels).toBeUndefined();
  });

  it('reads an H.265 + MP4A-LATM description and gives defaults for missing o=, s=, t=', () => {
    const sd = parseSdp(H265_LATM);
    expect(sd.origin).toEqual({ username: '-', sessionId: '0', sessionVersion: '0', netType: 'IN', addrType: 'IP4', address: '0.0.0.0' });
    expect(sd.name).toBe('-');
    expect(sd.timing).toEqual([{ start: 0, stop: 0 }]);
    const [v, a] = sd.media;
    expect(parseRtpmap(sdpAttribute(v.attributes, 'rtpmap')!).encoding).toBe('H265');
    const p = parseFmtp(sdpAttribute(v.attributes, 'fmtp')!).params;
    expect([p['sprop-vps'], p['sprop-sps'], p['sprop-pps']]).toEqual(['QAEMAf//AWAAAAMAgAAAAwAAAwBdrAk=', 'QgEBAWAAAAMAgAAAAwAAAwBdoAKAgC0WNq5JMvwC', 'RAHA8vA8kAA=']);
    expect(parseRtpmap(sdpAttribute(a.attributes, 'rtpmap')!)).toEqual({ payloadType: 97, encoding: 'MP4A-LATM', clockRate: 44100, channels: 2 });
    expect(parseFmtp(sdpAttribute(a.attributes, 'fmtp')!).params.cpresent).toBe('0');
  });

  it.each(Object.entries(SAMPLES))('%s survives write -> parse unchanged', (_name, text) => {
    const sd = parseSdp(text);
    const written = writeSdp(sd);
    expect(written.endsWith('\r\n')).toBe(true);
    expect(written.split('\r\n').slice(0, -1).every((l) => /^[a-z]=/.test(l))).toBe(true);
    expect(parseSdp(written)).toEqual(sd);
  });

  it('writes the ffmpeg body back byte for byte', () => {
    expect(writeSdp(parseSdp(FFMPEG_ANNOUNCE))).toBe(FFMPEG_ANNOUNCE);
  });
});

describe('parseSdp tolerance and errors', () => {
  it('accepts CR-only line ends, blank lines, a BOM and leading blank lines', () => {
    const sd = parseSdp('\ufeff\r\n\r\nv=0\r\r\ns=x\rm=audio 5004/2 RTP/AVP 0 8\ra=sendonly\r');
    expect(sd.name).toBe('x');
    expect(sd.media[0]).toMatchObject({ port: 5004, numPorts: 2, formats: ['0', '8'] });
    expect(mediaDirection(sd.media[0])).toBe('sendonly');
  });

  it('keeps attribute values with colons and flags without values', () => {
    const sd = parseSdp('v=0\na=control:rtsp://h:554/x\na=recvonly\na=x: spaced value ');
    expect(sd.attributes).toEqual([{ name: 'control', value: 'rtsp://h:554/x' }, { name: 'recvonly' }, { name: 'x', value: 'spaced value' }]);
  });

  it('skips malformed optional lines and unknown letters', () => {
    const sd = parseSdp('v=0\nc=IN\nb=AS:lots\nt=now\nz=0 0\nk=clear:x\nhello\nx=1\nm=video 0 RTP/AVP 96\nc=IN IP4 0.0.0.0');
    expect(sd.connection).toBeUndefined();
    expect(sd.bandwidths).toEqual([]);
    expect(sd.timing).toEqual([{ start: 0, stop: 0 }]);
    expect(sd.media[0].connection).toEqual({ netType: 'IN', addrType: 'IP4', address: '0.0.0.0' });
  });

  it('reads multicast connections', () => {
    expect(parseSdp('v=0\nc=IN IP4 224.2.36.42/127/3').connection).toEqual({ netType: 'IN', addrType: 'IP4', address: '224.2.36.42', ttl: 127, numAddresses: 3 });
    expect(parseSdp('v=0\nc=IN IP6 ff15::101/3').connection).toEqual({ netType: 'IN', addrType: 'IP6', address: 'ff15::101', numAddresses: 3 });
    expect(writeSdp(parseSdp('v=0\nc=IN IP4 224.2.36.42/127/3'))).toContain('c=IN IP4 224.2.36.42/127/3\r\n');
  });

  it('takes an m= line without formats', () => {
    expect(parseSdp('v=0\nm=application 9 TCP/BFCP').media[0].formats).toEqual([]);
  });

  it.each([
    ['empty', ''],
    ['no v= line', 's=x\nv=0'],
    ['v= not a number', 'v=zero'],
    ['RTSP text', 'RTSP/1.0 200 OK\r\nCSeq: 1\r\n'],
    ['m= without protocol', 'v=0\nm=video 0'],
    ['m= port not a number', 'v=0\nm=video x RTP/AVP 96'],
    ['m= port out of range', 'v=0\nm=video 65536 RTP/AVP 96'],
    ['m= port count 0', 'v=0\nm=video 5000/0 RTP/AVP 96'],
    ['m= negative port', 'v=0\nm=video -1 RTP/AVP 96'],
  ])('rejects %s', (_n, text) => {
    expect(() => parseSdp(text)).toThrow(isMediaError('BAD_SDP'));
  });

  it('enforces its limits', () => {
    const media = (n: number) => `v=0\n${'m=audio 0 RTP/AVP 0\n'.repeat(n)}`;
    expect(parseSdp(media(32)).media).toHaveLength(32);
    expect(() => parseSdp(media(33))).toThrow(isMediaError('BAD_SDP'));
    expect(() => parseSdp(media(3), { maxMedia: 2 })).toThrow(isMediaError('BAD_SDP'));
    const attrs = (n: number) => `v=0\n${'a=x\n'.repeat(n)}`;
    expect(parseSdp(attrs(512)).attributes).toHaveLength(512);
    expect(() => parseSdp(attrs(513))).toThrow(isMediaError('BAD_SDP'));
    expect(() => parseSdp(`v=0\ns=${'x'.repeat(70000)}`)).toThrow(isMediaError('BAD_SDP'));
    expect(() => parseSdp(Buffer.alloc(100, 0x76), { maxBytes: 99 })).toThrow(isMediaError('BAD_SDP'));
    // multi-byte characters count in bytes
    expect(() => parseSdp(`v=0\ns=${'é'.repeat(40)}`, { maxBytes: 60 })).toThrow(isMediaError('BAD_SDP'));
  });
});

describe('writeSdp', () => {
  const sd: SessionDescription = {
    version: 0,
    origin: { username: '-', sessionId: '42', sessionVersion: '1', netType: 'IN', addrType: 'IP4', address: '10.0.0.1' },
    name: '',
    uri: 'http://x/',
    connection: { netType: 'IN', addrType: 'IP4', address: '0.0.0.0' },
    bandwidths: [{ type: 'AS', value: 3000 }],
    timing: [],
    attributes: [{ name: 'control', value: '*' }, { name: 'recvonly' }],
    media: [
      {
        type: 'video',
        port: 0,
        protocol: 'RTP/AVP',
        formats: ['96'],
        info: 'camera',
        bandwidths: [],
        attributes: [
          { name: 'rtpmap', value: '96 H264/90000' },
          { name: 'fmtp', value: formatFmtp(96, { 'packetization-mode': '1', 'profile-level-id': '42e01f' }) },
          { name: 'control', value: 'trackID=0' },
        ],
      },
    ],
  };

  it('writes the canonical order with CRLF', () => {
    expect(writeSdp(sd)).toBe(
      [
        'v=0',
        'o=- 42 1 IN IP4 10.0.0.1',
        's= ',
        'u=http://x/',
        'c=IN IP4 0.0.0.0',
        'b=AS:3000',
        't=0 0',
        'a=control:*',
        'a=recvonly',
        'm=video 0 RTP/AVP 96',
        'i=camera',
        'a=rtpmap:96 H264/90000',
        'a=fmtp:96 packetization-mode=1;profile-level-id=42e01f',
        'a=control:trackID=0',
        '',
      ].join('\r\n'),
    );
  });

  it('round trips through parseSdp', () => {
    expect(parseSdp(writeSdp(sd))).toEqual({ ...sd, timing: [{ start: 0, stop: 0 }] });
  });

  it('refuses values that would inject lines', () => {
    expect(() => writeSdp({ ...sd, name: 'x\r\na=evil' })).toThrow(isMediaError('BAD_ARGUMENT'));
    expect(() => writeSdp({ ...sd, attributes: [{ name: 'control', value: 'a\nb' }] })).toThrow(isMediaError('BAD_ARGUMENT'));
  });

  it('round trips generated descriptions', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.\-/+]{0,11}$/);
    const text = fc.stringMatching(/^[A-Za-z0-9][ -~]{0,20}[A-Za-z0-9=;]$/);
    const attr = fc.record({ name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,10}$/), value: fc.option(text, { nil: undefined }) }, { requiredKeys: ['name'] });
    const bw = fc.record({ type: fc.constantFrom('AS', 'CT', 'TIAS'), value: fc.nat(1e9) });
    const conn = fc.record({ netType: fc.constant('IN'), addrType: fc.constant('IP4'), address: fc.ipV4(), ttl: fc.option(fc.nat(255), { nil: undefined }) }, { requiredKeys: ['netType', 'addrType', 'address'] });
    const media = fc.record(
      {
        type: fc.constantFrom('video', 'audio', 'application'),
        port: fc.nat(65535),
        numPorts: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        protocol: fc.constantFrom('RTP/AVP', 'RTP/AVPF', 'RTP/SAVPF'),
        formats: fc.array(fc.nat(127).map(String), { maxLength: 4 }),
        connection: fc.option(conn, { nil: undefined }),
        bandwidths: fc.array(bw, { maxLength: 2 }),
        attributes: fc.array(attr, { maxLength: 5 }),
        info: fc.option(text, { nil: undefined }),
      },
      { requiredKeys: ['type', 'port', 'protocol', 'formats', 'bandwidths', 'attributes'] },
    );
    const session = fc.record(
      {
        version: fc.constant(0),
        origin: fc.record({ username: token, sessionId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), sessionVersion: fc.nat().map(String), netType: fc.constant('IN'), addrType: fc.constant('IP4'), address: fc.ipV4() }),
        name: text,
        info: fc.option(text, { nil: undefined }),
        uri: fc.option(token, { nil: undefined }),
        connection: fc.option(conn, { nil: undefined }),
        bandwidths: fc.array(bw, { maxLength: 2 }),
        timing: fc.array(fc.record({ start: fc.nat(), stop: fc.nat() }), { minLength: 1, maxLength: 2 }),
        attributes: fc.array(attr, { maxLength: 5 }),
        media: fc.array(media, { maxLength: 4 }),
      },
      { requiredKeys: ['version', 'origin', 'name', 'bandwidths', 'timing', 'attributes', 'media'] },
    );
    fc.assert(
      fc.property(session, (s) => {
        expect(parseSdp(writeSdp(s))).toEqual(s);
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseSdp on hostile input', () => {
  const onlyMediaErrors = (input: string | Buffer) => {
    try {
      const sd = parseSdp(input, { maxBytes: 4096, maxMedia: 8, maxAttributes: 64 });
      expect(sd.media.length).toBeLessThanOrEqual(8);
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
    }
  };

  it('random text and bytes only return or throw MediaError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => onlyMediaErrors(s)), { numRuns: 300 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyMediaErrors(Buffer.from(b))), { numRuns: 300 });
    const lines = fc.array(fc.tuple(fc.constantFrom('v', 'o', 's', 'i', 'c', 'b', 't', 'a', 'm', 'x'), fc.string({ maxLength: 30 })), { maxLength: 30 });
    fc.assert(fc.property(lines, (ls) => onlyMediaErrors(`v=0\n${ls.map(([t, v]) => `${t}=${v}`).join('\n')}`)), { numRuns: 300 });
  });

  it('mutated real descriptions only return or throw MediaError', () => {
    const sample = fc.constantFrom(...Object.values(SAMPLES));
    const mutation = fc.array(fc.tuple(fc.nat(2000), fc.nat(8), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(sample, mutation, (text, muts) => {
        let s = text;
        for (const [at, del, ins] of muts) {
          const i = at % (s.length + 1);
          s = s.slice(0, i) + ins + s.slice(i + del);
        }
        onlyMediaErrors(s);
        // and the helpers on whatever attributes came out
        try {
          for (const m of parseSdp(s).media) {
            for (const a of m.attributes) {
              for (const f of [parseRtpmap, parseFmtp]) {
                try {
                  f(a.value ?? '');
                } catch (e) {
                  if (!(e instanceof MediaError)) throw e;
                }
              }
              resolveControlUrl('rtsp://h/x?y=1', a.value);
            }
          }
        } catch (e) {
          if (!(e instanceof MediaError)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('sdpAttribute / sdpAttributes', () => {
  const attrs = [{ name: 'rtpmap', value: '96 H264/90000' }, { name: 'recvonly' }, { name: 'RTPMAP', value: '97 PCMA/8000' }];
  it('finds the first value, case-insensitively, with flags as empty strings', () => {
    expect(sdpAttribute(attrs, 'rtpmap')).toBe('96 H264/90000');
    expect(sdpAttribute(attrs, 'recvonly')).toBe('');
    expect(sdpAttribute(attrs, 'control')).toBeUndefined();
    expect(sdpAttributes(attrs, 'rtpmap')).toEqual(['96 H264/90000', '97 PCMA/8000']);
    expect(sdpAttributes(attrs, 'fmtp')).toEqual([]);
  });
});

describe('parseRtpmap', () => {
  it.each<[string, object]>([
    ['96 H264/90000', { payloadType: 96, encoding: 'H264', clockRate: 90000 }],
    ['111 opus/48000/2', { payloadType: 111, encoding: 'opus', clockRate: 48000, channels: 2 }],
    ['  97   MPEG4-GENERIC / 44100 / 2  ', { payloadType: 97, encoding: 'MPEG4-GENERIC', clockRate: 44100, channels: 2 }],
    ['96 H264/90000/', { payloadType: 96, encoding: 'H264', clockRate: 90000 }],
    ['0 PCMU/8000/1', { payloadType: 0, encoding: 'PCMU', clockRate: 8000, channels: 1 }],
  ])('%s', (value, want) => {
    expect(parseRtpmap(value)).toEqual(want);
  });

  it.each(['', 'H264/90000', '96 H264', '128 H264/90000', '96 H264/0', '96 /90000', '96 H264/abc'])('rejects %j', (value) => {
    expect(() => parseRtpmap(value)).toThrow(isMediaError('BAD_SDP'));
  });
});

describe('parseFmtp / formatFmtp', () => {
  it('lowercases keys, keeps values (and base64 padding) as written, tolerates spaces', () => {
    const f = parseFmtp('96 Profile-Level-Id = 42E01F ;  packetization-mode=1;;sprop-parameter-sets=Z0IAH5WoFAFuQA==,aM48gA==; flag ;');
    expect(f.payloadType).toBe(96);
    expect({ ...f.params }).toEqual({ 'profile-level-id': '42E01F', 'packetization-mode': '1', 'sprop-parameter-sets': 'Z0IAH5WoFAFuQA==,aM48gA==', flag: '' });
  });

  it('keeps the first of repeated keys and is safe with __proto__', () => {
    const f = parseFmtp('96 a=1;A=2;__proto__=x;constructor=y');
    expect(f.params.a).toBe('1');
    expect(f.params['__proto__']).toBe('x');
    expect(Object.keys(f.params)).toEqual(['a', '__proto__', 'constructor']);
  });

  it('takes a payload type alone, and telephone-event ranges', () => {
    expect({ ...parseFmtp('101').params }).toEqual({});
    expect({ ...parseFmtp('101 0-15').params }).toEqual({ '0-15': '' });
  });

  it.each(['', 'x=1', '200 a=1', '-1 a=1'])('rejects %j', (v) => {
    expect(() => parseFmtp(v)).toThrow(isMediaError('BAD_SDP'));
  });

  it('formats and parses back', () => {
    const params = { 'packetization-mode': '1', 'sprop-parameter-sets': 'Z0IAH5WoFAFuQA==,aM48gA==', flag: '' };
    const v = formatFmtp(96, params);
    expect(v).toBe('96 packetization-mode=1;sprop-parameter-sets=Z0IAH5WoFAFuQA==,aM48gA==;flag');
    expect({ ...parseFmtp(v).params }).toEqual(params);
    expect(formatFmtp(8, {})).toBe('8');
  });
});

describe('mediaDirection', () => {
  const m = (...names: string[]) => ({ attributes: names.map((name) => ({ name })) });
  it('prefers the media level, then the session level, then sendrecv', () => {
    expect(mediaDirection(m('recvonly'), m('sendonly'))).toBe('recvonly');
    expect(mediaDirection(m('x'), m('inactive'))).toBe('inactive');
    expect(mediaDirection(m(), m())).toBe('sendrecv');
    expect(mediaDirection(m('SendOnly'))).toBe('sendonly');
  });
});

describe('resolveControlUrl', () => {
  it.each<[string, string | undefined, string]>([
    ['rtsp://h/live', undefined, 'rtsp://h/live'],
    ['rtsp://h/live', '', 'rtsp://h/live'],
    ['rtsp://h/live', '*', 'rtsp://h/live'],
    ['rtsp://h/live', 'trackID=1', 'rtsp://h/live/trackID=1'],
    ['rtsp://h/live/', 'trackID=1', 'rtsp://h/live/trackID=1'],
    ['rtsp://h/live//', 'trackID=1', 'rtsp://h/live/trackID=1'],
    ['rtsp://h:554/live', ' streamid=0 ', 'rtsp://h:554/live/streamid=0'],
    ['rtsp://h/live', 'rtsp://other:8554/x/track1', 'rtsp://other:8554/x/track1'],
    ['rtsp://h/live', 'RTSPS://other/x', 'RTSPS://other/x'],
    ['rtsp://h/a/b', '/c/track1', 'rtsp://h/c/track1'],
    ['rtsp://user:pw@h:554/a/b?x=1', '/c', 'rtsp://user:pw@h:554/c'],
    ['rtsp://h/cam/realmonitor?channel=1&subtype=0', 'trackID=0', 'rtsp://h/cam/realmonitor?channel=1&subtype=0/trackID=0'],
    ['rtsp://h/cam/realmonitor?channel=1&subtype=0/', 'trackID=0', 'rtsp://h/cam/realmonitor?channel=1&subtype=0/trackID=0'],
    ['rtsp://h/live', '?ctype=video', 'rtsp://h/live?ctype=video'],
  ])('%s + %j', (base, control, want) => {
    expect(resolveControlUrl(base, control)).toBe(want);
  });
});
