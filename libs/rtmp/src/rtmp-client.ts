import { EventEmitter } from 'node:events';
import { connect as connectTcp, isIP, Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { RtmpConnection } from './rtmp-connection';
import { parseRtmpUrl, RtmpUrl } from './rtmp-url';
import {
  ChunkStreamId,
  commandMessage,
  dataMessage,
  decodeCommand,
  encodeCommand,
  encodeConnect,
  encodeCreateStream,
  encodeFCPublish,
  encodePlay,
  encodePublish,
  encodeReleaseStream,
  encodeSetDataFrame,
  MessageType,
  RtmpCommand,
  RtmpMessage,
} from './protocol';
import type { Amf0Value } from '@m7s/media';

export interface RtmpClientOptions {
  /** Send a digested C1 (as Flash/FFmpeg do). */
  digest?: boolean;
  /** Connect + handshake + NetConnection.connect must finish within this time (ms). */
  timeoutMs?: number;
  maxMessageSize?: number;
  /** Chunk size we send with. */
  chunkSize?: number;
  /** RTMPS: verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
  /** Announce Enhanced RTMP codecs in connect (fourCcList). */
  enhanced?: boolean;
}

export class RtmpStatusError extends Error {
  constructor(readonly code: string, description: string) {
    super(`${code}: ${description}`);
    this.name = 'RtmpStatusError';
  }
}

interface StatusWaiter {
  codes: string[];
  resolve: (info: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

/**
 * An RTMP client: connects, then publishes or plays one stream. Emits 'media' (audio/video/data
 * messages of the stream), 'status' (onStatus info objects) and 'close' (reason).
 */
export class RtmpClient extends EventEmitter {
  streamId = 0;
  private nextTransaction = 2;
  private readonly results = new Map<number, { resolve: (cmd: RtmpCommand) => void; reject: (e: Error) => void }>();
  private readonly statusWaiters = new Set<StatusWaiter>();

  private constructor(
    readonly conn: RtmpConnection,
    readonly url: RtmpUrl,
  ) {
    super();
    conn.onMessage = (msg) => this.handle(msg);
    conn.onClose = (reason, error) => {
      const failure = new Error(`rtmp connection closed: ${reason}${error ? `: ${String(error)}` : ''}`);
      for (const pending of this.results.values()) pending.reject(failure);
      for (const waiter of this.statusWaiters) waiter.reject(failure);
      this.results.clear();
      this.statusWaiters.clear();
      this.emit('close', reason);
    };
  }

  /** Opens the connection and completes NetConnection.connect. */
  static async connect(url: string, options: RtmpClientOptions = {}): Promise<RtmpClient> {
    const target = parseRtmpUrl(url);
    const timeoutMs = options.timeoutMs ?? 10_000;
    const socket: Socket = await new Promise((resolve, reject) => {
      const s = target.secure
        ? connectTls({ host: target.host, port: target.port, servername: isIP(target.host) ? undefined : target.host, rejectUnauthorized: options.rejectUnauthorized ?? true }, () => resolve(s))
        : connectTcp({ host: target.host, port: target.port }, () => resolve(s));
      s.once('error', reject);
      s.setTimeout(timeoutMs, () => s.destroy(new Error(`connect to ${target.host}:${target.port} timed out`)));
    });
    socket.setTimeout(0);
    socket.removeAllListeners('error');
    const conn = new RtmpConnection(socket, { role: 'client', maxMessageSize: options.maxMessageSize ?? 16 * 1024 * 1024, digest: options.digest });
    const client = new RtmpClient(conn, target);
    const timer = setTimeout(() => conn.close('connect timeout', new Error(`rtmp connect timed out after ${timeoutMs} ms`)), timeoutMs);
    try {
      const ready = new Promise<void>((resolve) => (conn.onReady = resolve));
      await ready;
      conn.setOutChunkSize(options.chunkSize ?? 4096);
      const params: Record<string, Amf0Value> = { app: target.app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; m7s-nest)', tcUrl: target.tcUrl };
      if (options.enhanced) params.fourCcList = ['avc1', 'hvc1', 'av01', 'vp09', 'Opus'];
      const reply = await client.call((tx) => encodeConnect(tx, params as never), 1);
      if (reply.name !== '_result') throw new RtmpStatusError(String((reply.args[0] as Record<string, unknown>)?.code ?? 'NetConnection.Connect.Rejected'), 'connect refused');
      return client;
    } catch (error) {
      conn.close('connect failed');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** releaseStream, FCPublish, createStream, publish; resolves on NetStream.Publish.Start. */
  async publish(type = 'live'): Promise<void> {
    const name = this.url.streamName;
    this.conn.send(commandMessage(encodeReleaseStream(this.nextTransaction++, name)));
    this.conn.send(commandMessage(encodeFCPublish(this.nextTransaction++, name)));
    await this.createStream();
    const started = this.waitStatus(['NetStream.Publish.Start']);
    this.conn.send(commandMessage(encodePublish(name, type), this.streamId));
    await started;
  }

  /** createStream, play; resolves on NetStream.Play.Start. */
  async play(): Promise<void> {
    await this.createStream();
    const started = this.waitStatus(['NetStream.Play.Start']);
    this.conn.send(commandMessage(encodePlay(this.url.streamName), this.streamId));
    await started;
  }

  sendMedia(type: typeof MessageType.Audio | typeof MessageType.Video, timestamp: number, payload: Buffer): void {
    this.conn.send({ csid: type === MessageType.Video ? ChunkStreamId.Video : ChunkStreamId.Audio, type, streamId: this.streamId, timestamp: timestamp >>> 0, payload });
  }

  sendMetadata(metadata: Record<string, Amf0Value>): void {
    this.conn.send(dataMessage(encodeSetDataFrame(metadata), this.streamId));
  }

  /** Resolves when an onStatus with one of the codes arrives; rejects on an error-level status. */
  waitStatus(codes: string[]): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const waiter: StatusWaiter = {
        codes,
        resolve: (info) => {
          this.statusWaiters.delete(waiter);
          resolve(info);
        },
        reject: (error) => {
          this.statusWaiters.delete(waiter);
          reject(error);
        },
      };
      this.statusWaiters.add(waiter);
    });
  }

  close(): void {
    if (!this.conn.closed && this.streamId) this.conn.send(commandMessage(encodeCommand('deleteStream', 0, null, this.streamId)));
    this.conn.close('client closed');
  }

  private async createStream(): Promise<void> {
    const reply = await this.call((tx) => encodeCreateStream(tx));
    const id = reply.args[0];
    if (reply.name !== '_result' || typeof id !== 'number') throw new RtmpStatusError('createStream.Failed', 'createStream refused');
    this.streamId = id;
  }

  private call(encode: (transactionId: number) => Buffer, transactionId = this.nextTransaction++): Promise<RtmpCommand> {
    return new Promise((resolve, reject) => {
      this.results.set(transactionId, { resolve, reject });
      this.conn.send(commandMessage(encode(transactionId)));
    });
  }

  private handle(msg: RtmpMessage): void {
    if (msg.type === MessageType.CommandAmf0 || msg.type === MessageType.CommandAmf3) {
      const cmd = decodeCommand(msg);
      if ((cmd.name === '_result' || cmd.name === '_error') && this.results.has(cmd.transactionId)) {
        const pending = this.results.get(cmd.transactionId)!;
        this.results.delete(cmd.transactionId);
        pending.resolve(cmd);
      } else if (cmd.name === 'onStatus') {
        const info = (cmd.args[0] ?? {}) as Record<string, unknown>;
        this.emit('status', info);
        for (const waiter of [...this.statusWaiters]) {
          if (waiter.codes.includes(String(info.code))) waiter.resolve(info);
          else if (info.level === 'error') waiter.reject(new RtmpStatusError(String(info.code), String(info.description ?? '')));
        }
      }
      return;
    }
    if (msg.type === MessageType.Audio || msg.type === MessageType.Video || msg.type === MessageType.DataAmf0 || msg.type === MessageType.DataAmf3 || msg.type === MessageType.Aggregate) {
      this.emit('media', msg);
    }
  }
}
