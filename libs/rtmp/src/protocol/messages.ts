/**
 * RTMP message model, message type ids, and the protocol control / user control messages
 * (RTMP spec 5.4 and 6.2, 7.1.7).
 *
 * Builders return a complete `RtmpMessage` (chunk stream 2, message stream 0, timestamp 0) ready for
 * `encodeMessage(msg, chunkSize)`; parsers take the payload and throw RtmpProtocolError BAD_MESSAGE
 * when it is too short.
 */
import { RtmpProtocolError } from './rtmp.errors';

/** One RTMP message, as produced by ChunkDecoder and consumed by encodeMessage. */
export interface RtmpMessage {
  /** chunk stream id the message came / goes on (2..65599) */
  csid: number;
  /** message type id (MessageType) */
  type: number;
  /** message stream id (0 = NetConnection, else a NetStream created by createStream) */
  streamId: number;
  /** timestamp in milliseconds, uint32 (wraps after ~49.7 days) */
  timestamp: number;
  payload: Buffer;
}

export const MessageType = {
  SetChunkSize: 1,
  Abort: 2,
  Acknowledgement: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  /** AMF3 data message: one 0x00 format byte, then AMF0 values */
  DataAmf3: 15,
  SharedObjectAmf3: 16,
  /** AMF3 command message: one 0x00 format byte, then AMF0 values (with AVM+ switches) */
  CommandAmf3: 17,
  DataAmf0: 18,
  SharedObjectAmf0: 19,
  CommandAmf0: 20,
  Aggregate: 22,
} as const;

/** Conventional chunk stream ids (any 3..65599 may be used for anything but 2). */
export const ChunkStreamId = {
  /** protocol control and user control messages: must be 2 */
  Control: 2,
  /** NetConnection commands (connect, createStream, _result...) */
  Command: 3,
  /** NetStream commands and data (onStatus, @setDataFrame, |RtmpSampleAccess) */
  StreamCommand: 5,
  Audio: 6,
  Video: 7,
} as const;

export const UserControlEvent = {
  StreamBegin: 0,
  StreamEOF: 1,
  StreamDry: 2,
  SetBufferLength: 3,
  StreamIsRecorded: 4,
  PingRequest: 6,
  PingResponse: 7,
  /** Flash Player extensions, sent by players, informational */
  BufferEmpty: 31,
  BufferReady: 32,
} as const;

/** A decoded user control message; which optional fields are set depends on `event`. */
export interface UserControl {
  event: number;
  /** StreamBegin, StreamEOF, StreamDry, SetBufferLength, StreamIsRecorded, BufferEmpty, BufferReady */
  streamId?: number;
  /** SetBufferLength: milliseconds */
  bufferLength?: number;
  /** PingRequest / PingResponse */
  timestamp?: number;
}

/** SetPeerBandwidth limit types */
export const PeerBandwidthLimit = { Hard: 0, Soft: 1, Dynamic: 2 } as const;

export const DEFAULT_CHUNK_SIZE = 128;
export const MAX_CHUNK_SIZE = 0x7fffffff;

function controlMessage(type: number, payload: Buffer): RtmpMessage {
  return { csid: ChunkStreamId.Control, type, streamId: 0, timestamp: 0, payload };
}

function u32Payload(v: number, what: string, max = 0xffffffff): Buffer {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RtmpProtocolError('BAD_ARGUMENT', `${what} ${v} out of range 0..${max}`);
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v, 0);
  return b;
}

function need(payload: Buffer, n: number, what: string): void {
  if (payload.length < n) throw new RtmpProtocolError('BAD_MESSAGE', `${what}: payload of ${payload.length} bytes, need ${n}`);
}

// ---- builders

export function buildSetChunkSize(size: number): RtmpMessage {
  if (!Number.isInteger(size) || size < 1 || size > MAX_CHUNK_SIZE) throw new RtmpProtocolError('BAD_CHUNK_SIZE', `chunk size ${size} out of range 1..${MAX_CHUNK_SIZE}`);
  return controlMessage(MessageType.SetChunkSize, u32Payload(size, 'chunk size'));
}

