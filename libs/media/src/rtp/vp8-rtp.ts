import { MediaError } from '../media.errors';
import { RtpFrameDepacketizer, RtpFrameDepacketizerOptions, RtpFramePart } from './frame-depacketizer';
import { DEFAULT_RTP_MTU } from './h264-rtp';
import type { RtpPayload } from './rtp-packet';

/** The VP8 payload descriptor (RFC 7741 4.2). */
export interface Vp8PayloadDescriptor {
  /** N: the frame is not used as a reference by later frames */
  nonReference: boolean;
  /** S: the packet starts a partition */
  start: boolean;
  /** PID: partition index (0..7) */
  partitionId: number;
  /** I: PictureID, 7 or 15 bits */
  pictureId?: number;
  /** M: the PictureID has 15 bits */
  longPictureId?: boolean;
  /** L: TL0PICIDX */
  tl0PicIdx?: number;
  /** T: TID */
  temporalId?: number;
  /** T: Y (layer sync) */
  layerSync?: boolean;
  /** K: KEYIDX */
  keyIdx?: number;
  /** bytes of the descriptor: the VP8 payload follows */
  size: number;
}

function truncated(what: string): MediaError {
  return new MediaError('BAD_RTP_PAYLOAD', `VP8 payload descriptor: ${what} runs past the payload`);
}

/**
 * Parse the payload descriptor of a VP8 RTP payload. Throws MediaError('BAD_RTP_PAYLOAD') when a field
 * runs past the payload or no VP8 data follows it.
 */
export function parseVp8PayloadDescriptor(p: Buffer): Vp8PayloadDescriptor {
  if (p.length === 0) throw new MediaError('BAD_RTP_PAYLOAD', 'empty VP8 RTP payload');
  const b0 = p[0];
  const d: Vp8PayloadDescriptor = { nonReference: (b0 & 0x20) !== 0, start: (b0 & 0x10) !== 0, partitionId: b0 & 0x07, size: 1 };
  let off = 1;
  if (b0 & 0x80) {
    if (off >= p.length) throw truncated('X byte');
    const x = p[off++];
    if (x & 0x80) {
      if (off >= p.length) throw truncated('PictureID');
      if (p[off] & 0x80) {
        if (off + 2 > p.length) throw truncated('15-bit PictureID');
        d.pictureId = p.readUInt16BE(off) & 0x7fff;
        d.longPictureId = true;
        off += 2;
      } else {
        d.pictureId = p[off++];
        d.longPictureId = false;
      }
    }
    if (x & 0x40) {
      if (off >= p.length) throw truncated('TL0PICIDX');
      d.tl0PicIdx = p[off++];
    }
    if (x & 0x30) {
      if (off >= p.length) throw truncated('TID/KEYIDX');
      const t = p[off++];
      if (x & 0x20) {
        d.temporalId = t >>> 6;
        d.layerSync = (t & 0x20) !== 0;
      }
      if (x & 0x10) d.keyIdx = t & 0x1f;
    }
  }
  if (off >= p.length) throw new MediaError('BAD_RTP_PAYLOAD', 'VP8 RTP payload without VP8 data');
  d.size = off;
  return d;
}

export interface Vp8PacketizerOptions {
  /** Largest RTP payload in bytes (default 1200). */
  mtu?: number;
  /** PictureID (15 bits) of this frame; without it the 1-byte descriptor is used. */
  pictureId?: number;
  /** N: the frame is not used as a reference. */
  nonReference?: boolean;
}

/**
 * One VP8 frame as RTP payloads of at most `mtu` bytes (RFC 7741): the frame in equal-sized pieces, S set on
 * the first (partition 0), the marker on the last. The descriptor is one byte, or four with a 15-bit PictureID.
 */
