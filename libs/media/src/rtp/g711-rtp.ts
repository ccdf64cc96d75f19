import { MediaError } from '../media.errors';
import { DEFAULT_RTP_MTU } from './h264-rtp';
import { RtpPacket, RtpPayload } from './rtp-packet';

/** RFC 3551 static payload types of G.711 (6: PCMU 0, PCMA 8), 8000 Hz mono. */
export const G711_PAYLOAD_TYPE = { PCMU: 0, PCMA: 8 } as const;
export const G711_RTP_CLOCK_RATE = 8000;

/** A piece of a G.711 frame: its RTP timestamp is the frame's plus `timestampOffset` (samples before it). */
export interface G711RtpPayload extends RtpPayload {
  timestampOffset: number;
}

export interface G711PacketizerOptions {
  /** Largest RTP payload in bytes (default 1200), rounded down to whole samples of all channels. */
  mtu?: number;
  /** Interleaved channels (default 1): one byte per sample per channel. */
  channels?: number;
}

/**
 * G.711 samples (RFC 3551 4.5.14: one byte per sample, no header) -> RTP payloads of at most `mtu` bytes.
 * The marker stays false (no silence suppression). Each payload after the first must be stamped with the
 * frame's timestamp + its `timestampOffset`. Payloads are subarrays of `frame`; an empty frame gives none.
 */
export function packetizeG711(frame: Buffer, o: G711PacketizerOptions = {}): G711RtpPayload[] {
  const channels = o.channels ?? 1;
  if (!Number.isInteger(channels) || channels < 1) throw new MediaError('BAD_ARGUMENT', `G.711 channels ${channels}`);
  const mtu = o.mtu ?? DEFAULT_RTP_MTU;
  const chunk = Math.floor(mtu / channels) * channels;
  if (!Number.isInteger(mtu) || chunk < 1) throw new MediaError('BAD_ARGUMENT', `RTP MTU ${mtu} (at least one sample of ${channels} channels)`);
  const out: G711RtpPayload[] = [];
  for (let off = 0; off < frame.length; off += chunk) {
    out.push({ payload: frame.subarray(off, off + chunk), marker: false, timestampOffset: off / channels });
  }
  return out;
}

/** The G.711 samples of an RTP packet (its payload, no copy). */
export function depacketizeG711(pkt: RtpPacket): Buffer {
  return pkt.payload;
}
