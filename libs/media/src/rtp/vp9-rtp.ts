import { buildVp9Superframe, parseVp9FrameHeader, splitVp9Superframe } from '../codecs/vp9';
import { MediaError } from '../media.errors';
import { RtpFinishedFrame, RtpFrameDepacketizer, RtpFrameDepacketizerOptions, RtpFramePart } from './frame-depacketizer';
import { DEFAULT_RTP_MTU } from './h264-rtp';
import type { RtpPayload } from './rtp-packet';

/** One entry of the picture group of a VP9 scalability structure. */
export interface Vp9PictureGroupEntry {
  temporalId: number;
  /** U: switching up point */
  switchingUp: boolean;
  /** P_DIFFs of the references */
  pDiffs: number[];
}

/** The scalability structure (SS) of a VP9 payload descriptor (RFC 9628 4.2.1). */
export interface Vp9ScalabilityStructure {
  /** N_S + 1 */
  spatialLayers: number;
  /** Y: width and height per spatial layer, lowest first */
  resolutions?: { width: number; height: number }[];
  /** G: the picture group */
  pictureGroup?: Vp9PictureGroupEntry[];
}

/** The VP9 payload descriptor (RFC 9628 4.2). */
export interface Vp9PayloadDescriptor {
  /** P: the layer frame uses inter-picture prediction */
  interPicturePredicted: boolean;
  /** F: flexible mode */
  flexible: boolean;
  /** B: the packet starts a layer frame */
  startOfFrame: boolean;
  /** E: the packet ends a layer frame */
  endOfFrame: boolean;
  /** Z: not used as a reference by upper spatial layers */
  notUpperReference: boolean;
  /** I: PictureID, 7 or 15 bits */
  pictureId?: number;
  /** M: the PictureID has 15 bits */
  longPictureId?: boolean;
  /** L: TID */
  temporalId?: number;
  /** L: U (switching up point) */
  switchingUp?: boolean;
  /** L: SID */
  spatialId?: number;
  /** L: D (inter-layer dependency) */
  interLayerDependency?: boolean;
  /** L without F: TL0PICIDX */
  tl0PicIdx?: number;
  /** F with P: the P_DIFFs of the references (1 to 3) */
  pDiffs?: number[];
  /** V: the scalability structure */
  ss?: Vp9ScalabilityStructure;
  /** bytes of the descriptor: the VP9 payload follows */
  size: number;
}

function truncated(what: string): MediaError {
  return new MediaError('BAD_RTP_PAYLOAD', `VP9 payload descriptor: ${what} runs past the payload`);
}

/**
 * Parse the payload descriptor of a VP9 RTP payload (RFC 9628). Throws MediaError('BAD_RTP_PAYLOAD') when
 * a field runs past the payload, more than 3 references are listed, or no VP9 data follows.
 */
export function parseVp9PayloadDescriptor(p: Buffer): Vp9PayloadDescriptor {
  if (p.length === 0) throw new MediaError('BAD_RTP_PAYLOAD', 'empty VP9 RTP payload');
  const b0 = p[0];
  const d: Vp9PayloadDescriptor = {
    interPicturePredicted: (b0 & 0x40) !== 0,
    flexible: (b0 & 0x10) !== 0,
    startOfFrame: (b0 & 0x08) !== 0,
    endOfFrame: (b0 & 0x04) !== 0,
    notUpperReference: (b0 & 0x01) !== 0,
    size: 1,
  };
  let off = 1;
  const byte = (what: string) => {
    if (off >= p.length) throw truncated(what);
    return p[off++];
  };
  if (b0 & 0x80) {
    const m = byte('PictureID');
    if (m & 0x80) {
      d.pictureId = ((m & 0x7f) << 8) | byte('15-bit PictureID');
      d.longPictureId = true;
    } else {
      d.pictureId = m;
      d.longPictureId = false;
    }
  }
  if (b0 & 0x20) {
    const l = byte('layer indices');
    d.temporalId = l >>> 5;
    d.switchingUp = (l & 0x10) !== 0;
    d.spatialId = (l >>> 1) & 7;
    d.interLayerDependency = (l & 1) !== 0;
    if (!d.flexible) d.tl0PicIdx = byte('TL0PICIDX');
  }
  if (d.flexible && d.interPicturePredicted) {
    d.pDiffs = [];
    for (let more = true; more; ) {
      if (d.pDiffs.length === 3) throw new MediaError('BAD_RTP_PAYLOAD', 'VP9 payload descriptor with more than 3 references');
      const r = byte('P_DIFF');
      d.pDiffs.push(r >>> 1);
      more = (r & 1) !== 0;
    }
  }
  if (b0 & 0x02) {
    const s = byte('scalability structure');
    const ss: Vp9ScalabilityStructure = { spatialLayers: (s >>> 5) + 1 };
    if (s & 0x10) {
      ss.resolutions = [];
      for (let i = 0; i < ss.spatialLayers; i++) {
        if (off + 4 > p.length) throw truncated('layer resolution');
        ss.resolutions.push({ width: p.readUInt16BE(off), height: p.readUInt16BE(off + 2) });
        off += 4;
      }
    }
    if (s & 0x08) {
      const count = byte('N_G');
      ss.pictureGroup = [];
      for (let i = 0; i < count; i++) {
        const g = byte('picture group entry');
        const entry: Vp9PictureGroupEntry = { temporalId: g >>> 5, switchingUp: (g & 0x10) !== 0, pDiffs: [] };
        for (let r = (g >>> 2) & 3; r > 0; r--) entry.pDiffs.push(byte('picture group P_DIFF'));
        ss.pictureGroup.push(entry);
      }
    }
    d.ss = ss;
  }
  if (off >= p.length) throw new MediaError('BAD_RTP_PAYLOAD', 'VP9 RTP payload without VP9 data');
  d.size = off;
  return d;
}

