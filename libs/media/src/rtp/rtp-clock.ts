/**
 * RTP and NTP time arithmetic (RFC 3550 4, 5.1, 6.4.1).
 *
 * RTP timestamps are 32-bit counters in the payload format's clock rate (90 kHz video, 8..48 kHz audio)
 * starting at a random value; they wrap every 13 h 15 min at 90 kHz. Each track has its own clock, so tracks
 * are lined up through the sender reports, which pair one RTP timestamp with the sender's NTP wall clock.
 */

/** Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01). */
export const NTP_UNIX_OFFSET_SECONDS = 2208988800;
const TWO_32 = 0x100000000;

/** A 64-bit NTP timestamp: seconds since 1900 (uint32) and the fraction of a second in 1/2^32 units. */
export interface NtpTime {
  seconds: number;
  fraction: number;
}

/**
 * NTP timestamp -> Unix milliseconds (fractional). The 32-bit seconds wrap in February 2036 (era 1); like
 * RFC 4330 3, a value with the top bit clear (which would be before 1968) is read as era 1.
 */
export function ntpToUnixMs(seconds: number, fraction: number): number {
  const s = seconds >>> 0 < 0x80000000 ? (seconds >>> 0) + TWO_32 : seconds >>> 0;
  return (s - NTP_UNIX_OFFSET_SECONDS) * 1000 + ((fraction >>> 0) * 1000) / TWO_32;
}

/** Unix milliseconds -> NTP timestamp (seconds wrapped to 32 bits, so dates after 2036 land in era 1). */
export function unixMsToNtp(ms: number): NtpTime {
  const wholeSeconds = Math.floor(ms / 1000);
  const remainderMs = ms - wholeSeconds * 1000;
  return {
    // ToUint32 (>>> 0) is exactly "mod 2^32" for integers, negative ones included
    seconds: (wholeSeconds + NTP_UNIX_OFFSET_SECONDS) >>> 0,
    // floor keeps it below 2^32 even for remainderMs just under 1000
    fraction: Math.min(TWO_32 - 1, Math.floor((remainderMs * TWO_32) / 1000)),
  };
}

/**
 * The middle 32 bits of an NTP timestamp (16 bits of seconds, 16 of fraction): the "compact" form the LSR
 * field of a report block and the RTT computation use (RFC 3550 6.4.1). Units of 1/65536 s.
 */
export function ntpMiddle32(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}

/** Signed distance a - b of two 32-bit RTP timestamps, in -2^31..2^31-1 (wrap-aware). */
export function rtpTimestampDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/**
 * Extends 32-bit RTP timestamps to a continuous number line. Each timestamp is placed at the signed 32-bit
 * distance from the previous one, so a wrap (0xffffff00 -> 0x00000100) moves forward by 0x200 and a small
 * step back (B-frame presentation times, a late packet) moves back instead of forward by ~2^32. The first
 * timestamp is returned as is; later values may go below it or below 0 after steps back. A jump of more
 * than 2^31 ticks (6.6 h at 90 kHz) in one step is read as going the other way.
 */
export class RtpTimestampUnwrapper {
  private last: number | undefined;
  private value = 0;

  unwrap(ts: number): number {
    const t = ts >>> 0;
    this.value = this.last === undefined ? t : this.value + rtpTimestampDiff(t, this.last);
    this.last = t;
    return this.value;
  }

  /** Forget the history: the next timestamp starts a new line (after a sender restart). */
  reset(): void {
    this.last = undefined;
    this.value = 0;
  }
}

/**
 * The timeline of one RTP track.
 *
 * - `toMs(ts)`: media time in ms since the first timestamp this clock saw, (unwrap(ts) - unwrap(first)) *
 *   1000 / clockRate. Stateful: call it in arrival order.
 * - `wallClockMs(ts)`: sender wall-clock (NTP, as Unix ms) of a packet, from the last sender report, which
 *   says "RTP timestamp R was sampled at NTP time N": N + (ts - R) / clockRate, with (ts - R) the signed
 *   32-bit distance. Two tracks of one sender share the NTP clock, so comparing their wall clocks lines
 *   audio up with video (lip sync) even though their RTP clocks started at unrelated random values.
 */
export class RtpMediaClock {
  private readonly unwrapper = new RtpTimestampUnwrapper();
  private first: number | undefined;
  private sr: { ntpMs: number; rtpTimestamp: number } | undefined;

  constructor(readonly clockRate: number) {}

  /** Milliseconds since the first timestamp seen (negative for a packet presented before it). */
  toMs(rtpTimestamp: number): number {
    const t = this.unwrapper.unwrap(rtpTimestamp);
    if (this.first === undefined) this.first = t;
    return ((t - this.first) * 1000) / this.clockRate;
  }

  /** Record a sender report: `rtpTimestamp` was sampled at `ntpMs` (Unix ms, e.g. from ntpToUnixMs). */
  onSenderReport(ntpMs: number, rtpTimestamp: number): void {
    this.sr = { ntpMs, rtpTimestamp: rtpTimestamp >>> 0 };
  }

  /** Sender wall clock (Unix ms) of a packet with this timestamp; undefined before the first sender report. */
  wallClockMs(rtpTimestamp: number): number | undefined {
    if (!this.sr) return undefined;
    return this.sr.ntpMs + (rtpTimestampDiff(rtpTimestamp >>> 0, this.sr.rtpTimestamp) * 1000) / this.clockRate;
  }

  /** Whether a sender report has been seen (wall clocks are known). */
  get synchronized(): boolean {
    return this.sr !== undefined;
  }
}
