import { aacConfig } from '../codecs/aac';
import { av1Config, Av1ObuType, buildAv1C, findAv1SequenceHeader, parseAv1C, splitObus } from '../codecs/av1';
import { g711Config } from '../codecs/g711';
import { h264Config, H264NalType } from '../codecs/h264';
import { h265Config, H265NalType } from '../codecs/h265';
import { buildOpusHead, opusConfig } from '../codecs/opus';
import { vp8Config } from '../codecs/vp8';
import { buildVpcC, parseVpcC, vp9Config, vp9FrameSize, vpcCOptionsFromFrame } from '../codecs/vp9';
import { MediaError } from '../media.errors';
import type { MediaKind, TrackConfig, VideoConfig } from '../media.types';
import { formatFmtp, parseFmtp, parseRtpmap, SdpMedia, sdpAttributes } from '../sdp/sdp';
import { AacHbrDepacketizer, aacRtpConfigHex, LatmDepacketizer, packetizeAacHbr, parseLatmStreamMuxConfig } from './aac-rtp';
import { Av1Depacketizer, packetizeAv1 } from './av1-rtp';
import type { RtpVideoFrame } from './frame-depacketizer';
import { depacketizeG711, packetizeG711 } from './g711-rtp';
import { H264Depacketizer, packetizeH264 } from './h264-rtp';
import { H265Depacketizer, packetizeH265 } from './h265-rtp';
import { depacketizeOpus, packetizeOpus } from './opus-rtp';
import type { RtpPacket, RtpPayload } from './rtp-packet';
import { packetizeVp8, Vp8Depacketizer } from './vp8-rtp';
import { packetizeVp9, Vp9Depacketizer } from './vp9-rtp';

/** One RTP track as an SDP media section describes it (the format we chose among those offered). */
export interface RtpTrackFormat {
  kind: MediaKind;
  payloadType: number;
  /** Upper-case encoding name from rtpmap (H264, H265, VP8, VP9, AV1, MPEG4-GENERIC, MP4A-LATM, OPUS, PCMA, PCMU). */
  encoding: string;
  clockRate: number;
  channels?: number;
  /** fmtp parameters, names lower-cased. */
  fmtp: Record<string, string>;
}

/** RFC 3551 static payload types we can receive without an rtpmap. */
const STATIC_FORMATS: Record<number, { encoding: string; clockRate: number; channels: number }> = {
  0: { encoding: 'PCMU', clockRate: 8000, channels: 1 },
  8: { encoding: 'PCMA', clockRate: 8000, channels: 1 },
};

const SUPPORTED = new Set(['H264', 'H265', 'VP8', 'VP9', 'AV1', 'MPEG4-GENERIC', 'MP4A-LATM', 'OPUS', 'PCMA', 'PCMU']);
const VIDEO_ENCODINGS = new Set(['H264', 'H265', 'VP8', 'VP9', 'AV1']);

/** The first format of a media section we can depacketize, or undefined (the track is then skipped). */
export function rtpFormatOfSdpMedia(media: SdpMedia): RtpTrackFormat | undefined {
  if (media.type !== 'video' && media.type !== 'audio') return undefined;
  const rtpmaps = sdpAttributes(media.attributes, 'rtpmap').flatMap((v) => {
    try {
      return [parseRtpmap(v)];
    } catch {
      return [];
    }
  });
  const fmtps = sdpAttributes(media.attributes, 'fmtp').flatMap((v) => {
    try {
      return [parseFmtp(v)];
    } catch {
      return [];
    }
  });
  for (const f of media.formats) {
    const payloadType = Number(f);
    if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) continue;
    const map = rtpmaps.find((m) => m.payloadType === payloadType);
    const known = map ? { encoding: map.encoding.toUpperCase(), clockRate: map.clockRate, channels: map.channels } : STATIC_FORMATS[payloadType];
    if (!known) continue;
    const encoding = known.encoding === 'HEVC' ? 'H265' : known.encoding;
    if (!SUPPORTED.has(encoding) || !(known.clockRate > 0)) continue;
    const fmtp = fmtps.find((p) => p.payloadType === payloadType)?.params ?? {};
    // RFC 3640 has other modes (CELP, generic); only AAC-hbr (and its usual unspecified mode) is read.
    if (encoding === 'MPEG4-GENERIC' && fmtp.mode && fmtp.mode.toLowerCase() !== 'aac-hbr') continue;
    // H.265 with decoding order numbers (DONL fields in every packet) is not read.
    if (encoding === 'H265' && Number(fmtp['sprop-max-don-diff'] ?? 0) > 0) continue;
    const kind: MediaKind = VIDEO_ENCODINGS.has(encoding) ? 'video' : 'audio';
    if (kind !== media.type) continue;
    return { kind, payloadType, encoding, clockRate: known.clockRate, channels: known.channels, fmtp };
  }
  return undefined;
}

