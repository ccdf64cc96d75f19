import { Controller, Delete, Get, Logger, Options, Patch, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Public } from '@m7s/auth';
import { iceServerLinks } from './protocol';
import { WebrtcPage } from './webrtc-page';
import { refusalOf, WebrtcRefusal } from './webrtc-refusal';
import { WebrtcSessions } from './webrtc-sessions.service';

const SESSION_PATH = '/webrtc/session/';
const SDP = 'application/sdp';
const SDP_FRAG = 'application/trickle-ice-sdpfrag';

/** The media type of a request, lower-cased, without parameters. */
function mediaType(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** Reads a request body up to `limit` bytes (413 beyond); WHIP/WHEP bodies are SDP text, no parser runs before. */
function readBody(req: Request, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) return reject(new WebrtcRefusal(413, `body over ${limit} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new WebrtcRefusal(413, `body over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * WHIP (RFC 9725) and WHEP: POST /webrtc/push/{streamPath} publishes, POST /webrtc/play/{streamPath} plays
 * (an SDP offer in, 201 with the answer and the session's Location); PATCH /webrtc/session/{id} takes
 * trickle candidates and ICE restarts; DELETE ends it. CORS answers let a page of another origin use them.
 * GET /webrtc/ is the page that plays and publishes. Public for the API guard: stream auth (URL signing,
 * the hook) checks publishers and players with the URL's query; the session id is the capability after.
 */
@Public()
@Controller('webrtc')
export class WebrtcController {
  private readonly logger = new Logger('WebRTC');

  constructor(
    private readonly sessions: WebrtcSessions,
    private readonly page: WebrtcPage,
  ) {}

  @Get()
  index(@Res() res: Response): void {
    res.status(200).type('html').setHeader('Cache-Control', 'no-cache');
    res.end(this.page.html(this.sessions.settings.iceServers));
  }

  @Options('*path')
  preflight(@Res() res: Response): void {
    this.cors(res);
    res.setHeader('Access-Control-Allow-Methods', 'POST, PATCH, DELETE, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, If-Match');
    res.setHeader('Access-Control-Max-Age', '86400');
    res.setHeader('Accept-Post', SDP);
    res.setHeader('Accept-Patch', SDP_FRAG);
    for (const link of this.links()) res.append('Link', link);
    res.status(204).end();
  }

  @Post('push/*path')
  async push(@Req() req: Request, @Res() res: Response): Promise<void> {
    await this.offer(req, res, '/webrtc/push/', (request) => this.sessions.push(request));
  }

  @Post('play/*path')
  async play(@Req() req: Request, @Res() res: Response): Promise<void> {
    const aborted = new Promise<void>((resolve) => res.once('close', () => resolve()));
    await this.offer(req, res, '/webrtc/play/', (request) => this.sessions.play(request, aborted));
  }

  @Patch('session/:id')
  async patch(@Req() req: Request, @Res() res: Response): Promise<void> {
    this.cors(res);
    try {
      if (mediaType(req) !== SDP_FRAG) throw new WebrtcRefusal(415, `Content-Type must be ${SDP_FRAG}`);
      const body = await readBody(req, this.sessions.settings.maxSdpSize);
      const ifMatch = req.headers['if-match'];
      const { session, frag } = await this.sessions.patch(this.sessionId(req), body, Array.isArray(ifMatch) ? ifMatch[0] : ifMatch);
      if (frag === undefined) {
        res.status(204).end();
        return;
      }
      res.status(200).type(SDP_FRAG).setHeader('ETag', session.etag);
      res.end(frag);
    } catch (error) {
      this.refuse(res, error);
    }
  }

  @Delete('session/:id')
  remove(@Req() req: Request, @Res() res: Response): void {
    this.cors(res);
    if (!this.sessions.close(this.sessionId(req), 'closed by the client (DELETE)')) return this.refuse(res, new WebrtcRefusal(404, 'no such WebRTC session'));
    res.status(200).end();
  }

  private async offer(req: Request, res: Response, prefix: string, run: (request: Parameters<WebrtcSessions['push']>[0]) => Promise<{ session: { id: string; etag: string }; sdp: string }>): Promise<void> {
    this.cors(res);
    try {
      if (mediaType(req) !== SDP) throw new WebrtcRefusal(415, `Content-Type must be ${SDP}`);
      const url = new URL(req.originalUrl, 'http://localhost');
      let streamPath: string;
      try {
        streamPath = decodeURIComponent(url.pathname.slice(prefix.length));
      } catch {
        throw new WebrtcRefusal(400, 'the stream path is not valid percent-encoding');
      }
      const body = await readBody(req, this.sessions.settings.maxSdpSize);
      const socket = req.socket;
      const { session, sdp } = await run({ streamPath, query: url.searchParams, remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`, body });
      if (res.destroyed) {
        this.sessions.close(session.id, 'the client went away before the answer');
        return;
      }
      res.status(201).type(SDP);
      res.setHeader('Location', `${SESSION_PATH}${session.id}`);
      res.setHeader('ETag', session.etag);
      res.setHeader('Accept-Patch', SDP_FRAG);
      for (const link of this.links()) res.append('Link', link);
      res.end(sdp);
    } catch (error) {
      this.refuse(res, error);
    }
  }

  private sessionId(req: Request): string {
    return String(req.params.id ?? '');
  }

  private links(): string[] {
    return iceServerLinks(this.sessions.settings.iceServers.map((s) => ({ urls: s.urls, username: s.username || undefined, credential: s.credential || undefined })));
  }

  private cors(res: Response): void {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Location, ETag, Link, Accept-Patch, Accept-Post');
  }

  private refuse(res: Response, error: unknown): void {
    let refusal = refusalOf(error);
    if (!refusal) {
      this.logger.error({ msg: 'WebRTC request failed', error: error instanceof Error ? error.stack : String(error) });
      refusal = { status: 500, reason: 'internal error' };
    }
    if (res.destroyed || res.headersSent) return;
    res.status(refusal.status).type('text/plain').end(`${refusal.reason}\n`);
  }
}
