/**
 * RTMP chunk stream decoder (RTMP spec 5.3): bytes in, complete messages out.
 *
 * - Any input splitting: `push()` takes whatever the socket delivered; a partial chunk header (at
 *   most 17 bytes) is kept aside, a partial payload is copied straight into the message's buffer,
 *   which is allocated once, at its final size, when the message's first chunk header arrives.
 *   The input is never re-concatenated.
 * - Timestamps: type 0 = absolute; type 1/2 = delta added to the previous message's timestamp on that
 *   chunk stream; a type 3 header starting a new message reuses the previous timestamp field as a
 *   delta (spec 5.3.1.2.4, same as FFmpeg/librtmp/SRS). Results are uint32 (`>>> 0`, they wrap).
 * - Extended timestamps: read after a 0xFFFFFF field of a type 0/1/2 header. After such a header a
 *   type 3 header SHOULD repeat the 4 bytes (FFmpeg, librtmp, OBS do; some encoders do not): they
 *   are consumed only when they equal the last extended value, else taken as payload.
 * - Control messages are handled in place by default (`handleControl`): a SetChunkSize (type 1)
 *   changes the chunk size before the next chunk header is parsed, even when it arrives in the same
 *   `push()` as the chunks it applies to (clients send SetChunkSize + connect in one TCP segment, so
 *   applying it after `push()` returns would be wrong); an Abort (type 2) drops the partial message
 *   of the given chunk stream. Both are still returned, for logging/inspection. With
 *   `handleControl: false` the caller must do both itself, and then may only feed the input that
 *   followed the SetChunkSize message after calling `setChunkSize()` - so keep the default.
 * - A type 0/1/2 header arriving while a message is incomplete on the same chunk stream drops that
 *   partial message (counted in `droppedMessages`) and starts the new one.
 * - `bytesReceived` counts every byte pushed (for Acknowledgement; see AcknowledgementTracker).
 *
 * Limits (RtmpProtocolError): MESSAGE_TOO_LARGE, TOO_MANY_CHUNK_STREAMS (distinct csids ever used),
 * BUFFER_LIMIT (bytes of partially received messages), BAD_CHUNK_SIZE, NO_PREVIOUS_HEADER,
 * BAD_MESSAGE (malformed SetChunkSize/Abort). After an error the decoder is unusable: close the
 * connection. Message types are not filtered: unknown types are returned like the others.
 */
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MessageType, RtmpMessage, parseAbort, parseSetChunkSize } from './messages';
import { RtmpProtocolError } from './rtmp.errors';

export interface ChunkDecoderOptions {
  /** largest message accepted, bytes; default 16 MiB */
  maxMessageSize?: number;
  /** most distinct chunk stream ids a peer may use; default 64 */
  maxChunkStreams?: number;
  /** most bytes held by partially received messages at once; default 64 MiB (at least maxMessageSize) */
  maxPendingBytes?: number;
  /** smallest chunk size accepted from SetChunkSize; default 1 */
  minChunkSize?: number;
  /** largest chunk size accepted from SetChunkSize; default 0x7fffffff */
  maxChunkSize?: number;
  /** apply SetChunkSize and Abort internally; default true */
  handleControl?: boolean;
}

export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
export const DEFAULT_MAX_CHUNK_STREAMS = 64;
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

interface ChunkStreamState {
  csid: number;
  type: number;
  streamId: number;
  length: number;
  /** last timestamp field: absolute for type 0, delta for type 1/2 */
  tsField: number;
  /** the last type 0/1/2 header carried an extended timestamp */
  extended: boolean;
  /** timestamp of the current/last message */
  timestamp: number;
  /** the message being assembled, undefined between messages */
  payload: Buffer | undefined;
  received: number;
}

/** 3 (basic header) + 11 (type 0 message header) + 4 (extended timestamp) */
const MAX_HEADER = 18;
const EMPTY = Buffer.alloc(0);

export class ChunkDecoder {
  /** total bytes passed to push() */
  bytesReceived = 0;
  /** partial messages discarded by Abort or by a new header mid-message */
  droppedMessages = 0;

