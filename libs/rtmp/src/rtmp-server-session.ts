import { Logger } from '@nestjs/common';
import type { Socket } from 'node:net';
import { Publisher, StreamAuth, StreamError, StreamRegistry, Subscriber } from '@m7s/core';
import type { RtmpConfig } from './rtmp.config';
import { RtmpConnection } from './rtmp-connection';
import { RtmpIngest } from './rtmp-ingest';
import { ENHANCED_RTMP_AUDIO_CODECS, RTMP_AUDIO_CODECS, RtmpSink } from './rtmp-sink';
import { splitQuery } from './rtmp-url';
import {
  buildSetPeerBandwidth,
  buildStreamBegin,
  buildStreamIsRecorded,
  buildWindowAckSize,
  commandMessage,
  dataMessage,
  decodeCommand,
  encodeConnectResult,
  encodeError,
  encodeOnStatus,
  encodeResult,
  encodeSampleAccess,
  MessageType,
  NetStatus,
  NetStatusEntry,
  RtmpCommand,
  RtmpMessage,
  statusInfo,
} from './protocol';

/** A client may open this many NetStreams on one connection. */
const MAX_STREAMS_PER_CONNECTION = 8;
/** Media a publisher sends before its authorization is settled is kept up to this, then dropped. */
const MAX_EARLY_MESSAGES = 256;
const MAX_EARLY_BYTES = 4 * 1024 * 1024;

interface NetStream {
  id: number;
  publisher?: Publisher;
  ingest?: RtmpIngest;
  subscriber?: Subscriber;
  /** Bumped by every publish, play and release, so an authorization that settles late knows it is stale. */
  attempt: number;
  /** Messages of a publish still being authorized, replayed once it starts. */
  early?: { messages: RtmpMessage[]; bytes: number };
}

/** One client of the RTMP server: connect, createStream, then publish or play on its NetStreams. */
export class RtmpServerSession {
  private readonly logger = new Logger('RtmpSession');
  readonly conn: RtmpConnection;
  private app: string | undefined;
  private appQuery = new URLSearchParams();
  /** The client's connect fourCcList named 'Opus' (Enhanced RTMP): its players take Opus as is. */
  private playsOpus = false;
  private readonly streams = new Map<number, NetStream>();
  private nextStreamId = 1;
  private readonly handshakeTimer: NodeJS.Timeout;

  constructor(
    socket: Socket,
    private readonly registry: StreamRegistry,
    private readonly auth: StreamAuth,
    private readonly config: RtmpConfig,
    private readonly protocol: 'rtmp' | 'rtmps',
    onClosed: (session: RtmpServerSession) => void,
  ) {
    this.conn = new RtmpConnection(socket, { role: 'server', maxMessageSize: config.maxMessageSize });
    this.conn.onMessage = (msg) => this.handle(msg);
    this.conn.onClose = () => {
      clearTimeout(this.handshakeTimer);
      this.releaseAll('connection closed');
      onClosed(this);
    };
    this.handshakeTimer = setTimeout(() => {
      if (!this.app) this.conn.close('handshake timeout', new Error(`no connect within ${config.handshakeTimeout} ms`));
    }, config.handshakeTimeout);
    this.handshakeTimer.unref();
  }

  close(reason: string): void {
    this.conn.close(reason);
  }

  private handle(msg: RtmpMessage): void {
    if (msg.type === MessageType.CommandAmf0 || msg.type === MessageType.CommandAmf3) {
      this.command(decodeCommand(msg), msg.streamId);
      return;
    }
    const stream = this.streams.get(msg.streamId);
    if (stream?.ingest) {
      stream.ingest.handle(msg);
    } else if (stream?.early && stream.early.messages.length < MAX_EARLY_MESSAGES && stream.early.bytes + msg.payload.length <= MAX_EARLY_BYTES) {
      stream.early.messages.push(msg);
      stream.early.bytes += msg.payload.length;
    }
    // Media for a stream that is not publishing (or after unpublish) is ignored, like other servers do.
  }

