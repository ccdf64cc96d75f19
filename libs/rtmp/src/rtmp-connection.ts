import { Logger } from '@nestjs/common';
import type { Socket } from 'node:net';
import { BatchedWriter } from '@m7s/core';
import {
  AcknowledgementTracker,
  buildAcknowledgement,
  buildPingResponse,
  buildSetChunkSize,
  ChunkDecoder,
  encodeMessage,
  MessageType,
  parseUserControl,
  parseWindowAckSize,
  RtmpClientHandshake,
  RtmpMessage,
  RtmpServerHandshake,
  UserControlEvent,
} from './protocol';

export interface RtmpConnectionOptions {
  role: 'server' | 'client';
  maxMessageSize: number;
  /** Client only: send a digested C1 like Flash/FFmpeg. */
  digest?: boolean;
}

/** Close reasons that are a peer's fault are logged as warnings with the reason. */
export type CloseHandler = (reason: string, error?: unknown) => void;

/**
 * One RTMP TCP (or TLS) connection, either side: handshake, chunk stream in and out, protocol control
 * (chunk size, acknowledgements, ping) handled here; every other message goes to `onMessage`.
 * A protocol error closes this connection only.
 */
export class RtmpConnection {
  private static readonly logger = new Logger('Rtmp');
  readonly remoteAddress: string;
  readonly decoder: ChunkDecoder;
  outChunkSize = 128;
  closed = false;
  bytesSent = 0;
  onReady: () => void = () => undefined;
  onMessage: (msg: RtmpMessage) => void = () => undefined;
  onClose: CloseHandler = () => undefined;
  private readonly acks = new AcknowledgementTracker();
  private readonly serverHandshake: RtmpServerHandshake | undefined;
  private readonly clientHandshake: RtmpClientHandshake | undefined;
  private handshaking = true;
  private readonly writer: BatchedWriter;

  constructor(
    readonly socket: Socket,
    options: RtmpConnectionOptions,
  ) {
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.writer = new BatchedWriter(socket);
    this.decoder = new ChunkDecoder({ maxMessageSize: options.maxMessageSize });
    if (options.role === 'server') this.serverHandshake = new RtmpServerHandshake();
    else this.clientHandshake = new RtmpClientHandshake({ digest: options.digest });
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.receive(data));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A peer that goes away mid-write is an ordinary end, not a fault worth a warning.
      if (error.code === 'EPIPE' || error.code === 'ECONNRESET') this.close('peer closed');
      else this.close('socket error', error);
    });
    socket.on('close', () => this.close('peer closed'));
    if (this.clientHandshake) this.write(this.clientHandshake.start());
  }

  /** Bytes queued on the socket and not yet sent. */
  get backlog(): number {
    return this.writer.backlog;
  }

  send(msg: RtmpMessage): void {
    this.write(encodeMessage(msg, this.outChunkSize));
  }

  /** Announces and starts using a chunk size for what we send. */
  setOutChunkSize(size: number): void {
    this.send(buildSetChunkSize(size));
    this.outChunkSize = size;
  }

  /** `deferMs`: the bytes may wait that long to leave with the next write (see BatchedWriter). */
  write(data: Buffer, deferMs = 0): void {
    if (this.closed) return;
    this.bytesSent += data.length;
    this.writer.write(data, deferMs);
  }

  /** Ends the connection (after what is queued is flushed), once. */
  close(reason: string, error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    if (error) {
      const message = error instanceof Error ? error.message : String(error);
      RtmpConnection.logger.warn({ msg: 'rtmp connection closed', remoteAddress: this.remoteAddress, reason, error: message });
    } else {
      RtmpConnection.logger.debug({ msg: 'rtmp connection closed', remoteAddress: this.remoteAddress, reason });
    }
    if (error) this.socket.destroy();
    else this.socket.end(() => this.socket.destroy());
    this.onClose(reason, error);
  }

  private receive(data: Buffer): void {
    if (this.closed) return;
    try {
      if (this.handshaking) {
        const result = (this.serverHandshake ?? this.clientHandshake)!.push(data);
        if (result.send) this.write(result.send);
        if (!result.done) return;
        this.handshaking = false;
        this.onReady();
        if (!result.rest || result.rest.length === 0) return;
        data = result.rest;
      }
      const messages = this.decoder.push(data);
      const ack = this.acks.update(this.decoder.bytesReceived);
      if (ack !== undefined) this.send(buildAcknowledgement(ack));
      for (const msg of messages) {
        if (this.closed) return;
        this.dispatch(msg);
      }
    } catch (error) {
      this.close('protocol error', error);
    }
  }

  private dispatch(msg: RtmpMessage): void {
    switch (msg.type) {
      case MessageType.SetChunkSize: // applied by the decoder
      case MessageType.Abort:
      case MessageType.Acknowledgement: // we do not throttle on the peer's acknowledgements
      case MessageType.SetPeerBandwidth:
        return;
      case MessageType.WindowAckSize:
        this.acks.setWindowSize(parseWindowAckSize(msg.payload));
        return;
      case MessageType.UserControl: {
        const control = parseUserControl(msg.payload);
        if (control.event === UserControlEvent.PingRequest) this.send(buildPingResponse(control.timestamp ?? 0));
        return;
      }
      default:
        this.onMessage(msg);
    }
  }
}
