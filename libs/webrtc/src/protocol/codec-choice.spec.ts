import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AudioConfig, VideoConfig } from '@m7s/media';
import { choosePlayAudioCodec, choosePlayVideoCodec, choosePushCodec, playableAudioCodecs } from './codec-choice';
import { h264Decodes, parseH264ProfileLevelId } from './h264-profile';
import { OfferCodec, OfferMedia, parseOffer } from './offer';

const WHIP = parseOffer(readFileSync(join(__dirname, 'fixtures/chromium-whip-offer.sdp'), 'utf8'), { maxBytes: 65536 });
const WHEP = parseOffer(readFileSync(join(__dirname, 'fixtures/chromium-whep-offer.sdp'), 'utf8'), { maxBytes: 65536 });

const h264Stream = (profileLevelId: string): VideoConfig => ({
  kind: 'video',
  codec: 'h264',
  record: Buffer.alloc(0),
  parameterSets: [Buffer.from(`67${profileLevelId}ffff`, 'hex'), Buffer.from('68ce3c80', 'hex')],
  width: 640,
  height: 360,
});
const audio = (codec: AudioConfig['codec'], sampleRate = 48000, channels = 2): AudioConfig => ({ kind: 'audio', codec, record: Buffer.alloc(0), sampleRate, channels });
const media = (codecs: Partial<OfferCodec>[], kind = 'video'): OfferMedia => ({
  index: 0,
  kind,
  mid: '0',
  direction: 'recvonly',
  codecs: codecs.map((c, i) => ({ payloadType: 96 + i, encoding: 'H264', clockRate: 90000, fmtp: {}, feedback: [], ...c })),
});
const plid = (c: OfferCodec | undefined) => c && `${c.encoding} ${c.fmtp['profile-level-id'] ?? ''}`.trim();

describe('H.264 profile-level-id', () => {
  it.each([
    ['42e01f', 'constrained-baseline', 31],
    ['42001f', 'baseline', 31],
    ['42c01e', 'constrained-baseline', 30],
    ['4d001f', 'main', 31],
    ['4d4028', 'main', 40],
    ['640c1f', 'constrained-high', 31],
    ['64001f', 'high', 31],
    ['f4001f', 'predictive-high-444', 31],
    ['42f00b', 'constrained-baseline', 9],
  ])('%s is %s level %d', (value, profile, level) => {
    expect(parseH264ProfileLevelId(value)).toEqual({ profile, level });
  });

  it.each(['', '42e0', 'zzzzzz', '6e001f', '58a01f0'])('%j is not a profile-level-id', (value) => {
    expect(parseH264ProfileLevelId(value)).toBeUndefined();
  });

  it('knows which decoders read which streams', () => {
    const p = (v: string) => parseH264ProfileLevelId(v)!;
    expect(h264Decodes(p('64001f'), p('42e01f'))).toBe(true);
    expect(h264Decodes(p('42e01f'), p('64001f'))).toBe(false);
    expect(h264Decodes(p('4d001f'), p('42001f'))).toBe(false);
    expect(h264Decodes(p('64001f'), p('4d001f'))).toBe(true);
  });
});

describe('choosePushCodec (WHIP)', () => {
  const accept = () => true;

  it("takes the server's preference, then the offer's order, H.264 only in packetization mode 1", () => {
    expect(plid(choosePushCodec(WHIP.media[1], ['h264', 'vp8'], accept))).toBe('H264 42001f');
    expect(choosePushCodec(WHIP.media[1], ['vp8', 'h264'], accept)?.encoding).toBe('VP8');
    expect(choosePushCodec(WHIP.media[0], ['opus', 'pcma'], accept)?.encoding).toBe('OPUS');
    expect(choosePushCodec(WHIP.media[0], ['pcma', 'opus'], accept)?.encoding).toBe('PCMA');
    expect(choosePushCodec(media([{ fmtp: { 'packetization-mode': '0' } }]), ['h264'], accept)).toBeUndefined();
  });

  it('skips formats the ingest cannot read and codecs not allowed', () => {
    expect(choosePushCodec(WHIP.media[1], ['av1', 'h264'], (c) => c.encoding !== 'AV1')?.encoding).toBe('H264');
    expect(choosePushCodec(WHIP.media[1], ['h265'], accept)).toBeUndefined();
    expect(choosePushCodec(media([{ encoding: 'G722', clockRate: 8000 }], 'audio'), ['opus', 'pcma', 'pcmu'], accept)).toBeUndefined();
  });
});

describe('choosePlayVideoCodec (WHEP)', () => {
  it("answers an H.264 stream with the offered format of the stream's profile", () => {
    expect(plid(choosePlayVideoCodec(WHEP.media[0], h264Stream('42c01e')))).toBe('H264 42e01f');
    expect(plid(choosePlayVideoCodec(WHEP.media[0], h264Stream('4d401f')))).toBe('H264 4d001f');
    expect(plid(choosePlayVideoCodec(WHEP.media[0], h264Stream('42001f')))).toBe('H264 42001f');
  });

  it('takes a decoder of a superset profile, then any H.264 format, for a profile not offered', () => {
    const offered = media([{ fmtp: { 'packetization-mode': '1', 'profile-level-id': '42e01f' } }, { fmtp: { 'packetization-mode': '1', 'profile-level-id': '64001f' } }]);
    expect(plid(choosePlayVideoCodec(offered, h264Stream('4d001f')))).toBe('H264 64001f');
    // Chromium lists no High profile: a High stream gets its Main format (browsers decode High anyway).
    expect(plid(choosePlayVideoCodec(WHEP.media[0], h264Stream('640028')))).toMatch(/^H264 /);
  });

  it('answers other codecs with the same codec, and refuses one the browser does not offer', () => {
    const vp9: VideoConfig = { ...h264Stream('42e01f'), codec: 'vp9', parameterSets: [] };
    expect(choosePlayVideoCodec(WHEP.media[0], vp9)?.encoding).toBe('VP9');
    expect(choosePlayVideoCodec(WHEP.media[0], { ...vp9, codec: 'h265' })).toBeUndefined();
  });

  it('takes any carriable format for a stream without video', () => {
    expect(choosePlayVideoCodec(WHEP.media[0], undefined)?.encoding).toBe('VP8');
  });
});

describe('WHEP audio', () => {
  it('lists Opus, PCMA, PCMU in that order and passes G.711 at 8 kHz through', () => {
    const playable = playableAudioCodecs(WHEP.media[1]);
    expect(playable.map((p) => p.codec)).toEqual(['opus', 'pcma', 'pcmu']);
    expect(choosePlayAudioCodec(playable, audio('pcma', 8000, 1))?.codec).toBe('pcma');
    expect(choosePlayAudioCodec(playable, audio('pcma', 16000, 1))?.codec).toBe('opus');
    expect(choosePlayAudioCodec(playable, audio('aac', 44100))?.codec).toBe('opus');
    expect(choosePlayAudioCodec(playable, undefined)?.codec).toBe('opus');
    expect(choosePlayAudioCodec([], audio('opus'))).toBeUndefined();
  });
});
