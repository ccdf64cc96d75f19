import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService, normalizeStreamPath, StreamAuth, StreamRegistry } from '@m7s/core';
import { MediaError, RtpTrackReceiver } from '@m7s/media';
import {
  AddressMapping,
  choosePlayAudioCodec,
  choosePlayVideoCodec,
  choosePushCodec,
  codecOfEncoding,
  OfferCodec,
  OfferMedia,
  parseAddressMapping,
  parseOffer,
  parseSdpFrag,
  playableAudioCodecs,
  pruneOffer,
  rtpFormatOfCodec,
  WebrtcOffer,
} from './protocol';
import { icePortRangeOf, WebrtcConfig } from './webrtc.config';
import type { PeerOptions } from './webrtc-peer';
import { WebrtcRefusal } from './webrtc-refusal';
import { SessionContext, WebrtcSession } from './webrtc-session';
import { PlayFormats, WhepSession } from './whep-session';
import { WhipSession } from './whip-session';

/** Who asked, for stream auth and the session list. */
export interface WebrtcRequest {
  streamPath: string;
  query: URLSearchParams;
  remoteAddress: string;
  body: string;
}

export interface WebrtcAnswer {
  session: WebrtcSession;
  sdp: string;
}

const MAX_FRAG_CANDIDATES = 64;

/** Whether RtpTrackReceiver (libs/media) reads a format: the ingest then carries that codec, whatever it is. */
function ingestReads(kind: 'video' | 'audio', codec: OfferCodec): boolean {
  try {
    new RtpTrackReceiver(rtpFormatOfCodec(kind, codec));
    return true;
  } catch {
    return false;
  }
}

function describe(media: OfferMedia): string {
  const names = [...new Set(media.codecs.map((c) => c.encoding))];
  return `m-line ${media.index} (${media.kind}) offers ${names.length ? names.join(', ') : 'no payload format'}`;
}

