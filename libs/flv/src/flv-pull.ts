import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ClientRequest, IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { AppError, EngineEvents, Publisher, RelayDriver, RelayDrivers, RelayOptions, RelaySession, StreamRegistry } from '@m7s/core';
import { Amf0EcmaArray, FlvTag, FlvTagReader, FlvTagType, isMediaError, parseAudioBody, parseScriptData, parseVideoBody } from '@m7s/media';

/** Connect, response headers and FLV header must arrive within this time unless the caller says otherwise. */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Largest FLV tag body accepted from a source (a bigger one ends the pull). */
const DEFAULT_MAX_TAG_SIZE = 16 * 1024 * 1024;
const DEFAULT_MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface FlvPullOptions extends RelayOptions {
  /** Largest tag body accepted (default 16 MiB); memory per pull stays under about twice this. */
  maxTagSize?: number;
  /** Redirects followed before giving up (default 3). */
  maxRedirects?: number;
  /** https: verify the server certificate (default true). */
  rejectUnauthorized?: boolean;
}

/** Whether a URL is one this driver pulls: http(s) with a path ending in `.flv`. */
export function isHttpFlvUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.pathname.toLowerCase().endsWith('.flv');
  } catch {
    return false;
  }
}

/**
 * Turns FLV tags into track configs and frames on a Publisher. A tag body is an RTMP media message payload,
 * so this reads them the way the RTMP ingest does. Malformed media throws (MediaError), which ends the pull.
 */
export class FlvIngest {
  constructor(private readonly publisher: Publisher) {}

  handle(tag: FlvTag): void {
    if (tag.type === FlvTagType.VIDEO) this.video(tag.timestamp, tag.body);
    else if (tag.type === FlvTagType.AUDIO) this.audio(tag.timestamp, tag.body);
    else if (tag.type === FlvTagType.SCRIPT) this.script(tag.body);
  }

  /** A video tag body (RTMP video message payload): a sequence header sets the track, a frame is written. */
  video(timestamp: number, body: Buffer): void {
    if (body.length === 0) return;
    const result = parseVideoBody(body, this.publisher.tracks.video?.config);
    if (result.type === 'config') this.publisher.setTrack(result.config);
    else if (result.type === 'frame') this.publisher.writeVideo(timestamp, timestamp + result.cts, result.keyFrame, result.units);
  }

  /** An audio tag body (RTMP audio message payload). */
  audio(timestamp: number, body: Buffer): void {
    if (body.length === 0) return;
    const result = parseAudioBody(body, this.publisher.tracks.audio?.config);
    if (result.type === 'config') this.publisher.setTrack(result.config);
    else if (result.type === 'frame') {
      if (result.config) this.publisher.setTrack(result.config);
      this.publisher.writeAudio(timestamp, result.data);
    }
  }

  /** onMetaData: a hint that lets the engine start players of an audio-only stream without waiting for video. */
  metadata(metadata: Record<string, unknown>): void {
    if ('videocodecid' in metadata || 'width' in metadata) {
      this.publisher.expectVideo = metadata.videocodecid !== undefined && metadata.videocodecid !== 0 && metadata.videocodecid !== '';
    }
  }

  private script(body: Buffer): void {
    if (body.length === 0) return;
    const data = parseScriptData(body);
    if (data.name !== 'onMetaData') return;
    const value = data.value instanceof Amf0EcmaArray ? data.value.entries : data.value;
    if (!value || typeof value !== 'object' || Array.isArray(value) || value instanceof Date) return;
    this.metadata(value as Record<string, unknown>);
  }
}

interface OpenResponse {
  req: ClientRequest;
  res: IncomingMessage;
  /** TCP connect time of the last hop, ms (the time to the response headers when no connect was seen). */
  connectMs: number;
}

