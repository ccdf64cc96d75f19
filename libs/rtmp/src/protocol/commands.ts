/**
 * RTMP command (types 20/17) and data (types 18/15) messages: decoding, encoders for what a server
 * (and our own client) sends, and the NetConnection/NetStream status codes players rely on.
 *
 * Encoders return the AMF0 payload; wrap it with commandMessage()/dataMessage() to get an
 * RtmpMessage for encodeMessage(). Replies are always AMF0 (type 20/18): Flash accepts AMF0 replies
 * on AMF3 connections; answer `objectEncoding` in the connect result to what the client asked.
 */
import { Amf0EcmaArray, Amf0Value, AmfDecodeOptions, AmfError, decodeAmf0, encodeAmf0 } from '@m7s/media';
import { ChunkStreamId, MessageType, RtmpMessage } from './messages';
import { RtmpProtocolError } from './rtmp.errors';

export interface RtmpCommand {
  name: string;
  /** 0 when absent or not a number */
  transactionId: number;
  /** the command object (connect: {app, tcUrl, ...}); null when absent */
  commandObject: Amf0Value;
  /** the optional arguments after the command object (publish: [name, type]; play: [name, start, duration, reset]) */
  args: Amf0Value[];
}

export interface RtmpData {
  /** e.g. "@setDataFrame", "onMetaData", "|RtmpSampleAccess", "onTextData" */
  name: string;
  /** the values after the name */
  values: Amf0Value[];
}

type MessageLike = Pick<RtmpMessage, 'type' | 'payload'>;

