import fc from 'fast-check';
import { fixture, ivfFrames } from '../../test-fixtures/fixtures';
import { splitAnnexB } from '../annexb';
import { aacConfig, buildAudioSpecificConfig, splitAdts } from '../codecs/aac';
import { av1Config, Av1ObuType, buildAv1C, splitObus } from '../codecs/av1';
import { g711Config } from '../codecs/g711';
import { h264Config, H264NalType, h264NalType } from '../codecs/h264';
import { h265Config, H265NalType, h265NalType } from '../codecs/h265';
import { buildOpusHead, opusConfig } from '../codecs/opus';
import { vp8Config } from '../codecs/vp8';
import { buildVpcC, vp9Config, vpcCOptionsFromFrame } from '../codecs/vp9';
import { MediaError } from '../media.errors';
import type { AudioConfig, TrackConfig, VideoConfig } from '../media.types';
import { parseSdp, SdpMedia, SessionDescription, writeSdp } from '../sdp/sdp';
import { buildLatmStreamMuxConfig, packetizeLatm } from './aac-rtp';
import { H264Depacketizer } from './h264-rtp';
import { parseRtpPacket, RtpPacket, RtpStamper, serializeRtpPacket } from './rtp-packet';
import { rtpCanSend, rtpClockRate, rtpFormatOfSdpMedia, RtpReceivedFrame, RtpTrackFormat, RtpTrackReceiver, rtpPayloadsOfFrame, sdpMediaOfTrack } from './rtp-track';
import { parseVp8PayloadDescriptor } from './vp8-rtp';
import { parseVp9PayloadDescriptor } from './vp9-rtp';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// ---------------------------------------------------------------------------------------------------------
// Fixtures: the NAL units of real x264/x265 streams (libs/media/test-fixtures, 3 frames each)

function nalsOf(name: string, typeOf: (n: Buffer) => number): Map<number, Buffer> {
  const byType = new Map<number, Buffer>();
  for (const n of splitAnnexB(fixture(name))) if (!byType.has(typeOf(n))) byType.set(typeOf(n), n);
  return byType;
}

/** h264-baseline-320x240: SPS, PPS, SEI, IDR (4308 B), P (1303 B), P (1274 B). */
const avc = (() => {
  const nals = splitAnnexB(fixture('h264-baseline-320x240.h264'));
  const t = nalsOf('h264-baseline-320x240.h264', h264NalType);
  const slices = nals.filter((n) => h264NalType(n) === H264NalType.SLICE);
  return { sps: t.get(H264NalType.SPS)!, pps: t.get(H264NalType.PPS)!, sei: t.get(H264NalType.SEI)!, idr: t.get(H264NalType.IDR)!, p1: slices[0], p2: slices[1] };
})();

/** Another stream's parameter sets (176x144 Main): what an encoder restarted with other settings sends. */
const avcOther = (() => {
  const t = nalsOf('h264-main-176x144.h264', h264NalType);
  return { sps: t.get(H264NalType.SPS)!, pps: t.get(H264NalType.PPS)! };
})();

/** h265-main-640x360: VPS, SPS, PPS, prefix SEI, IDR_N_LP (6181 B), TRAIL_R, TRAIL_N. */
const hevc = (() => {
  const t = nalsOf('h265-main-640x360.h265', h265NalType);
  return {
    vps: t.get(H265NalType.VPS)!,
    sps: t.get(H265NalType.SPS)!,
    pps: t.get(H265NalType.PPS)!,
    sei: t.get(H265NalType.PREFIX_SEI)!,
    idr: t.get(H265NalType.IDR_N_LP)!,
    p1: t.get(1)!,
    p2: t.get(0)!,
  };
})();

const AUD_264 = hex('09 f0');
const AUD_265 = hex('4601 50');

const H264_CONFIG = h264Config([avc.sps], [avc.pps]);
const H265_CONFIG = h265Config([hevc.vps], [hevc.sps], [hevc.pps]);
const AAC_44_STEREO = aacConfig(buildAudioSpecificConfig({ objectType: 2, sampleRate: 44100, channels: 2 }));
const AAC_48_MONO = aacConfig(buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 1 }));
const OPUS_STEREO = opusConfig(buildOpusHead({ channels: 2 }));
const PCMA = g711Config('pcma');
const PCMU = g711Config('pcmu');

/** Real AAC-LC frames (raw, ADTS headers removed); several are over 300 bytes, so they get fragmented. */
const AAC_44_FRAMES = splitAdts(fixture('aac-lc-44100-stereo.adts'));
const AAC_48_FRAMES = splitAdts(fixture('aac-lc-48000-mono.adts'));

/** Deterministic pseudo-random bytes (xorshift). */
function bytes(size: number, seed: number, first?: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  if (first !== undefined && size > 0) b[0] = first;
  return b;
}

/** A VP8 key frame (tag, start code, 14-bit sizes) of `size` bytes, and an inter frame. */
function vp8Key(width: number, height: number, size: number, seed: number): Buffer {
  const b = bytes(size, seed);
  b.writeUIntLE(0x10 | (((size - 10) & 0x7ffff) << 5), 0, 3); // key, version 0, shown, first partition size
  b.writeUIntLE(0x2a019d, 3, 3);
  b.writeUInt16LE(width, 6);
  b.writeUInt16LE(height, 8);
  return b;
}
const vp8Inter = (size: number, seed: number) => bytes(size, seed, 0x31);

/** libvpx VP9 (320x240): key, inter, inter. */
const VP9_FRAMES = ivfFrames(fixture('vp9-320x240.ivf'));

/** libaom AV1 (320x240) temporal units without their delimiters: key (with a sequence header), inter, inter. */
const AV1_TUS = (() => {
  const tus: Buffer[][] = [];
  for (const o of splitObus(fixture('av1-320x240.obu'))) {
    if (o.type === Av1ObuType.TEMPORAL_DELIMITER) tus.push([]);
    else tus.at(-1)!.push(o.obu);
  }
  return tus.map((t) => Buffer.concat(t));
})();

const VP8_CONFIG = vp8Config(vp8Key(320, 240, 2000, 1));
const VP9_CONFIG = vp9Config(buildVpcC(vpcCOptionsFromFrame(VP9_FRAMES[0])), 320, 240);
const AV1_CONFIG = av1Config(buildAv1C(AV1_TUS[0]));

// ---------------------------------------------------------------------------------------------------------
// Helpers: SDP round trip, sending frames as RTP, receiving them

/** The media section of `config` written into a whole SDP (as DESCRIBE answers it), parsed back. */
function sdpRoundTrip(config: TrackConfig, payloadType: number): { text: string; media: SdpMedia } {
  const sd: SessionDescription = {
    version: 0,
    origin: { username: '-', sessionId: '1', sessionVersion: '1', netType: 'IN', addrType: 'IP4', address: '127.0.0.1' },
    name: 'Stream',
    bandwidths: [],
    timing: [],
    attributes: [{ name: 'control', value: '*' }],
    media: [sdpMediaOfTrack(config, payloadType, 'trackID=0')],
  };
  const text = writeSdp(sd);
  return { text, media: parseSdp(text).media[0] };
}

function formatOf(sdp: string, index = 0): RtpTrackFormat | undefined {
  return rtpFormatOfSdpMedia(parseSdp(sdp).media[index]);
}

interface SentFrame {
  timestamp: number;
  keyFrame: boolean;
  data: Buffer[];
}

