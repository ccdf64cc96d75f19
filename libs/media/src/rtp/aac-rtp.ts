import { BitReader, BitWriter } from '../bit-reader';
import { parseAudioSpecificConfig, readAudioObjectType, readPceChannels } from '../codecs/aac';
import { MediaError } from '../media.errors';
import { DEFAULT_RTP_MTU } from './h264-rtp';
import { trackRtpSequence } from './nal-depacketizer';
import { RtpPacket, RtpPayload } from './rtp-packet';

/** Samples per AAC frame (access unit) of the usual codecs (LC, HE-AAC core); 960-sample framing exists too. */
export const AAC_FRAME_SAMPLES = 1024;

/** One AAC frame (raw access unit, no ADTS) and its RTP timestamp. */
export interface AacRtpFrame {
  timestamp: number;
  frame: Buffer;
}

export interface AacDepacketizerStats {
  packets: number;
  /** packets missing in sequence gaps (or 1 per unexplained sequence jump backwards) */
  lost: number;
  duplicates: number;
  /** packets older than the last one, dropped */
  late: number;
  /** frames (or LATM mux elements) dropped: incomplete, over the size limit, malformed */
  droppedFrames: number;
  /** frames emitted */
  frames: number;
}

function checkFrameLength(frameLength: number): number {
  if (!Number.isInteger(frameLength) || frameLength < 1) throw new MediaError('BAD_ARGUMENT', `AAC frame length ${frameLength}`);
  return frameLength;
}

// ---------------------------------------------------------------------------------------------------------
// RFC 3640 (MPEG4-GENERIC), mode AAC-hbr

/** The fmtp parameters of RFC 3640 mode AAC-hbr (3.3.6): 13-bit AU-size, 3-bit AU-Index(-delta). */
export const AAC_HBR_SIZE_LENGTH = 13;
export const AAC_HBR_INDEX_LENGTH = 3;
export const AAC_HBR_INDEX_DELTA_LENGTH = 3;
/** Largest AU an AAC-hbr AU-header can describe (13 bits). */
export const AAC_HBR_MAX_FRAME_SIZE = (1 << AAC_HBR_SIZE_LENGTH) - 1;

/** `config=` of an RFC 3640 fmtp line: the AudioSpecificConfig in hexadecimal (checked by parsing it). */
export function aacRtpConfigHex(asc: Buffer): string {
  parseAudioSpecificConfig(asc);
  return asc.toString('hex').toUpperCase();
}

/** An RTP payload of several frames: its timestamp is the call's plus `timestampOffset`. */
export interface AacRtpPayload extends RtpPayload {
  /** (index of the first frame it carries) * frameLength, in RTP clock units (the sample rate) */
  timestampOffset: number;
}

export interface AacHbrPacketizerOptions {
  /** Largest RTP payload in bytes (default 1200). At least 5 (AU-headers-length, one AU-header, 1 byte). */
  mtu?: number;
  /** Samples per frame, for `timestampOffset` (default 1024). */
  frameLength?: number;
}

/**
 * RFC 3640 mode AAC-hbr packetization of consecutive raw AAC frames (no ADTS): frames that fit together go
 * in one packet, each with its 16-bit AU-header (3.2.1; AU-Index and deltas 0); a frame larger than the MTU
 * is fragmented (3.2.3), every fragment carrying an AU-header with the size of the whole frame. The marker
 * is set on each payload that ends a frame, i.e. all but non-final fragments (3.2.1). Payload k must be
 * stamped with the first frame's timestamp + `timestampOffset` (0 for all when one frame is given). Empty
 * frames are skipped. Throws MediaError('BAD_ARGUMENT') for a frame over 8191 bytes (the 13-bit AU-size).
 */
export function packetizeAacHbr(frames: readonly Buffer[], o: AacHbrPacketizerOptions = {}): AacRtpPayload[] {
  const mtu = o.mtu ?? DEFAULT_RTP_MTU;
  if (!Number.isInteger(mtu) || mtu < 5) throw new MediaError('BAD_ARGUMENT', `RTP MTU ${mtu} (at least 5)`);
  const frameLength = checkFrameLength(o.frameLength ?? AAC_FRAME_SAMPLES);
  const out: AacRtpPayload[] = [];
  let group: Buffer[] = [];
  let groupFirst = 0;
  let groupSize = 2; // AU-headers-length

  const flush = () => {
    if (group.length > 0) out.push({ payload: buildAacHbrPacket(group, groupSize), marker: true, timestampOffset: groupFirst * frameLength });
    group = [];
    groupSize = 2;
  };

  frames.forEach((frame, i) => {
    if (frame.length > AAC_HBR_MAX_FRAME_SIZE) throw new MediaError('BAD_ARGUMENT', `AAC frame of ${frame.length} bytes (AAC-hbr AU-size holds ${AAC_HBR_MAX_FRAME_SIZE})`);
    if (frame.length === 0) {
      // the next frame's timestamp is not its predecessor's + frameLength: it starts a packet
      flush();
      return;
    }
    if (group.length > 0 && groupSize + 2 + frame.length > mtu) flush();
    if (4 + frame.length > mtu) {
      fragmentAacHbr(frame, mtu, i * frameLength, out);
      return;
    }
    if (group.length === 0) groupFirst = i;
    group.push(frame);
    groupSize += 2 + frame.length;
  });
  flush();
  return out;
}

