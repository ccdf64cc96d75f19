/**
 * The latency probe carried inside every published video frame, and the latency histogram.
 *
 * The publisher puts one extra NAL unit first in each H.264 access unit: an SEI (type 6) holding a
 * user_data_unregistered message (payload type 5) with our 16-byte UUID, a 28-bit frame sequence number
 * and the 56-bit send time in microseconds of the monotonic clock (process.hrtime, shared by every process
 * on the machine). Every byte of the numbers has its top bit set, so the NAL needs no emulation
 * prevention and no server can mistake it for a start code. All three servers forward the NAL units of a
 * frame unchanged, so players read the probe whatever timestamps the server rebases.
 */

const UUID = Buffer.from('m7s-bench-probe!', 'ascii');
const SEI_PAYLOAD = 16 + 4 + 8;
/** NAL header, payload type, payload size, payload, rbsp trailing bits */
export const PROBE_NAL_SIZE = 3 + SEI_PAYLOAD + 1;

/** Monotonic clock in microseconds, comparable across processes of this machine. */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function put7(out: Buffer, at: number, value: number, bytes: number): void {
  for (let i = bytes - 1; i >= 0; i--) {
    out[at + i] = 0x80 | (value % 128);
    value = Math.floor(value / 128);
  }
}

function get7(buf: Buffer, at: number, bytes: number): number {
  let v = 0;
  for (let i = 0; i < bytes; i++) v = v * 128 + (buf[at + i] & 0x7f);
  return v;
}

/** Writes the probe NAL (without its length prefix) at `at`. */
export function writeProbeNal(out: Buffer, at: number, seq: number, sendUs: number): void {
  out[at] = 0x06;
  out[at + 1] = 0x05;
  out[at + 2] = SEI_PAYLOAD;
  UUID.copy(out, at + 3);
  put7(out, at + 19, seq % 2 ** 28, 4);
  put7(out, at + 23, sendUs, 8);
  out[at + 31] = 0x80;
}

/** The probe of the last successful readProbe(). */
export const probe = { seq: 0, sendUs: 0 };

/** Reads the probe from a NAL unit starting at `nal` in `buf` (the caller checked PROBE_NAL_SIZE bytes are there). */
function probeAt(buf: Buffer, nal: number): boolean {
  if ((buf[nal] & 0x1f) !== 6 || buf[nal + 1] !== 5 || buf[nal + 2] !== SEI_PAYLOAD || buf.compare(UUID, 0, 16, nal + 3, nal + 19) !== 0) return false;
  probe.seq = get7(buf, nal + 19, 4);
  probe.sendUs = get7(buf, nal + 23, 8);
  return true;
}

/**
 * Looks for the probe in an FLV/RTMP AVC video body (5-byte tag header, then length-prefixed NAL units;
 * only the first few units are searched). Returns false for sequence headers and frames without it.
 */
export function readProbe(body: Buffer, lengthSize = 4): boolean {
  if (body.length < 5 + lengthSize + PROBE_NAL_SIZE || (body[0] & 0x0f) !== 7 || body[1] !== 1) return false;
  let off = 5;
  for (let n = 0; n < 4 && off + lengthSize + PROBE_NAL_SIZE <= body.length; n++) {
    let len = 0;
    for (let i = 0; i < lengthSize; i++) len = len * 256 + body[off + i];
    const nal = off + lengthSize;
    if (probeAt(body, nal)) return true;
    off = nal + len;
  }
  return false;
}

/**
 * Looks for the probe among the first NAL units of an access unit given as bare NAL units (no length
 * prefixes or start codes: what an RTP depacketizer yields). Only the first few are searched: the server
 * may put SPS and PPS (and an AUD) before it.
 */
export function readProbeNals(nals: readonly Buffer[]): boolean {
  for (let n = 0; n < 6 && n < nals.length; n++) {
    const nal = nals[n];
    if (nal.length >= PROBE_NAL_SIZE && probeAt(nal, 0)) return true;
  }
  return false;
}

/**
 * Latency histogram in microseconds: 10 us buckets up to 50 ms, then 1 ms buckets up to 10 s, then one
 * overflow bucket. Cheap to fill from a hot path, small to send between processes, exact enough for p99.
 */
const FINE_LIMIT_US = 50_000;
const FINE_STEP_US = 10;
const COARSE_STEP_US = 1000;
const FINE_BUCKETS = FINE_LIMIT_US / FINE_STEP_US;
const COARSE_BUCKETS = (10_000_000 - FINE_LIMIT_US) / COARSE_STEP_US;
export const HISTOGRAM_SIZE = FINE_BUCKETS + COARSE_BUCKETS + 1;

export function newHistogram(): Uint32Array {
  return new Uint32Array(HISTOGRAM_SIZE);
}

export function record(h: Uint32Array, us: number): void {
  if (us < 0) us = 0;
  const i = us < FINE_LIMIT_US ? Math.floor(us / FINE_STEP_US) : Math.min(FINE_BUCKETS + Math.floor((us - FINE_LIMIT_US) / COARSE_STEP_US), HISTOGRAM_SIZE - 1);
  h[i]++;
}

export function mergeInto(into: Uint32Array, from: ArrayLike<number>): void {
  for (let i = 0; i < into.length; i++) into[i] += from[i] ?? 0;
}

export function histogramCount(h: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < h.length; i++) n += h[i];
  return n;
}

/** The q-quantile (0..1) in milliseconds (upper edge of its bucket), or NaN when empty. */
export function quantileMs(h: ArrayLike<number>, q: number): number {
  const total = histogramCount(h);
  if (total === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i];
    if (seen >= rank) {
      const upperUs = i < FINE_BUCKETS ? (i + 1) * FINE_STEP_US : FINE_LIMIT_US + (i - FINE_BUCKETS + 1) * COARSE_STEP_US;
      return upperUs / 1000;
    }
  }
  return NaN;
}

/** The q-quantile of plain samples. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Every probe in a buffer of any container (found by its UUID; MPEG-TS may split one across packets and miss it). */
export function probesIn(buf: Buffer): { seq: number; sendUs: number }[] {
  const found: { seq: number; sendUs: number }[] = [];
  for (let at = buf.indexOf(UUID); at >= 3 && at + 28 <= buf.length; at = buf.indexOf(UUID, at + 16)) {
    found.push({ seq: get7(buf, at + 16, 4), sendUs: get7(buf, at + 20, 8) });
  }
  return found;
}