export function packetizeVp8(frame: Buffer, o: Vp8PacketizerOptions = {}): RtpPayload[] {
  const mtu = o.mtu ?? DEFAULT_RTP_MTU;
  const pictureId = o.pictureId;
  const headerSize = pictureId === undefined ? 1 : 4;
  if (!Number.isInteger(mtu) || mtu < headerSize + 1) throw new MediaError('BAD_ARGUMENT', `RTP MTU ${mtu} (at least ${headerSize + 1})`);
  if (pictureId !== undefined && !(Number.isInteger(pictureId) && pictureId >= 0 && pictureId <= 0x7fff)) throw new MediaError('BAD_ARGUMENT', `VP8 PictureID ${pictureId}`);
  if (frame.length === 0) return [];
  const count = Math.ceil(frame.length / (mtu - headerSize));
  const chunk = Math.ceil(frame.length / count);
  const out: RtpPayload[] = [];
  for (let off = 0; off < frame.length; off += chunk) {
    const end = Math.min(off + chunk, frame.length);
    const p = Buffer.allocUnsafe(headerSize + end - off);
    p[0] = (pictureId === undefined ? 0 : 0x80) | (o.nonReference ? 0x20 : 0) | (off === 0 ? 0x10 : 0);
    if (pictureId !== undefined) {
      p[1] = 0x80; // I
      p[2] = 0x80 | (pictureId >>> 8);
      p[3] = pictureId & 0xff;
    }
    frame.copy(p, headerSize, off, end);
    out.push({ payload: p, marker: end === frame.length });
  }
  return out;
}

/** A VP8 sender's packetizer: numbers its frames with a 15-bit PictureID (from `pictureId`, default 0). */
export class Vp8Packetizer {
  private pictureId: number;

  constructor(private readonly o: { mtu?: number; pictureId?: number } = {}) {
    this.pictureId = (o.pictureId ?? 0) & 0x7fff;
  }

  packetize(frame: Buffer, nonReference = false): RtpPayload[] {
    if (frame.length === 0) return [];
    const out = packetizeVp8(frame, { mtu: this.o.mtu, pictureId: this.pictureId, nonReference });
    this.pictureId = (this.pictureId + 1) & 0x7fff;
    return out;
  }
}

interface Vp8Part extends RtpFramePart {
  descriptor: Vp8PayloadDescriptor;
  data: Buffer;
}

interface Vp8OpenFrame {
  keyFrame: boolean;
  parts: Buffer[];
}

/**
 * Rebuilds VP8 frames from RTP packets given in sequence order (RFC 7741): a frame runs from the packet
 * with S=1 and partition 0 to the marker bit (or the next timestamp); it is a key frame when the P bit
 * of its first byte (the VP8 frame tag) is 0. Output starts at a key frame and, after a loss, resumes at
 * the next one (see RtpFrameDepacketizer). Throws MediaError('BAD_RTP_PAYLOAD') only for a malformed
 * payload; the state stays usable after it.
 */
export class Vp8Depacketizer extends RtpFrameDepacketizer<Vp8Part, Vp8OpenFrame> {
  constructor(o: RtpFrameDepacketizerOptions = {}) {
    super(o);
  }

  protected override parse(payload: Buffer): Vp8Part {
    const descriptor = parseVp8PayloadDescriptor(payload);
    const data = payload.subarray(descriptor.size);
    return { start: descriptor.start && descriptor.partitionId === 0, size: data.length, descriptor, data };
  }

  protected override startsNewFrame(): boolean {
    return true;
  }

  protected override begin(part: Vp8Part): Vp8OpenFrame {
    return { keyFrame: (part.data[0] & 1) === 0, parts: [] };
  }

  protected override add(frame: Vp8OpenFrame, part: Vp8Part): boolean {
    frame.parts.push(part.data);
    return true;
  }

  protected override finish(frame: Vp8OpenFrame): { data: Buffer; keyFrame: boolean } {
    return { data: frame.parts.length === 1 ? frame.parts[0] : Buffer.concat(frame.parts), keyFrame: frame.keyFrame };
  }
}
