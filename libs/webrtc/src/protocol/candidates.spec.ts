import fc from 'fast-check';
import { ipVersion, mappedCandidates, parseAddressMapping, parseCandidate, withMappedCandidates } from './candidates';

const HOST = 'candidate:626da4e5384a0ce2d0d93678a 1 udp 2116026367 10.0.0.5 40000 typ host generation 0 ufrag 4d3b';
const HOST6 = 'candidate:32b1715da3b0ef8ba684454eb 1 udp 2116026367 fd00::2 40001 typ host generation 0 ufrag 4d3b';
const TCP_PASSIVE = 'candidate:abc 1 tcp 1518280447 10.0.0.5 40002 typ host tcptype passive generation 0';
const TCP_ACTIVE = 'candidate:abd 1 tcp 1518280447 10.0.0.5 9 typ host tcptype active generation 0';
const SRFLX = 'candidate:abe 1 udp 1686052607 198.51.100.9 40000 typ srflx raddr 10.0.0.5 rport 40000';

describe('address mappings (public IP, 1:1 NAT)', () => {
  it.each([
    ['203.0.113.7', { to: '203.0.113.7' }],
    ['10.0.0.5=203.0.113.7', { from: '10.0.0.5', to: '203.0.113.7' }],
    [' 10.0.0.5 = 203.0.113.7 ', { from: '10.0.0.5', to: '203.0.113.7' }],
    ['2001:db8::1', { to: '2001:db8::1' }],
    ['example.com', undefined],
    ['10.0.0.5=', undefined],
    ['1.2.3.4=5.6.7.8=9.9.9.9', undefined],
    ['256.1.1.1', undefined],
  ])('%j', (entry, expected) => {
    expect(parseAddressMapping(entry)).toEqual(expected);
  });

  it('tells IP versions apart', () => {
    expect(['127.0.0.1', '::1', 'fe80::1', '::ffff:10.0.0.1', 'x.local', '1.2.3', ':::'].map(ipVersion)).toEqual([4, 6, 6, 6, 0, 0, 0]);
  });

  it('adds the public address beside each host candidate of its IP version, same port, passive TCP too', () => {
    const added = mappedCandidates([HOST, HOST6, TCP_PASSIVE, TCP_ACTIVE, SRFLX], [{ to: '203.0.113.7' }]);
    expect(added).toEqual([
      'candidate:626da4e5384a0ce2d0d93678an0 1 udp 2116026366 203.0.113.7 40000 typ host generation 0 ufrag 4d3b',
      'candidate:abcn0 1 tcp 1518280446 203.0.113.7 40002 typ host tcptype passive generation 0',
    ]);
    expect(added.map(parseCandidate).every((c) => c !== undefined)).toBe(true);
  });

  it('maps only the private address named, and never twice', () => {
    expect(mappedCandidates([HOST, HOST6], [{ from: 'fd00::2', to: '2001:db8::7' }])).toEqual([
      'candidate:32b1715da3b0ef8ba684454ebn0 1 udp 2116026366 2001:db8::7 40001 typ host generation 0 ufrag 4d3b',
    ]);
    expect(mappedCandidates([HOST], [{ to: '10.0.0.5' }])).toEqual([]);
    expect(mappedCandidates([HOST], [{ to: '203.0.113.7' }, { from: '10.0.0.5', to: '203.0.113.7' }])).toHaveLength(1);
  });

  it('writes the added candidates after the candidates of each media section of an answer', () => {
    const answer = ['v=0', 's=-', 'm=video 9 UDP/TLS/RTP/SAVPF 96', `a=${HOST}`, 'a=end-of-candidates', 'a=mid:0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111', 'a=mid:1', ''].join('\r\n');
    const out = withMappedCandidates(answer, [{ to: '203.0.113.7' }]);
    expect(out.split('\r\n')).toEqual([
      'v=0',
      's=-',
      'm=video 9 UDP/TLS/RTP/SAVPF 96',
      `a=${HOST}`,
      'a=candidate:626da4e5384a0ce2d0d93678an0 1 udp 2116026366 203.0.113.7 40000 typ host generation 0 ufrag 4d3b',
      'a=end-of-candidates',
      'a=mid:0',
      'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      'a=mid:1',
      '',
    ]);
    expect(withMappedCandidates(answer, [])).toBe(answer);
  });

  it('never throws on odd candidate lines', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (lines) => {
        mappedCandidates(lines, [{ to: '203.0.113.7' }]);
        parseAddressMapping(lines.join('='));
      }),
    );
  });
});
