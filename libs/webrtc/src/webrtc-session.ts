import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { RTCPeerConnection } from 'werift';
import { sdpAttribute, parseSdp } from '@m7s/media';
import type { StreamRegistry } from '@m7s/core';
import { AddressMapping, buildSdpFrag, isMdnsCandidate, mappedCandidates, offerSdp, offerWithIceCredentials, SdpFrag, WebrtcOffer, withMappedCandidates } from './protocol';
import type { WebrtcConfig } from './webrtc.config';
import { closePeer, createPeer, gathered, guardIce, hasStunServer, hostPorts, setPortRange, withoutDefaultStun, IceGuardStats, PeerOptions, selectedPair, transportCounters } from './webrtc-peer';
import { WebrtcRefusal } from './webrtc-refusal';

export type WebrtcSessionKind = 'push' | 'play';
export type WebrtcSessionState = 'new' | 'connecting' | 'connected' | 'disconnected' | 'closed';

/** What a session needs from the module. */
export interface SessionContext {
  settings: WebrtcConfig;
  peer: PeerOptions;
  mappings: readonly AddressMapping[];
  registry: StreamRegistry;
}

/** Key-frame requests, NACKs and congestion feedback a session saw. */
export interface SessionCounters {
  pliReceived: number;
  firReceived: number;
  nackReceived: number;
  pliSent: number;
  nackSent: number;
  /** Key frames asked of the stream's publisher for this player (WHEP) or by players of this publisher (WHIP). */
  keyFrameRequests: number;
  /** Picture losses answered from the GOP cache (WHEP, when the publisher cannot be asked). */
  gopResends: number;
  /** RTP packets that did not read (WHIP) or could not be sent (WHEP). */
  badPackets: number;
}

/** A session as the admin API lists it. */
export interface WebrtcSessionInfo {
  id: string;
  kind: WebrtcSessionKind;
  streamPath: string;
  remoteAddress: string;
  state: WebrtcSessionState;
  createdAt: string;
  connectedAt: string | null;
  /** SRTP/SRTCP/DTLS over the selected pair. */
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  /** Datagrams dropped at the ICE sockets (not authenticated, or from an address that never did a check). */
  droppedDatagrams: number;
  counters: SessionCounters;
  /** Receiver estimated max bitrate (REMB) the player reported, bit/s; 0 = none. */
  rembBps: number;
  /** Bitrate the transport-wide congestion feedback (TWCC) allows, bit/s; 0 = none. */
  twccBps: number;
  selectedCandidatePair: string | null;
  video: string | null;
  audio: string | null;
}

function newEtag(): string {
  return `"${randomBytes(8).toString('hex')}"`;
}

/**
 * Gathering when a port range is set: one session at a time (werift finds a free port by trying binds, which
 * two sessions must not do at once), each starting just past the ports the previous one took.
 */
let gatherChain: Promise<unknown> = Promise.resolve();
let nextPort = 0;
/** Host ports the sessions of this process hold (released when they close). */
const portsInUse = new Set<number>();
/** A start leaving fewer free ports than this above it wraps to the bottom of the range. */
const MIN_FREE_ABOVE_START = 16;

/**
 * One WHIP or WHEP session: a werift peer connection answered once, its ICE/DTLS state watched (closed when
 * it fails or does not connect in time), trickle candidates and ICE restarts by PATCH, and everything it
 * holds released by close().
 */
export abstract class WebrtcSession {
  readonly id = randomBytes(16).toString('hex');
  readonly createdAt = Date.now();
  connectedAt: number | undefined;
  state: WebrtcSessionState = 'new';
  etag = newEtag();
  closeReason: string | undefined;
  readonly counters: SessionCounters = { pliReceived: 0, firReceived: 0, nackReceived: 0, pliSent: 0, nackSent: 0, keyFrameRequests: 0, gopResends: 0, badPackets: 0 };
  readonly guard: IceGuardStats = { dropped: 0 };
  /** Set by the registry: the session is gone. */
  onClosed: ((session: WebrtcSession) => void) | undefined;
  protected readonly logger = new Logger('WebRTC');
  protected pc: RTCPeerConnection | undefined;
  /** The (pruned) offer the peer answered, kept for ICE restarts. */
  protected offer: WebrtcOffer | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private lostTimer: NodeJS.Timeout | undefined;
  private lastCounters = { bytesSent: 0, bytesReceived: 0, packetsSent: 0, packetsReceived: 0 };
  /** Host ports of this session's sockets (port range bookkeeping). */
  private readonly ports: number[] = [];
  /** Packets the peer sent (SRTP/SRTCP) at the last liveness check, and when that count last grew. */
  private seenPackets = -1;
  private seenPacketsAt = 0;

