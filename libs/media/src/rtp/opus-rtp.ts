import { opusPacketSamples } from '../codecs/opus';
import { MediaError } from '../media.errors';
import { RtpPacket, RtpPayload, rtpTimestampFromMs } from './rtp-packet';

/** RFC 7587: the RTP clock of Opus is always 48 kHz, whatever the coded rate. */
export const OPUS_RTP_CLOCK_RATE = 48000;

/**
 * One Opus packet -> one RTP payload (RFC 7587 4.2: no fragmentation, no aggregation). The marker is set
 * only on the first packet after a silence period (DTX), per RFC 7587 4.1.
 */
export function packetizeOpus(frame: Buffer, afterSilence = false): RtpPayload {
  if (frame.length === 0) throw new MediaError('BAD_ARGUMENT', 'empty Opus packet');
  return { payload: frame, marker: afterSilence };
}

/**
 * The Opus packet of an RTP packet (the payload, no copy). An empty payload is legal and means a lost or
 * DTX frame to conceal, so it is returned as is.
 */
export function depacketizeOpus(pkt: RtpPacket): Buffer {
  return pkt.payload;
}

/** Milliseconds -> Opus RTP timestamp (48 kHz, wrapped to 32 bits). */
export function opusRtpTimestamp(ms: number): number {
  return rtpTimestampFromMs(ms, OPUS_RTP_CLOCK_RATE);
}

/** RTP timestamp increment for an Opus packet: its samples at 48 kHz (from the TOC byte). */
export function opusRtpDuration(frame: Buffer): number {
  return opusPacketSamples(frame);
}