function buildAacHbrPacket(frames: readonly Buffer[], size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let off = out.writeUInt16BE(16 * frames.length, 0);
  for (const f of frames) off = out.writeUInt16BE(f.length << 3, off);
  for (const f of frames) off += f.copy(out, off);
  return out;
}

function fragmentAacHbr(frame: Buffer, mtu: number, timestampOffset: number, out: AacRtpPayload[]): void {
  // equal-sized fragments instead of a tiny last one
  const count = Math.ceil(frame.length / (mtu - 4));
  const chunk = Math.ceil(frame.length / count);
  for (let off = 0; off < frame.length; off += chunk) {
    const end = Math.min(off + chunk, frame.length);
    const p = Buffer.allocUnsafe(4 + end - off);
    p.writeUInt16BE(16, 0);
    p.writeUInt16BE(frame.length << 3, 2);
    frame.copy(p, 4, off, end);
    out.push({ payload: p, marker: end === frame.length, timestampOffset });
  }
}

/** The AU-header fields of RFC 3640 3.2.1.1 that AAC uses (no CTS/DTS/RAP/stream state). */
export interface AuHeaderLayout {
  sizeLength: number;
  indexLength: number;
  indexDeltaLength: number;
}

/** One AU of a parsed RFC 3640 payload: `data` is shorter than `size` for a fragment. */
export interface Rfc3640Au {
  size: number;
  /** AU-Index of the first AU, AU-Index-delta of the others */
  index: number;
  data: Buffer;
}

/**
 * Parse the AU Header Section and the AUs of one RFC 3640 payload (3.2.1; no auxiliary section). A payload
 * with a single AU-header whose size is larger than the data is a fragment (3.2.3). Data are subarrays.
 * Bytes after the last AU are ignored. Throws MediaError('BAD_RTP_PAYLOAD') for AU-headers-length 0, not a
 * whole number of AU-headers, headers past the payload, or AUs (several) past the payload.
 */
export function parseRfc3640Payload(p: Buffer, layout: AuHeaderLayout): Rfc3640Au[] {
  if (p.length < 2) throw new MediaError('BAD_RTP_PAYLOAD', `RFC 3640 payload of ${p.length} bytes`);
  const headersBits = p.readUInt16BE(0);
  const headersBytes = Math.ceil(headersBits / 8);
  if (headersBits === 0) throw new MediaError('BAD_RTP_PAYLOAD', 'AU-headers-length 0');
  if (2 + headersBytes > p.length) throw new MediaError('BAD_RTP_PAYLOAD', `AU headers of ${headersBits} bits run past the payload (${p.length})`);
  const r = new BitReader(p, 2, headersBytes, 'BAD_RTP_PAYLOAD');
  const heads: { size: number; index: number }[] = [];
  const end = 16 + headersBits;
  while (r.bitPos < end) {
    const indexBits = heads.length === 0 ? layout.indexLength : layout.indexDeltaLength;
    if (r.bitPos + layout.sizeLength + indexBits > end) throw new MediaError('BAD_RTP_PAYLOAD', `AU-headers-length ${headersBits} is not a whole number of AU-headers`);
    heads.push({ size: r.readBits(layout.sizeLength), index: r.readBits(indexBits) });
  }
  let off = 2 + headersBytes;
  const avail = p.length - off;
  if (heads.length === 1 && heads[0].size > avail) return [{ ...heads[0], data: p.subarray(off) }];
  const aus: Rfc3640Au[] = [];
  for (const h of heads) {
    if (off + h.size > p.length) throw new MediaError('BAD_RTP_PAYLOAD', `AUs of the RFC 3640 payload run past its end (${p.length})`);
    aus.push({ ...h, data: p.subarray(off, off + h.size) });
    off += h.size;
  }
  return aus;
}

