/**
 * RTMP chunk stream encoder: messages to chunks. Every message starts with a type 0 header (no
 * header compression: simple, and what most servers do for media too); continuation chunks use
 * type 3 headers, repeating the extended timestamp when the timestamp is >= 0xFFFFFF (as FFmpeg
 * and librtmp expect).
 *
 * Timestamps are taken modulo 2^32 (`timestamp >>> 0`, fractions dropped).
 *
 * Fan-out (one frame to thousands of players): build the pieces once and share them.
 *   const body = chunkBodyWithContinuations(payload, csid, chunkSize, ts); // shared by every player
 *   socket.write(chunkFirstHeader(csid, type, streamId, ts, payload.length)); socket.write(body);
 * The body (payload + type 3 headers) depends only on (payload, csid, chunkSize) when
 * ts < 0xFFFFFF, and also on the exact timestamp value when ts >= 0xFFFFFF (the extended timestamp
 * is repeated in every continuation header). So cache it per (csid, chunkSize, ts >= 0xFFFFFF ? ts :
 * 'short'); players with the same outgoing chunk size and csid share it. The first header (12..18
 * bytes) also carries the message stream id and the length, so build it per player (or per
 * (streamId, ts)).
 */
import { MAX_CHUNK_SIZE, RtmpMessage } from './messages';
import { RtmpProtocolError } from './rtmp.errors';

export const MAX_MESSAGE_LENGTH = 0xffffff;

function checkCsid(csid: number): void {
  if (!Number.isInteger(csid) || csid < 2 || csid > 65599) throw new RtmpProtocolError('BAD_CSID', `chunk stream id ${csid} out of range 2..65599`);
}

function checkChunkSize(chunkSize: number): void {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new RtmpProtocolError('BAD_CHUNK_SIZE', `chunk size ${chunkSize} out of range 1..${MAX_CHUNK_SIZE}`);
  }
}

function basicHeaderSize(csid: number): number {
  return csid < 64 ? 1 : csid < 320 ? 2 : 3;
}

function writeBasicHeader(b: Buffer, off: number, fmt: number, csid: number): number {
  if (csid < 64) {
    b[off] = (fmt << 6) | csid;
    return off + 1;
  }
  if (csid < 320) {
    b[off] = fmt << 6;
    b[off + 1] = csid - 64;
    return off + 2;
  }
  const v = csid - 64;
  b[off] = (fmt << 6) | 1;
  b[off + 1] = v & 0xff;
  b[off + 2] = v >>> 8;
  return off + 3;
}

function writeFirstHeader(b: Buffer, off: number, csid: number, type: number, streamId: number, ts: number, length: number): number {
  off = writeBasicHeader(b, off, 0, csid);
  const ext = ts >= 0xffffff;
  b.writeUIntBE(ext ? 0xffffff : ts, off, 3);
  b.writeUIntBE(length, off + 3, 3);
  b[off + 6] = type;
  b.writeUInt32LE(streamId >>> 0, off + 7);
  off += 11;
  if (ext) {
    b.writeUInt32BE(ts, off);
    off += 4;
  }
  return off;
}

function continuationSize(csid: number, ts: number): number {
  return basicHeaderSize(csid) + (ts >= 0xffffff ? 4 : 0);
}

/** Writes payload split in chunks with type 3 headers between them; returns the end offset. */
function writeBody(b: Buffer, off: number, payload: Buffer, csid: number, chunkSize: number, ts: number): number {
  const ext = ts >= 0xffffff;
  const len = payload.length;
  let p = 0;
  while (true) {
    const n = Math.min(chunkSize, len - p);
    payload.copy(b, off, p, p + n);
    off += n;
    p += n;
    if (p >= len) return off;
    off = writeBasicHeader(b, off, 3, csid);
    if (ext) {
      b.writeUInt32BE(ts, off);
      off += 4;
    }
  }
}

function checkLength(length: number): void {
  if (length > MAX_MESSAGE_LENGTH) throw new RtmpProtocolError('MESSAGE_TOO_LARGE', `message of ${length} bytes exceeds 0xFFFFFF`);
}

/** The type 0 chunk header of a message (with the extended timestamp when ts >= 0xFFFFFF). */
export function chunkFirstHeader(csid: number, type: number, streamId: number, timestamp: number, payloadLength: number): Buffer {
  checkCsid(csid);
  checkLength(payloadLength);
  const ts = timestamp >>> 0;
  const b = Buffer.allocUnsafe(basicHeaderSize(csid) + 11 + (ts >= 0xffffff ? 4 : 0));
  writeFirstHeader(b, 0, csid, type & 0xff, streamId, ts, payloadLength);
  return b;
}

/** The type 3 header that precedes each continuation chunk. */
export function chunkContinuationHeader(csid: number, timestamp: number): Buffer {
  checkCsid(csid);
  const ts = timestamp >>> 0;
  const b = Buffer.allocUnsafe(continuationSize(csid, ts));
  const off = writeBasicHeader(b, 0, 3, csid);
  if (ts >= 0xffffff) b.writeUInt32BE(ts, off);
  return b;
}

/**
 * The payload with a type 3 header (+ repeated extended timestamp) before every chunk after the
 * first, in one Buffer built once and meant to be shared. When the payload fits in one chunk the
 * payload itself is returned (no copy): never mutate the result.
 */
export function chunkBodyWithContinuations(payload: Buffer, csid: number, chunkSize: number, timestamp: number): Buffer {
  checkCsid(csid);
  checkChunkSize(chunkSize);
  checkLength(payload.length);
  if (payload.length <= chunkSize) return payload;
  const ts = timestamp >>> 0;
  const n = Math.ceil(payload.length / chunkSize) - 1;
  const b = Buffer.allocUnsafe(payload.length + n * continuationSize(csid, ts));
  writeBody(b, 0, payload, csid, chunkSize, ts);
  return b;
}

/** Total bytes encodeMessage() produces for this message. */
export function encodedMessageSize(csid: number, timestamp: number, payloadLength: number, chunkSize: number): number {
  const ts = timestamp >>> 0;
  const n = payloadLength === 0 ? 0 : Math.ceil(payloadLength / chunkSize) - 1;
  return basicHeaderSize(csid) + 11 + (ts >= 0xffffff ? 4 : 0) + payloadLength + n * continuationSize(csid, ts);
}

/** Encodes one message as chunks (type 0 header, then type 3 continuations), in one allocation. */
export function encodeMessage(msg: RtmpMessage, chunkSize: number): Buffer {
  const { csid, payload } = msg;
  checkCsid(csid);
  checkChunkSize(chunkSize);
  checkLength(payload.length);
  const ts = msg.timestamp >>> 0;
  const b = Buffer.allocUnsafe(encodedMessageSize(csid, ts, payload.length, chunkSize));
  const off = writeFirstHeader(b, 0, csid, msg.type & 0xff, msg.streamId, ts, payload.length);
  writeBody(b, off, payload, csid, chunkSize, ts);
  return b;
}

/** Encodes several messages into one Buffer (e.g. the control messages answering connect). */
export function encodeMessages(msgs: RtmpMessage[], chunkSize: number): Buffer {
  return Buffer.concat(msgs.map((m) => encodeMessage(m, chunkSize)));
}