function amfValues(msg: MessageLike, amf3Type: number, options?: AmfDecodeOptions): Amf0Value[] {
  let p = msg.payload;
  // AMF3 command/data messages start with a format byte 0 then AMF0 values (with AVM+ switches)
  if (msg.type === amf3Type && p.length > 0 && p[0] === 0x00) p = p.subarray(1);
  try {
    return decodeAmf0(p, options);
  } catch (e) {
    if (e instanceof AmfError) throw new RtmpProtocolError('BAD_COMMAND', `undecodable AMF in a type ${msg.type} message: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Decodes a command message (type 20 AMF0 or 17 AMF3). Throws RtmpProtocolError BAD_COMMAND. */
export function decodeCommand(msg: MessageLike, options?: AmfDecodeOptions): RtmpCommand {
  if (msg.type !== MessageType.CommandAmf0 && msg.type !== MessageType.CommandAmf3) {
    throw new RtmpProtocolError('BAD_COMMAND', `message type ${msg.type} is not a command`);
  }
  const v = amfValues(msg, MessageType.CommandAmf3, options);
  if (typeof v[0] !== 'string') throw new RtmpProtocolError('BAD_COMMAND', 'command without a name');
  return {
    name: v[0],
    transactionId: typeof v[1] === 'number' && Number.isFinite(v[1]) ? v[1] : 0,
    commandObject: v.length > 2 ? v[2] : null,
    args: v.slice(3),
  };
}

/** Decodes a data message (type 18 AMF0 or 15 AMF3). Throws RtmpProtocolError BAD_COMMAND. */
export function decodeData(msg: MessageLike, options?: AmfDecodeOptions): RtmpData {
  if (msg.type !== MessageType.DataAmf0 && msg.type !== MessageType.DataAmf3) {
    throw new RtmpProtocolError('BAD_COMMAND', `message type ${msg.type} is not a data message`);
  }
  const v = amfValues(msg, MessageType.DataAmf3, options);
  if (typeof v[0] !== 'string') throw new RtmpProtocolError('BAD_COMMAND', 'data message without a name');
  return { name: v[0], values: v.slice(1) };
}

/**
 * The metadata object of "@setDataFrame"("onMetaData", {...}) (what publishers send) or
 * "onMetaData"({...}); undefined for any other data message.
 */
export function metadataOf(data: RtmpData): Record<string, Amf0Value> | undefined {
  let v: Amf0Value;
  if (data.name === '@setDataFrame') v = data.values[0] === 'onMetaData' ? data.values[1] : typeof data.values[0] === 'object' ? data.values[0] : undefined;
  else if (data.name === 'onMetaData') v = data.values[0];
  if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) {
    return v instanceof Amf0EcmaArray ? v.entries : (v as Record<string, Amf0Value>);
  }
  return undefined;
}

// ---- messages

/** Wraps a command payload (type 20). NetConnection commands go on stream 0; NetStream ones on their stream. */
export function commandMessage(payload: Buffer, streamId = 0, csid: number = streamId === 0 ? ChunkStreamId.Command : ChunkStreamId.StreamCommand, timestamp = 0): RtmpMessage {
  return { csid, type: MessageType.CommandAmf0, streamId, timestamp, payload };
}

/** Wraps a data payload (type 18). */
export function dataMessage(payload: Buffer, streamId: number, csid: number = ChunkStreamId.StreamCommand, timestamp = 0): RtmpMessage {
  return { csid, type: MessageType.DataAmf0, streamId, timestamp, payload };
}

// ---- status codes

export type StatusLevel = 'status' | 'warning' | 'error';

export interface StatusInfo {
  level: StatusLevel;
  code: string;
  description: string;
  details?: string;
  [key: string]: Amf0Value;
}

function st(code: string, level: StatusLevel, description: string) {
  return { code, level, description } as const;
}

/** The status codes (with their level and a default description) players react to. */
export const NetStatus = {
  ConnectSuccess: st('NetConnection.Connect.Success', 'status', 'Connection succeeded.'),
  ConnectRejected: st('NetConnection.Connect.Rejected', 'error', 'Connection rejected.'),
  ConnectFailed: st('NetConnection.Connect.Failed', 'error', 'Connection failed.'),
  ConnectClosed: st('NetConnection.Connect.Closed', 'status', 'Connection closed.'),
  ConnectInvalidApp: st('NetConnection.Connect.InvalidApp', 'error', 'Invalid application.'),
  ConnectAppShutdown: st('NetConnection.Connect.AppShutdown', 'error', 'Application shut down.'),
  CallFailed: st('NetConnection.Call.Failed', 'error', 'Call failed.'),
  PublishStart: st('NetStream.Publish.Start', 'status', 'Start publishing.'),
  PublishBadName: st('NetStream.Publish.BadName', 'error', 'Stream already publishing.'),
  PublishIdle: st('NetStream.Publish.Idle', 'status', 'Stream is idle.'),
  PublishDenied: st('NetStream.Publish.Denied', 'error', 'Publish denied.'),
  UnpublishSuccess: st('NetStream.Unpublish.Success', 'status', 'Stop publishing.'),
  PlayReset: st('NetStream.Play.Reset', 'status', 'Playing and resetting stream.'),
  PlayStart: st('NetStream.Play.Start', 'status', 'Started playing stream.'),
  PlayStop: st('NetStream.Play.Stop', 'status', 'Stopped playing stream.'),
  PlayFailed: st('NetStream.Play.Failed', 'error', 'Play failed.'),
  PlayStreamNotFound: st('NetStream.Play.StreamNotFound', 'error', 'Stream not found.'),
  PlayUnpublishNotify: st('NetStream.Play.UnpublishNotify', 'status', 'Stream is now unpublished.'),
  PlayPublishNotify: st('NetStream.Play.PublishNotify', 'status', 'Stream is now published.'),
  PlayInsufficientBW: st('NetStream.Play.InsufficientBW', 'warning', 'Insufficient bandwidth.'),
  PlayComplete: st('NetStream.Play.Complete', 'status', 'Playback complete.'),
  DataStart: st('NetStream.Data.Start', 'status', 'Data start.'),
  PauseNotify: st('NetStream.Pause.Notify', 'status', 'Paused stream.'),
  UnpauseNotify: st('NetStream.Unpause.Notify', 'status', 'Unpaused stream.'),
  SeekNotify: st('NetStream.Seek.Notify', 'status', 'Seeking.'),
  SeekFailed: st('NetStream.Seek.Failed', 'error', 'Seek failed.'),
  RecordStart: st('NetStream.Record.Start', 'status', 'Recording started.'),
  RecordStop: st('NetStream.Record.Stop', 'status', 'Recording stopped.'),
  StreamFailed: st('NetStream.Failed', 'error', 'Stream failed.'),
} as const;

export type NetStatusEntry = (typeof NetStatus)[keyof typeof NetStatus];

/** A StatusInfo from a table entry, with an optional description and extra fields (details, clientid...). */
export function statusInfo(entry: NetStatusEntry, description?: string, extra: Record<string, Amf0Value> = {}): StatusInfo {
  return { level: entry.level, code: entry.code, description: description ?? entry.description, ...extra };
}

// ---- encoders (payloads)

export function encodeCommand(name: string, transactionId: number, commandObject: Amf0Value = null, ...args: Amf0Value[]): Buffer {
  return encodeAmf0(name, transactionId, commandObject, ...args);
}

/** `_result`(transactionId, commandObject, ...args); createStream: encodeResult(tid, null, streamId) */
export function encodeResult(transactionId: number, commandObject: Amf0Value = null, ...args: Amf0Value[]): Buffer {
  return encodeAmf0('_result', transactionId, commandObject, ...args);
}

/** `_error`(transactionId, commandObject, info) */
export function encodeError(transactionId: number, info: StatusInfo, commandObject: Amf0Value = null): Buffer {
  return encodeAmf0('_error', transactionId, commandObject, info);
}

/** `onStatus`(0, null, info): sent on the NetStream's message stream */
export function encodeOnStatus(info: StatusInfo, transactionId = 0): Buffer {
  return encodeAmf0('onStatus', transactionId, null, info);
}

export function encodeOnBWDone(): Buffer {
  return encodeAmf0('onBWDone', 0, null);
}

/** the connect reply: properties (fmsVer, capabilities, mode) and the NetConnection.Connect.Success info */
export function encodeConnectResult(
  transactionId: number,
  options: { objectEncoding?: number; fmsVer?: string; capabilities?: number; description?: string; data?: Record<string, Amf0Value>; extra?: Record<string, Amf0Value> } = {},
): Buffer {
  const info: StatusInfo = statusInfo(NetStatus.ConnectSuccess, options.description, { objectEncoding: options.objectEncoding ?? 0, ...options.extra });
  if (options.data) info.data = new Amf0EcmaArray(options.data);
  return encodeResult(transactionId, { fmsVer: options.fmsVer ?? 'FMS/3,5,7,7009', capabilities: options.capabilities ?? 31, mode: 1 }, info);
}

/** `|RtmpSampleAccess`(audio, video) data message: lets Flash players read the samples */
export function encodeSampleAccess(audio = true, video = true): Buffer {
  return encodeAmf0('|RtmpSampleAccess', audio, video);
}

/** `@setDataFrame`("onMetaData", ecma array): what a publisher sends */
export function encodeSetDataFrame(metadata: Record<string, Amf0Value>): Buffer {
  return encodeAmf0('@setDataFrame', 'onMetaData', new Amf0EcmaArray(metadata));
}

/** `onMetaData`(ecma array): what a player receives */
export function encodeOnMetaData(metadata: Record<string, Amf0Value>): Buffer {
  return encodeAmf0('onMetaData', new Amf0EcmaArray(metadata));
}

// ---- client-side commands (our puller/pusher)

export interface ConnectParams {
  app: string;
  tcUrl: string;
  flashVer?: string;
  type?: string;
  [key: string]: Amf0Value;
}

export function encodeConnect(transactionId: number, params: ConnectParams, ...args: Amf0Value[]): Buffer {
  const obj: Record<string, Amf0Value> = { flashVer: 'FMLE/3.0 (compatible; m7s-nest)', type: 'nonprivate', ...params };
  return encodeCommand('connect', transactionId, obj, ...args);
}

export const encodeCreateStream = (transactionId: number) => encodeCommand('createStream', transactionId, null);
export const encodeReleaseStream = (transactionId: number, name: string) => encodeCommand('releaseStream', transactionId, null, name);
export const encodeFCPublish = (transactionId: number, name: string) => encodeCommand('FCPublish', transactionId, null, name);
export const encodeFCUnpublish = (transactionId: number, name: string) => encodeCommand('FCUnpublish', transactionId, null, name);
export const encodeDeleteStream = (transactionId: number, streamId: number) => encodeCommand('deleteStream', transactionId, null, streamId);
/** publish on the NetStream: type 'live' | 'record' | 'append' */
export const encodePublish = (name: string, type = 'live') => encodeCommand('publish', 0, null, name, type);
/** play on the NetStream: start -2 = live or recorded, -1 = live only; duration -1 = until the end */
export const encodePlay = (name: string, start = -2, duration = -1, reset = true) => encodeCommand('play', 0, null, name, start, duration, reset);