/** RTP clock rate of a track we send. */
export function rtpClockRate(config: TrackConfig): number {
  if (config.kind === 'video') return 90000;
  if (config.codec === 'opus') return 48000;
  return config.sampleRate;
}

/** Whether a track can be sent over RTP by this server (what DESCRIBE offers). */
export function rtpCanSend(config: TrackConfig): boolean {
  return ['h264', 'h265', 'vp8', 'vp9', 'av1', 'aac', 'opus', 'pcma', 'pcmu'].includes(config.codec);
}

function nalType264(n: Buffer): number {
  return n[0] & 0x1f;
}

function nalType265(n: Buffer): number {
  return (n[0] >>> 1) & 0x3f;
}

/** The SDP media section for a track we send (DESCRIBE answer, push ANNOUNCE). */
export function sdpMediaOfTrack(config: TrackConfig, payloadType: number, control: string): SdpMedia {
  const attributes: { name: string; value?: string }[] = [];
  const media: SdpMedia = { type: config.kind, port: 0, protocol: 'RTP/AVP', formats: [String(payloadType)], bandwidths: [], attributes };
  const rtpmap = (encoding: string) => attributes.push({ name: 'rtpmap', value: `${payloadType} ${encoding}` });
  const fmtp = (params: Record<string, string>) => attributes.push({ name: 'fmtp', value: formatFmtp(payloadType, params) });
  if (config.kind === 'video') {
    if (config.codec === 'h264') {
      rtpmap('H264/90000');
      const sps = config.parameterSets.filter((n) => nalType264(n) === H264NalType.SPS);
      const pps = config.parameterSets.filter((n) => nalType264(n) === H264NalType.PPS);
      const params: Record<string, string> = { 'packetization-mode': '1' };
      if (sps[0]?.length >= 4) params['profile-level-id'] = sps[0].subarray(1, 4).toString('hex').toUpperCase();
      if (sps.length && pps.length) params['sprop-parameter-sets'] = [...sps, ...pps].map((n) => n.toString('base64')).join(',');
      fmtp(params);
    } else if (config.codec === 'h265') {
      rtpmap('H265/90000');
      const of = (type: number) => config.parameterSets.filter((n) => nalType265(n) === type).map((n) => n.toString('base64')).join(',');
      const params: Record<string, string> = {};
      if (of(H265NalType.VPS)) params['sprop-vps'] = of(H265NalType.VPS);
      if (of(H265NalType.SPS)) params['sprop-sps'] = of(H265NalType.SPS);
      if (of(H265NalType.PPS)) params['sprop-pps'] = of(H265NalType.PPS);
      if (Object.keys(params).length) fmtp(params);
    } else if (config.codec === 'vp8') {
      rtpmap('VP8/90000');
    } else if (config.codec === 'vp9') {
      rtpmap('VP9/90000');
      const profile = vp9Profile(config.record);
      if (profile !== undefined) fmtp({ 'profile-id': String(profile) });
    } else if (config.codec === 'av1') {
      rtpmap('AV1/90000');
      const av1c = av1Record(config.record);
      if (av1c) fmtp({ profile: String(av1c.seqProfile), 'level-idx': String(av1c.seqLevelIdx0), tier: String(av1c.seqTier0) });
    } else {
      throw new MediaError('UNSUPPORTED', `no RTP format for ${config.codec} here`);
    }
  } else if (config.codec === 'aac') {
    rtpmap(`MPEG4-GENERIC/${config.sampleRate}/${config.channels}`);
    fmtp({ 'profile-level-id': '1', mode: 'AAC-hbr', sizelength: '13', indexlength: '3', indexdeltalength: '3', config: aacRtpConfigHex(config.record) });
  } else if (config.codec === 'opus') {
    rtpmap('opus/48000/2');
    if (config.channels === 2) fmtp({ 'sprop-stereo': '1' });
  } else if (config.codec === 'pcma' || config.codec === 'pcmu') {
    const name = config.codec === 'pcma' ? 'PCMA' : 'PCMU';
    rtpmap(config.channels > 1 ? `${name}/${config.sampleRate}/${config.channels}` : `${name}/${config.sampleRate}`);
  } else {
    throw new MediaError('UNSUPPORTED', `no RTP format for ${config.codec} here`);
  }
  attributes.push({ name: 'control', value: control });
  return media;
}