  private inChunkSize = DEFAULT_CHUNK_SIZE;
  private readonly streams = new Map<number, ChunkStreamState>();
  private cur: ChunkStreamState | undefined;
  private chunkLeft = 0;
  private readonly stash = Buffer.alloc(MAX_HEADER);
  private stashLen = 0;
  private pending = 0;

  private readonly maxMessageSize: number;
  private readonly maxChunkStreams: number;
  private readonly maxPendingBytes: number;
  private readonly minChunkSize: number;
  private readonly maxChunkSize: number;
  private readonly handleControl: boolean;

  constructor(options: ChunkDecoderOptions = {}) {
    this.maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    this.maxChunkStreams = options.maxChunkStreams ?? DEFAULT_MAX_CHUNK_STREAMS;
    this.maxPendingBytes = Math.max(options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES, this.maxMessageSize);
    this.minChunkSize = Math.max(1, options.minChunkSize ?? 1);
    this.maxChunkSize = Math.min(MAX_CHUNK_SIZE, options.maxChunkSize ?? MAX_CHUNK_SIZE);
    this.handleControl = options.handleControl ?? true;
  }

  /** current incoming chunk size (128 until the peer sends SetChunkSize) */
  get chunkSize(): number {
    return this.inChunkSize;
  }

  /** bytes held by partially received messages */
  get pendingBytes(): number {
    return this.pending;
  }

  /** number of chunk stream ids seen */
  get chunkStreamCount(): number {
    return this.streams.size;
  }

  /** Sets the incoming chunk size (only needed with handleControl: false). */
  setChunkSize(size: number): void {
    if (!Number.isInteger(size) || size < this.minChunkSize || size > this.maxChunkSize) {
      throw new RtmpProtocolError('BAD_CHUNK_SIZE', `chunk size ${size} out of range ${this.minChunkSize}..${this.maxChunkSize}`);
    }
    this.inChunkSize = size;
  }

  /** Discards the partial message of a chunk stream (what an Abort message asks for). */
  abort(csid: number): void {
    const s = this.streams.get(csid);
    if (!s || !s.payload || s === this.cur) return;
    this.pending -= s.length;
    s.payload = undefined;
    s.received = 0;
    this.droppedMessages++;
  }

  /** Feeds received bytes; returns the messages completed by them, in order. */
  push(buf: Buffer): RtmpMessage[] {
    const out: RtmpMessage[] = [];
    this.bytesReceived += buf.length;
    // finish a header split across pushes: run the parser on (stash + next few bytes)
    while (this.stashLen > 0 && buf.length > 0) {
      const k = Math.min(buf.length, MAX_HEADER);
      const head = Buffer.allocUnsafe(this.stashLen + k);
      this.stash.copy(head, 0, 0, this.stashLen);
      buf.copy(head, this.stashLen, 0, k);
      this.stashLen = 0;
      this.feed(head, out);
      buf = buf.subarray(k);
    }
    if (buf.length > 0) this.feed(buf, out);
    return out;
  }

  private feed(b: Buffer, out: RtmpMessage[]): void {
    const end = b.length;
    let pos = 0;
    while (true) {
      const cur = this.cur;
      if (cur) {
        const n = Math.min(this.chunkLeft, end - pos);
        if (n > 0) {
          b.copy(cur.payload!, cur.received, pos, pos + n);
          cur.received += n;
          pos += n;
          this.chunkLeft -= n;
        }
        if (this.chunkLeft > 0) return;
        this.cur = undefined;
        if (cur.received === cur.length) {
          const payload = cur.payload!;
          cur.payload = undefined;
          this.pending -= cur.length;
          this.complete(cur, payload, out);
        }
        continue;
      }
      if (pos >= end) return;
      const used = this.header(b, pos, end, out);
      if (used < 0) {
        b.copy(this.stash, 0, pos, end); // < MAX_HEADER bytes: any 18 bytes hold a whole header
        this.stashLen = end - pos;
        return;
      }
      pos += used;
    }
  }

