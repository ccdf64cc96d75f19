import type { RTCPeerConnection, RTCRtpReceiver, RtcpPacket, RtpPacket } from 'werift';
import type { Publisher } from '@m7s/core';
import { RtpIngestTrack, RtpSessionClock } from '@m7s/rtsp';
import { OfferCodec, rtpFormatOfCodec, WebrtcOffer } from './protocol';
import { SessionContext, WebrtcSession } from './webrtc-session';

const RTCP_SENDER_REPORT = 200;
const TICK_MS = 50;

interface IngestEntry {
  kind: 'video' | 'audio';
  codec: OfferCodec;
  ingest: RtpIngestTrack;
  receiver: RTCRtpReceiver;
  ssrc: number | undefined;
  packets: number;
}

/**
 * WHIP: a browser (or encoder) publishes over a werift peer connection. Each received track's RTP goes
 * through RtpIngestTrack (reorder for retransmissions, depacketize, RTP time to ms, sender-report lip sync)
 * into the Publisher. PLI goes to the sender while video packets arrive and no frame comes out of them (before
 * the first key frame, after a loss), and when a player asks the publisher for a key frame.
 */
export class WhipSession extends WebrtcSession {
  private publisher: Publisher | undefined;
  private readonly tracks: IngestEntry[] = [];
  private readonly clock = new RtpSessionClock(Date.now());
  private timer: NodeJS.Timeout | undefined;
  private lastPliAt = 0;
  private videoFrames = 0;
  private lastVideoFrameAt = 0;

  constructor(streamPath: string, remoteAddress: string, query: URLSearchParams, ctx: SessionContext) {
    super('push', streamPath, remoteAddress, query, ctx);
  }

  get publisherId(): string | undefined {
    return this.publisher?.id;
  }

  /** Publishes as `publisher` the media of `offer` (pruned to the chosen format per m-line); returns the answer. */
  async start(offer: WebrtcOffer, publisher: Publisher): Promise<string> {
    this.publisher = publisher;
    publisher.onStop = (error) => this.close(`${error.code}: ${error.message}`);
    publisher.expectVideo = offer.media.some((m) => m.kind === 'video' && m.codecs.length > 0);
    this.publisher.requestKeyFrame = () => this.requestKeyFrame();
    return this.answer(offer);
  }

  protected override afterOffer(pc: RTCPeerConnection, offer: WebrtcOffer): void {
    const publisher = this.publisher!;
    for (const transceiver of pc.getTransceivers()) {
      const kind = transceiver.kind;
      const media = transceiver.mLineIndex === undefined ? undefined : offer.media[transceiver.mLineIndex];
      const codec = media?.codecs[0];
      if ((kind !== 'video' && kind !== 'audio') || !codec) continue;
      const receiver = transceiver.receiver;
      const track = receiver.track;
      const entry: IngestEntry = {
        kind,
        codec,
        ingest: new RtpIngestTrack(rtpFormatOfCodec(kind, codec), publisher, this.clock, { reorderDelayMs: this.ctx.settings.reorderDelay }),
        receiver,
        ssrc: track.ssrc,
        packets: 0,
      };
      this.tracks.push(entry);
      track.onReceiveRtp.subscribe((packet) => this.onRtp(entry, packet));
      track.onReceiveRtcp.subscribe((packet) => this.onRtcp(entry, packet));
      receiver.onPacketLost.subscribe(() => this.counters.nackSent++);
    }
  }

  protected override connected(): void {
    this.lastVideoFrameAt = Date.now();
    this.timer = setInterval(() => this.tick(Date.now()), Math.min(TICK_MS, Math.max(10, this.ctx.settings.reorderDelay / 2)));
  }

  private onRtp(entry: IngestEntry, packet: RtpPacket): void {
    if (this.closed) return;
    entry.packets++;
    entry.ssrc ??= packet.header.ssrc;
    try {
      entry.ingest.receive(packet.serialize(), Date.now());
    } catch {
      // A packet that does not read (or a payload the depacketizer refuses) is dropped; the next key frame heals.
      this.counters.badPackets++;
    }
  }

  private onRtcp(entry: IngestEntry, packet: RtcpPacket): void {
    if (this.closed || packet.type !== RTCP_SENDER_REPORT) return;
    try {
      entry.ingest.receiveRtcp(packet.serialize(), Date.now());
    } catch {
      this.counters.badPackets++;
    }
  }

  private tick(now: number): void {
    if (this.closed) return;
    for (const t of this.tracks) t.ingest.poll(now);
    const video = this.tracks.find((t) => t.kind === 'video');
    const frames = this.publisher?.tracks.video?.frames ?? 0;
    if (frames !== this.videoFrames) {
      this.videoFrames = frames;
      this.lastVideoFrameAt = now;
    }
    // Packets come but no frame leaves the depacketizer: it waits for a key frame (start, or after a loss).
    if (video && video.packets > 0 && now - this.lastVideoFrameAt >= this.ctx.settings.keyFrameInterval) this.sendPli(now);
  }

  /** A player of the stream asked for a key frame (contract #2: publisher.requestKeyFrame). */
  private requestKeyFrame(): void {
    this.counters.keyFrameRequests++;
    this.sendPli(Date.now());
  }

  private sendPli(now: number): void {
    const video = this.tracks.find((t) => t.kind === 'video');
    if (!video || video.ssrc === undefined || this.state !== 'connected') return;
    if (now - this.lastPliAt < this.ctx.settings.keyFrameInterval) return;
    this.lastPliAt = now;
    this.counters.pliSent++;
    video.receiver.sendRtcpPLI(video.ssrc).catch(() => undefined);
  }

  protected formatOf(kind: 'video' | 'audio'): string | null {
    const codec = this.tracks.find((t) => t.kind === kind)?.codec;
    return codec ? `${codec.encoding}/${codec.clockRate}${codec.channels ? `/${codec.channels}` : ''}` : null;
  }

  protected release(reason: string): void {
    clearInterval(this.timer);
    for (const t of this.tracks) t.ingest.close();
    const publisher = this.publisher;
    if (publisher) {
      publisher.requestKeyFrame = undefined;
      publisher.onStop = undefined;
      publisher.close(reason);
    }
  }
}