function vp9Profile(record: Buffer): number | undefined {
  try {
    return parseVpcC(record).profile;
  } catch {
    return undefined;
  }
}

function av1Record(record: Buffer): ReturnType<typeof parseAv1C> | undefined {
  try {
    return parseAv1C(record);
  } catch {
    return undefined;
  }
}

/**
 * The RTP payloads of one frame of a track (what every RTSP player of the stream shares). H.264/H.265 key
 * frames carry the parameter sets in band when the frame lacks them, and AV1 key frames the sequence header,
 * so a player can start at any key frame; an AV1 temporal unit with broken OBU framing gives none.
 * `pictureId` (e.g. the frame's sequence number, 15 bits kept) numbers VP8/VP9 pictures in their payload
 * descriptors; without it they carry none.
 */
export function rtpPayloadsOfFrame(config: TrackConfig, data: readonly Buffer[], keyFrame: boolean, mtu: number, pictureId?: number): RtpPayload[] {
  const picture = pictureId === undefined ? undefined : pictureId & 0x7fff;
  switch (config.codec) {
    case 'h264':
      return packetizeH264(withParameterSets(config.parameterSets, data, keyFrame, nalType264, H264NalType.SPS, H264NalType.AUD), { mtu });
    case 'h265':
      return packetizeH265(withParameterSets(config.parameterSets, data, keyFrame, nalType265, H265NalType.SPS, H265NalType.AUD), { mtu });
    case 'vp8':
      return packetizeVp8(oneSample(data), { mtu, pictureId: picture });
    case 'vp9':
      return packetizeVp9(oneSample(data), { mtu, pictureId: picture, keyFrame, width: config.width, height: config.height });
    case 'av1':
      try {
        return packetizeAv1(keyFrame ? withSequenceHeader(config.record, oneSample(data)) : oneSample(data), { mtu });
      } catch (e) {
        // a temporal unit whose OBU framing is broken cannot be sent: players see a lost frame
        if (e instanceof MediaError && e.code === 'BAD_OBU') return [];
        throw e;
      }
    case 'aac':
      return packetizeAacHbr(data, { mtu });
    case 'opus':
      return data.map((d) => packetizeOpus(d));
    case 'pcma':
    case 'pcmu':
      return data.flatMap((d) => packetizeG711(d, { mtu, channels: config.channels }));
    default:
      return [];
  }
}

function oneSample(data: readonly Buffer[]): Buffer {
  return data.length === 1 ? data[0] : Buffer.concat(data);
}

