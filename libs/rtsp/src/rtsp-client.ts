import { EventEmitter } from 'node:events';
import { connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { RtspConnection } from './rtsp-connection';
import {
  authorizationHeader,
  parseRtspUrl,
  parseSession,
  parseWwwAuthenticate,
  RtspHeaders,
  RtspResponse,
  rtspUrlWithoutCredentials,
} from './protocol';

export interface RtspClientOptions {
  /** Connect and each request must complete within this (ms). */
  timeout?: number;
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
  maxInterleavedBytes?: number;
  userAgent?: string;
}

export class RtspClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RtspClientError';
  }
}

interface Pending {
  resolve: (res: RtspResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * An RTSP client connection (camera or server): requests with CSeq, Basic/Digest authentication from the
 * URL's credentials (retried once on 401), the session id kept, interleaved frames delivered as
 * 'interleaved' events, 'close' with the reason. The pull and push relays build on it.
 */
export class RtspClient extends EventEmitter {
  readonly url: string;
  /** The URL without credentials (what goes into requests and logs). */
  readonly baseUrl: string;
  session: string | undefined;
  /** Seconds the server keeps the session without a request (from its Session header; 60 by default). */
  sessionTimeout = 60;
  /** The last request's round-trip time, ms. */
  rtt: number | undefined;
  private cseq = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly credentials: { username: string; password: string } | undefined;
  private authorization: ((method: string, uri: string) => string) | undefined;
  private closeReason: string | undefined;

  private constructor(
    url: string,
    readonly conn: RtspConnection,
    private readonly options: RtspClientOptions,
  ) {
    super();
    this.url = url;
    const parsed = parseRtspUrl(url);
    this.baseUrl = rtspUrlWithoutCredentials(url);
    this.credentials = parsed.username !== undefined ? { username: parsed.username, password: parsed.password ?? '' } : undefined;
    conn.onResponse = (res) => this.response(res);
    conn.onInterleaved = (channel, data) => this.emit('interleaved', channel, data);
    conn.onRequest = (req) => {
      // Servers may send requests (GET_PARAMETER, ANNOUNCE of a change); answer them plainly.
      conn.sendResponse({ statusCode: req.method === 'GET_PARAMETER' || req.method === 'OPTIONS' ? 200 : 501, headers: { CSeq: req.headers.get('cseq') ?? '0' } });
    };
    conn.onClose = (reason, error) => {
      this.closeReason = reason;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`connection closed: ${reason}${error instanceof Error ? ` (${error.message})` : ''}`));
      }
      this.pending.clear();
      this.emit('close', error instanceof Error ? `${reason}: ${error.message}` : reason);
    };
  }

  static async connect(url: string, options: RtspClientOptions = {}): Promise<RtspClient> {
    const target = parseRtspUrl(url);
    const timeout = options.timeout ?? 10_000;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s: Socket = target.secure
        ? tlsConnect({ host: target.host, port: target.port, servername: target.host, rejectUnauthorized: false }, () => done())
        : netConnect({ host: target.host, port: target.port }, () => done());
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect to ${target.host}:${target.port} timed out after ${timeout} ms`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        s.off('error', fail);
        resolve(s);
      };
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      s.once('error', fail);
    });
    const conn = new RtspConnection(socket, {
      maxHeaderBytes: options.maxHeaderBytes ?? 16384,
      maxBodyBytes: options.maxBodyBytes ?? 256 * 1024,
      maxInterleavedBytes: options.maxInterleavedBytes ?? 65535,
    });
    return new RtspClient(url, conn, options);
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  /** Sends a request and resolves with a 2xx response; a 401 is answered once with credentials from the URL. */
  async request(method: string, uri: string, headers: Record<string, string | number | undefined> = {}, body?: Buffer | string): Promise<RtspResponse> {
    let res = await this.send(method, uri, headers, body);
    if (res.statusCode === 401 && this.credentials) {
      const challenges = parseWwwAuthenticate(res.headers.getAll('www-authenticate'));
      const challenge = challenges.find((c) => c.scheme === 'digest') ?? challenges[0];
      if (challenge) {
        const credentials = this.credentials;
        let nc = 0;
        this.authorization = (m, u) => authorizationHeader(challenge, credentials, m, u, ++nc);
        res = await this.send(method, uri, headers, body);
      }
    }
    if (res.statusCode < 200 || res.statusCode >= 300) throw new RtspClientError(res.statusCode, `${method} ${uri}: ${res.statusCode} ${res.reason}`);
    const session = res.headers.get('session');
    if (session) {
      const parsed = parseSession(session);
      this.session = parsed.id;
      if (parsed.timeout) this.sessionTimeout = parsed.timeout;
    }
    return res;
  }

  /** Interleaved RTP/RTCP to the server (publishing over TCP). */
  sendInterleaved(channel: number, packet: Buffer): void {
    this.conn.sendInterleaved(channel, packet);
  }

  close(reason = 'closed'): void {
    this.conn.close(reason);
  }

  private send(method: string, uri: string, extra: Record<string, string | number | undefined>, body?: Buffer | string): Promise<RtspResponse> {
    if (this.conn.closed) return Promise.reject(new Error(`connection closed: ${this.closeReason ?? 'closed'}`));
    const cseq = this.cseq++;
    const headers = RtspHeaders.from({ CSeq: cseq, 'User-Agent': this.options.userAgent ?? 'm7s-nest', ...extra });
    if (this.session && !headers.has('session')) headers.set('Session', this.session);
    if (this.authorization) headers.set('Authorization', this.authorization(method, uri));
    const timeout = this.options.timeout ?? 10_000;
    const sentAt = Date.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(cseq);
        reject(new Error(`${method} timed out after ${timeout} ms`));
        this.close(`${method} timed out`);
      }, timeout);
      this.pending.set(cseq, {
        resolve: (res) => {
          this.rtt = Date.now() - sentAt;
          resolve(res);
        },
        reject,
        timer,
      });
      this.conn.sendRequest({ method, uri, headers, body });
    });
  }

  private response(res: RtspResponse): void {
    const cseq = Number(res.headers.get('cseq'));
    const pending = this.pending.get(cseq);
    if (!pending) return;
    this.pending.delete(cseq);
    clearTimeout(pending.timer);
    pending.resolve(res);
  }
}
