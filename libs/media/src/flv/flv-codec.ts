/**
 * FLV (and RTMP message) audio/video tag bodies <-> the canonical media model, legacy FLV and
 * Enhanced RTMP (veovera enhanced-rtmp v1/v2: FourCC video/audio, ModEx, multitrack track 0).
 */
import { avccSize, splitAvcc, writeAvcc } from '../annexb';
import { aacConfig } from '../codecs/aac';
import { av1Config } from '../codecs/av1';
import { g711Config } from '../codecs/g711';
import { h264ConfigFromRecord } from '../codecs/h264';
import { h265ConfigFromRecord } from '../codecs/h265';
import { opusConfig } from '../codecs/opus';
import { vp9Config } from '../codecs/vp9';
import { MediaError } from '../media.errors';
import { AudioCodec, AudioConfig, VideoCodec, VideoConfig } from '../media.types';

// ---------------------------------------------------------------------------------------------
// constants

export const FlvVideoFrameType = {
  KEY: 1,
  INTER: 2,
  DISPOSABLE_INTER: 3,
  GENERATED_KEY: 4,
  COMMAND: 5,
} as const;

export const FlvVideoCodecId = {
  AVC: 7,
  /** non-standard legacy HEVC (SRS / ZLMediaKit / Chinese CDN convention) */
  HEVC: 12,
} as const;

export const VideoPacketType = {
  SEQUENCE_START: 0,
  CODED_FRAMES: 1,
  SEQUENCE_END: 2,
  CODED_FRAMES_X: 3,
  METADATA: 4,
  MPEG2TS_SEQUENCE_START: 5,
  MULTITRACK: 6,
  MOD_EX: 7,
} as const;

export const AudioPacketType = {
  SEQUENCE_START: 0,
  CODED_FRAMES: 1,
  SEQUENCE_END: 2,
  MULTICHANNEL_CONFIG: 4,
  MULTITRACK: 5,
  MOD_EX: 7,
} as const;

export const FlvSoundFormat = {
  PCM_PLATFORM: 0,
  ADPCM: 1,
  MP3: 2,
  PCM_LE: 3,
  NELLYMOSER_16K: 4,
  NELLYMOSER_8K: 5,
  NELLYMOSER: 6,
  G711_ALAW: 7,
  G711_MULAW: 8,
  EX_HEADER: 9,
  AAC: 10,
  SPEEX: 11,
  MP3_8K: 14,
} as const;

/** Video FourCC per codec (Enhanced RTMP). */
export const VIDEO_FOURCC: Readonly<Record<VideoCodec, string>> = { h264: 'avc1', h265: 'hvc1', av1: 'av01', vp9: 'vp09', vp8: 'vp08' };

/** The 32-bit number of a FourCC ('hvc1' -> 0x68766331), as onMetaData codec ids use it. */
export function fourccNumber(fourcc: string): number {
  if (fourcc.length !== 4) throw new MediaError('BAD_ARGUMENT', `FourCC ${fourcc}`);
  return ((fourcc.charCodeAt(0) << 24) | (fourcc.charCodeAt(1) << 16) | (fourcc.charCodeAt(2) << 8) | fourcc.charCodeAt(3)) >>> 0;
}

const FOURCC_TO_VIDEO: Record<string, VideoCodec> = { avc1: 'h264', hvc1: 'h265', av01: 'av1', vp09: 'vp9' };

// ---------------------------------------------------------------------------------------------
// results

export type VideoBodyResult =
  | { type: 'config'; config: VideoConfig }
  | { type: 'frame'; codec: VideoCodec; keyFrame: boolean; cts: number; units: Buffer[] }
  | { type: 'end'; codec: VideoCodec }
  | { type: 'ignored'; reason: string };

export type AudioBodyResult =
  | { type: 'config'; config: AudioConfig }
  /** `config` is set when the tag itself defines the stream (G.711, MP3, Opus without a head) and differs from `current` */
  | { type: 'frame'; codec: AudioCodec; data: Buffer; config?: AudioConfig }
  | { type: 'end'; codec: AudioCodec }
  | { type: 'ignored'; reason: string };

// ---------------------------------------------------------------------------------------------
// helpers

function si24(b: Buffer, off: number): number {
  const v = (b[off] << 16) | (b[off + 1] << 8) | b[off + 2];
  return v & 0x800000 ? v - 0x1000000 : v;
}