/** An AV1 key frame with the sequence header of the av1C record in front when it has none. */
function withSequenceHeader(record: Buffer, sample: Buffer): Buffer {
  if (splitObus(sample).some((o) => o.type === Av1ObuType.SEQUENCE_HEADER)) return sample;
  const sh = av1Record(record)?.configObus;
  const obu = sh?.length ? findAv1SequenceHeader(sh)?.obu : undefined;
  return obu ? Buffer.concat([obu, sample]) : sample;
}

/** A key frame's NAL units with the parameter sets in front when it lacks them (after an access unit delimiter, which must stay first). */
function withParameterSets(sets: readonly Buffer[], data: readonly Buffer[], keyFrame: boolean, type: (n: Buffer) => number, sps: number, aud: number): readonly Buffer[] {
  if (!keyFrame || sets.length === 0 || data.some((n) => n.length > 0 && type(n) === sps)) return data;
  const delimiter = data.length > 0 && data[0].length > 0 && type(data[0]) === aud ? 1 : 0;
  return [...data.slice(0, delimiter), ...sets, ...data.slice(delimiter)];
}

/** A frame rebuilt from RTP: its RTP timestamp, and the NAL units (video) or one frame each (audio). */
export interface RtpReceivedFrame {
  kind: MediaKind;
  timestamp: number;
  keyFrame: boolean;
  data: Buffer[];
}

function base64List(value: string | undefined): Buffer[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => Buffer.from(s.trim(), 'base64'))
    .filter((b) => b.length > 0);
}

/** How to read the NAL units of a video codec: parameter-set types (no VPS in H.264: -1), the delimiter to drop, key pictures. */
interface VideoNalTypes {
  type: (n: Buffer) => number;
  vps: number;
  sps: number;
  pps: number;
  aud: number;
  isKey: (t: number) => boolean;
}

const VIDEO_NALS: Record<'h264' | 'h265', VideoNalTypes> = {
  h264: { type: nalType264, vps: -1, sps: H264NalType.SPS, pps: H264NalType.PPS, aud: H264NalType.AUD, isKey: (t: number) => t === H264NalType.IDR },
  h265: { type: nalType265, vps: H265NalType.VPS, sps: H265NalType.SPS, pps: H265NalType.PPS, aud: H265NalType.AUD, isKey: (t: number) => t >= 16 && t <= 21 },
};

/** VP8, VP9 and AV1: frames come whole from their depacketizer, which also waits for key frames. */
interface WholeFrameDepacketizer {
  keyFrameNeeded: boolean;
  push(pkt: RtpPacket): RtpVideoFrame[];
}

/**
 * Turns the RTP packets of one track (in sequence order) into frames and keeps its codec config: from
 * the SDP (sprop-parameter-sets, config=) and from parameter sets sent in band, which replace it when
 * they change; VP8/VP9 from key frame headers (size, profile) and AV1 from sequence headers, once the
 * first key frame comes and again when they change. Video starts at a key frame and, after a loss, waits
 * for the next one (a damaged access unit is dropped rather than passed on to decoders).
 */
export class RtpTrackReceiver {
  config: TrackConfig | undefined;
  private configChanged = false;
  private readonly video: H264Depacketizer | H265Depacketizer | undefined;
  private readonly nals: VideoNalTypes | undefined;
  private readonly frames: WholeFrameDepacketizer | undefined;
  private readonly audio: { push(pkt: RtpPacket): { timestamp: number; frame: Buffer }[] } | undefined;
  private parameterSets: { vps: Buffer[]; sps: Buffer[]; pps: Buffer[] } = { vps: [], sps: [], pps: [] };
  private needKeyFrame = true;
  private av1SequenceHeader: Buffer | undefined;