  constructor(
    readonly kind: WebrtcSessionKind,
    readonly streamPath: string,
    readonly remoteAddress: string,
    readonly query: URLSearchParams,
    protected readonly ctx: SessionContext,
  ) {}

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** The negotiated video / audio format, e.g. `H264/90000 profile-level-id=42e01f` (for the API). */
  protected abstract formatOf(kind: 'video' | 'audio'): string | null;
  /** Called once, when ICE and DTLS first connect. */
  protected abstract connected(): void;
  /** Releases the publisher or player and any timer of the subclass. */
  protected abstract release(reason: string): void;
  /** Before the offer is applied (WHEP adds its sending transceivers). */
  protected beforeOffer(_pc: RTCPeerConnection, _offer: WebrtcOffer): void {}
  /** After the offer is applied (WHIP finds its receivers). */
  protected afterOffer(_pc: RTCPeerConnection, _offer: WebrtcOffer): void {}

  /** Applies the (pruned) offer and returns the answer with every candidate (no trickle needed). */
  protected async answer(offer: WebrtcOffer): Promise<string> {
    const pc = createPeer(this.ctx.peer);
    this.pc = pc;
    this.offer = offer;
    pc.connectionStateChange.subscribe((state) => this.onConnectionState(state));
    this.beforeOffer(pc, offer);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp(offer) });
    } catch (error) {
      throw new WebrtcRefusal(400, `the offer cannot be applied: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.afterOffer(pc, offer);
    if (!hasStunServer(this.ctx.peer.iceServers)) withoutDefaultStun(pc);
    await this.gather(async () => {
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc, this.ctx.settings.gatherTimeout);
    });
    if (this.closed) throw new WebrtcRefusal(410, `session closed while answering: ${this.closeReason}`);
    guardIce(pc, this.guard);
    this.state = 'connecting';
    this.connectTimer = setTimeout(() => this.close('ICE/DTLS did not connect in time'), this.ctx.settings.connectTimeout);
    return withMappedCandidates(pc.localDescription!.sdp, this.ctx.mappings);
  }

  private gather(step: () => Promise<void>): Promise<void> {
    const range = this.ctx.peer.portRange;
    const pc = this.pc;
    if (!range || !pc) return step();
    const [min, max] = range;
    const run = gatherChain.then(async () => {
      let start = nextPort >= min && nextPort < max ? nextPort : min;
      let taken = 0;
      for (const port of portsInUse) if (port >= start) taken++;
      if (max - start + 1 - taken < MIN_FREE_ABOVE_START) start = min;
      setPortRange(pc, [start, max]);
      try {
        await step();
      } finally {
        setPortRange(pc, range);
      }
      const used = hostPorts(pc);
      for (const port of this.closed ? [] : used) {
        portsInUse.add(port);
        this.ports.push(port);
      }
      nextPort = used.length > 0 ? Math.max(...used) + 1 : min;
    });
    gatherChain = run.catch(() => undefined);
    return run;
  }

  /**
   * A trickle-ICE PATCH: new remote credentials restart ICE and the server's new fragment is returned;
   * otherwise the candidates are added and undefined is returned.
   */
  async patch(frag: SdpFrag): Promise<string | undefined> {
    const pc = this.pc;
    const offer = this.offer;
    if (!pc || !offer || this.closed) throw new WebrtcRefusal(404, 'the session is closed');
    let restart: string | undefined;
    if (frag.iceUfrag && frag.icePwd && (frag.iceUfrag !== offer.iceUfrag || frag.icePwd !== offer.icePwd)) restart = await this.restartIce(pc, offer, frag.iceUfrag, frag.icePwd);
    const mids = offer.media.map((m) => m.mid);
    for (const c of frag.candidates) {
      if (isMdnsCandidate(c.candidate)) continue;
      const sdpMid = c.sdpMid !== undefined && mids.includes(c.sdpMid) ? c.sdpMid : mids[0];
      try {
        await pc.addIceCandidate({ candidate: c.candidate, sdpMid, sdpMLineIndex: sdpMid === undefined ? 0 : mids.indexOf(sdpMid) });
      } catch (error) {
        throw new WebrtcRefusal(422, `candidate not usable: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return restart;
  }

  private async restartIce(pc: RTCPeerConnection, offer: WebrtcOffer, ufrag: string, pwd: string): Promise<string> {
    const restarted = offerWithIceCredentials(offer, ufrag, pwd);
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp(restarted) });
      await this.gather(async () => {
        await pc.setLocalDescription(await pc.createAnswer());
        await gathered(pc, this.ctx.settings.gatherTimeout);
      });
    } catch (error) {
      throw new WebrtcRefusal(422, `ICE restart failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    guardIce(pc, this.guard);
    // werift starts ICE checks only while DTLS is not connected (peerConnection.connect); after a restart it is.
    for (const transport of pc.iceTransports) {
      if (!transport.getSelectedCandidatePair()) transport.start().catch((error: unknown) => this.logger.warn({ msg: 'ICE restart checks failed', sessionId: this.id, error: String(error) }));
    }
    this.offer = restarted;
    this.etag = newEtag();
    const local = parseSdp(pc.localDescription!.sdp);
    const media = local.media[0];
    const iceUfrag = sdpAttribute(media?.attributes ?? [], 'ice-ufrag') ?? sdpAttribute(local.attributes, 'ice-ufrag') ?? '';
    const icePwd = sdpAttribute(media?.attributes ?? [], 'ice-pwd') ?? sdpAttribute(local.attributes, 'ice-pwd') ?? '';
    const candidates = local.media.flatMap((m) => m.attributes.filter((a) => a.name === 'candidate').map((a) => `candidate:${a.value}`));
    const unique = [...new Set(candidates)];
    this.logger.log({ msg: 'ICE restart', sessionId: this.id, kind: this.kind, streamPath: this.streamPath });
    return buildSdpFrag({
      iceUfrag,
      icePwd,
      media: restarted.media.map((m) => ({ kind: m.kind, mid: m.mid, formats: m.codecs.map((c) => String(c.payloadType)) })),
      candidates: [...unique, ...mappedCandidates(unique, this.ctx.mappings)],
    });
  }

  private onConnectionState(state: string): void {
    if (this.closed) return;
    switch (state) {
      case 'connected':
        clearTimeout(this.connectTimer);
        clearTimeout(this.lostTimer);
        this.lostTimer = undefined;
        this.state = 'connected';
        if (this.connectedAt === undefined) {
          this.connectedAt = Date.now();
          // werift's connection state stays 'connected' when DTLS closes (the peer's close_notify): media stops there.
          for (const transport of new Set(this.pc?.dtlsTransports ?? [])) {
            transport.onStateChange.subscribe((dtls) => {
              if (dtls === 'closed' || dtls === 'failed') this.close(`DTLS ${dtls} by the peer`);
            });
          }
          this.logger.log({ msg: 'WebRTC connected', sessionId: this.id, kind: this.kind, streamPath: this.streamPath, pair: this.pc && selectedPair(this.pc) });
          this.connected();
        }
        break;
      case 'disconnected':
        if (this.state !== 'connected') break;
        this.state = 'disconnected';
        this.lostTimer ??= setTimeout(() => this.close('connection lost'), this.ctx.settings.connectTimeout);
        break;
      case 'failed':
        this.close('ICE/DTLS failed');
        break;
      case 'closed':
        this.close('peer connection closed');
        break;
      default:
        break;
    }
  }

  /** Ends the session and frees what it holds; the peer is told by DTLS close_notify as werift closes. */
  close(reason: string): void {
    if (this.closed) return;
    this.state = 'closed';
    this.closeReason = reason;
    clearTimeout(this.connectTimer);
    clearTimeout(this.lostTimer);
    try {
      this.release(reason);
    } catch (error) {
      this.logger.error({ msg: 'releasing a WebRTC session failed', sessionId: this.id, error: String(error) });
    }
    const pc = this.pc;
    if (pc) {
      this.lastCounters = transportCounters(pc);
      closePeer(pc).catch((error: unknown) => this.logger.warn({ msg: 'closing a peer connection failed', sessionId: this.id, error: String(error) }));
    }
    this.pc = undefined;
    for (const port of this.ports) portsInUse.delete(port);
    this.logger.log({ msg: 'WebRTC session closed', sessionId: this.id, kind: this.kind, streamPath: this.streamPath, reason });
    this.onClosed?.(this);
  }

  /**
   * Liveness (called every second by the registry): a connected peer sends media or RTCP reports all the
   * time; one silent for `timeoutMs` is gone (closed its tab, lost its network) before ICE consent expires.
   */
  checkAlive(now: number, timeoutMs: number): void {
    if (!this.pc || (this.state !== 'connected' && this.state !== 'disconnected')) return;
    const received = transportCounters(this.pc).packetsReceived;
    if (received !== this.seenPackets) {
      this.seenPackets = received;
      this.seenPacketsAt = now;
    } else if (now - this.seenPacketsAt >= timeoutMs) {
      this.close(`nothing received for ${timeoutMs} ms`);
    }
  }

  /** Bitrates the player's congestion feedback allows (WHEP; 0 when none came). */
  protected congestion(): { rembBps: number; twccBps: number } {
    return { rembBps: 0, twccBps: 0 };
  }

  info(): WebrtcSessionInfo {
    const counters = this.pc ? transportCounters(this.pc) : this.lastCounters;
    return {
      id: this.id,
      kind: this.kind,
      streamPath: this.streamPath,
      remoteAddress: this.remoteAddress,
      state: this.state,
      createdAt: new Date(this.createdAt).toISOString(),
      connectedAt: this.connectedAt === undefined ? null : new Date(this.connectedAt).toISOString(),
      ...counters,
      droppedDatagrams: this.guard.dropped,
      counters: { ...this.counters },
      ...this.congestion(),
      selectedCandidatePair: (this.pc && selectedPair(this.pc)) ?? null,
      video: this.formatOf('video'),
      audio: this.formatOf('audio'),
    };
  }
}
