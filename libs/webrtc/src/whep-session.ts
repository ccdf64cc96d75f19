import { randomInt } from 'node:crypto';
import type { GenericNack, RTCPeerConnection, RTCRtpSender, RtcpPacket } from 'werift';
import type { AVFrame, Publisher, StreamError, SubscribeConfig, Subscriber, SubscriberSink, TrackSet } from '@m7s/core';
import { AudioCodec, rtpPayloadsOfFrame, RtpPayload } from '@m7s/media';
import { OfferCodec, WebrtcAudioCodec, WebrtcOffer, WebrtcVideoCodec } from './protocol';
import { SrtpSender } from './srtp-sender';
import { SessionContext, WebrtcSession } from './webrtc-session';
import { WebrtcRefusal } from './webrtc-refusal';

const RTCP_RTPFB = 205;
const RTPFB_TWCC = 15;
const RTCP_PSFB = 206;
const PSFB_PLI = 1;
const PSFB_FIR = 4;

/** When each publisher was last asked for a key frame by a WHEP player: one request per stream per keyFrameInterval. */
const lastPublisherRequest = new WeakMap<Publisher, number>();

/** One negotiated outgoing track: a werift sender, its RTP numbering and send path for this player. */
interface Outgoing {
  kind: 'video' | 'audio';
  codec: WebrtcVideoCodec | WebrtcAudioCodec;
  format: OfferCodec;
  sender: RTCRtpSender;
  rtp: SrtpSender;
  timestampBase: number;
  /** Added to frame pts (ms): moves frames resent from the GOP cache after what was already sent. */
  shiftMs: number;
  lastPts: number | undefined;
}

/** The codecs negotiated for a player: the format chosen per kind. */
export interface PlayFormats {
  video?: { codec: WebrtcVideoCodec; format: OfferCodec };
  audio?: { codec: WebrtcAudioCodec; format: OfferCodec };
}

/**
 * The engine's side of a WHEP player. Until the peer connects it only learns the stream's tracks (the answer
 * needs them) and drops frames; once connected it sends the GOP cache (the stream ring from its latest key
 * frame) and then every frame. A frame's RTP payloads are built once for every player (frame.cached); each
 * player's packets get their own header and SRTP around the shared payload Buffers (SrtpSender).
 */
class WhepSink implements SubscriberSink {
  /** Contract #1: audio this player carries; the engine derives one of these from other audio (AAC -> Opus). */
  readonly audioCodecs: readonly AudioCodec[];
  tracks: TrackSet | undefined;
  active = false;
  /** Bytes handed to werift whose send has not finished. */
  pending = 0;
  bytesSent = 0;

  constructor(
    audioCodecs: readonly AudioCodec[],
    private readonly events: { started: (tracks: TrackSet) => void; ended: (reason: string, error?: StreamError) => void; frame: (frame: AVFrame) => void },
  ) {
    this.audioCodecs = audioCodecs;
  }

  backlog(): number {
    return this.pending;
  }

  start(tracks: TrackSet, _policy: SubscribeConfig): void {
    this.tracks = tracks;
    this.events.started(tracks);
  }

  track(): void {
    // A new config of the same codec travels in band (parameter sets before each key frame).
  }

  frame(frame: AVFrame): void {
    if (this.active) this.events.frame(frame);
  }

  publisherLeft(): boolean {
    this.events.ended('publisher left');
    return false;
  }

  end(error: StreamError): void {
    this.events.ended(`${error.code}: ${error.message}`, error);
  }
}

/**
 * WHEP: a browser plays a stream over a werift peer connection. The answer waits for the stream's tracks
 * (a player may come before the publisher, up to the subscribe wait timeout). PLI/FIR ask the stream's
 * publisher for a key frame when it can (a WHIP publisher), else resend the GOP cache with timestamps moved
 * after the last ones sent. NACKs are answered from each track's send history (SrtpSender).
 */
export class WhepSession extends WebrtcSession {
  private subscriber: Subscriber | undefined;
  private sink: WhepSink | undefined;
  private readonly outgoing: Outgoing[] = [];
  private formats: PlayFormats = {};
  private lastKeyFrameAt = 0;
  private lastPictureLossAt = 0;
  private startWait: { resolve: (tracks: TrackSet) => void; reject: (error: Error) => void } | undefined;
  /** The engine ended the player itself (it is already out of the stream). */
  private endedByEngine = false;

