import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { MediaError, parseSdp } from '@m7s/media';
import { isMdnsCandidate, offerSdp, offerWithIceCredentials, parseOffer, pruneOffer } from './offer';

const WHIP = readFileSync(join(__dirname, 'fixtures/chromium-whip-offer.sdp'), 'utf8');
const WHEP = readFileSync(join(__dirname, 'fixtures/chromium-whep-offer.sdp'), 'utf8');
const LIMITS = { maxBytes: 65536 };

const minimal = (media: string) =>
  ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=ice-ufrag:abcd', 'a=ice-pwd:abcdefghijklmnopqrstuvwx', 'a=fingerprint:sha-256 AA:BB', media].join('\r\n') + '\r\n';

describe('parseOffer', () => {
  it("reads Chromium's WHIP offer: audio and video, sendonly, every payload format with fmtp and rtcp-fb", () => {
    const offer = parseOffer(WHIP, LIMITS);
    expect(offer.iceUfrag).toMatch(/^[A-Za-z0-9+/]{4,}$/);
    expect(offer.media.map((m) => [m.kind, m.mid, m.direction])).toEqual([
      ['audio', '0', 'sendonly'],
      ['video', '1', 'sendonly'],
    ]);
    const opus = offer.media[0].codecs.find((c) => c.encoding === 'OPUS')!;
    expect(opus).toMatchObject({ payloadType: 111, clockRate: 48000, channels: 2, fmtp: { useinbandfec: '1' }, feedback: ['transport-cc'] });
    expect(offer.media[0].codecs.map((c) => c.encoding)).toEqual(expect.arrayContaining(['PCMU', 'PCMA', 'G722']));
    const h264 = offer.media[1].codecs.filter((c) => c.encoding === 'H264');
    expect(h264.map((c) => `${c.fmtp['profile-level-id']}/${c.fmtp['packetization-mode']}`)).toEqual(expect.arrayContaining(['42e01f/1', '42e01f/0', '4d001f/1']));
    expect(h264[0].feedback).toEqual(expect.arrayContaining(['nack', 'nack pli', 'transport-cc', 'goog-remb', 'ccm fir']));
    expect(offer.media[1].codecs.map((c) => c.encoding)).toEqual(expect.arrayContaining(['VP8', 'VP9', 'AV1', 'RTX']));
  });

  it("reads Chromium's WHEP offer (recvonly)", () => {
    const offer = parseOffer(WHEP, LIMITS);
    expect(offer.media.map((m) => [m.kind, m.direction])).toEqual([
      ['video', 'recvonly'],
      ['audio', 'recvonly'],
    ]);
  });

  it('gives static G.711 payload types without rtpmap, HEVC as H265 and AV1X as AV1', () => {
    const offer = parseOffer(
      minimal(['m=video 9 UDP/TLS/RTP/SAVPF 96 97', 'a=rtpmap:96 HEVC/90000', 'a=rtpmap:97 AV1X/90000', 'm=audio 9 UDP/TLS/RTP/SAVPF 0 8', 'a=mid:a'].join('\r\n')),
      LIMITS,
    );
    expect(offer.media[0].codecs.map((c) => c.encoding)).toEqual(['H265', 'AV1']);
    expect(offer.media[1].codecs.map((c) => `${c.encoding}/${c.clockRate}`)).toEqual(['PCMU/8000', 'PCMA/8000']);
    expect(offer.media[1].mid).toBe('a');
  });

  it.each([
    ['not an SDP', 'hello'],
    ['no m-line', 'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n'],
    ['no ICE credentials', 'v=0\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 AA\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n'],
    ['no fingerprint', 'v=0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n'],
    ['plain RTP/AVP', minimal('m=video 9 RTP/AVP 96\r\na=rtpmap:96 H264/90000')],
    ['too large', minimal('m=video 9 UDP/TLS/RTP/SAVPF 96\r\n' + 'a=x\r\n'.repeat(20000))],
  ])('refuses %s with MediaError BAD_SDP', (_, text) => {
    expect(() => parseOffer(text, LIMITS)).toThrow(MediaError);
  });

  it('keeps an offer with only an application m-line readable (the edge refuses it: no audio or video)', () => {
    const offer = parseOffer(minimal('m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0'), LIMITS);
    expect(offer.media.map((m) => m.kind)).toEqual(['application']);
    expect(offer.media[0].codecs).toEqual([]);
  });

  it('throws nothing but MediaError for random and mutated input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('v', '=', '0', '\r\n', 'm', 'a', 'video', ' 9 ', 'UDP/TLS/RTP/SAVPF', 'rtpmap:', 'fmtp:', '96', ' H264/90000', 'ice-ufrag:abcd', 'fingerprint:x', ';', '/') })), (text) => {
        try {
          parseOffer(text, LIMITS);
        } catch (error) {
          if (!(error instanceof MediaError)) throw error;
        }
      }),
    );
    const lines = WHIP.split('\r\n');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(lines.length - 1), fc.string({ maxLength: 20 })), { maxLength: 8 }), (edits) => {
        const mutated = [...lines];
        for (const [at, text] of edits) mutated[at] = mutated[at].slice(0, text.length) + text;
        try {
          parseOffer(mutated.join('\r\n'), LIMITS);
        } catch (error) {
          if (!(error instanceof MediaError)) throw error;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('pruneOffer', () => {
  it('leaves each m-line with the chosen payload types and their lines only', () => {
    const offer = parseOffer(WHIP, LIMITS);
    const h264 = offer.media[1].codecs.find((c) => c.encoding === 'H264' && c.fmtp['profile-level-id'] === '42e01f' && c.fmtp['packetization-mode'] === '1')!;
    const pruned = pruneOffer(offer, new Map([[0, [111]], [1, [h264.payloadType]]]));
    const text = offerSdp(pruned);
    const sdp = parseSdp(text);
    expect(sdp.media[0].formats).toEqual(['111']);
    expect(sdp.media[1].formats).toEqual([String(h264.payloadType)]);
    const video = sdp.media[1].attributes.filter((a) => ['rtpmap', 'fmtp', 'rtcp-fb'].includes(a.name)).map((a) => a.value!.split(' ')[0]);
    expect(new Set(video)).toEqual(new Set([String(h264.payloadType)]));
    expect(sdp.media[1].attributes.some((a) => a.name === 'extmap')).toBe(true);
    expect(pruned.media[1].codecs).toEqual([h264]);
    // The result reads back as the same offer.
    expect(parseOffer(text, LIMITS).media[1].codecs).toEqual([h264]);
  });

  it('drops mDNS candidates (a server cannot resolve them; the checks reveal the address)', () => {
    const mdns = 'candidate:1 1 udp 2122260223 4b5e1a2c-5d3f-4e2a-9b1c-0a1b2c3d4e5f.local 61764 typ host generation 0';
    expect(isMdnsCandidate(mdns)).toBe(true);
    expect(isMdnsCandidate('candidate:1 1 udp 2122260223 192.0.2.1 61764 typ host')).toBe(false);
    const offer = parseOffer(minimal(['m=video 9 UDP/TLS/RTP/SAVPF 96', 'a=rtpmap:96 VP8/90000', `a=${mdns}`, 'a=candidate:2 1 udp 1 192.0.2.1 5000 typ host'].join('\r\n')), LIMITS);
    const text = offerSdp(pruneOffer(offer, new Map([[0, [96]]])));
    expect(text).not.toContain('.local');
    expect(text).toContain('a=candidate:2 1 udp 1 192.0.2.1 5000 typ host');
  });

  it('writes new ICE credentials for an ICE restart and drops the old candidates', () => {
    const offer = parseOffer(WHIP, LIMITS);
    const restarted = offerWithIceCredentials(offer, 'wxyz', 'zyxwvutsrqponmlkjihgfedcba');
    const text = offerSdp(restarted);
    expect(text).toContain('a=ice-ufrag:wxyz\r\n');
    expect(text).not.toContain(`a=ice-ufrag:${offer.iceUfrag}\r\n`);
    expect(text).not.toContain('a=candidate');
    expect(parseOffer(text, LIMITS).icePwd).toBe('zyxwvutsrqponmlkjihgfedcba');
    expect(Number(restarted.sdp.origin.sessionVersion)).toBe(Number(offer.sdp.origin.sessionVersion) + 1);
  });
});
