import { Logger } from '@nestjs/common';
import type { Socket } from 'node:net';
import { BatchedWriter } from '@m7s/core';
import { interleavedHeader, RtspDecoder, RtspProtocolError, RtspRequest, RtspResponse, serializeRequest, serializeResponse } from './protocol';

export interface RtspConnectionLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  maxInterleavedBytes: number;
}

/**
 * One RTSP TCP (or TLS) connection, either side: the byte stream decoded into requests, responses and
 * interleaved RTP/RTCP frames, and writes coalesced per tick. A protocol error closes this connection only,
 * answering a request-level error with its status first.
 */
export class RtspConnection {
  private static readonly logger = new Logger('Rtsp');
  readonly remoteAddress: string;
  /** IP only (for UDP peers and auth). */
  readonly remoteIp: string;
  readonly localIp: string;
  closed = false;
  bytesSent = 0;
  onRequest: (req: RtspRequest) => void = () => undefined;
  onResponse: (res: RtspResponse) => void = () => undefined;
  onInterleaved: (channel: number, data: Buffer) => void = () => undefined;
  onClose: (reason: string, error?: unknown) => void = () => undefined;
  private readonly decoder: RtspDecoder;
  private readonly writer: BatchedWriter;

  constructor(
    readonly socket: Socket,
    limits: RtspConnectionLimits,
  ) {
    this.remoteIp = socket.remoteAddress ?? '';
    this.localIp = socket.localAddress ?? '';
    this.remoteAddress = `${this.remoteIp}:${socket.remotePort}`;
    this.writer = new BatchedWriter(socket);
    this.decoder = new RtspDecoder({ maxHeaderBytes: limits.maxHeaderBytes, maxBodyBytes: limits.maxBodyBytes, maxInterleavedBytes: limits.maxInterleavedBytes });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.close('socket error', error));
    socket.on('close', () => this.close('connection closed'));
    socket.on('end', () => this.close('peer closed'));
  }

  get backlog(): number {
    return this.writer.backlog;
  }

  sendRequest(req: Parameters<typeof serializeRequest>[0]): void {
    this.write(serializeRequest(req));
  }

  sendResponse(res: Parameters<typeof serializeResponse>[0]): void {
    this.write(serializeResponse(res));
  }

  /** An interleaved frame: the 4-byte header and the packet, without copying the packet. */
  sendInterleaved(channel: number, packet: Buffer): void {
    this.write(interleavedHeader(channel, packet.length));
    this.write(packet);
  }

  write(data: Buffer, deferMs = 0): void {
    if (this.closed) return;
    this.bytesSent += data.length;
    this.writer.write(data, deferMs);
  }

  close(reason: string, error?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.flush();
    this.socket.end();
    this.socket.destroySoon?.();
    // A peer that does not close its side is cut after a grace period.
    setTimeout(() => this.socket.destroy(), 2000).unref();
    if (error !== undefined && reason !== 'connection closed' && reason !== 'peer closed') {
      RtspConnection.logger.warn({ msg: 'rtsp connection closed', reason, remoteAddress: this.remoteAddress, error: error instanceof Error ? error.message : String(error) });
    }
    this.onClose(reason, error);
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let chunks;
    try {
      chunks = this.decoder.push(chunk);
    } catch (error) {
      if (error instanceof RtspProtocolError) {
        // Requests that cannot even be framed get their status, then the connection ends.
        this.sendResponse({ statusCode: error.status, headers: {} });
      }
      this.close('protocol error', error);
      return;
    }
    for (const c of chunks) {
      if (this.closed) return;
      try {
        if (c.type === 'interleaved') this.onInterleaved(c.channel, c.data);
        else if (c.type === 'request') this.onRequest(c.message);
        else this.onResponse(c.message);
      } catch (error) {
        this.close('protocol error', error);
        return;
      }
    }
  }
}