export interface AacHbrDepacketizerOptions {
  /** fmtp sizeLength (default 13), 1..32 */
  sizeLength?: number;
  /** fmtp indexLength (default 3), 0..32 */
  indexLength?: number;
  /** fmtp indexDeltaLength (default 3), 0..32 */
  indexDeltaLength?: number;
  /** Samples per frame: timestamp step between the AUs of a packet (default 1024). */
  frameLength?: number;
  /** Largest frame kept; larger ones are dropped (default 64 KiB). Bounds fragment reassembly. */
  maxFrameSize?: number;
}

function checkFieldLength(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min || v > 32) throw new MediaError('BAD_ARGUMENT', `RFC 3640 ${name} ${v} outside ${min}..32`);
  return v;
}

interface OpenFragment {
  timestamp: number;
  size: number;
  parts: Buffer[];
  received: number;
}

/**
 * Rebuilds AAC frames from RFC 3640 packets (mode AAC-hbr, or another AU-header layout without CTS/DTS
 * fields) given in sequence order. Several AUs of a packet get timestamps pkt.timestamp + (AU-Index
 * offset) * frameLength; with interleaving they come out in packet order, not re-sorted. A fragmented AU
 * is rebuilt only across consecutive sequence numbers with one timestamp and AU-size, and comes out when
 * all its bytes are there; a loss, a marker before the end or a timestamp change drops it. Zero-size AUs
 * give nothing. Throws MediaError('BAD_RTP_PAYLOAD') for a malformed payload (the state stays usable).
 */
export class AacHbrDepacketizer {
  readonly stats: AacDepacketizerStats = { packets: 0, lost: 0, duplicates: 0, late: 0, droppedFrames: 0, frames: 0 };

  private readonly layout: AuHeaderLayout;
  private readonly frameLength: number;
  private readonly maxFrameSize: number;
  private lastSeq: number | undefined;
  private fragment: OpenFragment | undefined;
  /** Timestamp of a fragmented AU already counted as dropped: its other fragments go quietly. */
  private discardedTimestamp: number | undefined;

  constructor(o: AacHbrDepacketizerOptions = {}) {
    this.layout = {
      sizeLength: checkFieldLength('sizeLength', o.sizeLength ?? AAC_HBR_SIZE_LENGTH, 1),
      indexLength: checkFieldLength('indexLength', o.indexLength ?? AAC_HBR_INDEX_LENGTH, 0),
      indexDeltaLength: checkFieldLength('indexDeltaLength', o.indexDeltaLength ?? AAC_HBR_INDEX_DELTA_LENGTH, 0),
    };
    this.frameLength = checkFrameLength(o.frameLength ?? AAC_FRAME_SAMPLES);
    this.maxFrameSize = o.maxFrameSize ?? 64 * 1024;
  }

  /** Bytes held for a fragmented AU. */
  get bufferedBytes(): number {
    return this.fragment?.received ?? 0;
  }

  /** Feed one packet; returns the frames it completes. */
  push(pkt: RtpPacket): AacRtpFrame[] {
    const out: AacRtpFrame[] = [];
    this.stats.packets++;
    const seq = trackRtpSequence(this.stats, this.lastSeq, pkt.sequenceNumber);
    if (seq === 'skip') return out;
    this.lastSeq = pkt.sequenceNumber;
    // an open fragment is dropped; the rest of its AU then goes quietly (discardedTimestamp)
    if (seq === 'gap') this.dropFragment();

    let aus: Rfc3640Au[];
    try {
      aus = parseRfc3640Payload(pkt.payload, this.layout);
    } catch (e) {
      this.dropFragment();
      throw e;
    }

    const first = aus[0];
    if (aus.length === 1 && first.data.length < first.size) {
      this.addFragment(pkt, first, out);
      return out;
    }
    this.dropFragment();
    this.discardedTimestamp = undefined;
    let offset = 0;
    aus.forEach((au, i) => {
      if (i > 0) offset += au.index + 1;
      if (au.size === 0) return;
      if (au.size > this.maxFrameSize) {
        this.stats.droppedFrames++;
        return;
      }
      this.emit(out, (pkt.timestamp + offset * this.frameLength) >>> 0, au.data);
    });
    return out;
  }

  /** Nothing is emitted at the end of a stream: a fragmented AU still open is incomplete. */
  flushPending(): AacRtpFrame[] {
    this.dropFragment();
    return [];
  }