  constructor(readonly format: RtpTrackFormat) {
    const { encoding, fmtp } = format;
    switch (encoding) {
      case 'H264':
        this.video = new H264Depacketizer();
        this.nals = VIDEO_NALS.h264;
        this.setParameterSets({ vps: [], sps: base64List(fmtp['sprop-parameter-sets']).filter((n) => nalType264(n) === H264NalType.SPS), pps: base64List(fmtp['sprop-parameter-sets']).filter((n) => nalType264(n) === H264NalType.PPS) });
        break;
      case 'H265':
        this.video = new H265Depacketizer();
        this.nals = VIDEO_NALS.h265;
        this.setParameterSets({ vps: base64List(fmtp['sprop-vps']), sps: base64List(fmtp['sprop-sps']), pps: base64List(fmtp['sprop-pps']) });
        break;
      case 'VP8':
        this.frames = new Vp8Depacketizer();
        break;
      case 'VP9':
        this.frames = new Vp9Depacketizer();
        break;
      case 'AV1':
        this.frames = new Av1Depacketizer();
        break;
      case 'MPEG4-GENERIC':
        if (fmtp.config) this.config = aacConfig(Buffer.from(fmtp.config, 'hex'));
        this.audio = new AacHbrDepacketizer({
          sizeLength: Number(fmtp.sizelength ?? 13),
          indexLength: Number(fmtp.indexlength ?? 3),
          indexDeltaLength: Number(fmtp.indexdeltalength ?? 3),
          frameLength: this.aacFrameLength(),
        });
        break;
      case 'MP4A-LATM':
        if (fmtp.config) this.config = aacConfig(parseLatmStreamMuxConfig(fmtp.config).asc);
        this.audio = new LatmDepacketizer({ frameLength: this.aacFrameLength() });
        break;
      case 'OPUS':
        this.audio = { push: (pkt) => [{ timestamp: pkt.timestamp, frame: depacketizeOpus(pkt) }] };
        this.config = opusConfig(buildOpusHead({ channels: format.channels === 1 ? 1 : 2 }));
        break;
      case 'PCMA':
      case 'PCMU':
        this.audio = { push: (pkt) => [{ timestamp: pkt.timestamp, frame: depacketizeG711(pkt) }] };
        this.config = g711Config(encoding === 'PCMA' ? 'pcma' : 'pcmu', format.clockRate, format.channels ?? 1);
        break;
      default:
        throw new MediaError('UNSUPPORTED', `RTP encoding ${encoding}`);
    }
    this.configChanged = false;
  }

  /**
   * RTP clock ticks per AAC frame: 1024 samples at the core rate; HE-AAC streams often signal the SBR
   * rate (twice the core) as the RTP clock, which makes it 2048.
   */
  private aacFrameLength(): number {
    const config = this.config;
    if (!config || config.kind !== 'audio' || !(config.sampleRate > 0)) return 1024;
    const ratio = Math.round(this.format.clockRate / config.sampleRate);
    return ratio >= 1 && ratio <= 2 ? 1024 * ratio : 1024;
  }

  /** The config when it changed since the last call (in-band parameter sets), else undefined. */
  takeConfigChange(): TrackConfig | undefined {
    if (!this.configChanged) return undefined;
    this.configChanged = false;
    return this.config;
  }

  /** Whether video waits for a key frame (at the start, after a loss): time to send a PLI/FIR. */
  get keyFrameNeeded(): boolean {
    if (this.frames) return this.frames.keyFrameNeeded || !this.config;
    return this.video ? this.needKeyFrame : false;
  }

  /** Frames completed by this packet. Throws MediaError for a malformed payload (the state stays usable). */
  push(pkt: RtpPacket): RtpReceivedFrame[] {
    if (this.audio) {
      if (pkt.payload.length === 0) return [];
      return this.audio.push(pkt).filter((f) => f.frame.length > 0).map((f) => ({ kind: 'audio', timestamp: f.timestamp, keyFrame: true, data: [f.frame] }));
    }
    if (this.frames) {
      const out: RtpReceivedFrame[] = [];
      for (const f of this.frames.push(pkt)) {
        if (f.keyFrame) this.configFromKeyFrame(f);
        // frames before a config (none known from a key frame yet) cannot be described to players
        if (this.config) out.push({ kind: 'video', timestamp: f.timestamp, keyFrame: f.keyFrame, data: [f.data] });
      }
      return out;
    }
    const video = this.video!;
    const damageBefore = video.stats.lost + video.stats.droppedNals;
    const out: RtpReceivedFrame[] = [];
    for (const au of video.push(pkt)) {
      const frame = this.accessUnit(au.timestamp, au.nals, au.complete);
      if (frame) out.push(frame);
    }
    // A loss that emptied an access unit leaves nothing to flag incomplete: what follows needs a key frame.
    if (video.stats.lost + video.stats.droppedNals > damageBefore) this.needKeyFrame = true;
    return out;
  }