export interface Vp9PacketizerOptions {
  /** Largest RTP payload in bytes (default 1200). */
  mtu?: number;
  /** PictureID (15 bits) of this picture; without it none is sent. */
  pictureId?: number;
  /** P=0 and a scalability structure with the size on the first packet (default: what the frame header says). */
  keyFrame?: boolean;
  /** Picture size for the scalability structure of a key frame whose frame header gives none. */
  width?: number;
  height?: number;
}

function vp9KeyFrameSize(frame: Buffer): { key: boolean; width?: number; height?: number } {
  try {
    const h = parseVp9FrameHeader(frame);
    return { key: h.keyFrame, width: h.width, height: h.height };
  } catch (e) {
    if (!(e instanceof MediaError)) throw e;
    return { key: false };
  }
}

/**
 * One VP9 frame (or superframe) as RTP payloads of at most `mtu` bytes (RFC 9628, non-flexible mode, one
 * spatial layer, no layer indices): B on the first, E and the marker on the last, P clear on key frames,
 * whose first packet also carries a scalability structure with the picture size.
 */
export function packetizeVp9(frame: Buffer, o: Vp9PacketizerOptions = {}): RtpPayload[] {
  const mtu = o.mtu ?? DEFAULT_RTP_MTU;
  const pictureId = o.pictureId;
  if (pictureId !== undefined && !(Number.isInteger(pictureId) && pictureId >= 0 && pictureId <= 0x7fff)) throw new MediaError('BAD_ARGUMENT', `VP9 PictureID ${pictureId}`);
  const header = o.keyFrame === false ? { key: false } : vp9KeyFrameSize(frame);
  const key = o.keyFrame ?? header.key;
  const width = header.width ?? o.width;
  const height = header.height ?? o.height;
  const withSize = key && width !== undefined && height !== undefined && width > 0 && width <= 0xffff && height > 0 && height <= 0xffff;
  const common = 1 + (pictureId === undefined ? 0 : 2);
  const first = common + (withSize ? 5 : 0);
  if (!Number.isInteger(mtu) || mtu < first + 1) throw new MediaError('BAD_ARGUMENT', `RTP MTU ${mtu} (at least ${first + 1})`);
  if (frame.length === 0) return [];
  const out: RtpPayload[] = [];
  for (let off = 0; off < frame.length; ) {
    const headerSize = off === 0 ? first : common;
    // pieces of about equal size (the first one may be shorter: its descriptor can be longer)
    const rest = frame.length - off;
    const piece = Math.ceil(rest / Math.ceil(rest / (mtu - common)));
    const end = off + Math.min(piece, mtu - headerSize);
    const p = Buffer.allocUnsafe(headerSize + end - off);
    p[0] = (pictureId === undefined ? 0 : 0x80) | (key ? 0 : 0x40) | (off === 0 ? 0x08 : 0) | (end === frame.length ? 0x04 : 0) | (off === 0 && withSize ? 0x02 : 0);
    let at = 1;
    if (pictureId !== undefined) at = p.writeUInt16BE(0x8000 | pictureId, at);
    if (off === 0 && withSize) {
      p[at++] = 0x10; // N_S = 0, Y = 1, G = 0
      at = p.writeUInt16BE(width!, at);
      at = p.writeUInt16BE(height!, at);
    }
    frame.copy(p, at, off, end);
    out.push({ payload: p, marker: end === frame.length });
    off = end;
  }
  return out;
}