  private addFragment(pkt: RtpPacket, au: Rfc3640Au, out: AacRtpFrame[]): void {
    let f = this.fragment;
    if (!f || f.timestamp !== pkt.timestamp || f.size !== au.size) {
      this.dropFragment();
      if (this.discardedTimestamp === pkt.timestamp) {
        if (pkt.marker) this.discardedTimestamp = undefined;
        return;
      }
      if (au.size > this.maxFrameSize) {
        this.stats.droppedFrames++;
        this.discardedTimestamp = pkt.marker ? undefined : pkt.timestamp;
        return;
      }
      f = { timestamp: pkt.timestamp, size: au.size, parts: [], received: 0 };
      this.fragment = f;
    }
    this.discardedTimestamp = undefined;
    f.parts.push(au.data);
    f.received += au.data.length;
    if (f.received > f.size || (pkt.marker && f.received < f.size)) {
      // the first fragment was lost, or the sender is inconsistent
      this.dropFragment();
      this.discardedTimestamp = pkt.marker ? undefined : pkt.timestamp;
    } else if (f.received === f.size) {
      this.fragment = undefined;
      this.emit(out, f.timestamp, Buffer.concat(f.parts, f.size));
    }
  }

  private dropFragment(): void {
    if (!this.fragment) return;
    this.discardedTimestamp = this.fragment.timestamp;
    this.fragment = undefined;
    this.stats.droppedFrames++;
  }

  private emit(out: AacRtpFrame[], timestamp: number, frame: Buffer): void {
    this.stats.frames++;
    out.push({ timestamp, frame });
  }
}

// ---------------------------------------------------------------------------------------------------------
// RFC 6416 (MP4A-LATM), cpresent=0: the StreamMuxConfig is in the SDP, packets carry AudioMuxElements

/** One stream (program/layer) of a StreamMuxConfig. */
export interface LatmStream {
  program: number;
  layer: number;
  /** AudioSpecificConfig, byte aligned (zero bits after its end) */
  asc: Buffer;
  /** 0: payload lengths in bytes (AAC); 1: fixed frameLength; 3..7: CELP/HVXC tables */
  frameLengthType: number;
  latmBufferFullness?: number;
  /** frameLengthType 1: frameLength field (payload is 8 * (frameLength + 20) bits) */
  frameLength?: number;
}

/** StreamMuxConfig (ISO/IEC 14496-3 1.7.3.1), as an RFC 6416 `config=` carries it. */
export interface LatmStreamMuxConfig {
  audioMuxVersion: number;
  allStreamsSameTimeFraming: boolean;
  /** AudioMuxElement payloads per stream (numSubFrames + 1) */
  numSubFrames: number;
  /** the AudioSpecificConfig of the first stream */
  asc: Buffer;
  /** frameLengthType of the first stream */
  frameLengthType: number;
  streams: LatmStream[];
  otherDataPresent: boolean;
  otherDataLenBits: number;
  crcCheckPresent: boolean;
  taraBufferFullness?: number;
  /**
   * The config ended after the last AudioSpecificConfig (some cameras send that): frameLengthType 0,
   * latmBufferFullness 0xFF and no other data / CRC were assumed for what was missing.
   */
  truncated: boolean;
}

/** Copy `bits` bits from bit position `start` of `src` into a new Buffer (zero bits after the end). */
function sliceBits(src: Buffer, start: number, bits: number): Buffer {
  const r = new BitReader(src, 0, src.length, 'BAD_STREAM_MUX_CONFIG');
  r.skipBits(start);
  const w = new BitWriter(Math.ceil(bits / 8));
  let left = bits;
  while (left > 0) {
    const n = Math.min(left, 24);
    w.writeBits(r.readBits(n), n);
    left -= n;
  }
  return w.byteAlign().toBuffer();
}

/** GASpecificConfig object types (ISO/IEC 14496-3 1.6.2.1). */
const GA_OBJECT_TYPES = new Set([1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23]);
/** Error resilient object types, which end the AudioSpecificConfig with epConfig. */
const ER_OBJECT_TYPES = new Set([17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 39]);

/**
 * Unlike readSampleRate in codecs/aac it accepts the reserved indexes and a rate of 0: only the length counts
 * here (parseAudioSpecificConfig checks the values, and tolerates a bad backward-compatible SBR extension).
 */
function skipSamplingFrequency(r: BitReader): void {
  if (r.readBits(4) === 15) r.skipBits(24);
}