export function buildAbort(csid: number): RtmpMessage {
  return controlMessage(MessageType.Abort, u32Payload(csid, 'chunk stream id'));
}

/** `sequenceNumber`: total bytes received so far, modulo 2^32 (pass it as is; it is wrapped here). */
export function buildAcknowledgement(sequenceNumber: number): RtmpMessage {
  return controlMessage(MessageType.Acknowledgement, u32Payload(sequenceNumber % 0x100000000, 'sequence number'));
}

export function buildWindowAckSize(size: number): RtmpMessage {
  return controlMessage(MessageType.WindowAckSize, u32Payload(size, 'window size'));
}

export function buildSetPeerBandwidth(size: number, limitType: number = PeerBandwidthLimit.Dynamic): RtmpMessage {
  if (limitType !== 0 && limitType !== 1 && limitType !== 2) throw new RtmpProtocolError('BAD_ARGUMENT', `limit type ${limitType}`);
  const b = Buffer.allocUnsafe(5);
  u32Payload(size, 'bandwidth').copy(b, 0);
  b[4] = limitType;
  return controlMessage(MessageType.SetPeerBandwidth, b);
}

export function buildUserControl(uc: UserControl): RtmpMessage {
  if (!Number.isInteger(uc.event) || uc.event < 0 || uc.event > 0xffff) throw new RtmpProtocolError('BAD_ARGUMENT', `user control event ${uc.event}`);
  let b: Buffer;
  switch (uc.event) {
    case UserControlEvent.SetBufferLength:
      b = Buffer.allocUnsafe(10);
      b.writeUInt32BE((uc.streamId ?? 0) >>> 0, 2);
      b.writeUInt32BE((uc.bufferLength ?? 0) >>> 0, 6);
      break;
    case UserControlEvent.PingRequest:
    case UserControlEvent.PingResponse:
      b = Buffer.allocUnsafe(6);
      b.writeUInt32BE((uc.timestamp ?? 0) >>> 0, 2);
      break;
    default:
      b = Buffer.allocUnsafe(6);
      b.writeUInt32BE((uc.streamId ?? 0) >>> 0, 2);
  }
  b.writeUInt16BE(uc.event, 0);
  return controlMessage(MessageType.UserControl, b);
}

export const buildStreamBegin = (streamId: number) => buildUserControl({ event: UserControlEvent.StreamBegin, streamId });
export const buildStreamEof = (streamId: number) => buildUserControl({ event: UserControlEvent.StreamEOF, streamId });
export const buildStreamDry = (streamId: number) => buildUserControl({ event: UserControlEvent.StreamDry, streamId });
export const buildStreamIsRecorded = (streamId: number) => buildUserControl({ event: UserControlEvent.StreamIsRecorded, streamId });
export const buildSetBufferLength = (streamId: number, bufferLength: number) =>
  buildUserControl({ event: UserControlEvent.SetBufferLength, streamId, bufferLength });
/** `timestamp`: the sender's local time in ms (any uint32; the peer echoes it back in PingResponse) */
export const buildPingRequest = (timestamp: number) => buildUserControl({ event: UserControlEvent.PingRequest, timestamp });
export const buildPingResponse = (timestamp: number) => buildUserControl({ event: UserControlEvent.PingResponse, timestamp });

// ---- parsers

/** Returns the chunk size; throws BAD_CHUNK_SIZE for 0 or a value with the high bit set. */
export function parseSetChunkSize(payload: Buffer): number {
  need(payload, 4, 'SetChunkSize');
  const v = payload.readUInt32BE(0);
  if (v < 1 || v > MAX_CHUNK_SIZE) throw new RtmpProtocolError('BAD_CHUNK_SIZE', `SetChunkSize ${v} out of range 1..${MAX_CHUNK_SIZE}`);
  return v;
}

/** Returns the chunk stream id whose partial message must be discarded. */
export function parseAbort(payload: Buffer): number {
  need(payload, 4, 'Abort');
  return payload.readUInt32BE(0);
}

