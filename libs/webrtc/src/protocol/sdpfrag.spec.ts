import fc from 'fast-check';
import { MediaError } from '@m7s/media';
import { buildSdpFrag, parseSdpFrag } from './sdpfrag';

const LIMITS = { maxBytes: 16384, maxCandidates: 64 };

/** RFC 9725 4.3.1's trickle example. */
const TRICKLE = [
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:0',
  'a=ice-ufrag:EsAw',
  'a=ice-pwd:bP+XJMM09aR8AiX1jdukzR6Y',
  'a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1',
  'a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw network-id 2',
  'a=candidate:473322822 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active generation 0 ufrag EsAw network-id 1',
  'a=end-of-candidates',
].join('\r\n');

describe('parseSdpFrag', () => {
  it('reads credentials, candidates with their mid, and end-of-candidates', () => {
    const frag = parseSdpFrag(TRICKLE, LIMITS);
    expect(frag.iceUfrag).toBe('EsAw');
    expect(frag.icePwd).toBe('bP+XJMM09aR8AiX1jdukzR6Y');
    expect(frag.endOfCandidates).toBe(true);
    expect(frag.candidates).toHaveLength(3);
    expect(frag.candidates[0]).toEqual({ candidate: 'candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1', sdpMid: '0', sdpMLineIndex: 0 });
  });

  it('takes LF line ends, session-level credentials and a fragment with candidates only', () => {
    expect(parseSdpFrag('a=ice-ufrag:abcd\na=ice-pwd:abcdefghijklmnopqrstuvwx\n', LIMITS)).toEqual({ iceUfrag: 'abcd', icePwd: 'abcdefghijklmnopqrstuvwx', candidates: [], endOfCandidates: false });
    const frag = parseSdpFrag('a=candidate:1 1 UDP 1 abcdef01-2345-6789-abcd-ef0123456789.local 5000 typ host\n', LIMITS);
    expect(frag.candidates[0].sdpMLineIndex).toBe(0);
    expect(frag.iceUfrag).toBeUndefined();
  });

  it.each([
    ['a malformed candidate', 'a=candidate:xyz'],
    ['a candidate without typ', 'a=candidate:1 1 udp 1 192.0.2.1 5000 host'],
    ['a short ufrag', 'a=ice-ufrag:ab\na=ice-pwd:abcdefghijklmnopqrstuvwx'],
    ['a ufrag without pwd', 'a=ice-ufrag:abcd'],
    ['two ufrags', 'a=ice-ufrag:abcd\na=ice-ufrag:efgh\na=ice-pwd:abcdefghijklmnopqrstuvwx'],
    ['too many candidates', 'a=candidate:1 1 udp 1 192.0.2.1 5000 typ host\n'.repeat(65)],
    ['too many bytes', 'a=x\n'.repeat(5000)],
  ])('refuses %s', (_, text) => {
    expect(() => parseSdpFrag(text, LIMITS)).toThrow(MediaError);
  });

  it('throws nothing but MediaError for random and mutated input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('a=', 'candidate:', 'ice-ufrag:', 'ice-pwd:', 'm=audio 9 x 0', 'mid:', ' ', '1', 'udp', 'typ', 'host', '\r\n', '\n', 'abcd', ':') })), (text) => {
        try {
          parseSdpFrag(text, LIMITS);
        } catch (error) {
          if (!(error instanceof MediaError)) throw error;
        }
      }),
    );
    fc.assert(
      fc.property(fc.nat(TRICKLE.length), fc.string({ maxLength: 30 }), (at, text) => {
        try {
          parseSdpFrag(TRICKLE.slice(0, at) + text + TRICKLE.slice(at + text.length), LIMITS);
        } catch (error) {
          if (!(error instanceof MediaError)) throw error;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('buildSdpFrag', () => {
  it("writes the server's credentials, the m-lines and the candidates under the first one; it reads back", () => {
    const text = buildSdpFrag({
      iceUfrag: 'wxyz',
      icePwd: 'abcdefghijklmnopqrstuvwx',
      media: [
        { kind: 'audio', mid: '0', formats: ['111'] },
        { kind: 'video', mid: '1', formats: ['102'] },
      ],
      candidates: ['candidate:1 1 udp 2130706431 198.51.100.1 39132 typ host'],
    });
    expect(text).toBe(
      [
        'a=ice-ufrag:wxyz',
        'a=ice-pwd:abcdefghijklmnopqrstuvwx',
        'a=group:BUNDLE 0 1',
        'm=audio 9 UDP/TLS/RTP/SAVPF 111',
        'a=mid:0',
        'a=candidate:1 1 udp 2130706431 198.51.100.1 39132 typ host',
        'a=end-of-candidates',
        'm=video 9 UDP/TLS/RTP/SAVPF 102',
        'a=mid:1',
        '',
      ].join('\r\n'),
    );
    const back = parseSdpFrag(text, LIMITS);
    expect(back).toMatchObject({ iceUfrag: 'wxyz', endOfCandidates: true, candidates: [{ sdpMid: '0', sdpMLineIndex: 0 }] });
  });
});