/**
 * Bits taken by the AudioSpecificConfig at the start of `asc` (audioMuxVersion 0 gives no length, so it
 * is found by walking the syntax). Only GA object types (AAC Main/LC/SSR/LTP/scalable, TwinVQ, ER AAC, LD)
 * have a known length here; others throw MediaError('UNSUPPORTED'). No backward-compatible SBR extension
 * is read: in LATM version 0 nothing tells where it would end.
 */
export function audioSpecificConfigBitLength(asc: Buffer): number {
  const r = new BitReader(asc, 0, asc.length, 'BAD_ASC');
  let objectType = readAudioObjectType(r);
  if (objectType === 0) throw new MediaError('BAD_ASC', 'audioObjectType 0');
  skipSamplingFrequency(r);
  const channelConfig = r.readBits(4);
  if (objectType === 5 || objectType === 29) {
    skipSamplingFrequency(r);
    objectType = readAudioObjectType(r);
    if (objectType === 22) r.skipBits(4);
  }
  if (!GA_OBJECT_TYPES.has(objectType)) throw new MediaError('UNSUPPORTED', `AudioSpecificConfig of object type ${objectType} in LATM`);
  r.skipBits(1); // frameLengthFlag
  if (r.readFlag()) r.skipBits(14); // coreCoderDelay
  const extensionFlag = r.readFlag();
  if (channelConfig === 0) readPceChannels(r); // only its length matters here
  if (objectType === 6 || objectType === 20) r.skipBits(3); // layerNr
  if (extensionFlag) {
    if (objectType === 22) r.skipBits(5 + 11); // numOfSubFrame, layer_length
    if (objectType === 17 || objectType === 19 || objectType === 20 || objectType === 23) r.skipBits(3); // resilience flags
    r.skipBits(1); // extensionFlag3
  }
  if (ER_OBJECT_TYPES.has(objectType)) {
    const epConfig = r.readBits(2);
    if (epConfig === 2 || epConfig === 3) throw new MediaError('UNSUPPORTED', `AudioSpecificConfig with epConfig ${epConfig}`);
  }
  skipSyncExtension(r);
  return r.bitPos;
}

/** syncExtensionType of backward-compatible SBR signalling, and of PS signalling inside it (ISO/IEC 14496-3 1.6.2.1). */
const SBR_SYNC_EXTENSION = 0x2b7;
const PS_SYNC_EXTENSION = 0x548;

/**
 * Backward-compatible explicit SBR/PS signalling after the GASpecificConfig, as FFmpeg's AAC encoder writes
 * it (e.g. through GStreamer's avenc_aac into MP4A-LATM). In a StreamMuxConfig it cannot be mistaken for
 * what follows the ASC: 0x2b7 starts with the reserved frameLengthType 2.
 */
function skipSyncExtension(r: BitReader): void {
  if (r.bitsLeft < 16 || r.peekBits(11) !== SBR_SYNC_EXTENSION) return;
  r.skipBits(11);
  const extensionType = readAudioObjectType(r);
  if (extensionType === 5) {
    if (!r.readFlag()) return; // sbrPresentFlag
    skipSamplingFrequency(r);
    if (r.bitsLeft >= 12 && r.peekBits(11) === PS_SYNC_EXTENSION) r.skipBits(12); // psPresentFlag
  } else if (extensionType === 22) {
    if (r.readFlag()) skipSamplingFrequency(r);
    r.skipBits(4); // extensionChannelConfiguration
  }
}

/** Bits of StreamMuxConfig searched for the end of an AudioSpecificConfig (audioMuxVersion 0). */
const MAX_ASC_BITS = 8 * 1024;

/** LatmGetValue() (1.7.3.1): 2 bits of byte count - 1, then that many bytes. */
function latmGetValue(r: BitReader): number {
  const bytes = r.readBits(2) + 1;
  return r.readBits(8 * bytes);
}

function parseMuxConfigInput(input: string | Buffer): Buffer {
  if (Buffer.isBuffer(input)) return input;
  const s = input.replace(/\s+/g, '');
  if (s.length === 0 || s.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(s)) throw new MediaError('BAD_STREAM_MUX_CONFIG', `StreamMuxConfig "${input.slice(0, 40)}" is not hexadecimal`);
  return Buffer.from(s, 'hex');
}

/**
 * Parse a StreamMuxConfig (ISO/IEC 14496-3 1.7.3.1), the hex `config=` of an RFC 6416 MP4A-LATM fmtp line
 * (or its bytes). audioMuxVersion 0 and 1 (audioMuxVersionA 0). Each stream's AudioSpecificConfig is
 * returned byte aligned and checked with parseAudioSpecificConfig. Throws MediaError: 'BAD_STREAM_MUX_CONFIG'
 * (not hex, too short, reserved frameLengthType 2), 'BAD_ASC', or 'UNSUPPORTED' (audioMuxVersionA 1, an
 * object type whose config length is unknown in version 0).
 */