function writeSi24(out: Buffer, off: number, value: number): void {
  let v = Math.round(value);
  if (v > 0x7fffff) v = 0x7fffff;
  else if (v < -0x800000) v = -0x800000;
  if (v < 0) v += 0x1000000;
  out[off] = v >>> 16;
  out[off + 1] = (v >>> 8) & 0xff;
  out[off + 2] = v & 0xff;
}

function need(body: Buffer, n: number, what: string): void {
  if (body.length < n) throw new MediaError('TRUNCATED', `${what}: ${body.length} bytes, need ${n}`);
}

function fourccAt(body: Buffer, off: number): string {
  need(body, off + 4, 'FourCC');
  return body.toString('latin1', off, off + 4);
}

/** A private copy, so a long-lived config does not pin the socket chunk it came in. */
function own(b: Buffer): Buffer {
  return Buffer.from(b);
}

function nalLengthSizeOf(current: VideoConfig | undefined, codec: VideoCodec): number {
  if (!current || current.codec !== codec) return 4;
  const r = current.record;
  if (codec === 'h264' && r.length >= 5) return (r[4] & 3) + 1;
  if (codec === 'h265' && r.length >= 22) return (r[21] & 3) + 1;
  return 4;
}

/** Skips ModEx prelude entries; returns [packetType, offset after them]. */
function skipModEx(body: Buffer, packetType: number, off: number, modEx: number): [number, number] {
  let pt = packetType;
  let p = off;
  let guard = 0;
  while (pt === modEx) {
    if (++guard > 64) throw new MediaError('BAD_TAG', 'too many ModEx entries');
    need(body, p + 1, 'ModEx size');
    let size = body[p] + 1;
    p += 1;
    if (size === 256) {
      need(body, p + 2, 'ModEx size');
      size = body.readUInt16BE(p) + 1;
      p += 2;
    }
    need(body, p + size + 1, 'ModEx data');
    p += size;
    pt = body[p] & 0x0f;
    p += 1;
  }
  return [pt, p];
}

interface Track {
  fourcc: string;
  payload: Buffer;
}

/**
 * Reads the multitrack header and returns track 0 (or the first track when none has id 0),
 * with the per-message packet type. Returns undefined when the message has no usable track.
 */
function pickTrack(body: Buffer, off: number, mtPacketTypeOut: { pt: number }): Track | undefined {
  need(body, off + 1, 'multitrack header');
  const multitrackType = body[off] >>> 4;
  mtPacketTypeOut.pt = body[off] & 0x0f;
  let p = off + 1;
  if (multitrackType > 2) throw new MediaError('BAD_TAG', `multitrack type ${multitrackType}`);
  let fourcc = '';
  if (multitrackType !== 2) {
    fourcc = fourccAt(body, p);
    p += 4;
  }
  let first: Track | undefined;
  while (p < body.length) {
    if (multitrackType === 2) {
      fourcc = fourccAt(body, p);
      p += 4;
    }
    need(body, p + 1, 'track id');
    const trackId = body[p++];
    let payload: Buffer;
    if (multitrackType !== 0) {
      need(body, p + 3, 'track size');
      const size = body.readUIntBE(p, 3);
      p += 3;
      need(body, p + size, 'track body');
      payload = body.subarray(p, p + size);
      p += size;
    } else {
      payload = body.subarray(p);
      p = body.length;
    }
    const t = { fourcc, payload };
    if (trackId === 0) return t;
    first ??= t;
  }
  return first;
}

/**
 * The track an Enhanced RTMP message carries: after a single FourCC, or the first track of a
 * multitrack message (whose own packet type replaces the outer one). Undefined when a multitrack
 * message holds no track.
 */
function readTrack(body: Buffer, off: number, packetType: number, multitrackType: number): { track: Track; packetType: number } | undefined {
  if (packetType === multitrackType) {
    const out = { pt: 0 };
    const track = pickTrack(body, off, out);
    return track && { track, packetType: out.pt };
  }
  const fourcc = fourccAt(body, off);
  return { track: { fourcc, payload: body.subarray(off + 4) }, packetType };
}

// ---------------------------------------------------------------------------------------------
// video parse

/**
 * Parse a video tag body. `current` (the stream's config so far) supplies the NAL length size of
 * avcC/hvcC streams that do not use 4. NAL units are subarrays of `body`; config records are copied.
 */