  private command(cmd: RtmpCommand, streamId: number): void {
    switch (cmd.name) {
      case 'connect':
        return this.connect(cmd);
      case 'createStream':
        return this.createStream(cmd);
      case 'publish':
        return this.publish(cmd, streamId);
      case 'play':
        return this.play(cmd, streamId);
      case 'deleteStream':
      case 'closeStream': {
        const id = cmd.name === 'deleteStream' ? Number(cmd.args[0]) : streamId;
        this.release(id, 'deleteStream');
        if (cmd.name === 'deleteStream') this.streams.delete(id);
        return;
      }
      case 'FCUnpublish':
        for (const stream of this.streams.values()) if (stream.publisher) this.release(stream.id, 'FCUnpublish');
        return this.result(cmd);
      case 'releaseStream':
      case 'FCPublish':
      case 'getStreamLength':
      case '_checkbw':
        return this.result(cmd);
      case 'pause':
      case 'receiveAudio':
      case 'receiveVideo':
      case 'FCSubscribe':
        return;
      default:
        if (cmd.transactionId > 0) {
          this.conn.send(commandMessage(encodeError(cmd.transactionId, statusInfo(NetStatus.CallFailed, `unknown command ${cmd.name.slice(0, 64)}`))));
        }
    }
  }

  private connect(cmd: RtmpCommand): void {
    const props = (cmd.commandObject ?? {}) as Record<string, unknown>;
    const app = typeof props.app === 'string' ? props.app : '';
    const { path, query } = splitQuery(app);
    this.app = path.replace(/^\/+|\/+$/g, '');
    if (!this.app) {
      this.conn.send(commandMessage(encodeError(cmd.transactionId, statusInfo(NetStatus.ConnectInvalidApp, 'connect without an app'))));
      this.conn.close('connect without app', new Error('connect without app'));
      return;
    }
    this.appQuery = query;
    if (typeof props.tcUrl === 'string') splitQuery(props.tcUrl, this.appQuery);
    this.conn.send(buildWindowAckSize(this.config.windowAckSize));
    this.conn.send(buildSetPeerBandwidth(this.config.windowAckSize));
    this.conn.setOutChunkSize(this.config.chunkSize);
    const objectEncoding = typeof props.objectEncoding === 'number' ? props.objectEncoding : 0;
    // Enhanced RTMP: answer the codecs we carry when the client announced its list.
    const extra = Array.isArray(props.fourCcList) ? { fourCcList: ['avc1', 'hvc1', 'av01', 'vp09', 'Opus', 'mp4a'] } : undefined;
    this.playsOpus = Array.isArray(props.fourCcList) && props.fourCcList.includes('Opus');
    this.conn.send(commandMessage(encodeConnectResult(cmd.transactionId, { objectEncoding, extra })));
  }

  private createStream(cmd: RtmpCommand): void {
    if (this.streams.size >= MAX_STREAMS_PER_CONNECTION) {
      this.conn.send(commandMessage(encodeError(cmd.transactionId, statusInfo(NetStatus.CallFailed, 'too many streams on this connection'))));
      return;
    }
    const id = this.nextStreamId++;
    this.streams.set(id, { id, attempt: 0 });
    this.conn.send(commandMessage(encodeResult(cmd.transactionId, null, id)));
  }

  private streamPathOf(cmd: RtmpCommand): { streamPath: string; query: URLSearchParams } {
    const name = typeof cmd.args[0] === 'string' ? cmd.args[0] : '';
    const { path, query } = splitQuery(name, new URLSearchParams(this.appQuery));
    return { streamPath: `${this.app}/${path.replace(/^\/+/, '')}`, query };
  }

  private netStream(streamId: number): NetStream | undefined {
    const stream = this.streams.get(streamId);
    if (!stream) this.conn.close('bad stream id', new Error(`publish/play on unknown stream ${streamId}`));
    return stream;
  }

  /**
   * Runs `then` once stream auth allows the request, unless the connection closed or the NetStream was
   * released or reused meanwhile; a refusal answers with `refusal` and closes.
   */
  private authorized(stream: NetStream, action: 'publish' | 'play', streamPath: string, query: URLSearchParams, refusal: NetStatusEntry, then: () => void): void {
    const attempt = ++stream.attempt;
    const current = () => !this.conn.closed && this.streams.get(stream.id) === stream && stream.attempt === attempt;
    this.auth
      .authorize({ action, protocol: this.protocol, streamPath, query, remoteAddress: this.conn.remoteAddress })
      .then(
        () => {
          if (current()) then();
        },
        (error: unknown) => {
          if (!current()) return;
          if (error instanceof StreamError) return this.refuse(stream.id, error, refusal);
          this.logger.error({ msg: 'stream authorization failed', streamPath, error: String(error) });
          this.refuse(stream.id, new StreamError('UNAUTHORIZED', 'stream authorization failed'), refusal);
        },
      )
      // Off the socket's call stack: what would have been a protocol error closes this connection only.
      .catch((error: unknown) => this.conn.close('protocol error', error));
  }