/** Packets (serialized, then parsed, as a socket would carry them) of each frame, stamped as RFC 3550 says. */
function sendFrames(config: TrackConfig, frames: readonly SentFrame[], mtu: number, payloadType = 96, firstSeq = 65530): RtpPacket[][] {
  const stamper = new RtpStamper({ ssrc: 0x1234, payloadType, sequenceNumber: firstSeq });
  return frames.map((f) =>
    rtpPayloadsOfFrame(config, f.data, f.keyFrame, mtu).map((p) => {
      expect(p.payload.length).toBeLessThanOrEqual(mtu);
      // the stamper adds the timestampOffset of G.711 and AAC payloads that are later in time
      return parseRtpPacket(serializeRtpPacket(stamper.packet(p, f.timestamp)));
    }),
  );
}

function receiveAll(r: RtpTrackReceiver, packets: readonly RtpPacket[]): RtpReceivedFrame[] {
  return packets.flatMap((p) => r.push(p));
}

/** Frames as comparable values (hex strings: jest compares Buffers slowly). */
function show(frames: readonly (SentFrame | RtpReceivedFrame)[]): { timestamp: number; keyFrame: boolean; data: string[] }[] {
  return frames.map((f) => ({ timestamp: f.timestamp, keyFrame: f.keyFrame, data: f.data.map((d) => d.toString('hex')) }));
}

/** What a receiver gives back of a video frame: its NAL units without parameter sets and delimiters. */
function withoutParameterSets(codec: 'h264' | 'h265', frames: readonly SentFrame[]): SentFrame[] {
  const drop: number[] = codec === 'h264' ? [H264NalType.SPS, H264NalType.PPS, H264NalType.AUD] : [H265NalType.VPS, H265NalType.SPS, H265NalType.PPS, H265NalType.AUD];
  const typeOf = codec === 'h264' ? h264NalType : h265NalType;
  return frames.map((f) => ({ ...f, data: f.data.filter((n) => !drop.includes(typeOf(n))) }));
}

const TS0 = 0xfffff000; // the RTP timestamp wraps during the streams below

function videoFrames(codec: 'h264' | 'h265'): SentFrame[] {
  const v = codec === 'h264' ? avc : hevc;
  const aud = codec === 'h264' ? AUD_264 : AUD_265;
  const inBand = codec === 'h264' ? [avc.sps, avc.pps] : [hevc.vps, hevc.sps, hevc.pps];
  const at = (i: number) => (TS0 + i * 3600) >>> 0;
  return [
    { timestamp: at(0), keyFrame: true, data: [v.sei, v.idr] }, // parameter sets added by rtpPayloadsOfFrame
    { timestamp: at(1), keyFrame: false, data: [v.p1] },
    { timestamp: at(2), keyFrame: false, data: [aud, v.p2] },
    { timestamp: at(3), keyFrame: true, data: [aud, ...inBand, v.sei, v.idr] }, // already in band
    { timestamp: at(4), keyFrame: false, data: [v.p1] },
    { timestamp: at(5), keyFrame: false, data: [v.p2] },
  ];
}

/** VP8, VP9, AV1: key, inter, inter, key, inter (one sample per frame). */
function wholeFrames(codec: 'vp8' | 'vp9' | 'av1'): SentFrame[] {
  const at = (i: number) => (TS0 + i * 3600) >>> 0;
  const [key, p1, p2] = codec === 'vp8' ? [vp8Key(320, 240, 2500, 1), vp8Inter(900, 2), vp8Inter(700, 3)] : codec === 'vp9' ? VP9_FRAMES : AV1_TUS;
  return [key, p1, p2, key, p1].map((data, i) => ({ timestamp: at(i), keyFrame: i === 0 || i === 3, data: [data] }));
}

function framesOf(config: TrackConfig, audioCount?: number): SentFrame[] {
  if (config.kind === 'audio') return audioFrames(config, audioCount);
  return config.codec === 'h264' || config.codec === 'h265' ? videoFrames(config.codec) : wholeFrames(config.codec as 'vp8' | 'vp9' | 'av1');
}

function audioFrames(config: AudioConfig, count = 12): SentFrame[] {
  const at = (i: number, step: number) => (TS0 + i * step) >>> 0;
  const list = (make: (i: number) => Buffer, step: number) => Array.from({ length: count }, (_x, i) => ({ timestamp: at(i, step), keyFrame: true, data: [make(i)] }));
  switch (config.codec) {
    case 'aac': {
      const real = config.sampleRate === 44100 ? AAC_44_FRAMES : AAC_48_FRAMES;
      return list((i) => real[i % real.length], 1024);
    }
    case 'opus':
      // TOC 0xfc: CELT FB 20 ms, stereo, one frame
      return list((i) => bytes(60 + i * 17, i + 1, 0xfc), 960);
    default:
      return list((i) => bytes(160, i + 1), 160); // 20 ms of G.711
  }
}

// ---------------------------------------------------------------------------------------------------------