export function parseVideoBody(body: Buffer, current?: VideoConfig): VideoBodyResult {
  if (body.length === 0) return { type: 'ignored', reason: 'empty video tag' };
  const b0 = body[0];
  if (b0 & 0x80) return parseEnhancedVideo(body, current);
  const frameType = b0 >>> 4;
  const codecId = b0 & 0x0f;
  if (frameType === FlvVideoFrameType.COMMAND) return { type: 'ignored', reason: 'video command frame' };
  let codec: VideoCodec;
  if (codecId === FlvVideoCodecId.AVC) codec = 'h264';
  else if (codecId === FlvVideoCodecId.HEVC) codec = 'h265';
  else return { type: 'ignored', reason: `unsupported video codec id ${codecId}` };
  need(body, 5, 'AVC video tag');
  const packetType = body[1];
  switch (packetType) {
    case 0: {
      const record = own(body.subarray(5));
      const config = codec === 'h264' ? h264ConfigFromRecord(record) : h265ConfigFromRecord(record);
      return { type: 'config', config };
    }
    case 1: {
      const units = splitAvcc(body.subarray(5), nalLengthSizeOf(current, codec));
      return { type: 'frame', codec, keyFrame: frameType === 1 || frameType === 4, cts: si24(body, 2), units };
    }
    case 2:
      return { type: 'end', codec };
    default:
      return { type: 'ignored', reason: `unknown AVC packet type ${packetType}` };
  }
}

function parseEnhancedVideo(body: Buffer, current?: VideoConfig): VideoBodyResult {
  const b0 = body[0];
  const frameType = (b0 >>> 4) & 7;
  const [outerPacketType, off] = skipModEx(body, b0 & 0x0f, 1, VideoPacketType.MOD_EX);
  if (outerPacketType !== VideoPacketType.METADATA && frameType === FlvVideoFrameType.COMMAND) {
    return { type: 'ignored', reason: 'video command frame' };
  }
  const selected = readTrack(body, off, outerPacketType, VideoPacketType.MULTITRACK);
  if (!selected) return { type: 'ignored', reason: 'multitrack message without tracks' };
  const { track, packetType } = selected;
  const codec = FOURCC_TO_VIDEO[track.fourcc];
  if (!codec) return { type: 'ignored', reason: `unsupported video FourCC '${track.fourcc}'` };
  const payload = track.payload;
  const keyFrame = frameType === 1 || frameType === 4;
  switch (packetType) {
    case VideoPacketType.SEQUENCE_START: {
      const record = own(payload);
      let config: VideoConfig;
      if (codec === 'h264') config = h264ConfigFromRecord(record);
      else if (codec === 'h265') config = h265ConfigFromRecord(record);
      else if (codec === 'av1') config = av1Config(record, current?.codec === 'av1' ? current.width : 0, current?.codec === 'av1' ? current.height : 0);
      else config = vp9Config(record, current?.codec === 'vp9' ? current.width : 0, current?.codec === 'vp9' ? current.height : 0);
      return { type: 'config', config };
    }
    case VideoPacketType.CODED_FRAMES:
    case VideoPacketType.CODED_FRAMES_X: {
      if (codec === 'h264' || codec === 'h265') {
        let cts = 0;
        let data = payload;
        if (packetType === VideoPacketType.CODED_FRAMES) {
          need(payload, 3, 'composition time');
          cts = si24(payload, 0);
          data = payload.subarray(3);
        }
        return { type: 'frame', codec, keyFrame, cts, units: splitAvcc(data, nalLengthSizeOf(current, codec)) };
      }
      return { type: 'frame', codec, keyFrame, cts: 0, units: payload.length ? [payload] : [] };
    }
    case VideoPacketType.SEQUENCE_END:
      return { type: 'end', codec };
    case VideoPacketType.METADATA:
      return { type: 'ignored', reason: 'video metadata' };
    case VideoPacketType.MPEG2TS_SEQUENCE_START:
      return { type: 'ignored', reason: 'MPEG2-TS sequence start' };
    default:
      return { type: 'ignored', reason: `unknown video packet type ${packetType}` };
  }
}

// ---------------------------------------------------------------------------------------------
// audio parse

const LEGACY_RATES = [5512, 11025, 22050, 44100];

const MP3_RATES = [44100, 48000, 32000];

/** Sample rate and channels from an MPEG audio frame header; undefined when there is none. */
export function parseMp3Header(data: Buffer): { sampleRate: number; channels: number } | undefined {
  if (data.length < 4 || data[0] !== 0xff || (data[1] & 0xe0) !== 0xe0) return undefined;
  const version = (data[1] >>> 3) & 3; // 0 = 2.5, 2 = 2, 3 = 1
  const layer = (data[1] >>> 1) & 3;
  const rateIdx = (data[2] >>> 2) & 3;
  if (version === 1 || layer === 0 || rateIdx === 3) return undefined;
  const base = MP3_RATES[rateIdx];
  const sampleRate = version === 3 ? base : version === 2 ? base / 2 : base / 4;
  return { sampleRate, channels: data[3] >>> 6 === 3 ? 1 : 2 };
}

