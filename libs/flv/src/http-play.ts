import type { Request, Response } from 'express';
import { BatchedWriter, httpStatusOfStreamError, StreamAuth, StreamError, StreamRegistry, SubscriberSink } from '@m7s/core';

/** Where a player's bytes go: an HTTP response (framed as HTTP/1.1 chunks, see httpChunk) or a WebSocket. */
export interface PlayerWriter {
  /** `deferMs`: the bytes may wait that long to leave with the next write (see BatchedWriter). */
  write(chunk: Buffer, deferMs?: number): void;
  /** Bytes queued and not yet sent. */
  backlog(): number;
  /** The response is over; `error` when the engine ended it (no publisher in time, stopped, shutdown). */
  end(error?: StreamError): void;
}

export interface ChunkedPlayOptions {
  registry: StreamRegistry;
  auth: StreamAuth;
  /** ClientInfo.protocol of the player ('http-flv', 'http-mp4'). */
  protocol: string;
  streamPath: string;
  query: URLSearchParams;
  contentType: string;
  /** The protocol's sink over the response. */
  sink: (writer: PlayerWriter) => SubscriberSink;
}

/** Answers a refused player with the error's status and code as JSON. */
export function refuseStreamRequest(res: Response, error: StreamError): void {
  if (res.destroyed || res.headersSent) return;
  res.removeHeader('Cache-Control');
  res.status(httpStatusOfStreamError(error.code)).json({ code: error.code, message: error.message });
}

/**
 * Plays a stream over one chunked HTTP response (HTTP-FLV, live fMP4): stream auth, then a player whose
 * sink writes chunks straight to the socket once the headers are out (a frame's chunk is built once for
 * every player; res.end() writes the last chunk). A player that waits for a publisher that never comes
 * gets the refusal's status instead of an empty body.
 */
export async function playOverChunkedHttp(req: Request, res: Response, o: ChunkedPlayOptions): Promise<void> {
  const socket = req.socket;
  const remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
  try {
    await o.auth.authorize({ action: 'play', protocol: o.protocol, streamPath: o.streamPath, query: o.query, remoteAddress });
  } catch (error) {
    if (!(error instanceof StreamError)) throw error;
    refuseStreamRequest(res, error);
    return;
  }
  // The player may have gone while it was being authorized.
  if (res.destroyed || socket.destroyed) return;
  socket.setNoDelay(true);
  const writer = new BatchedWriter(socket);
  const sink = o.sink({
    write: (chunk, deferMs) => {
      if (!res.headersSent) res.flushHeaders();
      writer.write(chunk, deferMs);
    },
    backlog: () => writer.backlog,
    end: (error) => {
      if (error && !res.headersSent) refuseStreamRequest(res, error);
      else res.end();
    },
  });
  // Headers are set first: a ready stream writes its first chunks during subscribe().
  res.status(200);
  res.setHeader('Content-Type', o.contentType);
  res.setHeader('Cache-Control', 'no-cache');
  let subscriber;
  try {
    subscriber = o.registry.subscribe(o.streamPath, { protocol: o.protocol, remoteAddress, query: o.query }, sink);
  } catch (error) {
    if (!(error instanceof StreamError)) throw error;
    refuseStreamRequest(res, error);
    return;
  }
  const player = subscriber;
  // 'finish': the sink ended the response from the engine's write path (the publisher left, a track changed).
  for (const event of ['close', 'finish'] as const) {
    res.on(event, () => o.registry.unsubscribe(player, event === 'close' ? 'client closed' : 'stream ended'));
  }
}
