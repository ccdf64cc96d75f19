import fc from 'fast-check';
import { RtspProtocolError } from './rtsp-message';
import { formatTransport, parseTransportHeader, RtspTransport } from './rtsp-transport';

describe('parseTransportHeader', () => {
  it('reads what ffmpeg, VLC and GStreamer offer', () => {
    expect(parseTransportHeader('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record')).toEqual([
      { protocol: 'RTP/AVP/TCP', lowerTransport: 'TCP', multicast: false, interleaved: [0, 1], mode: 'record', params: { unicast: '', interleaved: '0-1', mode: 'record' } },
    ]);
    expect(parseTransportHeader('RTP/AVP;unicast;client_port=52514-52515')).toEqual([
      { protocol: 'RTP/AVP', lowerTransport: 'UDP', multicast: false, clientPort: [52514, 52515], params: { unicast: '', client_port: '52514-52515' } },
    ]);
    // GStreamer's offer of several lower transports at once
    const offers = parseTransportHeader('RTP/AVP;multicast;port=5000-5001;ttl=16,RTP/AVP/UDP;unicast;client_port=39820-39821,RTP/AVP/TCP;unicast;interleaved=0-1');
    expect(offers.map((o) => [o.protocol, o.lowerTransport, o.multicast])).toEqual([
      ['RTP/AVP', 'UDP', true],
      ['RTP/AVP/UDP', 'UDP', false],
      ['RTP/AVP/TCP', 'TCP', false],
    ]);
    expect(offers[0].port).toEqual([5000, 5001]);
    expect(offers[0].ttl).toBe(16);
  });

  it('reads a live555 server reply and a camera with quoted mode and short ssrc', () => {
    const [reply] = parseTransportHeader('RTP/AVP;unicast;destination=127.0.0.1;source=127.0.0.1;client_port=52514-52515;server_port=6970-6971');
    expect(reply).toMatchObject({ destination: '127.0.0.1', source: '127.0.0.1', clientPort: [52514, 52515], serverPort: [6970, 6971] });
    const [camera] = parseTransportHeader(' RTP/AVP ; unicast ; client_port = 8000-8001 ; server_port=8002-8003 ; ssrc=1A2B3C ; mode="PLAY" ');
    expect(camera).toMatchObject({ clientPort: [8000, 8001], serverPort: [8002, 8003], ssrc: 0x1a2b3c, mode: 'PLAY' });
    expect(parseTransportHeader('RTP/AVP;unicast;ssrc=DEADBEEF')[0].ssrc).toBe(0xdeadbeef);
    expect(parseTransportHeader('RTP/AVP;unicast;ssrc=not-hex')[0].ssrc).toBeUndefined();
  });

  it('takes a single port as the RTP port with RTCP next, and unicast by default', () => {
    const [t] = parseTransportHeader('RTP/AVP/TCP;interleaved=4');
    expect(t.interleaved).toEqual([4, 5]);
    expect(t.multicast).toBe(false);
    expect(parseTransportHeader('RTP/AVP;client_port=5000')[0].clientPort).toEqual([5000, 5001]);
  });

  it('keeps a quoted value with commas in one alternative, and unknown parameters raw', () => {
    const t = parseTransportHeader('RTP/SAVP;unicast;client_port=1-2;x-note="a,b";append;mode="PLAY,RECORD"');
    expect(t).toHaveLength(1);
    expect(t[0].protocol).toBe('RTP/SAVP');
    expect(t[0].params).toMatchObject({ 'x-note': 'a,b', append: '', mode: 'PLAY,RECORD' });
  });

  it('gives no alternatives for an empty value', () => {
    expect(parseTransportHeader('')).toEqual([]);
    expect(parseTransportHeader(' , ')).toEqual([]);
  });

  it.each(['RTP', 'RTP/AVP/SCTP', 'RTP/AVP;client_port=abc', 'RTP/AVP;client_port=70000-70001', 'RTP/AVP/TCP;interleaved=256-257', 'RTP/AVP;ttl=300', 'RTP/AVP;server_port=1-2-3'])(
    'rejects %s with 400',
    (value) => {
      expect(() => parseTransportHeader(value)).toThrow(RtspProtocolError);
      try {
        parseTransportHeader(value);
      } catch (e) {
        expect((e as RtspProtocolError).status).toBe(400);
      }
    },
  );
});

describe('formatTransport', () => {
  it('writes server replies clients read', () => {
    expect(formatTransport({ protocol: 'RTP/AVP/TCP', lowerTransport: 'TCP', multicast: false, interleaved: [0, 1], mode: 'record', params: {} })).toBe('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record');
    expect(
      formatTransport({ protocol: 'RTP/AVP', lowerTransport: 'UDP', multicast: false, clientPort: [52514, 52515], serverPort: [30000, 30001], ssrc: 0x1a2b, params: { unicast: '', client_port: 'ignored' } }),
    ).toBe('RTP/AVP;unicast;client_port=52514-52515;server_port=30000-30001;ssrc=00001A2B');
    expect(formatTransport({ protocol: 'RTP/AVP', lowerTransport: 'UDP', multicast: true, destination: '239.0.0.1', port: [5000, 5001], ttl: 16, params: {} })).toBe(
      'RTP/AVP;multicast;destination=239.0.0.1;port=5000-5001;ttl=16',
    );
  });

  it('round-trips through the parser', () => {
    const pair = fc.integer({ min: 0, max: 65534 }).map((a): [number, number] => [a, a + 1]);
    const transport = fc.record(
      {
        protocol: fc.constantFrom('RTP/AVP', 'RTP/AVP/TCP', 'RTP/AVP/UDP', 'RTP/SAVP'),
        multicast: fc.boolean(),
        interleaved: fc.integer({ min: 0, max: 254 }).map((a): [number, number] => [a, a + 1]),
        clientPort: pair,
        serverPort: pair,
        port: pair,
        destination: fc.ipV4(),
        source: fc.ipV4(),
        ttl: fc.integer({ min: 0, max: 255 }),
        ssrc: fc.integer({ min: 0, max: 0xffffffff }),
        mode: fc.constantFrom('play', 'record', 'PLAY'),
        params: fc.dictionary(fc.stringMatching(/^x-[a-z]{1,6}$/), fc.stringMatching(/^[a-z0-9,]{0,6}$/), { maxKeys: 3 }),
      },
      { requiredKeys: ['protocol', 'multicast', 'params'] },
    );
    fc.assert(
      fc.property(transport, (t) => {
        const full: RtspTransport = { ...t, lowerTransport: t.protocol.endsWith('/TCP') ? 'TCP' : 'UDP' };
        const [back] = parseTransportHeader(formatTransport(full));
        const { params: _params, ...typed } = back;
        const { params: _given, ...expected } = full;
        expect(typed).toEqual(expected);
        for (const [k, v] of Object.entries(t.params)) expect(back.params[k]).toBe(v);
      }),
      { numRuns: 300 },
    );
  });

  it('throws only RtspProtocolError on random values', () => {
    const s = fc.string({ unit: fc.constantFrom('R', 'T', 'P', '/', 'A', 'V', 'C', 'U', 'D', ';', ',', '=', '-', '"', '0', '1', '9', 'i', 'n', 't', 'e', 'r', 'l', 'a', 'v', 'd', 'p', 'o', ' ') });
    fc.assert(
      fc.property(fc.oneof(s, fc.string()), (v) => {
        try {
          parseTransportHeader(v);
        } catch (e) {
          expect(e).toBeInstanceOf(RtspProtocolError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