function sameAudio(current: AudioConfig | undefined, codec: AudioCodec, sampleRate: number, channels: number): boolean {
  return !!current && current.codec === codec && current.sampleRate === sampleRate && current.channels === channels;
}

function derivedFrame(codec: AudioCodec, data: Buffer, sampleRate: number, channels: number, current?: AudioConfig): AudioBodyResult {
  if (sameAudio(current, codec, sampleRate, channels)) return { type: 'frame', codec, data };
  const config: AudioConfig =
    codec === 'pcma' || codec === 'pcmu'
      ? g711Config(codec, sampleRate, channels)
      : { kind: 'audio', codec, record: Buffer.alloc(0), sampleRate, channels };
  return { type: 'frame', codec, data, config };
}

function mp3Frame(data: Buffer, flagRate: number, flagChannels: number, current?: AudioConfig): AudioBodyResult {
  const h = parseMp3Header(data);
  return derivedFrame('mp3', data, h?.sampleRate ?? flagRate, h?.channels ?? flagChannels, current);
}

/**
 * Parse an audio tag body. `current` (the stream's config so far) lets codecs without a sequence
 * header (G.711, MP3) report a config only when it changes. Data are subarrays; records are copied.
 */
export function parseAudioBody(body: Buffer, current?: AudioConfig): AudioBodyResult {
  if (body.length === 0) return { type: 'ignored', reason: 'empty audio tag' };
  const b0 = body[0];
  const format = b0 >>> 4;
  const channels = b0 & 1 ? 2 : 1;
  switch (format) {
    case FlvSoundFormat.AAC: {
      need(body, 2, 'AAC audio tag');
      if (body[1] === 0) return { type: 'config', config: aacConfig(own(body.subarray(2))) };
      if (body[1] === 1) return { type: 'frame', codec: 'aac', data: body.subarray(2) };
      return { type: 'ignored', reason: `unknown AAC packet type ${body[1]}` };
    }
    case FlvSoundFormat.G711_ALAW:
      return derivedFrame('pcma', body.subarray(1), 8000, channels, current);
    case FlvSoundFormat.G711_MULAW:
      return derivedFrame('pcmu', body.subarray(1), 8000, channels, current);
    case FlvSoundFormat.MP3:
      return mp3Frame(body.subarray(1), LEGACY_RATES[(b0 >>> 2) & 3], channels, current);
    case FlvSoundFormat.MP3_8K:
      return mp3Frame(body.subarray(1), 8000, channels, current);
    case FlvSoundFormat.EX_HEADER:
      return parseEnhancedAudio(body, current);
    default:
      return { type: 'ignored', reason: `unsupported sound format ${format}` };
  }
}

function parseEnhancedAudio(body: Buffer, current?: AudioConfig): AudioBodyResult {
  const [outerPacketType, off] = skipModEx(body, body[0] & 0x0f, 1, AudioPacketType.MOD_EX);
  const selected = readTrack(body, off, outerPacketType, AudioPacketType.MULTITRACK);
  if (!selected) return { type: 'ignored', reason: 'multitrack message without tracks' };
  const { packetType } = selected;
  const { fourcc, payload } = selected.track;
  let codec: AudioCodec;
  if (fourcc === 'mp4a') codec = 'aac';
  else if (fourcc === 'Opus') codec = 'opus';
  else if (fourcc === '.mp3') codec = 'mp3';
  else return { type: 'ignored', reason: `unsupported audio FourCC '${fourcc}'` };
  switch (packetType) {
    case AudioPacketType.SEQUENCE_START:
      if (codec === 'aac') return { type: 'config', config: aacConfig(own(payload)) };
      if (codec === 'opus') {
        if (payload.length >= 8 && payload.toString('latin1', 0, 8) === 'OpusTags') {
          return { type: 'ignored', reason: 'Opus comment header' };
        }
        return { type: 'config', config: opusConfig(own(payload)) };
      }
      return { type: 'ignored', reason: 'MP3 sequence start' };
    case AudioPacketType.CODED_FRAMES:
      if (codec === 'aac') return { type: 'frame', codec, data: payload };
      if (codec === 'opus') {
        if (current?.codec === 'opus') return { type: 'frame', codec, data: payload };
        return { type: 'frame', codec, data: payload, config: opusConfig() };
      }
      return mp3Frame(payload, 44100, 2, current);
    case AudioPacketType.SEQUENCE_END:
      return { type: 'end', codec };
    case AudioPacketType.MULTICHANNEL_CONFIG:
      return { type: 'ignored', reason: 'multichannel config' };
    default:
      return { type: 'ignored', reason: `unknown audio packet type ${packetType}` };
  }
}