export function parseLatmStreamMuxConfig(input: string | Buffer): LatmStreamMuxConfig {
  const buf = parseMuxConfigInput(input);
  const r = new BitReader(buf, 0, buf.length, 'BAD_STREAM_MUX_CONFIG');
  const audioMuxVersion = r.readBit();
  const audioMuxVersionA = audioMuxVersion === 1 ? r.readBit() : 0;
  if (audioMuxVersionA !== 0) throw new MediaError('UNSUPPORTED', 'StreamMuxConfig with audioMuxVersionA 1');
  const taraBufferFullness = audioMuxVersion === 1 ? latmGetValue(r) : undefined;
  const allStreamsSameTimeFraming = r.readFlag();
  const numSubFrames = r.readBits(6) + 1;
  const numPrograms = r.readBits(4) + 1;
  const streams: LatmStream[] = [];
  let truncated = false;
  let objectTypes: number[] = [];

  const readStream = (program: number, layer: number, last: boolean) => {
    let asc: Buffer;
    if (streams.length > 0 && r.readFlag()) {
      asc = streams[streams.length - 1].asc; // useSameConfig
    } else if (audioMuxVersion === 0) {
      // an ASC is a few bytes (a PCE with its comment a few hundred): copy no more than that
      const tail = sliceBits(buf, r.bitPos, Math.min(r.bitsLeft, MAX_ASC_BITS));
      const bits = audioSpecificConfigBitLength(tail);
      asc = sliceBits(tail, 0, bits);
      r.skipBits(bits);
    } else {
      const bits = latmGetValue(r);
      if (bits > r.bitsLeft) throw new MediaError('BAD_STREAM_MUX_CONFIG', `AudioSpecificConfig of ${bits} bits runs past the config`);
      asc = sliceBits(buf, r.bitPos, bits);
      r.skipBits(bits);
    }
    const objectType = parseAudioSpecificConfig(asc).objectType;
    objectTypes = layer === 0 ? [objectType] : [...objectTypes, objectType];
    const stream: LatmStream = { program, layer, asc, frameLengthType: 0 };
    streams.push(stream);
    if (last && r.bitsLeft < 3) {
      truncated = true;
      stream.latmBufferFullness = 0xff;
      return;
    }
    stream.frameLengthType = r.readBits(3);
    switch (stream.frameLengthType) {
      case 0:
        if (last && r.bitsLeft < 8) {
          truncated = true;
          stream.latmBufferFullness = 0xff;
          return;
        }
        stream.latmBufferFullness = r.readBits(8);
        if (!allStreamsSameTimeFraming && layer > 0 && (objectType === 6 || objectType === 20)) {
          const below = objectTypes[layer - 1];
          if (below === 8 || below === 24) r.skipBits(6); // coreFrameOffset
        }
        break;
      case 1:
        stream.frameLength = r.readBits(9);
        break;
      case 3:
      case 4:
      case 5:
        r.skipBits(6); // CELPframeLengthTableIndex
        break;
      case 6:
      case 7:
        r.skipBits(1); // HVXCframeLengthTableIndex
        break;
      default:
        throw new MediaError('BAD_STREAM_MUX_CONFIG', `reserved frameLengthType ${stream.frameLengthType}`);
    }
  };

  for (let program = 0; program < numPrograms; program++) {
    const layers = r.readBits(3) + 1;
    for (let layer = 0; layer < layers; layer++) readStream(program, layer, program === numPrograms - 1 && layer === layers - 1);
  }

  let otherDataPresent = false;
  let otherDataLenBits = 0;
  let crcCheckPresent = false;
  if (!truncated && r.bitsLeft === 0) {
    truncated = true;
  } else if (!truncated) {
    otherDataPresent = r.readFlag();
    if (otherDataPresent) {
      if (audioMuxVersion === 1) {
        otherDataLenBits = latmGetValue(r);
      } else {
        let escape = true;
        for (let i = 0; escape; i++) {
          if (i === 4) throw new MediaError('BAD_STREAM_MUX_CONFIG', 'otherDataLenBits longer than 32 bits');
          escape = r.readFlag();
          otherDataLenBits = otherDataLenBits * 256 + r.readBits(8);
        }
      }
    }
    if (r.bitsLeft === 0) truncated = true;
    else crcCheckPresent = r.readFlag();
    if (crcCheckPresent) r.skipBits(8);
  }
  return {
    audioMuxVersion,
    allStreamsSameTimeFraming,
    numSubFrames,
    asc: streams[0].asc,
    frameLengthType: streams[0].frameLengthType,
    streams,
    otherDataPresent,
    otherDataLenBits,
    crcCheckPresent,
    taraBufferFullness,
    truncated,
  };
}