/** A VP9 sender's packetizer: numbers its pictures with a 15-bit PictureID (from `pictureId`, default 0). */
export class Vp9Packetizer {
  private pictureId: number;

  constructor(private readonly o: { mtu?: number; pictureId?: number } = {}) {
    this.pictureId = (o.pictureId ?? 0) & 0x7fff;
  }

  packetize(frame: Buffer, o: Omit<Vp9PacketizerOptions, 'mtu' | 'pictureId'> = {}): RtpPayload[] {
    if (frame.length === 0) return [];
    const out = packetizeVp9(frame, { ...o, mtu: this.o.mtu, pictureId: this.pictureId });
    this.pictureId = (this.pictureId + 1) & 0x7fff;
    return out;
  }
}

interface Vp9Part extends RtpFramePart {
  descriptor: Vp9PayloadDescriptor;
  data: Buffer;
}

interface Vp9OpenPicture {
  first: Vp9PayloadDescriptor;
  /** finished layer frames, lowest spatial layer first */
  layers: Buffer[];
  /** pieces of the layer frame being received */
  layer: Buffer[] | undefined;
  ss?: Vp9ScalabilityStructure;
}

/**
 * Rebuilds VP9 pictures from RTP packets given in sequence order (RFC 9628): layer frames run from B to E,
 * a picture is the layer frames of one timestamp (to the marker bit or the next timestamp); several spatial
 * layers become one superframe. A picture is a key frame when its first layer frame has P=0 and its frame
 * header says key frame. The size of the scalability structure (largest layer), when sent, comes with the
 * frame. Output starts at a key frame and, after a loss, resumes at the next one (see RtpFrameDepacketizer).
 * Throws MediaError('BAD_RTP_PAYLOAD') only for a malformed payload; the state stays usable after it.
 */
export class Vp9Depacketizer extends RtpFrameDepacketizer<Vp9Part, Vp9OpenPicture> {
  constructor(o: RtpFrameDepacketizerOptions = {}) {
    super(o);
  }

  protected override parse(payload: Buffer): Vp9Part {
    const descriptor = parseVp9PayloadDescriptor(payload);
    const data = payload.subarray(descriptor.size);
    return { start: descriptor.startOfFrame, size: data.length, descriptor, data };
  }

  protected override startsNewFrame(): boolean {
    return false;
  }

  protected override begin(part: Vp9Part): Vp9OpenPicture {
    return { first: part.descriptor, layers: [], layer: undefined };
  }

  protected override add(picture: Vp9OpenPicture, part: Vp9Part): boolean {
    const d = part.descriptor;
    if (d.ss) picture.ss = d.ss;
    if (d.startOfFrame) {
      // nothing was lost, so a layer frame without E ended where the next one begins
      if (picture.layer) picture.layers.push(Buffer.concat(picture.layer));
      if (picture.layers.length >= 8) return false;
      picture.layer = [];
    } else if (!picture.layer) {
      return false;
    }
    picture.layer.push(part.data);
    if (d.endOfFrame) {
      picture.layers.push(picture.layer.length === 1 ? picture.layer[0] : Buffer.concat(picture.layer));
      picture.layer = undefined;
    }
    return true;
  }

  protected override finish(picture: Vp9OpenPicture): RtpFinishedFrame | undefined {
    const layers = picture.layers;
    if (picture.layer) layers.push(Buffer.concat(picture.layer));
    if (layers.length === 0) return undefined;
    const data = layers.length === 1 ? layers[0] : buildVp9Superframe(layers.flatMap((l) => splitVp9Superframe(l)));
    const keyFrame = !picture.first.interPicturePredicted && vp9KeyFrameSize(data).key;
    const frame: RtpFinishedFrame = { data, keyFrame };
    const size = picture.ss?.resolutions?.at(-1);
    if (size && size.width > 0 && size.height > 0) {
      frame.width = size.width;
      frame.height = size.height;
    }
    return frame;
  }
}
