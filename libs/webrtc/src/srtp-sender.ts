import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { RTP_EXTENSION_URI } from 'werift';
import type { RTCDtlsTransport, RTCRtpSender, RTCRtpTransceiver } from 'werift';
import type { RtpPayload } from '@m7s/media';
import { absSendTime, ntpOfUnixMs, ntpTimestamp, RtpHeaderFields, RtpHeaderLayout, SrtpWriter } from './srtp-writer';
import { logSentPacket, recordSent, srtpKeysOf } from './werift-internals';

type SenderBandwidthEstimator = RTCRtpSender['senderBWE'];

export interface SrtpSenderOptions {
  /** Packets kept for NACK retransmission (werift keeps 128). */
  historySize?: number;
  /** A packet is sent again at most once in this many ms (default 30). */
  minResendIntervalMs?: number;
  /** The estimator transport-wide congestion feedback is matched against (default: the sender's own). */
  estimator?: SenderBandwidthEstimator;
  /** A datagram the ICE agent could not send (the socket closed under it...). */
  onSendError?: (error: unknown) => void;
}

const ROC_UNIT = 0x10000;
/**
 * werift's receiver repeats its NACK of a missing packet every 5 ms (10 times): answering each repeat floods a
 * receiver already dropping packets, so a packet goes out again at most once per this interval (a libwebrtc
 * sender waits a round trip).
 */
const MIN_RESEND_INTERVAL_MS = 30;

/**
 * Sends the RTP of one werift sender (a WHEP player's track) without werift's per-packet path
 * (RTCRtpSender.sendRtp: an RtpHeader object, generic extension and header serialization, a string-parsed NTP
 * time and a chain of six promises per packet): the header is written straight into the datagram, SRTP-protected with the
 * keys werift derived, and handed to the transport's ICE agent (consent checks, UDP or TCP framing stay
 * werift's). What sendRtp also did is kept: the negotiated header extensions (mid, abs-send-time,
 * transport-wide sequence), the transport's counters, the congestion estimator's send log, the RTCP sender
 * reports' counts, and a send history, from which NACKed packets are sent again byte for byte (same SRTP
 * index, same header: no new ciphertext under a reused nonce).
 */
export class SrtpSender {
  /** Packets sent (not counting retransmissions). */
  packets = 0;
  /** Payload bytes sent (not counting retransmissions). */
  payloadBytes = 0;
  retransmitted = 0;
  /** The estimator transport-wide congestion feedback is matched against (default: the sender's own). */
  estimator: SenderBandwidthEstimator;
  /** The next packet's SRTP index: rollover counter x 2^16 + sequence number. */
  private index = randomInt(0, ROC_UNIT);
  private readonly size: number;
  private readonly hIndex: Float64Array;
  private readonly hTimestamp: Uint32Array;
  private readonly hMarker: Uint8Array;
  private readonly hTransportSeq: Int32Array;
  private readonly hAbsSendTime: Uint32Array;
  private readonly hPayload: (Buffer | undefined)[];
  private readonly hResentAt: Float64Array;
  private readonly minResendIntervalMs: number;
  private transport: RTCDtlsTransport | undefined;
  private srtpSession: object | undefined;
  private writer: SrtpWriter | undefined;
  private layout: RtpHeaderLayout | undefined;
  private readonly header: RtpHeaderFields = { payloadType: 0, marker: false, sequenceNumber: 0, timestamp: 0, ssrc: 0, absSendTime: 0, transportSequence: 0 };
  private readonly onSendError: (error: unknown) => void;

  constructor(
    readonly sender: RTCRtpSender,
    private readonly transceiver: RTCRtpTransceiver,
    options: SrtpSenderOptions = {},
  ) {
    this.size = options.historySize ?? 128;
    this.hIndex = new Float64Array(this.size).fill(-1);
    this.hTimestamp = new Uint32Array(this.size);
    this.hMarker = new Uint8Array(this.size);
    this.hTransportSeq = new Int32Array(this.size);
    this.hAbsSendTime = new Uint32Array(this.size);
    this.hPayload = new Array<Buffer | undefined>(this.size).fill(undefined);
    this.hResentAt = new Float64Array(this.size).fill(-Infinity);
    this.minResendIntervalMs = options.minResendIntervalMs ?? MIN_RESEND_INTERVAL_MS;
    this.onSendError = options.onSendError ?? (() => undefined);
    this.estimator = options.estimator ?? sender.senderBWE;
    this.header.ssrc = sender.ssrc;
  }

  /** The sequence number the next packet gets. */
  get nextSequenceNumber(): number {
    return this.index % ROC_UNIT;
  }