  constructor(streamPath: string, remoteAddress: string, query: URLSearchParams, ctx: SessionContext) {
    super('play', streamPath, remoteAddress, query, ctx);
  }

  get subscriberId(): string | undefined {
    return this.subscriber?.id;
  }

  /**
   * Subscribes and resolves with the stream's tracks when it is ready; rejects with the engine's refusal
   * (no publisher in time...) or when the session is closed first.
   */
  subscribe(audioCodecs: readonly AudioCodec[]): Promise<TrackSet> {
    const started = new Promise<TrackSet>((resolve, reject) => (this.startWait = { resolve, reject }));
    this.sink = new WhepSink(audioCodecs, {
      started: (tracks) => this.startWait?.resolve(tracks),
      ended: (reason, error) => {
        this.endedByEngine = true;
        this.startWait?.reject(error ?? new WebrtcRefusal(404, reason));
        this.close(reason);
      },
      frame: (frame) => this.send(frame),
    });
    this.subscriber = this.ctx.registry.subscribe(this.streamPath, { protocol: 'webrtc', remoteAddress: this.remoteAddress, query: this.query }, this.sink);
    return started;
  }

  /** Answers the (pruned) offer with the formats chosen for the stream's tracks. */
  async start(offer: WebrtcOffer, formats: PlayFormats): Promise<string> {
    this.formats = formats;
    return this.answer(offer);
  }

  protected override beforeOffer(pc: RTCPeerConnection, offer: WebrtcOffer): void {
    // One sending transceiver per audio/video m-line, in order (werift pairs them with the m-lines by kind).
    for (const m of offer.media) {
      if (m.kind !== 'video' && m.kind !== 'audio') continue;
      const transceiver = pc.addTransceiver(m.kind, { direction: 'sendonly' });
      const chosen = this.formats[m.kind];
      if (!chosen || this.outgoing.some((o) => o.kind === m.kind)) continue;
      this.outgoing.push({
        kind: m.kind,
        codec: chosen.codec,
        format: chosen.format,
        sender: transceiver.sender,
        rtp: new SrtpSender(transceiver.sender, transceiver, { onSendError: () => this.counters.badPackets++ }),
        timestampBase: randomInt(0, 0x100000000),
        shiftMs: 0,
        lastPts: undefined,
      });
    }
    // Transport-wide feedback all goes to the video sender's estimator (transportFeedback): so does the send log.
    const video = this.outgoing.find((o) => o.kind === 'video');
    if (video) for (const o of this.outgoing) o.rtp.estimator = video.sender.senderBWE;
  }

  protected override connected(): void {
    const pc = this.pc!;
    for (const transport of new Set(pc.dtlsTransports)) transport.onRtcp.subscribe((packet) => this.onRtcp(packet));
    for (const o of this.outgoing) {
      // werift answers NACKs from the history of its own sendRtp, unused here: the send path keeps its own.
      o.sender.onGenericNack.subscribe((nack: GenericNack) => {
        this.counters.nackReceived++;
        if (!this.closed) o.rtp.retransmit(nack.lost);
      });
    }
    const sink = this.sink;
    const tracks = sink?.tracks;
    if (!sink || !tracks) return;
    // The GOP cache: the ring from its latest key frame, then live frames as they come.
    const ring = this.ctx.registry.get(this.subscriber!.streamPath)?.ring;
    const key = ring?.latestKeySeq();
    if (ring && key !== undefined) for (const frame of ring.from(key)) this.send(frame);
    sink.active = true;
  }

  private send(frame: AVFrame): void {
    const out = this.outgoing.find((o) => o.kind === frame.kind);
    if (!out || frame.codec !== out.codec || this.closed) return;
    if (!this.sink?.tracks?.[frame.kind]) return;
    const mtu = this.ctx.settings.mtu;
    const payloads = frame.cached(`webrtc-rtp:${mtu}`, (f): RtpPayload[] => rtpPayloadsOfFrame(f.config, f.data, f.keyFrame, mtu));
    const timestamp = (out.timestampBase + Math.round(((frame.pts + out.shiftMs) * out.format.clockRate) / 1000)) >>> 0;
    // The latest presentation time sent (B-frames come out of order).
    out.lastPts = Math.max(out.lastPts ?? -Infinity, frame.pts + out.shiftMs);
    if (frame.kind === 'video' && frame.keyFrame) this.lastKeyFrameAt = Date.now();
    const sink = this.sink;
    const before = out.rtp.payloadBytes;
    const sent = out.rtp.sendFrame(payloads, timestamp);
    const size = out.rtp.payloadBytes - before;
    if (!sent || size === 0) return;
    // The ICE agent takes a frame's datagrams in order: the frame is out when its last one is.
    sink.pending += size;
    sink.bytesSent += size;
    void sent.then(() => (sink.pending -= size));
  }