/** The WebRTC sessions of this node: WHIP publishers and WHEP players, created from offers, listed by the API. */
@Injectable()
export class WebrtcSessions implements OnApplicationShutdown {
  private readonly logger = new Logger('WebRTC');
  private readonly sessions = new Map<string, WebrtcSession>();
  /** One timer for every session's liveness check. */
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly registry: StreamRegistry,
    private readonly config: ConfigService,
    private readonly auth: StreamAuth,
  ) {
    this.sweep = setInterval(() => {
      const now = Date.now();
      for (const session of [...this.sessions.values()]) session.checkAlive(now, this.settings.connectTimeout);
    }, 1000);
    this.sweep.unref();
  }

  get settings(): WebrtcConfig {
    return this.config.section<WebrtcConfig>('webrtc');
  }

  list(): WebrtcSession[] {
    return [...this.sessions.values()];
  }

  get(id: string): WebrtcSession | undefined {
    return this.sessions.get(id);
  }

  /** Ends a session (DELETE, or the admin API); false when there is none. */
  close(id: string, reason: string): boolean {
    const session = this.sessions.get(id);
    if (!session) return false;
    session.close(reason);
    return true;
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweep);
    for (const session of [...this.sessions.values()]) session.close('server shutdown');
  }

  /** WHIP: publish the offer's media at the stream path; resolves with the answer. */
  async push(request: WebrtcRequest): Promise<WebrtcAnswer> {
    const { streamPath, offer } = this.read(request);
    const sending = offer.media.filter((m) => (m.kind === 'audio' || m.kind === 'video') && (m.direction === 'sendonly' || m.direction === 'sendrecv'));
    if (sending.length === 0) throw new WebrtcRefusal(422, 'the offer sends no audio or video (WHIP needs sendonly or sendrecv m-lines)');
    const settings = this.settings;
    const keep = new Map<number, number[]>();
    for (const m of offer.media) {
      if (m.kind !== 'audio' && m.kind !== 'video') continue;
      const kind = m.kind;
      const codec = choosePushCodec(m, kind === 'video' ? settings.videoCodecs : settings.audioCodecs, (c) => ingestReads(kind, c));
      if (!codec) throw new WebrtcRefusal(406, `${describe(m)}; this server takes ${(kind === 'video' ? settings.videoCodecs : settings.audioCodecs).join(', ')}`);
      keep.set(m.index, [codec.payloadType]);
    }
    await this.auth.authorize({ action: 'publish', protocol: 'webrtc', streamPath, query: request.query, remoteAddress: request.remoteAddress });
    const session = this.add(new WhipSession(streamPath, request.remoteAddress, request.query, this.context()));
    try {
      const publisher = this.registry.publish(streamPath, { protocol: 'webrtc', remoteAddress: request.remoteAddress, query: request.query });
      const sdp = await session.start(pruneOffer(offer, keep), publisher);
      return { session, sdp };
    } catch (error) {
      session.close(error instanceof Error ? error.message : 'refused');
      throw error;
    }
  }

  /** WHEP: play the stream; waits for its publisher (subscribe wait timeout), then answers with its codecs. */
  async play(request: WebrtcRequest, aborted: Promise<void>): Promise<WebrtcAnswer> {
    const { streamPath, offer } = this.read(request);
    const receiving = offer.media.filter((m) => (m.kind === 'audio' || m.kind === 'video') && (m.direction === 'recvonly' || m.direction === 'sendrecv'));
    if (receiving.length === 0) throw new WebrtcRefusal(422, 'the offer receives no audio or video (WHEP needs recvonly or sendrecv m-lines)');
    const audioLine = offer.media.find((m) => m.kind === 'audio');
    const playableAudio = audioLine ? playableAudioCodecs(audioLine) : [];
    if (audioLine && playableAudio.length === 0) throw new WebrtcRefusal(406, `${describe(audioLine)}; this server sends opus, pcma, pcmu`);
    await this.auth.authorize({ action: 'play', protocol: 'webrtc', streamPath, query: request.query, remoteAddress: request.remoteAddress });
    const session = this.add(new WhepSession(streamPath, request.remoteAddress, request.query, this.context()));
    try {
      const tracks = await Promise.race([
        session.subscribe(playableAudio.map((p) => p.codec)),
        aborted.then(() => {
          throw new WebrtcRefusal(499, 'the client went away');
        }),
      ]);
      const formats: PlayFormats = {};
      const keep = new Map<number, number[]>();
      for (const m of offer.media) {
        if (m.kind === 'video') {
          const format = choosePlayVideoCodec(m, tracks.video?.config);
          if (!format) throw new WebrtcRefusal(406, `the stream's video is ${tracks.video?.config.codec ?? 'none'}; ${describe(m)}`);
          const codec = codecOfEncoding(format.encoding);
          if (codec && codec !== 'opus' && codec !== 'pcma' && codec !== 'pcmu') formats.video ??= { codec, format };
          keep.set(m.index, [format.payloadType]);
        } else if (m.kind === 'audio') {
          const chosen = choosePlayAudioCodec(playableAudioCodecs(m), tracks.audio?.config);
          if (!chosen) throw new WebrtcRefusal(406, `${describe(m)}; this server sends opus, pcma, pcmu`);
          formats.audio ??= chosen;
          keep.set(m.index, [chosen.format.payloadType]);
        }
      }
      const sdp = await session.start(pruneOffer(offer, keep), formats);
      return { session, sdp };
    } catch (error) {
      session.close(error instanceof Error ? error.message : 'refused');
      throw error;
    }
  }

  /** PATCH: trickle candidates, or an ICE restart (returns the server's fragment). */
  async patch(id: string, body: string, ifMatch: string | undefined): Promise<{ session: WebrtcSession; frag: string | undefined }> {
    const session = this.sessions.get(id);
    if (!session) throw new WebrtcRefusal(404, `no WebRTC session ${id}`);
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== session.etag) throw new WebrtcRefusal(412, `If-Match ${ifMatch} is not the session's ETag ${session.etag}`);
    const frag = parseSdpFrag(body, { maxBytes: this.settings.maxSdpSize, maxCandidates: MAX_FRAG_CANDIDATES });
    return { session, frag: await session.patch(frag) };
  }

  private read(request: WebrtcRequest): { streamPath: string; offer: WebrtcOffer } {
    if (this.sessions.size >= this.settings.maxSessions) throw new WebrtcRefusal(503, `too many WebRTC sessions (${this.settings.maxSessions})`);
    const streamPath = normalizeStreamPath(request.streamPath);
    let offer: WebrtcOffer;
    try {
      offer = parseOffer(request.body, { maxBytes: this.settings.maxSdpSize });
    } catch (error) {
      if (error instanceof MediaError) throw new WebrtcRefusal(400, `malformed offer: ${error.message}`);
      throw error;
    }
    if (!offer.media.some((m) => m.kind === 'audio' || m.kind === 'video')) throw new WebrtcRefusal(422, 'the offer has no audio or video m-line');
    return { streamPath, offer };
  }

  private add<T extends WebrtcSession>(session: T): T {
    this.sessions.set(session.id, session);
    session.onClosed = (s) => this.sessions.delete(s.id);
    return session;
  }

  private context(): SessionContext {
    const settings = this.settings;
    const iceServers = settings.iceServersForServer ? settings.iceServers.filter((s) => s.urls.length > 0).map((s) => ({ urls: s.urls, username: s.username || undefined, credential: s.credential || undefined })) : [];
    const peer: PeerOptions = {
      portRange: icePortRangeOf(settings),
      useTcp: settings.iceUseTcp,
      useIpv6: settings.iceUseIpv6,
      hostAddresses: settings.iceHostAddresses,
      iceServers,
    };
    const mappings = settings.publicAddresses.map(parseAddressMapping).filter((m): m is AddressMapping => m !== undefined);
    return { settings, peer, mappings, registry: this.registry };
  }
}