/**
 * StreamMuxConfig for an RFC 6416 fmtp `config=` (hex of the result): audioMuxVersion 0, all streams same
 * time framing, one subframe, one program with one layer, frameLengthType 0 (byte lengths), buffer
 * fullness 0xFF, no other data, no CRC. The ASC's own bits are copied (not its padding).
 */
export function buildLatmStreamMuxConfig(asc: Buffer): Buffer {
  parseAudioSpecificConfig(asc);
  const bits = audioSpecificConfigBitLength(asc);
  const w = new BitWriter(asc.length + 4);
  w.writeBits(0, 1); // audioMuxVersion
  w.writeBits(1, 1); // allStreamsSameTimeFraming
  w.writeBits(0, 6); // numSubFrames - 1
  w.writeBits(0, 4); // numProgram - 1
  w.writeBits(0, 3); // numLayer - 1
  const r = new BitReader(asc);
  for (let left = bits; left > 0; ) {
    const n = Math.min(left, 24);
    w.writeBits(r.readBits(n), n);
    left -= n;
  }
  w.writeBits(0, 3); // frameLengthType
  w.writeBits(0xff, 8); // latmBufferFullness
  w.writeBits(0, 1); // otherDataPresent
  w.writeBits(0, 1); // crcCheckPresent
  return w.byteAlign().toBuffer();
}

export interface LatmPacketizerOptions {
  /** Largest RTP payload in bytes (default 1200). At least 1. */
  mtu?: number;
}

/**
 * One AAC frame -> one AudioMuxElement for cpresent=0 and the config of buildLatmStreamMuxConfig
 * (PayloadLengthInfo: 0xFF bytes then the remainder, then the frame), split over payloads of at most
 * `mtu` bytes; the marker is set on the last (RFC 6416 6.1). All payloads share the frame's timestamp.
 */
export function packetizeLatm(frame: Buffer, o: LatmPacketizerOptions = {}): RtpPayload[] {
  const mtu = o.mtu ?? DEFAULT_RTP_MTU;
  if (!Number.isInteger(mtu) || mtu < 1) throw new MediaError('BAD_ARGUMENT', `RTP MTU ${mtu} (at least 1)`);
  if (frame.length === 0) return [];
  const lengthBytes = Math.floor(frame.length / 255) + 1;
  const element = Buffer.allocUnsafe(lengthBytes + frame.length);
  element.fill(0xff, 0, lengthBytes - 1);
  element[lengthBytes - 1] = frame.length % 255;
  frame.copy(element, lengthBytes);
  const count = Math.ceil(element.length / mtu);
  const chunk = Math.ceil(element.length / count);
  const out: RtpPayload[] = [];
  for (let off = 0; off < element.length; off += chunk) {
    const end = Math.min(off + chunk, element.length);
    out.push({ payload: element.subarray(off, end), marker: end === element.length });
  }
  return out;
}

/**
 * The frames of AudioMuxElements (muxConfigPresent 0, one stream, frameLengthType 0): PayloadLengthInfo
 * (bytes of 255 then the last byte) then that many bytes, repeated to the end (subframes, then further
 * elements). Subarrays, no copy. Throws MediaError('BAD_RTP_PAYLOAD') when a length runs past the end.
 */
export function splitLatmPayload(element: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let off = 0;
  while (off < element.length) {
    let size = 0;
    let b: number;
    do {
      if (off >= element.length) throw new MediaError('BAD_RTP_PAYLOAD', 'LATM PayloadLengthInfo runs past the end');
      b = element[off++];
      size += b;
    } while (b === 255);
    if (off + size > element.length) throw new MediaError('BAD_RTP_PAYLOAD', `LATM payload of ${size} bytes runs past the end (${element.length - off} left)`);
    frames.push(element.subarray(off, off + size));
    off += size;
  }
  return frames;
}

export interface LatmDepacketizerOptions {
  /** Samples per frame: timestamp step between the frames of a packet (default 1024). */
  frameLength?: number;
  /** Largest AudioMuxElement gathered from fragments; a larger one is dropped (default 64 KiB). */
  maxElementSize?: number;
}

interface PendingElement {
  timestamp: number;
  parts: Buffer[];
  size: number;
}

