import { MediaError } from '../media.errors';

export const FlvTagType = {
  AUDIO: 8,
  VIDEO: 9,
  SCRIPT: 18,
} as const;

export type FlvTagTypeValue = 8 | 9 | 18;

export interface FlvTag {
  type: FlvTagTypeValue;
  /** milliseconds, 32 bits (extended byte included) */
  timestamp: number;
  streamId: number;
  body: Buffer;
}

export interface FlvHeader {
  version: number;
  hasAudio: boolean;
  hasVideo: boolean;
  dataOffset: number;
}

/** 9-byte FLV file header followed by PreviousTagSize0 (13 bytes in all). */
export function buildFlvHeader(hasAudio = true, hasVideo = true): Buffer {
  const out = Buffer.alloc(13);
  out[0] = 0x46; // F
  out[1] = 0x4c; // L
  out[2] = 0x56; // V
  out[3] = 1;
  out[4] = (hasAudio ? 4 : 0) | (hasVideo ? 1 : 0);
  out.writeUInt32BE(9, 5);
  // PreviousTagSize0 = 0
  return out;
}

/** Parse the 9-byte FLV file header. Throws MediaError('BAD_FLV_HEADER') / ('TRUNCATED'). */
export function parseFlvHeader(buf: Buffer): FlvHeader {
  if (buf.length < 9) throw new MediaError('TRUNCATED', 'FLV header truncated');
  if (buf[0] !== 0x46 || buf[1] !== 0x4c || buf[2] !== 0x56) throw new MediaError('BAD_FLV_HEADER', 'no FLV signature');
  const dataOffset = buf.readUInt32BE(5);
  if (dataOffset < 9 || dataOffset > 1 << 20) throw new MediaError('BAD_FLV_HEADER', `data offset ${dataOffset}`);
  return { version: buf[3], hasAudio: (buf[4] & 4) !== 0, hasVideo: (buf[4] & 1) !== 0, dataOffset };
}

/** Write an 11-byte tag header into `out` at `offset`. */
export function writeFlvTagHeader(out: Buffer, offset: number, type: number, timestamp: number, bodySize: number): void {
  if (!(bodySize >= 0 && bodySize <= 0xffffff)) throw new MediaError('TAG_TOO_LARGE', `tag body of ${bodySize} bytes`);
  const ts = timestamp > 0 ? Math.floor(timestamp) % 0x100000000 : 0;
  out[offset] = type & 0x1f;
  out[offset + 1] = bodySize >>> 16;
  out[offset + 2] = (bodySize >>> 8) & 0xff;
  out[offset + 3] = bodySize & 0xff;
  out[offset + 4] = (ts >>> 16) & 0xff;
  out[offset + 5] = (ts >>> 8) & 0xff;
  out[offset + 6] = ts & 0xff;
  out[offset + 7] = (ts >>> 24) & 0xff;
  out[offset + 8] = 0;
  out[offset + 9] = 0;
  out[offset + 10] = 0;
}

/** 11-byte FLV tag header. Timestamps are floored, negative ones clamped to 0, wrapped at 2^32. */
export function flvTagHeader(type: number, timestamp: number, bodySize: number): Buffer {
  const out = Buffer.allocUnsafe(11);
  writeFlvTagHeader(out, 0, type, timestamp, bodySize);
  return out;
}

/** 4-byte PreviousTagSize field. */
export function previousTagSize(n: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(n >>> 0, 0);
  return out;
}

/**
 * One tag as pieces: [header, body, PreviousTagSize]. `body` is not copied, so one body can be
 * shared by every writer.
 */
export function writeFlvTag(type: number, timestamp: number, body: Buffer): Buffer[] {
  return [flvTagHeader(type, timestamp, body.length), body, previousTagSize(11 + body.length)];
}

/** One tag in a single Buffer (header + body + PreviousTagSize). */
export function encodeFlvTag(type: number, timestamp: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(15 + body.length);
  writeFlvTagHeader(out, 0, type, timestamp, body.length);
  body.copy(out, 11);
  out.writeUInt32BE(11 + body.length, 11 + body.length);
  return out;
}

export interface FlvTagReaderOptions {
  /** largest accepted tag body (default 16 MiB); larger -> MediaError('TAG_TOO_LARGE') */
  maxTagSize?: number;
  /** expect the 9-byte file header + PreviousTagSize0 first (default true) */
  expectHeader?: boolean;
  /** throw MediaError('BAD_TAG') when a PreviousTagSize does not match the tag (default false) */
  strictPreviousTagSize?: boolean;
}

const enum State {
  Header,
  Skip,
  TagHeader,
  Body,
  PrevSize,
}

/**
 * Streaming FLV demuxer: feed chunks with arbitrary boundaries, get whole tags back.
 * Bodies are subarrays of the pushed chunk when a tag lies within one chunk, else one copy.
 * Tags of other types than audio/video/script are skipped. After a MediaError the reader is
 * unusable (the stream is not resynchronised).
 */
export class FlvTagReader {
  private readonly maxTagSize: number;
  private readonly strict: boolean;
  private state: State;
  private scratch = Buffer.allocUnsafe(11);
  private scratchLen = 0;
  private need: number;
  private skipLeft = 0;
  private body: Buffer | null = null;
  private bodyLen = 0;
  private bodyFill = 0;
  private expectedPrev = -1;
  private tagType = 0;
  private tagTs = 0;
  private tagStream = 0;
  private failed: MediaError | null = null;
  /** the parsed file header, once read */
  header: FlvHeader | null = null;
  /** bytes consumed so far */
  bytesRead = 0;