describe('rtpClockRate / rtpCanSend', () => {
  it.each<[string, TrackConfig, number]>([
    ['H.264', H264_CONFIG, 90000],
    ['H.265', H265_CONFIG, 90000],
    ['VP8', VP8_CONFIG, 90000],
    ['VP9', VP9_CONFIG, 90000],
    ['AV1', AV1_CONFIG, 90000],
    ['AAC 44.1 kHz', AAC_44_STEREO, 44100],
    ['AAC 48 kHz', AAC_48_MONO, 48000],
    ['Opus', OPUS_STEREO, 48000],
    ['PCMA', PCMA, 8000],
    ['PCMU 16 kHz', g711Config('pcmu', 16000), 16000],
  ])('%s', (_n, config, clock) => {
    expect(rtpClockRate(config)).toBe(clock);
    expect(rtpCanSend(config)).toBe(true);
  });

  it('cannot send MP3, and sdpMediaOfTrack refuses it', () => {
    const mp3: AudioConfig = { kind: 'audio', codec: 'mp3', record: Buffer.alloc(0), sampleRate: 44100, channels: 2 };
    expect(rtpCanSend(mp3)).toBe(false);
    expect(() => sdpMediaOfTrack(mp3, 96, 'trackID=0')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(rtpPayloadsOfFrame(mp3, [hex('0102')], true, 1200)).toEqual([]);
  });
});

describe('sdpMediaOfTrack -> writeSdp -> parseSdp -> rtpFormatOfSdpMedia -> RtpTrackReceiver', () => {
  const spropH264 = `${avc.sps.toString('base64')},${avc.pps.toString('base64')}`;
  it.each<[string, TrackConfig, number, Omit<RtpTrackFormat, 'payloadType'>]>([
    [
      'H.264',
      H264_CONFIG,
      96,
      {
        kind: 'video',
        encoding: 'H264',
        clockRate: 90000,
        channels: undefined,
        fmtp: { 'packetization-mode': '1', 'profile-level-id': avc.sps.subarray(1, 4).toString('hex').toUpperCase(), 'sprop-parameter-sets': spropH264 },
      },
    ],
    [
      'H.265',
      H265_CONFIG,
      96,
      {
        kind: 'video',
        encoding: 'H265',
        clockRate: 90000,
        channels: undefined,
        fmtp: { 'sprop-vps': hevc.vps.toString('base64'), 'sprop-sps': hevc.sps.toString('base64'), 'sprop-pps': hevc.pps.toString('base64') },
      },
    ],
    [
      'AAC-LC 44.1 kHz stereo',
      AAC_44_STEREO,
      97,
      {
        kind: 'audio',
        encoding: 'MPEG4-GENERIC',
        clockRate: 44100,
        channels: 2,
        fmtp: { 'profile-level-id': '1', mode: 'AAC-hbr', sizelength: '13', indexlength: '3', indexdeltalength: '3', config: '1210' },
      },
    ],
    [
      'AAC-LC 48 kHz mono',
      AAC_48_MONO,
      97,
      {
        kind: 'audio',
        encoding: 'MPEG4-GENERIC',
        clockRate: 48000,
        channels: 1,
        fmtp: { 'profile-level-id': '1', mode: 'AAC-hbr', sizelength: '13', indexlength: '3', indexdeltalength: '3', config: '1188' },
      },
    ],
    ['Opus stereo', OPUS_STEREO, 97, { kind: 'audio', encoding: 'OPUS', clockRate: 48000, channels: 2, fmtp: { 'sprop-stereo': '1' } }],
    ['PCMA 8 kHz mono', PCMA, 8, { kind: 'audio', encoding: 'PCMA', clockRate: 8000, channels: undefined, fmtp: {} }],
    ['PCMU 8 kHz mono', PCMU, 0, { kind: 'audio', encoding: 'PCMU', clockRate: 8000, channels: undefined, fmtp: {} }],
  ])('%s', (_n, config, payloadType, want) => {
    const { text, media } = sdpRoundTrip(config, payloadType);
    expect(text).toContain(`m=${config.kind} 0 RTP/AVP ${payloadType}\r\n`);
    expect(text).toContain('a=control:trackID=0\r\n');
    const format = rtpFormatOfSdpMedia(media)!;
    expect({ ...format, fmtp: { ...format.fmtp } }).toEqual({ ...want, payloadType });
    expect(format.clockRate).toBe(rtpClockRate(config));

    const r = new RtpTrackReceiver(format);
    const got = r.config!;
    expect(got.kind).toBe(config.kind);
    expect(got.codec).toBe(config.codec);
    expect(got.record.toString('hex')).toBe(config.record.toString('hex'));
    if (got.kind === 'video' && config.kind === 'video') {
      expect(got.width).toBe(config.width);
      expect(got.height).toBe(config.height);
      expect(got.parameterSets.map((p) => p.toString('hex'))).toEqual(config.parameterSets.map((p) => p.toString('hex')));
    } else if (got.kind === 'audio' && config.kind === 'audio') {
      expect(got.sampleRate).toBe(config.sampleRate);
      expect(got.channels).toBe(config.channels);
    }
    expect(got).toEqual(config);
    // the config from the SDP is the starting point, not a change
    expect(r.takeConfigChange()).toBeUndefined();
  });

  it('H.264 of the fixture: profile-level-id 42C01E, 320x240', () => {
    expect(avc.sps.subarray(1, 4).toString('hex')).toBe('42c01e');
    expect(H264_CONFIG).toMatchObject({ width: 320, height: 240, profile: 'Constrained Baseline' });
    const { text } = sdpRoundTrip(H264_CONFIG, 96);
    expect(text).toContain(`a=fmtp:96 packetization-mode=1;profile-level-id=${avc.sps.subarray(1, 4).toString('hex').toUpperCase()};sprop-parameter-sets=${spropH264}\r\n`);
  });

  it('writes multi-channel and wide-band G.711 with its channels and rate', () => {
    const stereo = g711Config('pcma', 16000, 2);
    const { text, media } = sdpRoundTrip(stereo, 97);
    expect(text).toContain('a=rtpmap:97 PCMA/16000/2\r\n');
    expect(new RtpTrackReceiver(rtpFormatOfSdpMedia(media)!).config).toEqual(stereo);
  });

  it('writes no fmtp for mono Opus (rtpmap opus/48000/2 is fixed by RFC 7587)', () => {
    const { text } = sdpRoundTrip(opusConfig(buildOpusHead({ channels: 1 })), 97);
    expect(text).toContain('a=rtpmap:97 opus/48000/2\r\n');
    expect(text).not.toContain('a=fmtp');
  });
});

describe('frames -> rtpPayloadsOfFrame -> RTP -> RtpTrackReceiver', () => {
  describe.each([1200, 300])('MTU %d', (mtu) => {
    it.each<[string, VideoConfig]>([
      ['H.264', H264_CONFIG],
      ['H.265', H265_CONFIG],
    ])('%s: the same access units, without parameter sets and delimiters', (_n, config) => {
      const codec = config.codec as 'h264' | 'h265';
      const frames = videoFrames(codec);
      const r = new RtpTrackReceiver(rtpFormatOfSdpMedia(sdpRoundTrip(config, 96).media)!);
      const got = receiveAll(r, sendFrames(config, frames, mtu).flat());
      expect(got.every((f) => f.kind === 'video')).toBe(true);
      expect(show(got)).toEqual(show(withoutParameterSets(codec, frames)));
      // in-band parameter sets equal to the SDP's change nothing
      expect(r.takeConfigChange()).toBeUndefined();
    });

    it.each<[string, AudioConfig, number]>([
      ['AAC-LC 44.1 kHz stereo', AAC_44_STEREO, 97],
      ['AAC-LC 48 kHz mono', AAC_48_MONO, 97],
      ['Opus stereo', OPUS_STEREO, 97],
      ['PCMA', PCMA, 8],
      ['PCMU', PCMU, 0],
    ])('%s: one frame per frame sent, same timestamps', (_n, config, pt) => {
      const frames = audioFrames(config);
      const r = new RtpTrackReceiver(rtpFormatOfSdpMedia(sdpRoundTrip(config, pt).media)!);
      const packets = sendFrames(config, frames, mtu, pt);
      if (config === AAC_44_STEREO && mtu === 300) expect(packets.some((p) => p.length > 1)).toBe(true); // fragmented AUs
      const got = receiveAll(r, packets.flat());
      expect(got.every((f) => f.kind === 'audio')).toBe(true);
      expect(show(got)).toEqual(show(frames));
    });
  });

  it('adds the parameter sets in band to a key frame lacking them, once, before its NAL units', () => {
    const nalTypes = (frame: SentFrame) => {
      const d = new H264Depacketizer();
      const aus = sendFrames(H264_CONFIG, [frame], 1200)[0].flatMap((p) => d.push(p));
      return aus.flatMap((au) => au.nals.map(h264NalType));
    };
    const [idr, p, , idrWithSets] = videoFrames('h264');
    expect(nalTypes(idr)).toEqual([H264NalType.SPS, H264NalType.PPS, H264NalType.SEI, H264NalType.IDR]);
    expect(nalTypes(p)).toEqual([H264NalType.SLICE]);
    expect(nalTypes(idrWithSets)).toEqual([H264NalType.AUD, H264NalType.SPS, H264NalType.PPS, H264NalType.SEI, H264NalType.IDR]);
    // a frame not flagged as key gets nothing added
    expect(nalTypes({ ...idr, keyFrame: false })).toEqual([H264NalType.SEI, H264NalType.IDR]);
  });

  it('a receiver started from an SDP without parameter sets plays from the in-band ones', () => {
    const format: RtpTrackFormat = { kind: 'video', payloadType: 96, encoding: 'H264', clockRate: 90000, fmtp: { 'packetization-mode': '1' } };
    const r = new RtpTrackReceiver(format);
    expect(r.config).toBeUndefined();
    const frames = videoFrames('h264').slice(1); // P, P, then a key frame with its parameter sets
    const packets = sendFrames(H264_CONFIG, frames, 1200);
    expect(receiveAll(r, [...packets[0], ...packets[1]])).toEqual([]); // nothing to decode P frames with
    expect(r.takeConfigChange()).toBeUndefined();
    const got = receiveAll(r, packets.slice(2).flat());
    expect(show(got)).toEqual(show(withoutParameterSets('h264', frames.slice(2))));
    expect(r.takeConfigChange()).toEqual(H264_CONFIG);
    expect(r.takeConfigChange()).toBeUndefined();
  });

  it('H.265 "HEVC" in rtpmap is read as H265', () => {
    const sdp = ['v=0', 'm=video 0 RTP/AVP 96', 'a=rtpmap:96 HEVC/90000', `a=fmtp:96 sprop-vps=${hevc.vps.toString('base64')};sprop-sps=${hevc.sps.toString('base64')};sprop-pps=${hevc.pps.toString('base64')}`].join('\r\n');
    const r = new RtpTrackReceiver(formatOf(sdp)!);
    expect(r.format.encoding).toBe('H265');
    expect(r.config).toEqual(H265_CONFIG);
  });
});

describe('VP8, VP9, AV1: SDP, frames -> rtpPayloadsOfFrame -> RTP -> RtpTrackReceiver', () => {
  it.each<[string, VideoConfig, string, string | undefined]>([
    ['VP8', VP8_CONFIG, 'VP8/90000', undefined],
    ['VP9', VP9_CONFIG, 'VP9/90000', 'profile-id=0'],
    ['AV1', AV1_CONFIG, 'AV1/90000', `profile=0;level-idx=${buildAv1C(AV1_TUS[0])[1] & 0x1f};tier=0`],
  ])('%s: the SDP names it; the config comes with the first key frame', (name, config, rtpmap, fmtp) => {
    const { text, media } = sdpRoundTrip(config, 96);
    expect(text).toContain(`a=rtpmap:96 ${rtpmap}\r\n`);
    if (fmtp) expect(text).toContain(`a=fmtp:96 ${fmtp}\r\n`);
    else expect(text).not.toContain('a=fmtp');
    const format = rtpFormatOfSdpMedia(media)!;
    expect(format).toMatchObject({ kind: 'video', payloadType: 96, encoding: name, clockRate: 90000 });
    const r = new RtpTrackReceiver(format);
    expect(r.config).toBeUndefined();
    expect(r.keyFrameNeeded).toBe(true);
  });

  describe.each([1200, 300])('MTU %d', (mtu) => {
    it.each<[string, VideoConfig]>([
      ['VP8', VP8_CONFIG],
      ['VP9', VP9_CONFIG],
      ['AV1', AV1_CONFIG],
    ])('%s: the same frames, key frames flagged, the config once', (_n, config) => {
      const frames = wholeFrames(config.codec as 'vp8' | 'vp9' | 'av1');
      const format = rtpFormatOfSdpMedia(sdpRoundTrip(config, 96).media)!;
      const packets = sendFrames(config, frames, mtu);
      const late = new RtpTrackReceiver(format);
      expect(receiveAll(late, [...packets[1], ...packets[2]])).toEqual([]); // inter frames before any key frame
      expect(late.config).toBeUndefined();
      const r = new RtpTrackReceiver(format);
      const got = receiveAll(r, packets.flat());
      expect(show(got)).toEqual(show(frames));
      expect(got.every((f) => f.kind === 'video')).toBe(true);
      expect(r.takeConfigChange()).toEqual(config);
      expect(r.takeConfigChange()).toBeUndefined();
      expect(r.keyFrameNeeded).toBe(false);
    });
  });

  it('VP8: a key frame of another size changes the config, reported once', () => {
    const r = new RtpTrackReceiver({ kind: 'video', payloadType: 96, encoding: 'VP8', clockRate: 90000, fmtp: {} });
    const frames: SentFrame[] = [
      { timestamp: 0, keyFrame: true, data: [vp8Key(320, 240, 500, 1)] },
      { timestamp: 3000, keyFrame: true, data: [vp8Key(320, 240, 400, 2)] },
      { timestamp: 6000, keyFrame: true, data: [vp8Key(640, 360, 600, 3)] },
    ];
    const packets = sendFrames(VP8_CONFIG, frames, 1200);
    receiveAll(r, packets[0]);
    expect(r.takeConfigChange()).toMatchObject({ codec: 'vp8', width: 320, height: 240 });
    receiveAll(r, packets[1]);
    expect(r.takeConfigChange()).toBeUndefined();
    expect(receiveAll(r, packets[2]).length).toBe(1);
    expect(r.takeConfigChange()).toMatchObject({ codec: 'vp8', width: 640, height: 360 });
  });

  it('AV1: a key frame without a sequence header gets the one of the config', () => {
    const [key] = AV1_TUS;
    const withoutHeader = Buffer.concat(splitObus(key).filter((o) => o.type !== Av1ObuType.SEQUENCE_HEADER).map((o) => o.obu));
    const r = new RtpTrackReceiver({ kind: 'video', payloadType: 96, encoding: 'AV1', clockRate: 90000, fmtp: {} });
    const got = receiveAll(r, sendFrames(AV1_CONFIG, [{ timestamp: 0, keyFrame: true, data: [withoutHeader] }], 1200)[0]);
    expect(show(got)).toEqual(show([{ timestamp: 0, keyFrame: true, data: [key] }]));
    // not flagged as a key frame: sent as it is (and not readable as one)
    expect(receiveAll(new RtpTrackReceiver(r.format), sendFrames(AV1_CONFIG, [{ timestamp: 0, keyFrame: false, data: [withoutHeader] }], 1200)[0])).toEqual([]);
  });

  it('AV1: a temporal unit with broken OBU framing is not sent', () => {
    expect(rtpPayloadsOfFrame(AV1_CONFIG, [hex('32 05 00')], false, 1200)).toEqual([]);
    expect(rtpPayloadsOfFrame(AV1_CONFIG, [hex('32 05 00')], true, 1200)).toEqual([]);
  });

  it('VP8/VP9: a picture id (e.g. the frame sequence number, 15 bits kept) goes in the descriptor', () => {
    const vp8 = rtpPayloadsOfFrame(VP8_CONFIG, [vp8Inter(100, 1)], false, 1200, 0x12345);
    expect(parseVp8PayloadDescriptor(vp8[0].payload).pictureId).toBe(0x2345);
    expect(parseVp8PayloadDescriptor(rtpPayloadsOfFrame(VP8_CONFIG, [vp8Inter(100, 1)], false, 1200)[0].payload)).toMatchObject({ start: true, size: 1 });
    const vp9 = parseVp9PayloadDescriptor(rtpPayloadsOfFrame(VP9_CONFIG, [VP9_FRAMES[0]], true, 1200, 7)[0].payload);
    expect(vp9).toMatchObject({ pictureId: 7, interPicturePredicted: false, ss: { resolutions: [{ width: 320, height: 240 }] } });
  });

  it('a WebRTC offer: the first format it can read (VP8), then VP9 and AV1 alone', () => {
    const offer = (pts: string, maps: string[]) => ['v=0', `m=video 9 UDP/TLS/RTP/SAVPF ${pts}`, ...maps, ''].join('\r\n');
    const maps = ['a=rtpmap:96 VP8/90000', 'a=rtcp-fb:96 nack pli', 'a=rtpmap:97 rtx/90000', 'a=fmtp:97 apt=96', 'a=rtpmap:98 VP9/90000', 'a=fmtp:98 profile-id=0', 'a=rtpmap:45 AV1/90000', 'a=fmtp:45 level-idx=5;profile=0;tier=0'];
    expect(formatOf(offer('96 97 98 45', maps))).toMatchObject({ encoding: 'VP8', payloadType: 96 });
    expect(formatOf(offer('97 98', maps))).toMatchObject({ encoding: 'VP9', payloadType: 98, fmtp: { 'profile-id': '0' } });
    expect(formatOf(offer('45', maps))).toMatchObject({ encoding: 'AV1', payloadType: 45, fmtp: { 'level-idx': '5', profile: '0', tier: '0' } });
  });
});

describe('rtpPayloadsOfFrame: audio frames over the MTU, and timestamps', () => {
  it('AAC: RTP clock at twice the core rate (HE-AAC SDPs) steps 2048 per AU; at the core rate 1024', () => {
    const he = aacConfig(buildAudioSpecificConfig({ objectType: 5, sampleRate: 24000, channels: 2 }));
    expect(he.sampleRate).toBe(24000);
    const config = he.record.toString('hex');
    const [a, b] = AAC_44_FRAMES;
    const payloads = rtpPayloadsOfFrame(he, [a, b], true, 1200); // two AUs in one packet
    expect(payloads).toHaveLength(1);
    for (const [clock, step] of [
      [48000, 2048],
      [24000, 1024],
    ]) {
      const r = new RtpTrackReceiver(formatOf(`v=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/${clock}/2\r\na=fmtp:97 mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=${config}\r\n`)!);
      expect(r.config).toEqual(he);
      const got = r.push(parseRtpPacket(new RtpStamper({ ssrc: 1, payloadType: 97, sequenceNumber: 0 }).stamp(payloads, 1000)[0]));
      expect(show(got)).toEqual(show([{ timestamp: 1000, keyFrame: true, data: [a] }, { timestamp: 1000 + step, keyFrame: true, data: [b] }]));
    }
  });

  it('G.711: a frame over the MTU is split, later pieces at their timestampOffset (in samples)', () => {
    const frame = bytes(2000, 7);
    const payloads = rtpPayloadsOfFrame(PCMA, [frame], true, 1200);
    expect(payloads.map((p) => [p.payload.length, p.timestampOffset ?? 0])).toEqual([
      [1200, 0],
      [800, 1200],
    ]);
    const r = new RtpTrackReceiver(rtpFormatOfSdpMedia(sdpRoundTrip(PCMA, 8).media)!);
    const got = receiveAll(r, sendFrames(PCMA, [{ timestamp: 5000, keyFrame: true, data: [frame] }], 1200, 8)[0]);
    expect(got.map((f) => f.timestamp)).toEqual([5000, 6200]);
    expect(Buffer.concat(got.flatMap((f) => f.data)).toString('hex')).toBe(frame.toString('hex'));
  });

  // A multi-channel G.711 frame is cut on whole samples and its timestampOffset counts samples, not bytes.
  it('G.711 stereo: split on whole samples, timestampOffset in samples', () => {
    const stereo = g711Config('pcma', 8000, 2);
    const payloads = rtpPayloadsOfFrame(stereo, [bytes(2000, 9)], true, 1201);
    expect(payloads.map((p) => [p.payload.length, p.timestampOffset ?? 0])).toEqual([
      [1200, 0],
      [800, 600],
    ]);
  });

  it('Opus: one packet per RTP payload, the marker clear', () => {
    const frames = [bytes(100, 1, 0xfc), bytes(3, 2, 0x78)];
    expect(rtpPayloadsOfFrame(OPUS_STEREO, frames, true, 300).map((p) => [p.payload.toString('hex'), p.marker])).toEqual(frames.map((f) => [f.toString('hex'), false]));
  });
});

describe('rtpFormatOfSdpMedia: H.265 with decoding order numbers', () => {
  const media = (don: string) => `v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\na=fmtp:96 ${don}sprop-vps=${hevc.vps.toString('base64')}\r\n`;
  it('skips sprop-max-don-diff > 0 (DONL fields are not read)', () => {
    expect(formatOf(media('sprop-max-don-diff=2;'))).toBeUndefined();
  });
  it('takes sprop-max-don-diff=0 and none', () => {
    expect(formatOf(media('sprop-max-don-diff=0;'))).toMatchObject({ encoding: 'H265' });
    expect(formatOf(media(''))).toMatchObject({ encoding: 'H265' });
  });
});

describe('RtpTrackReceiver: video starts at a key frame and skips damaged frames', () => {
  const frames = videoFrames('h264');
  const packets = sendFrames(H264_CONFIG, frames, 1200); // IDR: 5 packets, P: 2 packets (3 with the AUD)
  const expected = (indices: number[]) => show(withoutParameterSets('h264', indices.map((i) => frames[i])));
  const receiver = () => new RtpTrackReceiver(rtpFormatOfSdpMedia(sdpRoundTrip(H264_CONFIG, 96).media)!);

  /** Receive every packet but `lost` (frame index, packet index). */
  function receiveLosing(lost: [number, number][]): RtpReceivedFrame[] {
    const r = receiver();
    const kept = packets.flatMap((ps, f) => ps.filter((_p, k) => !lost.some(([lf, lk]) => lf === f && lk === k)));
    return receiveAll(r, kept);
  }

  it('the stream packetizes as the tests below assume', () => {
    expect(packets.map((p) => p.length)).toEqual([5, 2, 3, 5, 2, 2]);
  });

  it('drops P frames before the first key frame', () => {
    const r = receiver();
    expect(receiveAll(r, [...packets[1], ...packets[2]])).toEqual([]);
    const got = receiveAll(r, packets.slice(3).flat());
    expect(show(got)).toEqual(expected([3, 4, 5]));
  });

  it('drops a P frame that lost its last packet and the P frames after it, up to the next key frame', () => {
    expect(show(receiveLosing([[1, 1]]))).toEqual(expected([0, 3, 4, 5]));
  });

  it('drops a damaged first key frame and waits for the next one', () => {
    for (let k = 1; k < 5; k++) expect(show(receiveLosing([[0, k]]))).toEqual(expected([3, 4, 5]));
  });

  it('joining after the first packet looks like a complete key frame without its SEI', () => {
    const [sei, idr] = expected([0])[0].data;
    expect(sei).toBe(avc.sei.toString('hex'));
    expect(show(receiveLosing([[0, 0]]))).toEqual([{ ...expected([0])[0], data: [idr] }, ...expected([1, 2, 3, 4, 5])]);
  });

  it('drops a damaged later key frame and the P frames after it', () => {
    for (let k = 0; k < 5; k++) expect(show(receiveLosing([[3, k]]))).toEqual(expected([0, 1, 2]));
  });

  it('drops a P frame lost whole (one packet) and the frames after it', () => {
    const small = sendFrames(H264_CONFIG, frames, 1400); // P frames fit one packet each
    expect(small.map((p) => p.length)).toEqual([5, 1, 1, 5, 1, 1]);
    const got = receiveAll(receiver(), small.filter((_p, i) => i !== 1).flat());
    expect(show(got)).toEqual(expected([0, 3, 4, 5]));
  });

  it('drops duplicates quietly', () => {
    const got = receiveAll(receiver(), packets.flatMap((ps) => [...ps, ...ps]));
    expect(show(got)).toEqual(expected([0, 1, 2, 3, 4, 5]));
  });

  // A loss can leave nothing of an access unit (its only slice fragmented, the first fragment lost): the
  // depacketizer emits nothing for it, and the receiver must still wait for the next key frame.
  it.each<[string, VideoConfig]>([
    ['H.264', H264_CONFIG],
    ['H.265', H265_CONFIG],
  ])('%s: drops the P frames after a P frame whose first FU fragment was lost', (_n, config) => {
    const codec = config.codec as 'h264' | 'h265';
    const sent = videoFrames(codec);
    const stream = sendFrames(config, sent, 1200);
    expect(stream[1].length).toBeGreaterThan(1); // P frame 1 is fragmented
    const r = new RtpTrackReceiver(rtpFormatOfSdpMedia(sdpRoundTrip(config, 96).media)!);
    const got = receiveAll(r, stream.flatMap((ps, f) => (f === 1 ? ps.slice(1) : ps)));
    expect(show(got)).toEqual(show(withoutParameterSets(codec, [0, 3, 4, 5].map((i) => sent[i]))));
  });
});

describe('RtpTrackReceiver: in-band parameter sets', () => {
  const format = () => rtpFormatOfSdpMedia(sdpRoundTrip(H264_CONFIG, 96).media)!;
  const at = (i: number) => 1000 + i * 3600;

  it('parameter sets that differ from the SDP change the config, reported once', () => {
    const r = new RtpTrackReceiver(format());
    const other = h264Config([avcOther.sps], [avcOther.pps]);
    expect(other).toMatchObject({ width: 176, height: 144 });
    const frames: SentFrame[] = [
      { timestamp: at(0), keyFrame: true, data: [avc.sei, avc.idr] },
      { timestamp: at(1), keyFrame: true, data: [avcOther.sps, avcOther.pps, avc.idr] },
      { timestamp: at(2), keyFrame: false, data: [avc.p1] },
    ];
    const packets = sendFrames(H264_CONFIG, frames, 1200);
    expect(r.push(packets[0][0])).toEqual([]);
    receiveAll(r, packets[0]);
    expect(r.takeConfigChange()).toBeUndefined();
    const got = receiveAll(r, [...packets[1], ...packets[2]]);
    expect(show(got)).toEqual(show([{ ...frames[1], data: [avc.idr] }, frames[2]]));
    expect(r.config).toEqual(other);
    expect(r.takeConfigChange()).toEqual(other);
    expect(r.takeConfigChange()).toBeUndefined();
    // the same sets again change nothing
    receiveAll(r, sendFrames(other, [{ timestamp: at(3), keyFrame: true, data: [avc.idr] }], 1200, 96, 200)[0]);
    expect(r.takeConfigChange()).toBeUndefined();
  });

  it('a new SPS alone is paired with the PPS already known', () => {
    const r = new RtpTrackReceiver(format());
    receiveAll(r, sendFrames(H264_CONFIG, [{ timestamp: 0, keyFrame: false, data: [avcOther.sps, avc.idr] }], 1200)[0]);
    expect(r.takeConfigChange()).toEqual(h264Config([avcOther.sps], [avc.pps]));
  });

  it('unreadable in-band parameter sets keep the config', () => {
    const r = new RtpTrackReceiver(format());
    const badSps = hex('67 ff ff ff');
    const got = receiveAll(r, sendFrames(H264_CONFIG, [{ timestamp: 0, keyFrame: false, data: [badSps, avc.pps, avc.idr] }], 1200)[0]);
    expect(r.takeConfigChange()).toBeUndefined();
    expect(r.config).toEqual(H264_CONFIG);
    expect(show(got)).toEqual(show([{ timestamp: 0, keyFrame: true, data: [avc.idr] }]));
  });

  it('H.265: a new VPS/SPS/PPS set changes the config', () => {
    const other = (() => {
      const t = nalsOf('h265-main10-352x288.h265', h265NalType);
      return [t.get(H265NalType.VPS)!, t.get(H265NalType.SPS)!, t.get(H265NalType.PPS)!];
    })();
    const r = new RtpTrackReceiver(rtpFormatOfSdpMedia(sdpRoundTrip(H265_CONFIG, 96).media)!);
    const got = receiveAll(r, sendFrames(H265_CONFIG, [{ timestamp: 0, keyFrame: true, data: [...other, hevc.idr] }], 1200)[0]);
    expect(show(got)).toEqual(show([{ timestamp: 0, keyFrame: true, data: [hevc.idr] }]));
    expect(r.takeConfigChange()).toMatchObject({ codec: 'h265', width: 352, height: 288 });
    expect(r.takeConfigChange()).toBeUndefined();
  });
});

describe('rtpFormatOfSdpMedia with camera and encoder SDPs', () => {
  const HIKVISION = [
    'v=0',
    'o=- 1109162014219182 1109162014219192 IN IP4 192.168.1.64',
    's=Media Presentation',
    'e=NONE',
    'b=AS:5050',
    't=0 0',
    'a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/?transportmode=unicast',
    'm=video 0 RTP/AVP 96',
    'c=IN IP4 0.0.0.0',
    'b=AS:5000',
    'a=recvonly',
    'a=x-dimensions:1920,1080',
    'a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1?transportmode=unicast',
    'a=rtpmap:96 H264/90000',
    'a=fmtp:96 profile-level-id=420029; packetization-mode=1; sprop-parameter-sets=Z00AKp2oHgCJ+WbgICAoAAADAAgAAAMBlCA=,aO48gA==',
    'm=audio 0 RTP/AVP 8',
    'c=IN IP4 0.0.0.0',
    'b=AS:50',
    'a=recvonly',
    'a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=2?transportmode=unicast',
    'a=rtpmap:8 PCMA/8000',
    'a=Media_header:MEDIAINFO=494D4B48010100000400000110710110401F000000FA000000000000000000000000000000000000;',
    'a=appversion:1.0',
    '',
  ].join('\r\n');

  it('Hikvision: H.264 1080p Main and PCMA', () => {
    const video = formatOf(HIKVISION, 0)!;
    expect(video).toMatchObject({ kind: 'video', payloadType: 96, encoding: 'H264', clockRate: 90000 });
    expect(video.fmtp['packetization-mode']).toBe('1');
    const vr = new RtpTrackReceiver(video);
    expect(vr.config).toMatchObject({ kind: 'video', codec: 'h264', width: 1920, height: 1080, profile: 'Main', level: 4.2 });
    expect((vr.config as VideoConfig).parameterSets.map((p) => p.toString('hex'))).toEqual(['674d002a9da81e0089f966e02020280000030008000003019420', '68ee3c80']);

    const audio = formatOf(HIKVISION, 1)!;
    expect(audio).toMatchObject({ kind: 'audio', payloadType: 8, encoding: 'PCMA', clockRate: 8000 });
    expect(new RtpTrackReceiver(audio).config).toEqual(PCMA);
  });

  it('static payload types 0 and 8 need no rtpmap', () => {
    const sdp = 'v=0\r\nm=audio 0 RTP/AVP 0\r\nm=audio 0 RTP/AVP 8\r\n';
    expect(formatOf(sdp, 0)).toEqual({ kind: 'audio', payloadType: 0, encoding: 'PCMU', clockRate: 8000, channels: 1, fmtp: {} });
    expect(new RtpTrackReceiver(formatOf(sdp, 0)!).config).toEqual(PCMU);
    expect(new RtpTrackReceiver(formatOf(sdp, 1)!).config).toEqual(PCMA);
  });

  it.each([
    ['40002420 (RFC 6416 example)', '40002420', 44100, 2],
    ['400024203fc0 (with latmBufferFullness and the tail)', '400024203fc0', 44100, 2],
    ['40002410', '40002410', 44100, 1],
  ])('MP4A-LATM config=%s', (_n, config, sampleRate, channels) => {
    const sdp = ['v=0', 'o=- 0 0 IN IP4 10.0.0.2', 's=Camera', 't=0 0', 'm=audio 0 RTP/AVP 97', 'a=rtpmap:97 MP4A-LATM/44100/2', `a=fmtp:97 profile-level-id=15;object=2;cpresent=0;config=${config}`, 'a=control:track2'].join('\r\n');
    const format = formatOf(sdp)!;
    expect(format).toMatchObject({ kind: 'audio', payloadType: 97, encoding: 'MP4A-LATM', clockRate: 44100, channels: 2 });
    const r = new RtpTrackReceiver(format);
    expect(r.config).toMatchObject({ codec: 'aac', sampleRate, channels, profile: 'LC' });

    // and its AudioMuxElements come out as AAC frames
    const stamper = new RtpStamper({ ssrc: 5, payloadType: 97, sequenceNumber: 10 });
    const frames = AAC_44_FRAMES.slice(0, 6);
    const got = frames.flatMap((f, i) => stamper.stamp(packetizeLatm(f, { mtu: 200 }), i * 1024).flatMap((b) => r.push(parseRtpPacket(b))));
    // LatmDepacketizer may drop the first element (a stream can start inside one): compare the tail
    const want = show(frames.map((f, i) => ({ timestamp: i * 1024, keyFrame: true, data: [f] })));
    expect(got.length).toBeGreaterThanOrEqual(frames.length - 1);
    expect(show(got)).toEqual(want.slice(frames.length - got.length));
  });

  it('MP4A-LATM of buildLatmStreamMuxConfig (what a server of ours would announce) reads back the config', () => {
    const config = buildLatmStreamMuxConfig(AAC_48_MONO.record).toString('hex');
    const r = new RtpTrackReceiver(formatOf(`v=0\r\nm=audio 0 RTP/AVP 96\r\na=rtpmap:96 MP4A-LATM/48000/1\r\na=fmtp:96 cpresent=0;config=${config}\r\n`)!);
    expect(r.config).toEqual(AAC_48_MONO);
  });

  it('ffmpeg MPEG4-GENERIC AAC-hbr (config=1190, a space after a semicolon)', () => {
    const sdp = [
      'v=0',
      'o=- 0 0 IN IP4 127.0.0.1',
      's=No Name',
      'c=IN IP4 0.0.0.0',
      't=0 0',
      'a=tool:libavformat 60.16.100',
      'm=audio 0 RTP/AVP 97',
      'b=AS:128',
      'a=rtpmap:97 MPEG4-GENERIC/48000/2',
      'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=1190',
      'a=control:streamid=0',
    ].join('\r\n');
    const format = formatOf(sdp)!;
    expect(format).toMatchObject({ kind: 'audio', payloadType: 97, encoding: 'MPEG4-GENERIC', clockRate: 48000, channels: 2 });
    expect(format.fmtp.config).toBe('1190');
    const r = new RtpTrackReceiver(format);
    expect(r.config).toEqual(aacConfig(hex('1190')));
    expect(r.config).toMatchObject({ sampleRate: 48000, channels: 2, profile: 'LC' });
  });

  it.each([
    ['H.263', 'm=video 0 RTP/AVP 98\r\na=rtpmap:98 H263-1998/90000'],
    ['JPEG (static payload type 26)', 'm=video 0 RTP/AVP 26'],
    ['JPEG with an rtpmap', 'm=video 0 RTP/AVP 26\r\na=rtpmap:26 JPEG/90000'],
    ['MPEG4-GENERIC mode=CELP-cbr', 'm=audio 0 RTP/AVP 96\r\na=rtpmap:96 MPEG4-GENERIC/16000/1\r\na=fmtp:96 streamtype=5;profile-level-id=14;mode=CELP-cbr;config=440E00;constantsize=27;constantduration=240'],
    ['MPEG4-GENERIC mode=generic', 'm=audio 0 RTP/AVP 96\r\na=rtpmap:96 MPEG4-GENERIC/48000/2\r\na=fmtp:96 mode=generic;config=1190'],
    ['an unknown dynamic type without rtpmap', 'm=video 0 RTP/AVP 96'],
    ['an application section', 'm=application 0 RTP/AVP 107\r\na=rtpmap:107 vnd.onvif.metadata/90000'],
    ['H.264 in an audio section', 'm=audio 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000'],
    ['PCMA in a video section', 'm=video 0 RTP/AVP 8'],
    ['a payload type that is not a number', 'm=video 0 RTP/AVP abc\r\na=rtpmap:96 H264/90000'],
    ['a payload type over 127', 'm=video 0 RTP/AVP 200'],
    ['a broken rtpmap', 'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264'],
    ['no formats', 'm=video 0 RTP/AVP'],
  ])('%s: undefined', (_n, media) => {
    expect(formatOf(`v=0\r\n${media}\r\n`)).toBeUndefined();
  });

  it('H.264 without fmtp is still H.264 (parameter sets come in band)', () => {
    expect(formatOf('v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 h264/90000\r\n')).toEqual({ kind: 'video', payloadType: 96, encoding: 'H264', clockRate: 90000, channels: undefined, fmtp: {} });
  });

  it('MPEG4-GENERIC without mode is read as AAC-hbr', () => {
    const f = formatOf('v=0\r\nm=audio 0 RTP/AVP 96\r\na=rtpmap:96 mpeg4-generic/44100/2\r\na=fmtp:96 config=1210\r\n')!;
    expect(f.encoding).toBe('MPEG4-GENERIC');
    expect(new RtpTrackReceiver(f).config).toEqual(AAC_44_STEREO);
  });

  it.each([
    ['video: H.263 first, H.264 second', 'm=video 0 RTP/AVP 98 96\r\na=rtpmap:98 H263-1998/90000\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1', 96, 'H264'],
    ['video: JPEG first, H.265 second', 'm=video 0 RTP/AVP 26 97\r\na=rtpmap:97 H265/90000', 97, 'H265'],
    ['audio: CELP first, AAC-hbr second', 'm=audio 0 RTP/AVP 96 97\r\na=rtpmap:96 MPEG4-GENERIC/16000/1\r\na=fmtp:96 mode=CELP-cbr\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\na=fmtp:97 mode=AAC-hbr;config=1210', 97, 'MPEG4-GENERIC'],
    ['audio: G.722 first, PCMU second', 'm=audio 0 RTP/AVP 9 0\r\na=rtpmap:9 G722/8000', 0, 'PCMU'],
    ['audio: telephone-event first, Opus second', 'm=audio 0 RTP/AVP 101 111\r\na=rtpmap:101 telephone-event/8000\r\na=rtpmap:111 opus/48000/2', 111, 'OPUS'],
  ])('%s: picks the supported one', (_n, media, payloadType, encoding) => {
    expect(formatOf(`v=0\r\n${media}\r\n`)).toMatchObject({ payloadType, encoding });
  });

  it('takes the fmtp of the payload type chosen', () => {
    const f = formatOf('v=0\r\nm=audio 0 RTP/AVP 96 97\r\na=rtpmap:96 MPEG4-GENERIC/16000/1\r\na=fmtp:96 mode=CELP-cbr;config=440E00\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\na=fmtp:97 mode=AAC-hbr;config=1210\r\n')!;
    expect(f.fmtp.config).toBe('1210');
  });
});

describe('RtpTrackReceiver: construction', () => {
  it('throws MediaError UNSUPPORTED for an encoding it cannot read', () => {
    expect(() => new RtpTrackReceiver({ kind: 'video', payloadType: 98, encoding: 'H263-1998', clockRate: 90000, fmtp: {} })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });

  it('throws only MediaError for any fmtp, and then takes packets', () => {
    const encodings = ['H264', 'H265', 'VP8', 'VP9', 'AV1', 'MPEG4-GENERIC', 'MP4A-LATM', 'OPUS', 'PCMA', 'PCMU'];
    const keys = ['sprop-parameter-sets', 'sprop-vps', 'sprop-sps', 'sprop-pps', 'config', 'sizelength', 'indexlength', 'indexdeltalength', 'mode'];
    const value = fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b).toString('hex')), fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b).toString('base64')), fc.integer({ min: -2, max: 40 }).map(String));
    fc.assert(
      fc.property(fc.constantFrom(...encodings), fc.dictionary(fc.constantFrom(...keys), value), fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }), (encoding, fmtp, channels) => {
        const kind = ['H264', 'H265', 'VP8', 'VP9', 'AV1'].includes(encoding) ? 'video' : 'audio';
        let r: RtpTrackReceiver;
        try {
          r = new RtpTrackReceiver({ kind, payloadType: 96, encoding, clockRate: kind === 'video' ? 90000 : 48000, channels, fmtp });
        } catch (e) {
          expect(e).toBeInstanceOf(MediaError);
          return;
        }
        const empty: RtpPacket = { marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 0, ssrc: 1, csrcs: [], payload: Buffer.alloc(0), paddingSize: 0 };
        if (kind === 'audio') expect(r.push(empty)).toEqual([]); // nothing to play (Opus: DTX)
        else expect(r.push(empty)).toEqual([]); // video: padding only (WebRTC bandwidth probes)
        try {
          expect(Array.isArray(r.push({ ...empty, sequenceNumber: 2, payload: kind === 'audio' ? hex('0010 0008 aa') : hex('4101') }))).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(MediaError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('RtpTrackReceiver: random and mutated packets', () => {
  const cases: [string, TrackConfig, number][] = [
    ['H.264', H264_CONFIG, 96],
    ['H.265', H265_CONFIG, 96],
    ['VP8', VP8_CONFIG, 96],
    ['VP9', VP9_CONFIG, 96],
    ['AV1', AV1_CONFIG, 96],
    ['AAC', AAC_44_STEREO, 97],
    ['Opus', OPUS_STEREO, 97],
    ['PCMA', PCMA, 8],
    ['PCMU', PCMU, 0],
  ];

  function checkFrames(kind: string, frames: RtpReceivedFrame[]): void {
    for (const f of frames) {
      expect(f.kind).toBe(kind);
      expect(Number.isInteger(f.timestamp) && f.timestamp >= 0 && f.timestamp <= 0xffffffff).toBe(true);
      expect(f.data.length).toBeGreaterThan(0);
      expect(f.data.every((d) => Buffer.isBuffer(d) && d.length > 0)).toBe(true);
    }
  }

  /** Push every packet; only frames or MediaError may come out, and the receiver stays usable. */
  function pushAll(r: RtpTrackReceiver, packets: readonly RtpPacket[]): void {
    for (const p of packets) {
      try {
        checkFrames(r.format.kind, r.push(p));
      } catch (e) {
        if (!(e instanceof MediaError)) throw e;
      }
    }
    r.takeConfigChange();
  }

  const packetArb = fc.record({
    marker: fc.boolean(),
    seqStep: fc.integer({ min: -3, max: 4 }),
    tsStep: fc.constantFrom(0, 0, 1, 160, 1024, 3600, -3600, 0x80000000),
    payload: fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.uint8Array({ minLength: 1, maxLength: 1400 }),
      // payloads that start like the structures the depacketizers read (STAP-A, FU-A, AP, FU, AU-headers,
      // VP8/VP9 descriptors, AV1 aggregation headers)
      fc.tuple(fc.constantFrom(0x78, 0x7c, 0x60, 0x62, 0x00, 0x40, 0x65, 0x10, 0x90, 0x8a, 0x0c, 0x20, 0xd0), fc.uint8Array({ maxLength: 200 })).map(([b, rest]) => Uint8Array.of(b, ...rest)),
    ),
  });

  it.each(cases)('%s: random packets give frames or MediaError', (_n, config, pt) => {
    const format = rtpFormatOfSdpMedia(sdpRoundTrip(config, pt).media)!;
    fc.assert(
      fc.property(fc.array(packetArb, { maxLength: 25 }), (list) => {
        const r = new RtpTrackReceiver(format);
        let seq = 65500;
        let ts = 0;
        const packets = list.map((p): RtpPacket => {
          seq = (seq + p.seqStep) & 0xffff;
          ts = (ts + p.tsStep) >>> 0;
          return { marker: p.marker, payloadType: pt, sequenceNumber: seq, timestamp: ts, ssrc: 1, csrcs: [], payload: Buffer.from(p.payload), paddingSize: 0 };
        });
        pushAll(r, packets);
      }),
      { numRuns: 80 },
    );
  });

  it.each(cases)('%s: mutated packets of a real stream give frames or MediaError', (_n, config, pt) => {
    const format = rtpFormatOfSdpMedia(sdpRoundTrip(config, pt).media)!;
    const frames = framesOf(config, 6);
    const packets = sendFrames(config, frames, 300, pt).flat();
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(packets.length - 1), byte: fc.nat(40), value: fc.integer({ min: 0, max: 255 }), cut: fc.option(fc.nat(300), { nil: undefined }), drop: fc.boolean() }), { maxLength: 6 }),
        (mutations) => {
          const copy = packets.map((p) => ({ ...p, payload: Buffer.from(p.payload) }));
          for (const m of mutations) {
            const p = copy[m.at];
            if (p.payload.length > 0) p.payload[m.byte % p.payload.length] = m.value;
            if (m.cut !== undefined) p.payload = p.payload.subarray(0, m.cut);
          }
          pushAll(
            new RtpTrackReceiver(format),
            copy.filter((_p, i) => !mutations.some((m) => m.drop && m.at === i)),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rtpFormatOfSdpMedia never throws on random media sections', () => {
    const line = fc.oneof(
      fc.tuple(fc.integer({ min: -1, max: 130 }), fc.constantFrom('H264', 'h265', 'HEVC', 'MPEG4-GENERIC', 'mp4a-latm', 'opus', 'PCMA', 'PCMU', 'VP8', 'vp9', 'AV1', 'H263-1998', ''), fc.constantFrom('/90000', '/0', '/48000/2', '', '/x', '/8000/')).map(([pt, e, r]) => `rtpmap:${pt} ${e}${r}`),
      fc.tuple(fc.integer({ min: -1, max: 130 }), fc.string({ maxLength: 40 })).map(([pt, s]) => `fmtp:${pt} ${s}`),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(
      fc.property(fc.constantFrom('video', 'audio', 'application'), fc.array(fc.oneof(fc.integer({ min: -1, max: 130 }).map(String), fc.string({ maxLength: 4 })), { maxLength: 4 }), fc.array(line, { maxLength: 6 }), (type, formats, attrs) => {
        const media: SdpMedia = {
          type,
          port: 0,
          protocol: 'RTP/AVP',
          formats,
          bandwidths: [],
          attributes: attrs.map((a) => {
            const i = a.indexOf(':');
            return i < 0 ? { name: a } : { name: a.slice(0, i), value: a.slice(i + 1) };
          }),
        };
        const f = rtpFormatOfSdpMedia(media);
        if (f) {
          expect(f.kind).toBe(type);
          expect(formats.map(Number)).toContain(f.payloadType);
        }
      }),
      { numRuns: 300 },
    );
  });
});