// ---------------------------------------------------------------------------------------------
// video build

export interface VideoBuildOptions {
  /** write H.265 with the legacy codec id 12 instead of Enhanced RTMP 'hvc1' */
  legacyHevc?: boolean;
}

function writeFourcc(out: Buffer, off: number, fourcc: string): void {
  out.write(fourcc, off, 4, 'latin1');
}

/** The record with its NAL length size forced to 4 (what the frame builders write). */
function recordWithLength4(config: VideoConfig): Buffer {
  const r = config.record;
  if (config.codec === 'h264') {
    if (r.length < 5) throw new MediaError('BAD_RECORD', 'avcC too short');
    if ((r[4] & 3) === 3) return r;
    const c = Buffer.from(r);
    c[4] |= 3;
    return c;
  }
  if (config.codec === 'h265') {
    if (r.length < 23) throw new MediaError('BAD_RECORD', 'hvcC too short');
    if ((r[21] & 3) === 3) return r;
    const c = Buffer.from(r);
    c[21] |= 3;
    return c;
  }
  return r;
}

/**
 * Sequence header body: legacy AVC for H.264 (codec id 7), Enhanced RTMP SequenceStart for
 * H.265/AV1/VP9 (or legacy codec id 12 for H.265 with `legacyHevc`). The NAL length size in
 * avcC/hvcC is set to 4 to match buildVideoFrameBody.
 */
export function buildVideoConfigBody(config: VideoConfig, opts: VideoBuildOptions = {}): Buffer {
  const record = recordWithLength4(config);
  if (config.codec === 'h264' || (config.codec === 'h265' && opts.legacyHevc)) {
    const out = Buffer.allocUnsafe(5 + record.length);
    out[0] = 0x10 | (config.codec === 'h264' ? FlvVideoCodecId.AVC : FlvVideoCodecId.HEVC);
    out[1] = 0;
    out[2] = 0;
    out[3] = 0;
    out[4] = 0;
    record.copy(out, 5);
    return out;
  }
  const fourcc = VIDEO_FOURCC[config.codec];
  if (!fourcc) throw new MediaError('UNSUPPORTED', `video codec ${String(config.codec)}`);
  const out = Buffer.allocUnsafe(5 + record.length);
  out[0] = 0x80 | (FlvVideoFrameType.KEY << 4) | VideoPacketType.SEQUENCE_START;
  writeFourcc(out, 1, fourcc);
  record.copy(out, 5);
  return out;
}

/**
 * Frame body in one allocation. H.264: legacy AVC NALU packet; H.265: Enhanced 'hvc1'
 * CodedFrames (CodedFramesX when cts is 0), or legacy id 12; AV1/VP9: Enhanced CodedFrames with
 * the units concatenated as the sample. NAL units get 4-byte lengths.
 */
export function buildVideoFrameBody(codec: VideoCodec, keyFrame: boolean, cts: number, units: readonly Buffer[], opts: VideoBuildOptions = {}): Buffer {
  const ft = keyFrame ? FlvVideoFrameType.KEY : FlvVideoFrameType.INTER;
  if (codec === 'h264' || (codec === 'h265' && opts.legacyHevc)) {
    const out = Buffer.allocUnsafe(5 + avccSize(units, 4));
    out[0] = (ft << 4) | (codec === 'h264' ? FlvVideoCodecId.AVC : FlvVideoCodecId.HEVC);
    out[1] = 1;
    writeSi24(out, 2, cts);
    writeAvcc(out, 5, units, 4);
    return out;
  }
  if (codec === 'h265') {
    const withCts = Math.round(cts) !== 0;
    const head = withCts ? 8 : 5;
    const out = Buffer.allocUnsafe(head + avccSize(units, 4));
    out[0] = 0x80 | (ft << 4) | (withCts ? VideoPacketType.CODED_FRAMES : VideoPacketType.CODED_FRAMES_X);
    writeFourcc(out, 1, 'hvc1');
    if (withCts) writeSi24(out, 5, cts);
    writeAvcc(out, head, units, 4);
    return out;
  }
  const fourcc = VIDEO_FOURCC[codec];
  if (!fourcc) throw new MediaError('UNSUPPORTED', `video codec ${String(codec)}`);
  let size = 5;
  for (const u of units) size += u.length;
  const out = Buffer.allocUnsafe(size);
  out[0] = 0x80 | (ft << 4) | VideoPacketType.CODED_FRAMES;
  writeFourcc(out, 1, fourcc);
  let off = 5;
  for (const u of units) {
    u.copy(out, off);
    off += u.length;
  }
  return out;
}