/** GET `url`, following redirects; resolves with a 200 response, rejects with the reason otherwise. */
function openHttp(url: string, options: FlvPullOptions, deadline: number, redirectsLeft: number): Promise<OpenResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const started = Date.now();
    let connectMs: number | undefined;
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, {
      method: 'GET',
      agent: false,
      headers: { 'user-agent': 'm7s-nest', accept: 'video/x-flv, */*' },
      rejectUnauthorized: options.rejectUnauthorized ?? true,
    });
    const timer = setTimeout(() => req.destroy(new Error(`no FLV response from ${target.host} within ${options.timeout ?? DEFAULT_TIMEOUT_MS} ms`)), Math.max(0, deadline - Date.now()));
    req.once('socket', (socket) => socket.once('connect', () => (connectMs = Date.now() - started)));
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.once('response', (res) => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (REDIRECTS.has(status) && location) {
        res.resume();
        req.destroy();
        const next = new URL(location, target).toString();
        if (redirectsLeft <= 0) reject(new Error(`too many redirects (last to ${next})`));
        else if (!/^https?:$/.test(new URL(next).protocol)) reject(new Error(`redirect to a non-HTTP URL: ${next}`));
        else openHttp(next, options, deadline, redirectsLeft - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        req.destroy();
        reject(new Error(`HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      resolve({ req, res, connectMs: connectMs ?? Date.now() - started });
    });
    req.end();
  });
}

/**
 * Pulls HTTP-FLV (`http(s)://…/name.flv`, e.g. another media server's live FLV) into a local stream path: the
 * relay driver of the proxy layer for http:// and https:// URLs. One attempt per call; the proxy layer
 * reconnects. Bounded: one tag at most `maxTagSize` is buffered; malformed FLV ends that pull with the reason.
 */
@Injectable()
export class FlvPullService implements RelayDriver, OnModuleInit, OnApplicationShutdown {
  readonly schemes = ['http', 'https'] as const;
  private readonly logger = new Logger('FlvPull');
  private readonly sessions = new Set<RelaySession>();

  constructor(
    private readonly registry: StreamRegistry,
    private readonly events: EngineEvents,
    private readonly drivers: RelayDrivers,
  ) {}

  onModuleInit(): void {
    this.drivers.register(this);
  }

  onApplicationShutdown(): void {
    for (const session of this.sessions) session.stop();
  }

  /**
   * GETs `url` and publishes its tags as `streamPath`. Resolves once the response is a 200 that starts with an
   * FLV header (the stream is then published); rejects with the reason otherwise. `audio: false` publishes the
   * video only.
   */
  async pull(url: string, streamPath: string, options: FlvPullOptions = {}): Promise<RelaySession> {
    if (!isHttpFlvUrl(url)) throw new AppError('INVALID_ARGUMENT', `an http(s) pull needs a URL whose path ends in .flv: ${url}`);
    const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + timeout;
    const { req, res, connectMs } = await openHttp(url, options, deadline, options.maxRedirects ?? DEFAULT_MAX_REDIRECTS);
    const query = new URL(url).searchParams;
    if (options.audio === false) query.set('audio', '0');
    const remoteAddress = `${req.socket?.remoteAddress ?? ''}:${req.socket?.remotePort ?? ''}`;
    const reader = new FlvTagReader({ maxTagSize: options.maxTagSize ?? DEFAULT_MAX_TAG_SIZE });

    return new Promise<RelaySession>((resolve, reject) => {
      let publisher: Publisher | undefined;
      let ingest: FlvIngest | undefined;
      let ended = false;
      let resolveDone!: (reason: string) => void;
      const done = new Promise<string>((r) => (resolveDone = r));
      const headerTimer = setTimeout(() => finish(`no FLV header within ${timeout} ms`), Math.max(0, deadline - Date.now()));

      const finish = (reason: string) => {
        if (ended) return;
        ended = true;
        clearTimeout(headerTimer);
        res.destroy();
        req.destroy();
        if (!publisher) {
          reject(new Error(reason));
          return;
        }
        publisher.close(`pull ended: ${reason}`);
        this.events.emit('pull_end', { streamPath, url, time: Date.now(), reason });
        resolveDone(reason);
      };

      const session: RelaySession = { url, streamPath, done, rtt: () => connectMs, stop: () => finish('stopped') };

      const start = (): boolean => {
        try {
          publisher = this.registry.publish(streamPath, { protocol: 'http-flv-pull', remoteAddress, query });
        } catch (error) {
          finish(error instanceof Error ? error.message : String(error));
          return false;
        }
        clearTimeout(headerTimer);
        const header = reader.header!;
        if (header.hasAudio && !header.hasVideo) publisher.expectVideo = false;
        publisher.onStop = (error) => finish(`stopped by the engine: ${error.code}`);
        ingest = new FlvIngest(publisher);
        this.events.emit('pull_start', { streamPath, url, time: Date.now() });
        this.track(session);
        resolve(session);
        return true;
      };

      res.on('data', (chunk: Buffer) => {
        if (ended) return;
        let tags: FlvTag[];
        try {
          tags = reader.push(chunk);
        } catch (error) {
          finish(`bad FLV from the source: ${isMediaError(error) ? error.message : String(error)}`);
          return;
        }
        if (!publisher && (!reader.header || !start())) return;
        for (const tag of tags) {
          try {
            ingest!.handle(tag);
          } catch (error) {
            finish(`bad media from the source: ${isMediaError(error) ? error.message : String(error)}`);
            return;
          }
          if (ended) return;
        }
      });
      res.once('end', () => finish('the source ended the stream'));
      res.once('error', (error) => finish(`source connection error: ${error.message}`));
      res.once('close', () => finish('the source closed the connection'));
    });
  }

  private track(session: RelaySession): void {
    this.sessions.add(session);
    void session.done.then((reason) => {
      this.sessions.delete(session);
      this.logger.log({ msg: 'flv pull ended', url: session.url, streamPath: session.streamPath, reason });
    });
  }
}
