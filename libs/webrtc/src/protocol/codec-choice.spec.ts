import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AudioConfig, VideoConfig } from '@m7s/media';
import { choosePlayAudioCodec, choosePlayVideoCodec, choosePushCodec, h265ProfileOfConfig, playableAudioCodecs } from './codec-choice';
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
/** x265's SPS (Main, level 2, 320x240) as GStreamer's rtph265pay wrote it in sprop-sps (with emulation prevention bytes). */
const X265_SPS = Buffer.from('QgEBAWAAAAMAkAAAAwAAAwA8oAoIDxZbpKTC//AAEAAWoMDAwIAAAAMAgAAADIQ=', 'base64');
const h265Stream = (parameterSets: Buffer[], record = Buffer.alloc(0)): VideoConfig => ({ kind: 'video', codec: 'h265', record, parameterSets, width: 320, height: 240 });
/** An hvcC record's first 13 bytes: version 1, general profile_idc, compatibility and constraint flags, level_idc. */
const hvcC = (profileIdc: number, levelIdc: number) => Buffer.from([1, profileIdc, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, levelIdc]);
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

  it('reads an H.265 profile and level from the SPS, else from the hvcC record', () => {
    expect(h265ProfileOfConfig(h265Stream([X265_SPS]))).toEqual({ profileId: 1, levelId: 60 });
    expect(h265ProfileOfConfig(h265Stream([], hvcC(2, 120)))).toEqual({ profileId: 2, levelId: 120 });
    expect(h265ProfileOfConfig(h265Stream([Buffer.from('4201ff', 'hex')], hvcC(1, 93)))).toEqual({ profileId: 1, levelId: 93 });
    expect(h265ProfileOfConfig(h265Stream([]))).toBeUndefined();
  });

  it('H.265: takes the offered profile-id of the stream, then a decoder of it, then a level at least the stream\'s', () => {
    const h265 = (fmtp: Record<string, string>) => ({ encoding: 'H265', fmtp });
    const chosen = (offered: OfferMedia, stream: VideoConfig) => choosePlayVideoCodec(offered, stream)?.payloadType;
    // Chromium's order: Main then Main 10. A Main 10 stream gets the Main 10 format; a Main stream stays on Main.
    const chromium = media([h265({ 'level-id': '180', 'profile-id': '1', 'tier-flag': '0', 'tx-mode': 'SRST' }), h265({ 'level-id': '180', 'profile-id': '2', 'tier-flag': '0', 'tx-mode': 'SRST' })]);
    expect(chosen(chromium, h265Stream([], hvcC(2, 120)))).toBe(97);
    expect(chosen(chromium, h265Stream([X265_SPS]))).toBe(96);
    // Main 10 listed first: a Main stream still gets the Main format (no profile-id means Main).
    expect(chosen(media([h265({ 'profile-id': '2' }), h265({})]), h265Stream([X265_SPS]))).toBe(97);
    // Only Main 10 offered: its decoder reads Main. Only Main offered for a Main 10 stream: still answered, as H.264 does.
    expect(chosen(media([h265({ 'profile-id': '2' })]), h265Stream([X265_SPS]))).toBe(96);
    expect(chosen(media([h265({ 'profile-id': '1' })]), h265Stream([], hvcC(2, 93)))).toBe(96);
    // Same profile at two levels: the one that covers the stream's level (the default 93 covers 60, not 120).
    expect(chosen(media([h265({ 'level-id': '90' }), h265({ 'level-id': '150' })]), h265Stream([], hvcC(1, 120)))).toBe(97);
    expect(chosen(media([h265({}), h265({ 'level-id': '150' })]), h265Stream([X265_SPS]))).toBe(96);
    // A stream whose profile does not read: the first H.265 format.
    expect(chosen(media([h265({ 'profile-id': '2' }), h265({})]), h265Stream([]))).toBe(96);
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
