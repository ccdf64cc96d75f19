/**
 * Small RTSP headers: CSeq (RFC 2326 12.17), Session (12.37), Range (12.29, npt only), RTP-Info (12.33),
 * Public (12.28).
 */
import { RtspProtocolError } from './rtsp-message';

/** The sequence number of a request; RtspProtocolError BAD_CSEQ (400) when it is not one. */
export function parseCSeq(value: string): number {
  const v = value.trim();
  if (!/^\d{1,10}$/.test(v) || Number(v) > 0xffffffff) throw new RtspProtocolError('BAD_CSEQ', `bad CSeq ${JSON.stringify(value.slice(0, 20))}`, 400);
  return Number(v);
}

export interface RtspSession {
  id: string;
  /** Seconds the server keeps the session without a request (RFC 2326 default: 60). */
  timeout?: number;
}

/** Longest session id accepted (RFC 2326 asks for at least 8 characters; ids are opaque). */
const MAX_SESSION_ID = 256;

/**
 * `id;timeout=60` -> { id, timeout }. A missing or odd timeout is left out (the caller keeps its default);
 * an empty, too long or spaced id throws RtspProtocolError BAD_SESSION (454: the client cannot name a
 * session we would know).
 */
export function parseSession(value: string): RtspSession {
  const [idPart, ...params] = value.split(';');
  const id = idPart.trim();
  if (id === '' || id.length > MAX_SESSION_ID || /[\s,"]/.test(id)) {
    throw new RtspProtocolError('BAD_SESSION', `bad Session ${JSON.stringify(value.slice(0, 40))}`, 454);
  }
  const session: RtspSession = { id };
  for (const p of params) {
    const m = /^\s*timeout\s*=\s*"?(\d{1,9})"?\s*$/i.exec(p);
    if (m && Number(m[1]) > 0) session.timeout = Number(m[1]);
  }
  return session;
}

/** `id;timeout=N` (the timeout left out when not given). */
export function formatSession(id: string, timeoutSeconds?: number): string {
  return timeoutSeconds === undefined ? id : `${id};timeout=${timeoutSeconds}`;
}

export interface NptRange {
  /** Seconds. */
  start: number;
  /** Seconds; open-ended when absent. */
  end?: number;
}

/**
 * A Range header. `undefined` for an empty value; `{}` for a range without a seek position (`npt=now-`,
 * `smpte=...`, `clock=...`, other units: play from where it is / live); `{ npt }` for an npt range with a
 * start (`npt=0.000-`, `npt=12.5-30`, `npt=0:01:02.5-`, `npt=-30` starts at 0). A malformed npt range, or
 * one ending before it starts, throws RtspProtocolError INVALID_RANGE (457). The `;time=` part is ignored.
 */
export function parseRange(value: string): { npt?: NptRange } | undefined {
  const v = value.split(';')[0].trim();
  if (v === '') return undefined;
  const m = /^npt\s*=\s*(.*)$/i.exec(v);
  if (!m) return {};
  const spec = m[1].trim();
  const dash = spec.indexOf('-');
  if (dash < 0) throw invalidRange(value);
  const from = spec.slice(0, dash).trim();
  const to = spec.slice(dash + 1).trim();
  if (from.toLowerCase() === 'now') {
    if (to !== '') throw invalidRange(value);
    return {};
  }
  const start = from === '' ? 0 : nptSeconds(from, value);
  if (to === '') return { npt: { start } };
  const end = nptSeconds(to, value);
  if (end < start) throw invalidRange(value);
  return { npt: { start, end } };
}

function invalidRange(value: string): RtspProtocolError {
  return new RtspProtocolError('INVALID_RANGE', `bad Range ${JSON.stringify(value.slice(0, 40))}`, 457);
}

/** npt-sec (`12.5`) or npt-hhmmss (`1:02:03.5`). */
function nptSeconds(t: string, value: string): number {
  let m = /^(\d{1,12})(?:\.(\d{0,9}))?$/.exec(t);
  if (m) return Number(`${m[1]}.${m[2] || 0}`);
  m = /^(\d{1,9}):([0-5]?\d):([0-5]?\d)(?:\.(\d{0,9}))?$/.exec(t);
  if (m) return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(`${m[3]}.${m[4] || 0}`);
  throw invalidRange(value);
}

/** `npt=start-[end]` with millisecond precision. */
export function formatNptRange(range: NptRange): string {
  return `npt=${range.start.toFixed(3)}-${range.end === undefined ? '' : range.end.toFixed(3)}`;
}

export interface RtpInfoEntry {
  url: string;
  /** Sequence number of the first packet sent after PLAY. */
  seq?: number;
  /** RTP timestamp of that packet. */
  rtptime?: number;
}

/** RTP-Info value: `url=...;seq=N;rtptime=N` per stream, comma-separated. */
export function formatRtpInfo(entries: readonly RtpInfoEntry[]): string {
  return entries
    .map((e) => {
      let s = `url=${e.url}`;
      if (e.seq !== undefined) s += `;seq=${e.seq}`;
      if (e.rtptime !== undefined) s += `;rtptime=${e.rtptime}`;
      return s;
    })
    .join(',');
}

/** Entries of one RTP-Info header are cut here. */
const MAX_RTP_INFO_ENTRIES = 32;

/**
 * Entries of an RTP-Info header. URLs may hold commas and semicolons, so an entry starts at `url=` after a
 * comma and only `seq=`, `rtptime=` and `ssrc=` parts end a URL. Out-of-range numbers are left out (the
 * client then takes them from the first packet). Never throws.
 */
export function parseRtpInfo(value: string): RtpInfoEntry[] {
  const out: RtpInfoEntry[] = [];
  for (const raw of value.trim().replace(/,+$/, '').split(/,\s*(?=url\s*=)/i).slice(0, MAX_RTP_INFO_ENTRIES)) {
    const parts = raw.split(';');
    let url: string | undefined;
    const entry: Partial<RtpInfoEntry> = {};
    const urlParts: string[] = [];
    for (const part of parts) {
      const m = /^\s*(url|seq|rtptime|ssrc)\s*=(.*)$/i.exec(part);
      const v = m?.[2].trim() ?? '';
      const key = m?.[1].toLowerCase();
      if (key === 'url' && url === undefined && urlParts.length === 0) {
        urlParts.push(v);
      } else if (m && key !== 'url' && urlParts.length > 0) {
        url = urlParts.join(';');
        if (key === 'seq' && /^\d{1,5}$/.test(v) && Number(v) <= 0xffff) entry.seq = Number(v);
        if (key === 'rtptime' && /^\d{1,10}$/.test(v) && Number(v) <= 0xffffffff) entry.rtptime = Number(v);
      } else if (urlParts.length > 0 && url === undefined) {
        urlParts.push(part);
      }
    }
    if (urlParts.length === 0) continue;
    const text = (url ?? urlParts.join(';')).trim();
    out.push({ ...entry, url: text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text });
  }
  return out;
}

/** Methods of a Public (or Allow) header, upper-cased. */
export function parsePublic(value: string): string[] {
  return value
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter((m) => m !== '');
}

/** A Public header value from method names. */
export function formatPublic(methods: readonly string[]): string {
  return methods.join(', ');
}