  /**
   * Sends one frame's payloads at RTP `timestamp` (plus each payload's offset). Returns the last datagram's
   * send (settled when the ICE agent took it; failures go to onSendError), or undefined when nothing could
   * be sent (DTLS not connected, SRTP not started).
   */
  sendFrame(payloads: readonly RtpPayload[], timestamp: number): Promise<void> | undefined {
    if (payloads.length === 0 || !this.bind()) return undefined;
    const transport = this.transport!;
    const writer = this.writer!;
    const layout = this.layout!;
    const connection = transport.iceTransport.connection;
    const estimator = layout.hasTransportCc ? this.estimator : undefined;
    const nowMs = Date.now();
    const ntp = ntpOfUnixMs(performance.timeOrigin + performance.now());
    const h = this.header;
    h.absSendTime = absSendTime(ntp);
    let last: Promise<void> | undefined;
    let bytes = 0;
    for (const p of payloads) {
      const index = this.index;
      this.index = index + 1;
      h.sequenceNumber = index % ROC_UNIT;
      h.timestamp = (timestamp + (p.timestampOffset ?? 0)) >>> 0;
      h.marker = p.marker;
      h.transportSequence = estimator ? (transport.transportSequenceNumber = (transport.transportSequenceNumber + 1) & 0xffff) : -1;
      const slot = index % this.size;
      this.hIndex[slot] = index;
      this.hTimestamp[slot] = h.timestamp;
      this.hMarker[slot] = p.marker ? 1 : 0;
      this.hTransportSeq[slot] = h.transportSequence;
      this.hAbsSendTime[slot] = h.absSendTime;
      this.hPayload[slot] = p.payload;
      this.hResentAt[slot] = -Infinity;
      const out = this.seal(h, p.payload, Math.floor(index / ROC_UNIT), writer, layout);
      transport.bytesSent += out.length;
      transport.packetsSent++;
      if (estimator) logSentPacket(estimator, h.transportSequence, out.length, nowMs);
      last = connection.send(out).then(undefined, this.onSendError);
      bytes += p.payload.length;
    }
    this.packets += payloads.length;
    this.payloadBytes += bytes;
    recordSent(this.sender, ntpTimestamp(ntp), h.timestamp, payloads.length, bytes);
    return last;
  }

  /** Sends again the packets of these sequence numbers still in the history (a generic NACK's list). */
  retransmit(lost: readonly number[]): void {
    if (lost.length === 0 || this.packets === 0 || !this.bind()) return;
    const transport = this.transport!;
    const connection = transport.iceTransport.connection;
    const newest = this.index - 1;
    const h = this.header;
    const now = performance.now();
    for (const seq of lost) {
      const index = newest - ((newest - seq) & 0xffff);
      if (index < 0 || newest - index >= this.size) continue;
      const slot = index % this.size;
      const payload = this.hPayload[slot];
      if (this.hIndex[slot] !== index || !payload || now - this.hResentAt[slot] < this.minResendIntervalMs) continue;
      this.hResentAt[slot] = now;
      h.sequenceNumber = index % ROC_UNIT;
      h.timestamp = this.hTimestamp[slot];
      h.marker = this.hMarker[slot] === 1;
      h.transportSequence = this.hTransportSeq[slot];
      h.absSendTime = this.hAbsSendTime[slot];
      const out = this.seal(h, payload, Math.floor(index / ROC_UNIT), this.writer!, this.layout!);
      transport.bytesSent += out.length;
      transport.packetsSent++;
      this.retransmitted++;
      connection.send(out).then(undefined, this.onSendError);
    }
  }

  private seal(h: RtpHeaderFields, payload: Buffer, roc: number, writer: SrtpWriter, layout: RtpHeaderLayout): Buffer {
    const out = Buffer.allocUnsafe(layout.size + payload.length + writer.tagLength);
    layout.write(out, h);
    writer.seal(out, layout.size, payload, h.ssrc, h.sequenceNumber, roc);
    return out;
  }

  /** Takes the negotiated parameters and the transport's current SRTP keys; false when it cannot send yet. */
  private bind(): boolean {
    const transport = this.sender.dtlsTransport;
    const payloadType = this.sender.codec?.payloadType;
    if (!transport || transport.state !== 'connected' || payloadType === undefined) return false;
    if (transport !== this.transport || transport.srtp !== this.srtpSession) {
      const srtp = srtpKeysOf(transport);
      if (!srtp) return false;
      this.writer = new SrtpWriter(srtp.keys);
      this.srtpSession = srtp.session;
      this.transport = transport;
    }
    if (!this.layout) {
      const idOf = (uri: string): number => this.transceiver.headerExtensions.find((e) => e.uri === uri)?.id ?? 0;
      this.layout = new RtpHeaderLayout(
        { mid: idOf(RTP_EXTENSION_URI.sdesMid), absSendTime: idOf(RTP_EXTENSION_URI.absSendTime), transportCc: idOf(RTP_EXTENSION_URI.transportWideCC) },
        this.transceiver.mid ?? undefined,
      );
    }
    this.header.payloadType = payloadType;
    return true;
  }
}