  private accessUnit(timestamp: number, nals: Buffer[], complete: boolean): RtpReceivedFrame | undefined {
    const n = this.nals!;
    const units: Buffer[] = [];
    const found: { vps: Buffer[]; sps: Buffer[]; pps: Buffer[] } = { vps: [], sps: [], pps: [] };
    let key = false;
    for (const nal of nals) {
      if (nal.length === 0) continue;
      const t = n.type(nal);
      if (t === n.vps) found.vps.push(nal);
      else if (t === n.sps) found.sps.push(nal);
      else if (t === n.pps) found.pps.push(nal);
      else if (t !== n.aud) {
        if (n.isKey(t)) key = true;
        units.push(nal);
      }
    }
    if (found.vps.length || found.sps.length || found.pps.length) {
      this.setParameterSets({
        vps: found.vps.length ? found.vps : this.parameterSets.vps,
        sps: found.sps.length ? found.sps : this.parameterSets.sps,
        pps: found.pps.length ? found.pps : this.parameterSets.pps,
      });
    }
    if (!complete) {
      this.needKeyFrame = true;
      return undefined;
    }
    if (units.length === 0 || !this.config) return undefined;
    if (this.needKeyFrame && !key) return undefined;
    if (key) this.needKeyFrame = false;
    return { kind: 'video', timestamp, keyFrame: key, data: units };
  }

  /** VP8/VP9: size and profile from the key frame header; AV1: a new sequence header. An unreadable one keeps the config. */
  private configFromKeyFrame(f: RtpVideoFrame): void {
    let config: VideoConfig;
    try {
      switch (this.format.encoding) {
        case 'VP8':
          config = vp8Config(f.data);
          break;
        case 'VP9': {
          const size = f.width && f.height ? { width: f.width, height: f.height } : vp9FrameSize(f.data);
          if (!size) return;
          config = vp9Config(buildVpcC(vpcCOptionsFromFrame(f.data)), size.width, size.height);
          break;
        }
        default: {
          const sh = findAv1SequenceHeader(f.data);
          if (!sh || (this.config && this.av1SequenceHeader?.equals(sh.obu))) return;
          config = av1Config(buildAv1C(f.data));
          this.av1SequenceHeader = Buffer.from(sh.obu);
        }
      }
    } catch (e) {
      if (e instanceof MediaError) return;
      throw e;
    }
    const old = this.config;
    if (old?.kind === 'video' && old.codec === config.codec && old.width === config.width && old.height === config.height && old.record.equals(config.record)) return;
    this.config = config;
    this.configChanged = true;
  }

  private setParameterSets(sets: { vps: Buffer[]; sps: Buffer[]; pps: Buffer[] }): void {
    const same = (a: Buffer[], b: Buffer[]) => a.length === b.length && a.every((x, i) => x.equals(b[i]));
    const p = this.parameterSets;
    if (same(p.vps, sets.vps) && same(p.sps, sets.sps) && same(p.pps, sets.pps) && this.config) return;
    this.parameterSets = sets;
    const h265 = this.format.encoding === 'H265';
    if (!sets.sps.length || !sets.pps.length || (h265 && !sets.vps.length)) return;
    try {
      this.config = h265 ? h265Config(sets.vps, sets.sps, sets.pps) : h264Config(sets.sps, sets.pps);
      this.configChanged = true;
    } catch {
      // Unreadable parameter sets: keep the previous config (frames wait for a usable one).
    }
  }
}
