import { dirname, join } from 'node:path';
import type { RTCDtlsTransport, RTCRtpSender } from 'werift';
import { SRTP_AEAD_AES_128_GCM, SRTP_AES128_CM_HMAC_SHA1_80, SrtpSessionKeys } from './srtp-writer';

/*
 * What the WHEP send path (SrtpSender) reads and writes inside werift 0.24 because its packets bypass
 * RTCRtpSender.sendRtp: the SRTP session keys werift derived after DTLS, the fields of RTCRtpSender its
 * RTCP sender reports (runRtcp) are built from, and the send log of its congestion estimator; and one fix of
 * its DTLS client (ignoreStaleDtlsFlight4). Kept here
 * alone; werift-internals.spec.ts checks them on a real connected pair, so a werift upgrade that moves them
 * fails there.
 */

/** The fields werift's RTCRtpSender.runRtcp puts in each sender report (private in its typings). */
interface SenderReportFields {
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
}

/** werift's local SRTP context: the session keys it derived for what it sends. */
interface LocalSrtpContext {
  profile: number;
  srtpSessionKey: Buffer;
  srtpSessionSalt: Buffer;
  srtpSessionAuthTag: Buffer;
}

type SenderBandwidthEstimator = RTCRtpSender['senderBWE'];

/** What werift's SenderBandwidthEstimator.receiveTWCC looks up by transport-wide sequence number. */
interface SentInfo {
  wideSeq: number;
  size: number;
  sendingAtMs: number;
  sentAtMs: number;
}

/** Packets of the send log feedback can still name (a feedback comes every 50-100 ms, ~30 packets). */
const SENT_LOG_WINDOW = 1024;
const sentLogPools = new WeakMap<SenderBandwidthEstimator, SentInfo[]>();

/**
 * Logs a sent packet with the estimator, as its rtpPacketSent would. That one means to drop older entries
 * but never does (it lists the keys of the info, not of the log): its log grows to all 65536 sequence
 * numbers, ~4 MB per player, and each call sorts arrays. Here only the last SENT_LOG_WINDOW entries
 * stay (~50 kB), in reused objects.
 */
export function logSentPacket(estimator: SenderBandwidthEstimator, wideSeq: number, size: number, atMs: number): void {
  const log = (estimator as unknown as { sentInfos: Record<number, SentInfo | undefined> }).sentInfos;
  let pool = sentLogPools.get(estimator);
  if (!pool) sentLogPools.set(estimator, (pool = []));
  const slot = wideSeq % SENT_LOG_WINDOW;
  const info = (pool[slot] ??= { wideSeq: 0, size: 0, sendingAtMs: 0, sentAtMs: 0 });
  info.wideSeq = wideSeq;
  info.size = size;
  info.sendingAtMs = atMs;
  info.sentAtMs = atMs;
  log[wideSeq] = info;
  // deleted, not set to undefined: the log stays a small dictionary of live entries
  delete log[(wideSeq - SENT_LOG_WINDOW) & 0xffff];
}

/** The estimator's send log (for the spec). */
export function sentLogOf(estimator: SenderBandwidthEstimator): Record<number, SentInfo | undefined> {
  return (estimator as unknown as { sentInfos: Record<number, SentInfo | undefined> }).sentInfos;
}

/** The keys werift protects this transport's outgoing RTP with, or undefined before SRTP starts. */
export function srtpKeysOf(transport: RTCDtlsTransport): { session: object; keys: SrtpSessionKeys } | undefined {
  const session = transport.srtp as unknown as { localContext?: LocalSrtpContext } | undefined;
  const ctx = session?.localContext;
  if (!session || !ctx) return undefined;
  if (ctx.profile !== SRTP_AEAD_AES_128_GCM && ctx.profile !== SRTP_AES128_CM_HMAC_SHA1_80) return undefined;
  return { session, keys: { profile: ctx.profile, key: ctx.srtpSessionKey, salt: ctx.srtpSessionSalt, authKey: ctx.srtpSessionAuthTag } };
}

/**
 * Tells the sender what went out, as its sendRtp would: the latest NTP/RTP timestamp pair and the packet and
 * payload octet counts (both wrap at 2^32, RFC 3550 6.4.1) its sender reports carry; starts its report loop.
 */
export function recordSent(sender: RTCRtpSender, ntp: bigint, rtpTimestamp: number, packets: number, octets: number): void {
  const s = sender as unknown as SenderReportFields;
  s.ntpTimestamp = ntp;
  s.rtpTimestamp = rtpTimestamp >>> 0;
  s.packetCount = (s.packetCount + packets) >>> 0;
  s.octetCount = (s.octetCount + octets) >>> 0;
  if (!sender.rtcpRunning && !sender.stopped) void sender.runRtcp();
}

/** The sender-report fields as werift holds them (for the spec). */
export function senderReportFields(sender: RTCRtpSender): SenderReportFields {
  const s = sender as unknown as SenderReportFields;
  return { ntpTimestamp: s.ntpTimestamp, rtpTimestamp: s.rtpTimestamp, packetCount: s.packetCount, octetCount: s.octetCount };
}

/** werift's DTLS client flight 5 (ClientKeyExchange ... Finished), not exported by werift. */
interface Flight5 {
  dtls: { flight: number };
  exec(): Promise<void>;
}

/** The DTLS client flight after the handshake is done (flight 6, the server's Finished, was received). */
const DTLS_CONNECTED_FLIGHT = 7;
let staleFlight4Ignored = false;

/** werift's Flight5 class, from its file beside the package's main entry (werift's exports map does not list it). */
export function weriftFlight5(): { prototype: Flight5 } {
  const main = require.resolve('werift');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(join(dirname(main), '../../dtls/src/flight/client/flight5.js')) as { Flight5: { prototype: Flight5 } }).Flight5;
}

/**
 * Chromium often resends its DTLS flight 4 (ServerHello ... ServerHelloDone) ~50 ms after the first. When
 * werift reads that copy after the handshake finished, Flight5.exec starts flight 5 again (flight 7 -> 5),
 * waits ~33 s for a Finished that never comes and fails the transport: about half of the browser sessions
 * closed 33 s after connecting. A flight 5 asked for once the handshake is done is ignored (the peer has ours:
 * it sent its Finished). Patched once, before the first peer.
 */
export function ignoreStaleDtlsFlight4(): void {
  if (staleFlight4Ignored) return;
  staleFlight4Ignored = true;
  const proto = weriftFlight5().prototype;
  const exec = proto.exec;
  proto.exec = function (this: Flight5) {
    if (this.dtls.flight >= DTLS_CONNECTED_FLIGHT) return Promise.resolve();
    return exec.call(this);
  };
}