  /** Parses one chunk header at b[at..end); returns its size, or -1 when more bytes are needed. */
  private header(b: Buffer, at: number, end: number, out: RtmpMessage[]): number {
    let p = at;
    const b0 = b[p++];
    const fmt = b0 >>> 6;
    let csid = b0 & 0x3f;
    if (csid === 0) {
      if (end - p < 1) return -1;
      csid = 64 + b[p++];
    } else if (csid === 1) {
      if (end - p < 2) return -1;
      csid = 64 + b[p] + (b[p + 1] << 8);
      p += 2;
    }
    let s = this.streams.get(csid);
    if (!s && fmt !== 0) {
      throw new RtmpProtocolError('NO_PREVIOUS_HEADER', `type ${fmt} chunk header on chunk stream ${csid} never opened by a type 0 header`);
    }
    const mlen = fmt === 0 ? 11 : fmt === 1 ? 7 : fmt === 2 ? 3 : 0;
    if (end - p < mlen) return -1;
    let length = 0;
    let type = 0;
    let streamId = 0;
    let extended: boolean;
    let tsField: number;
    if (fmt <= 2) {
      const ts24 = (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
      if (fmt <= 1) {
        length = (b[p + 3] << 16) | (b[p + 4] << 8) | b[p + 5];
        type = b[p + 6];
        if (fmt === 0) streamId = b.readUInt32LE(p + 7);
      }
      p += mlen;
      extended = ts24 === 0xffffff;
      if (extended) {
        if (end - p < 4) return -1;
        tsField = b.readUInt32BE(p);
        p += 4;
      } else {
        tsField = ts24;
      }
    } else {
      extended = s!.extended;
      tsField = s!.tsField;
      if (extended) {
        if (end - p < 4) return -1;
        if (b.readUInt32BE(p) === tsField) p += 4;
      }
    }

    // ---- complete header: commit
    if (fmt === 0) {
      if (!s) {
        if (this.streams.size >= this.maxChunkStreams) {
          throw new RtmpProtocolError('TOO_MANY_CHUNK_STREAMS', `more than ${this.maxChunkStreams} chunk streams`);
        }
        s = { csid, type: 0, streamId: 0, length: 0, tsField: 0, extended: false, timestamp: 0, payload: undefined, received: 0 };
        this.streams.set(csid, s);
      }
      s.streamId = streamId;
    }
    s = s!;
    if (fmt !== 3) {
      if (s.payload) {
        // a new message header while the previous message is incomplete: drop the partial one
        this.pending -= s.length;
        s.payload = undefined;
        this.droppedMessages++;
      }
      if (fmt <= 1) {
        s.length = length;
        s.type = type;
      }
      s.tsField = tsField;
      s.extended = extended;
    } else if (s.payload) {
      // continuation chunk
      this.cur = s;
      this.chunkLeft = Math.min(this.inChunkSize, s.length - s.received);
      return p - at;
    }

    // first chunk of a new message
    s.timestamp = fmt === 0 ? tsField : (s.timestamp + tsField) >>> 0;
    if (s.length > this.maxMessageSize) {
      throw new RtmpProtocolError('MESSAGE_TOO_LARGE', `message of ${s.length} bytes on chunk stream ${csid} (limit ${this.maxMessageSize})`);
    }
    if (s.length === 0) {
      this.complete(s, EMPTY, out);
      return p - at;
    }
    if (this.pending + s.length > this.maxPendingBytes) {
      throw new RtmpProtocolError('BUFFER_LIMIT', `partial messages would hold ${this.pending + s.length} bytes (limit ${this.maxPendingBytes})`);
    }
    s.payload = Buffer.allocUnsafe(s.length);
    s.received = 0;
    this.pending += s.length;
    this.cur = s;
    this.chunkLeft = Math.min(this.inChunkSize, s.length);
    return p - at;
  }

  private complete(s: ChunkStreamState, payload: Buffer, out: RtmpMessage[]): void {
    out.push({ csid: s.csid, type: s.type, streamId: s.streamId, timestamp: s.timestamp, payload });
    if (!this.handleControl) return;
    if (s.type === MessageType.SetChunkSize) {
      this.setChunkSize(parseSetChunkSize(payload));
    } else if (s.type === MessageType.Abort) {
      this.abort(parseAbort(payload));
    }
  }
}