  private onRtcp(packet: RtcpPacket): void {
    if (this.closed) return;
    const video = this.outgoing.find((o) => o.kind === 'video');
    if (packet.type === RTCP_RTPFB) return this.transportFeedback(packet, video);
    if (packet.type !== RTCP_PSFB) return;
    const feedback = (packet as { feedback?: { count?: number; mediaSsrc?: number; fir?: { ssrc: number }[] } }).feedback;
    if (!feedback || !video) return;
    if (feedback.count === PSFB_PLI && feedback.mediaSsrc === video.sender.ssrc) {
      this.counters.pliReceived++;
      this.pictureLost();
    } else if (feedback.count === PSFB_FIR && (feedback.fir ?? []).some((f) => f.ssrc === video.sender.ssrc)) {
      this.counters.firReceived++;
      this.pictureLost();
    }
  }

  /**
   * Transport-wide congestion feedback covers every sender of the transport, but werift gives it to the one
   * sender whose SSRC it names (Chromium alternates): the video sender's estimator gets all of it.
   */
  private transportFeedback(packet: RtcpPacket, video: Outgoing | undefined): void {
    const feedback = (packet as { feedback?: { count?: number; mediaSourceSsrc?: number } }).feedback;
    if (!video || feedback?.count !== RTPFB_TWCC || feedback.mediaSourceSsrc === video.sender.ssrc) return;
    try {
      video.sender.senderBWE.receiveTWCC(feedback as Parameters<RTCRtpSender['senderBWE']['receiveTWCC']>[0]);
    } catch {
      // a feedback the estimator cannot place is ignored
    }
  }

  /** The player lost the picture: ask the publisher for a key frame, or resend the GOP cache. */
  private pictureLost(): void {
    const now = Date.now();
    const interval = this.ctx.settings.keyFrameInterval;
    // A key frame just went out (or this player was just answered): the loss is older than it.
    if (now - this.lastKeyFrameAt < interval || now - this.lastPictureLossAt < interval) return;
    this.lastPictureLossAt = now;
    const stream = this.ctx.registry.get(this.subscriber?.streamPath ?? this.streamPath);
    const publisher = stream?.publisher;
    if (publisher?.requestKeyFrame) {
      this.counters.keyFrameRequests++;
      if (now - (lastPublisherRequest.get(publisher) ?? 0) < interval) return;
      lastPublisherRequest.set(publisher, now);
      publisher.requestKeyFrame();
      return;
    }
    const video = this.outgoing.find((o) => o.kind === 'video');
    const ring = stream?.ring;
    const key = ring?.latestKeySeq();
    if (!video || !ring || key === undefined || video.lastPts === undefined) return;
    const frames = [...ring.from(key)].filter((f) => f.kind === 'video' && f.codec === video.codec);
    if (frames.length === 0 || !frames[0].keyFrame) return;
    this.counters.gopResends++;
    // Timestamps continue just after the last frame sent, so the player takes the resent frames as new ones.
    video.shiftMs = video.lastPts + 1 - frames[0].pts;
    for (const frame of frames) this.send(frame);
  }

  protected override congestion(): { rembBps: number; twccBps: number } {
    let rembBps = 0;
    let twccBps = 0;
    for (const o of this.outgoing) {
      rembBps = Math.max(rembBps, Number(o.sender.receiverEstimatedMaxBitrate));
      twccBps = Math.max(twccBps, Math.round(o.sender.senderBWE.availableBitrate));
    }
    return { rembBps, twccBps };
  }

  protected formatOf(kind: 'video' | 'audio'): string | null {
    const f = this.formats[kind]?.format;
    if (!f) return null;
    const profile = f.fmtp['profile-level-id'];
    return `${f.encoding}/${f.clockRate}${f.channels ? `/${f.channels}` : ''}${profile ? ` profile-level-id=${profile}` : ''}`;
  }

  protected release(reason: string): void {
    this.startWait?.reject(new WebrtcRefusal(410, `session closed: ${reason}`));
    this.startWait = undefined;
    if (this.sink) this.sink.active = false;
    const subscriber = this.subscriber;
    if (subscriber && !this.endedByEngine) this.ctx.registry.unsubscribe(subscriber, reason);
  }
}