/** End-of-sequence body. */
export function buildVideoEndBody(codec: VideoCodec, opts: VideoBuildOptions = {}): Buffer {
  if (codec === 'h264' || (codec === 'h265' && opts.legacyHevc)) {
    return Buffer.from([0x10 | (codec === 'h264' ? FlvVideoCodecId.AVC : FlvVideoCodecId.HEVC), 2, 0, 0, 0]);
  }
  const fourcc = VIDEO_FOURCC[codec];
  if (!fourcc) throw new MediaError('UNSUPPORTED', `video codec ${String(codec)}`);
  const out = Buffer.allocUnsafe(5);
  out[0] = 0x80 | (FlvVideoFrameType.KEY << 4) | VideoPacketType.SEQUENCE_END;
  writeFourcc(out, 1, fourcc);
  return out;
}

// ---------------------------------------------------------------------------------------------
// audio build

function legacyRateBits(rate: number): number {
  if (rate >= 44100) return 3;
  if (rate >= 22050) return 2;
  if (rate >= 11025) return 1;
  return 0;
}

/**
 * The bytes that precede the codec data in an audio frame body (AAC: 2, Opus: 5, others: 1).
 * Callers that write [header, data] as two pieces avoid copying the frame.
 */
export function audioFrameHeader(config: AudioConfig): Buffer {
  const stereo = config.channels > 1 ? 1 : 0;
  switch (config.codec) {
    case 'aac':
      return Buffer.from([0xaf, 1]);
    case 'opus':
      return Buffer.from([0x90 | AudioPacketType.CODED_FRAMES, 0x4f, 0x70, 0x75, 0x73]);
    case 'pcma':
      return Buffer.from([(FlvSoundFormat.G711_ALAW << 4) | 0x02 | stereo]);
    case 'pcmu':
      return Buffer.from([(FlvSoundFormat.G711_MULAW << 4) | 0x02 | stereo]);
    case 'mp3':
      if (config.sampleRate === 8000) return Buffer.from([(FlvSoundFormat.MP3_8K << 4) | 0x02 | stereo]);
      return Buffer.from([(FlvSoundFormat.MP3 << 4) | (legacyRateBits(config.sampleRate) << 2) | 0x02 | stereo]);
    default:
      throw new MediaError('UNSUPPORTED', `audio codec ${String((config as AudioConfig).codec)}`);
  }
}

/** Sequence header body (AAC: legacy AudioSpecificConfig packet; Opus: Enhanced SequenceStart with OpusHead); null when the codec needs none. */
export function buildAudioConfigBody(config: AudioConfig): Buffer | null {
  if (config.codec === 'aac') {
    const out = Buffer.allocUnsafe(2 + config.record.length);
    out[0] = 0xaf;
    out[1] = 0;
    config.record.copy(out, 2);
    return out;
  }
  if (config.codec === 'opus') {
    const out = Buffer.allocUnsafe(5 + config.record.length);
    out[0] = 0x90 | AudioPacketType.SEQUENCE_START;
    writeFourcc(out, 1, 'Opus');
    config.record.copy(out, 5);
    return out;
  }
  return null;
}

/** Frame body in one allocation (header + data). */
export function buildAudioFrameBody(config: AudioConfig, data: Buffer): Buffer {
  const head = audioFrameHeader(config);
  const out = Buffer.allocUnsafe(head.length + data.length);
  head.copy(out, 0);
  data.copy(out, head.length);
  return out;
}

/** End-of-sequence body for Enhanced audio (AAC/Opus); null for codecs without one. */
export function buildAudioEndBody(config: AudioConfig): Buffer | null {
  const fourcc = config.codec === 'aac' ? 'mp4a' : config.codec === 'opus' ? 'Opus' : null;
  if (!fourcc) return null;
  const out = Buffer.allocUnsafe(5);
  out[0] = 0x90 | AudioPacketType.SEQUENCE_END;
  writeFourcc(out, 1, fourcc);
  return out;
}