  private publish(cmd: RtmpCommand, streamId: number): void {
    const stream = this.netStream(streamId);
    if (!stream) return;
    if (!this.app) return this.conn.close('publish before connect', new Error('publish before connect'));
    const { streamPath, query } = this.streamPathOf(cmd);
    stream.early = { messages: [], bytes: 0 };
    this.authorized(stream, 'publish', streamPath, query, NetStatus.PublishDenied, () => this.startPublish(stream, streamPath, query));
  }

  private startPublish(stream: NetStream, streamPath: string, query: URLSearchParams): void {
    const streamId = stream.id;
    const early = stream.early?.messages ?? [];
    stream.early = undefined;
    try {
      const publisher = this.registry.publish(streamPath, { protocol: this.protocol, remoteAddress: this.conn.remoteAddress, query });
      publisher.onStop = (error) => {
        this.status(streamId, error.code === 'KICKED' ? NetStatus.PublishBadName : NetStatus.UnpublishSuccess, error.message);
        this.conn.close(`publisher stopped: ${error.code}`);
      };
      stream.publisher = publisher;
      stream.ingest = new RtmpIngest(publisher);
      this.status(streamId, NetStatus.PublishStart, `${streamPath} is now published`);
    } catch (error) {
      this.refuse(streamId, error, error instanceof StreamError && error.code === 'STREAM_BUSY' ? NetStatus.PublishBadName : NetStatus.PublishDenied);
    }
    for (const msg of early) stream.ingest?.handle(msg);
  }

  private play(cmd: RtmpCommand, streamId: number): void {
    const stream = this.netStream(streamId);
    if (!stream) return;
    if (!this.app) return this.conn.close('play before connect', new Error('play before connect'));
    if (stream.subscriber) this.release(streamId, 'play again');
    const { streamPath, query } = this.streamPathOf(cmd);
    this.authorized(stream, 'play', streamPath, query, NetStatus.PlayFailed, () => this.startPlay(stream, streamPath, query));
  }

  private startPlay(stream: NetStream, streamPath: string, query: URLSearchParams): void {
    const streamId = stream.id;
    this.conn.send(buildStreamIsRecorded(streamId));
    this.conn.send(buildStreamBegin(streamId));
    this.status(streamId, NetStatus.PlayReset, `playing and resetting ${streamPath}`);
    this.status(streamId, NetStatus.PlayStart, `started playing ${streamPath}`);
    this.conn.send(dataMessage(encodeSampleAccess(), streamId));
    const audioCodecs = this.playsOpus ? ENHANCED_RTMP_AUDIO_CODECS : RTMP_AUDIO_CODECS;
    const sink = new RtmpSink(this.conn, streamId, 'play', () => this.conn.close('player ended'), audioCodecs);
    try {
      stream.subscriber = this.registry.subscribe(streamPath, { protocol: this.protocol, remoteAddress: this.conn.remoteAddress, query }, sink);
    } catch (error) {
      this.refuse(streamId, error, NetStatus.PlayFailed);
    }
  }

  private refuse(streamId: number, error: unknown, entry: NetStatusEntry): void {
    if (!(error instanceof StreamError)) throw error;
    this.status(streamId, entry, `${error.code}: ${error.message}`);
    this.logger.warn({ msg: 'rtmp request refused', remoteAddress: this.conn.remoteAddress, code: error.code, reason: error.message });
    this.conn.close(`refused: ${error.code}`);
  }

  private status(streamId: number, entry: NetStatusEntry, description?: string): void {
    this.conn.send(commandMessage(encodeOnStatus(statusInfo(entry, description)), streamId));
  }

  private result(cmd: RtmpCommand): void {
    if (cmd.transactionId > 0) this.conn.send(commandMessage(encodeResult(cmd.transactionId, null)));
  }

  private release(streamId: number, reason: string): void {
    const stream = this.streams.get(streamId);
    if (!stream) return;
    stream.attempt++;
    stream.early = undefined;
    if (stream.publisher) {
      stream.publisher.close(reason);
      stream.publisher = undefined;
      stream.ingest = undefined;
    }
    if (stream.subscriber) {
      stream.subscriber.bytesSent = this.conn.bytesSent;
      this.registry.unsubscribe(stream.subscriber, reason);
      stream.subscriber = undefined;
    }
  }

  private releaseAll(reason: string): void {
    for (const id of this.streams.keys()) this.release(id, reason);
  }
}