/**
 * Rebuilds AAC frames from RFC 6416 MP4A-LATM packets with cpresent=0 (the StreamMuxConfig is in the SDP:
 * parseLatmStreamMuxConfig), given in sequence order. A packet holds one or more AudioMuxElements, or a
 * fragment of one; fragments are gathered over consecutive sequence numbers with one timestamp until the
 * marker (6.1). The frames of a packet get timestamps pkt.timestamp + i * frameLength. A sender that sets
 * no marker works too: a timestamp change ends the element. After a loss, and at the start, packets with
 * the timestamp of the first one are dropped up to a marker: they may be the tail of an element whose
 * start was lost (or sent before we joined), and nothing in LATM tells a tail from a start. This costs
 * one frame (~21 ms) at the start. Supported: one program, one layer, frameLengthType 0, no other data
 * (what cameras send). Throws MediaError('BAD_RTP_PAYLOAD') for an element whose lengths run past its end
 * (the state stays usable).
 */
export class LatmDepacketizer {
  readonly stats: AacDepacketizerStats = { packets: 0, lost: 0, duplicates: 0, late: 0, droppedFrames: 0, frames: 0 };

  private readonly frameLength: number;
  private readonly maxElementSize: number;
  private lastSeq: number | undefined;
  private pending: PendingElement | undefined;
  /** Packets of this timestamp are dropped up to a marker (after a loss or an oversized element). */
  private discardTimestamp: number | undefined;

  constructor(o: LatmDepacketizerOptions = {}) {
    this.frameLength = checkFrameLength(o.frameLength ?? AAC_FRAME_SAMPLES);
    this.maxElementSize = o.maxElementSize ?? 64 * 1024;
  }

  /** Bytes held for an AudioMuxElement not complete yet. */
  get bufferedBytes(): number {
    return this.pending?.size ?? 0;
  }

  /** Feed one packet; returns the frames it completes. */
  push(pkt: RtpPacket): AacRtpFrame[] {
    const out: AacRtpFrame[] = [];
    this.stats.packets++;
    const seq = trackRtpSequence(this.stats, this.lastSeq, pkt.sequenceNumber);
    if (seq === 'skip') return out;
    const first = this.lastSeq === undefined;
    this.lastSeq = pkt.sequenceNumber;
    if (seq === 'gap' || first) {
      // the stream may start inside an element just as well
      this.dropPending();
      this.discardTimestamp = pkt.timestamp;
    }
    if (this.discardTimestamp !== undefined) {
      if (this.discardTimestamp === pkt.timestamp) {
        if (pkt.marker) this.discardTimestamp = undefined;
        return out;
      }
      this.discardTimestamp = undefined;
    }
    if (this.pending && this.pending.timestamp !== pkt.timestamp) this.finishLeniently(out);
    if (pkt.payload.length === 0 && !pkt.marker) return out;

    const p = this.pending ?? { timestamp: pkt.timestamp, parts: [], size: 0 };
    this.pending = p;
    p.parts.push(pkt.payload);
    p.size += pkt.payload.length;
    if (p.size > this.maxElementSize) {
      this.dropPending();
      if (!pkt.marker) this.discardTimestamp = pkt.timestamp;
      return out;
    }
    if (pkt.marker) {
      this.pending = undefined;
      let frames: Buffer[];
      try {
        frames = splitLatmPayload(p.parts.length === 1 ? p.parts[0] : Buffer.concat(p.parts, p.size));
      } catch (e) {
        this.stats.droppedFrames++;
        throw e;
      }
      this.emit(out, p.timestamp, frames);
    }
    return out;
  }

  /** Emit the pending element if it parses whole (end of stream without a final marker). */
  flushPending(): AacRtpFrame[] {
    const out: AacRtpFrame[] = [];
    this.finishLeniently(out);
    return out;
  }

  /** The pending element had no marker: keep its frames if its lengths add up, else drop it. */
  private finishLeniently(out: AacRtpFrame[]): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    try {
      this.emit(out, p.timestamp, splitLatmPayload(Buffer.concat(p.parts, p.size)));
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
      this.stats.droppedFrames++;
    }
  }

  private dropPending(): void {
    if (!this.pending) return;
    this.pending = undefined;
    this.stats.droppedFrames++;
  }

  private emit(out: AacRtpFrame[], timestamp: number, frames: Buffer[]): void {
    frames.forEach((frame, i) => {
      if (frame.length === 0) return;
      this.stats.frames++;
      out.push({ timestamp: (timestamp + i * this.frameLength) >>> 0, frame });
    });
  }
}