/** Returns the sequence number (bytes the peer received so far, modulo 2^32). */
export function parseAcknowledgement(payload: Buffer): number {
  need(payload, 4, 'Acknowledgement');
  return payload.readUInt32BE(0);
}

export function parseWindowAckSize(payload: Buffer): number {
  need(payload, 4, 'WindowAckSize');
  return payload.readUInt32BE(0);
}

export function parseSetPeerBandwidth(payload: Buffer): { size: number; limitType: number } {
  need(payload, 5, 'SetPeerBandwidth');
  return { size: payload.readUInt32BE(0), limitType: payload[4] };
}

export function parseUserControl(payload: Buffer): UserControl {
  need(payload, 2, 'UserControl');
  const event = payload.readUInt16BE(0);
  switch (event) {
    case UserControlEvent.SetBufferLength:
      need(payload, 10, 'UserControl SetBufferLength');
      return { event, streamId: payload.readUInt32BE(2), bufferLength: payload.readUInt32BE(6) };
    case UserControlEvent.PingRequest:
    case UserControlEvent.PingResponse:
      need(payload, 6, 'UserControl Ping');
      return { event, timestamp: payload.readUInt32BE(2) };
    case UserControlEvent.StreamBegin:
    case UserControlEvent.StreamEOF:
    case UserControlEvent.StreamDry:
    case UserControlEvent.StreamIsRecorded:
    case UserControlEvent.BufferEmpty:
    case UserControlEvent.BufferReady:
      need(payload, 6, 'UserControl');
      return { event, streamId: payload.readUInt32BE(2) };
    default:
      return { event };
  }
}

/**
 * Splits an Aggregate message (type 22) into its sub-messages: each is an FLV-tag-like record
 * (type, 24-bit size, 24+8-bit timestamp, 24-bit stream id, data, 32-bit back pointer). Sub-message
 * timestamps are rebased so the first one equals the aggregate's timestamp; stream id and csid are
 * the aggregate's. Payloads are views into `msg.payload` (no copy). A missing final back pointer
 * is tolerated. At most `maxMessages` sub-messages (default 4096), else BAD_MESSAGE.
 */
export function parseAggregate(msg: RtmpMessage, maxMessages = 4096): RtmpMessage[] {
  const p = msg.payload;
  const out: RtmpMessage[] = [];
  let pos = 0;
  let offset = 0;
  while (pos < p.length) {
    if (p.length - pos < 11) throw new RtmpProtocolError('BAD_MESSAGE', `Aggregate: ${p.length - pos} trailing bytes`);
    const type = p[pos];
    const size = p.readUIntBE(pos + 1, 3);
    const ts = (p.readUIntBE(pos + 4, 3) | (p[pos + 7] << 24)) >>> 0;
    const start = pos + 11;
    if (size > p.length - start) throw new RtmpProtocolError('BAD_MESSAGE', `Aggregate: sub-message of ${size} bytes, ${p.length - start} left`);
    if (out.length === 0) offset = msg.timestamp - ts;
    if (out.length >= maxMessages) throw new RtmpProtocolError('BAD_MESSAGE', `Aggregate: more than ${maxMessages} sub-messages`);
    out.push({ csid: msg.csid, type, streamId: msg.streamId, timestamp: (ts + offset) >>> 0, payload: p.subarray(start, start + size) });
    pos = Math.min(p.length, start + size + 4);
  }
  return out;
}

/**
 * Decides when to send an Acknowledgement: call `update(decoder.bytesReceived)` after each push;
 * it returns the sequence number to send (bytes received modulo 2^32) once at least one window of
 * bytes arrived since the last acknowledgement, else undefined. Window 0 disables it.
 */
export class AcknowledgementTracker {
  private lastAcked = 0;

  constructor(public windowSize = 0) {}

  /** The peer sent WindowAckSize. */
  setWindowSize(size: number): void {
    this.windowSize = size;
  }

  update(bytesReceived: number): number | undefined {
    if (this.windowSize <= 0 || bytesReceived - this.lastAcked < this.windowSize) return undefined;
    this.lastAcked = bytesReceived;
    return bytesReceived % 0x100000000;
  }
}