  constructor(opts: FlvTagReaderOptions = {}) {
    this.maxTagSize = opts.maxTagSize ?? 16 * 1024 * 1024;
    this.strict = opts.strictPreviousTagSize ?? false;
    if (opts.expectHeader ?? true) {
      this.state = State.Header;
      this.need = 9;
    } else {
      this.state = State.TagHeader;
      this.need = 11;
    }
  }

  private fail(code: 'BAD_FLV_HEADER' | 'TAG_TOO_LARGE' | 'BAD_TAG', msg: string): never {
    this.failed = new MediaError(code, msg);
    throw this.failed;
  }

  push(chunk: Buffer): FlvTag[] {
    if (this.failed) throw this.failed;
    const tags: FlvTag[] = [];
    let off = 0;
    const len = chunk.length;
    this.bytesRead += len;
    while (off < len) {
      switch (this.state) {
        case State.Header:
        case State.TagHeader:
        case State.PrevSize: {
          // small fixed-size fields: gather into scratch (or read in place when whole)
          let src: Buffer;
          let at: number;
          if (this.scratchLen === 0 && len - off >= this.need) {
            src = chunk;
            at = off;
            off += this.need;
          } else {
            const take = Math.min(this.need - this.scratchLen, len - off);
            chunk.copy(this.scratch, this.scratchLen, off, off + take);
            this.scratchLen += take;
            off += take;
            if (this.scratchLen < this.need) continue;
            src = this.scratch;
            at = 0;
            this.scratchLen = 0;
          }
          this.onField(src, at, tags);
          break;
        }
        case State.Skip: {
          const take = Math.min(this.skipLeft, len - off);
          off += take;
          this.skipLeft -= take;
          if (this.skipLeft === 0) {
            this.state = State.PrevSize;
            this.need = 4;
          }
          break;
        }
        case State.Body: {
          const size = this.bodyLen;
          if (this.body === null && len - off >= size) {
            const body = chunk.subarray(off, off + size);
            off += size;
            this.emit(body, tags);
          } else {
            if (this.body === null) {
              this.body = Buffer.allocUnsafe(size);
              this.bodyFill = 0;
            }
            const take = Math.min(size - this.bodyFill, len - off);
            chunk.copy(this.body, this.bodyFill, off, off + take);
            this.bodyFill += take;
            off += take;
            if (this.bodyFill === size) {
              const body = this.body;
              this.body = null;
              this.bodyFill = 0;
              this.emit(body, tags);
            }
          }
          break;
        }
      }
    }
    return tags;
  }

  private emit(body: Buffer, tags: FlvTag[]): void {
    const t = this.tagType;
    if (t === 8 || t === 9 || t === 18) {
      tags.push({ type: t, timestamp: this.tagTs, streamId: this.tagStream, body });
    }
    this.state = State.PrevSize;
    this.need = 4;
  }

  private onField(src: Buffer, at: number, tags: FlvTag[]): void {
    switch (this.state) {
      case State.Header: {
        if (src[at] !== 0x46 || src[at + 1] !== 0x4c || src[at + 2] !== 0x56) this.fail('BAD_FLV_HEADER', 'no FLV signature');
        const dataOffset = src.readUInt32BE(at + 5);
        if (dataOffset < 9 || dataOffset > 1 << 20) this.fail('BAD_FLV_HEADER', `data offset ${dataOffset}`);
        this.header = { version: src[at + 3], hasAudio: (src[at + 4] & 4) !== 0, hasVideo: (src[at + 4] & 1) !== 0, dataOffset };
        this.expectedPrev = 0;
        if (dataOffset > 9) {
          this.state = State.Skip;
          this.skipLeft = dataOffset - 9;
        } else {
          this.state = State.PrevSize;
          this.need = 4;
        }
        break;
      }
      case State.PrevSize: {
        if (this.strict && this.expectedPrev >= 0) {
          const prev = src.readUInt32BE(at);
          if (prev !== this.expectedPrev) this.fail('BAD_TAG', `PreviousTagSize ${prev}, expected ${this.expectedPrev}`);
        }
        this.state = State.TagHeader;
        this.need = 11;
        break;
      }
      case State.TagHeader: {
        const b0 = src[at];
        const size = (src[at + 1] << 16) | (src[at + 2] << 8) | src[at + 3];
        if (size > this.maxTagSize) this.fail('TAG_TOO_LARGE', `tag of ${size} bytes (limit ${this.maxTagSize})`);
        this.tagType = b0 & 0x1f;
        if ((b0 & 0xc0) !== 0) this.fail('BAD_TAG', `reserved bits set in tag type byte 0x${b0.toString(16)}`);
        if (b0 & 0x20) this.tagType = -1; // encrypted (filtered) tags are skipped
        this.tagTs = (((src[at + 7] << 24) | (src[at + 4] << 16) | (src[at + 5] << 8) | src[at + 6]) >>> 0);
        this.tagStream = (src[at + 8] << 16) | (src[at + 9] << 8) | src[at + 10];
        this.bodyLen = size;
        this.expectedPrev = size + 11;
        if (size === 0) {
          this.emit(Buffer.alloc(0), tags);
        } else {
          this.state = State.Body;
        }
        break;
      }
    }
  }
}
