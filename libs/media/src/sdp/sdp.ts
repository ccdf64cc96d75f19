import { MediaError } from '../media.errors';

/** `c=` (RFC 8866 5.7): `IN IP4 224.2.1.1/127` gives ttl 127; a second `/n` (or the one `/n` of IP6) is numAddresses. */
export interface SdpConnection {
  netType: string;
  addrType: string;
  address: string;
  /** IP4 multicast TTL */
  ttl?: number;
  /** number of consecutive multicast addresses */
  numAddresses?: number;
}

/** `a=name` (a flag, no value) or `a=name:value`. */
export interface SdpAttribute {
  name: string;
  value?: string;
}

/** `b=type:value` (RFC 8866 5.8), value in kbit/s for AS and CT. */
export interface SdpBandwidth {
  type: string;
  value: number;
}

/** `t=start stop` (RFC 8866 5.9): NTP seconds, 0 0 for an unbounded session. */
export interface SdpTiming {
  start: number;
  stop: number;
}

/** `o=` (RFC 8866 5.2). Session id and version are kept as the decimal strings written (they may exceed 2^53). */
export interface SdpOrigin {
  username: string;
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

/** One `m=` section (RFC 8866 5.14) and the lines after it. */
export interface SdpMedia {
  /** video, audio, application, ... */
  type: string;
  port: number;
  /** the `/n` after the port */
  numPorts?: number;
  /** RTP/AVP, RTP/AVPF, RTP/SAVPF, ... */
  protocol: string;
  /** payload type numbers for RTP protocols, as written */
  formats: string[];
  connection?: SdpConnection;
  bandwidths: SdpBandwidth[];
  attributes: SdpAttribute[];
  /** `i=` */
  info?: string;
}

/**
 * A session description (RFC 8866). The lines this model does not carry (e=, p=, r=, z=, k= and unknown
 * letters) are ignored by `parseSdp` and not written by `writeSdp`.
 */
export interface SessionDescription {
  version: number;
  origin: SdpOrigin;
  /** `s=` */
  name: string;
  /** `i=` */
  info?: string;
  /** `u=` */
  uri?: string;
  connection?: SdpConnection;
  bandwidths: SdpBandwidth[];
  timing: SdpTiming[];
  attributes: SdpAttribute[];
  media: SdpMedia[];
}

/** Bounds of `parseSdp`; any of them exceeded throws MediaError('BAD_SDP'). */
export interface SdpLimits {
  /** Largest description in bytes (default 65536). */
  maxBytes?: number;
  /** Most m= sections (default 32). */
  maxMedia?: number;
  /** Most a= lines, session and media levels together (default 512). */
  maxAttributes?: number;
}

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DEFAULT_ORIGIN: SdpOrigin = { username: '-', sessionId: '0', sessionVersion: '0', netType: 'IN', addrType: 'IP4', address: '0.0.0.0' };
const DEFAULT_SESSION_NAME = '-';

function badSdp(reason: string): never {
  throw new MediaError('BAD_SDP', reason);
}

/**
 * Parse a session description (RFC 8866) as cameras and encoders really write it: LF, CRLF or CR line ends,
 * blank lines, spaces around values, lines out of the canonical order, and missing o=, s= or t= lines (they
 * get defaults: `- 0 0 IN IP4 0.0.0.0`, `-`, `0 0`). Unknown and malformed optional lines (c=, b=, t=
 * that do not parse) are skipped. Throws MediaError('BAD_SDP') when the first line is not `v=<number>`,
 * for an m= line without media, port and protocol or with a port outside 0..65535, and over `limits`.
 */
export function parseSdp(text: string | Buffer, limits: SdpLimits = {}): SessionDescription {
  const maxBytes = limits.maxBytes ?? 65536;
  const maxMedia = limits.maxMedia ?? 32;
  const maxAttributes = limits.maxAttributes ?? 512;
  // a string has at most as many UTF-16 units as UTF-8 bytes, so the cheap check comes first
  const size = typeof text === 'string' ? (text.length > maxBytes ? text.length : Buffer.byteLength(text)) : text.length;
  if (size > maxBytes) badSdp(`SDP of ${size} bytes is over the ${maxBytes}-byte limit`);
  let str = typeof text === 'string' ? text : text.toString('utf8');
  if (str.charCodeAt(0) === 0xfeff) str = str.slice(1);

  const lines = str.split(/\r\n|\n|\r/);
  let i = 0;
  while (i < lines.length && lines[i].trim() === '') i++;
  const first = i < lines.length ? /^v\s*=\s*(\d{1,9})$/.exec(lines[i].trim()) : null;
  if (!first) badSdp('an SDP must start with a v=<version> line');

  const sd: SessionDescription = {
    version: Number(first[1]),
    origin: { ...DEFAULT_ORIGIN },
    name: DEFAULT_SESSION_NAME,
    bandwidths: [],
    timing: [],
    attributes: [],
    media: [],
  };
  let media: SdpMedia | undefined;
  let attributeCount = 0;

  for (i++; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line.length < 2 || line[1] !== '=') continue; // blank, or not a `x=` line: skipped
    const type = line[0];
    const value = line.slice(2).trim();
    switch (type) {
      case 'm':
        if (sd.media.length >= maxMedia) badSdp(`more than ${maxMedia} m= sections`);
        media = parseMediaLine(value);
        sd.media.push(media);
        break;
      case 'a':
        if (++attributeCount > maxAttributes) badSdp(`more than ${maxAttributes} a= lines`);
        (media ?? sd).attributes.push(parseAttribute(value));
        break;
      case 'c': {
        const c = parseConnection(value);
        if (c) (media ?? sd).connection = c;
        break;
      }
      case 'b': {
        const b = /^([A-Za-z0-9_.-]+)\s*:\s*(\d{1,15})$/.exec(value);
        if (b) (media ?? sd).bandwidths.push({ type: b[1], value: Number(b[2]) });
        break;
      }
      case 'i':
        (media ?? sd).info = value;
        break;
      case 'o':
        if (!media) sd.origin = parseOrigin(value);
        break;
      case 's':
        if (!media) sd.name = value;
        break;
      case 'u':
        if (!media) sd.uri = value;
        break;
      case 't': {
        const t = /^(\d{1,20})\s+(\d{1,20})$/.exec(value);
        if (t && !media) sd.timing.push({ start: Number(t[1]), stop: Number(t[2]) });
        break;
      }
      default:
        break; // v= again, e=, p=, r=, z=, k=, unknown letters
    }
  }
  if (sd.timing.length === 0) sd.timing.push({ start: 0, stop: 0 });
  return sd;
}

function parseMediaLine(value: string): SdpMedia {
  const tokens = value.split(/\s+/);
  if (tokens.length < 3 || tokens[0] === '') badSdp(`m= line '${clip(value)}' needs media, port and protocol`);
  const port = /^(\d{1,5})(?:\/(\d{1,5}))?$/.exec(tokens[1]);
  if (!port) badSdp(`m= line '${clip(value)}' has no valid port`);
  const media: SdpMedia = { type: tokens[0], port: Number(port[1]), protocol: tokens[2], formats: tokens.slice(3), bandwidths: [], attributes: [] };
  if (media.port > 0xffff) badSdp(`m= port ${media.port} is outside 0..65535`);
  if (port[2] !== undefined) {
    media.numPorts = Number(port[2]);
    if (media.numPorts < 1 || media.numPorts > 0xffff) badSdp(`m= port count ${media.numPorts} is outside 1..65535`);
  }
  return media;
}

function parseAttribute(value: string): SdpAttribute {
  const colon = value.indexOf(':');
  if (colon < 0) return { name: value };
  return { name: value.slice(0, colon).trim(), value: value.slice(colon + 1).trim() };
}

function parseConnection(value: string): SdpConnection | undefined {
  const [netType, addrType, addr] = value.split(/\s+/);
  if (!addr) return undefined;
  const [address, a, b] = addr.split('/');
  const c: SdpConnection = { netType, addrType, address };
  const num = (s: string | undefined) => (s !== undefined && /^\d{1,9}$/.test(s) ? Number(s) : undefined);
  // RFC 8866 5.7: IP4 multicast is address/ttl[/count], IP6 has no TTL: address[/count]
  if (addrType.toUpperCase() === 'IP6') {
    if (num(a) !== undefined) c.numAddresses = num(a);
  } else {
    if (num(a) !== undefined) c.ttl = num(a);
    if (num(b) !== undefined) c.numAddresses = num(b);
  }
  return c;
}

function parseOrigin(value: string): SdpOrigin {
  const f = value.split(/\s+/);
  const d = DEFAULT_ORIGIN;
  const pick = (i: number, dflt: string) => (f[i] !== undefined && f[i] !== '' ? f[i] : dflt);
  return {
    username: pick(0, d.username),
    sessionId: pick(1, d.sessionId),
    sessionVersion: pick(2, d.sessionVersion),
    netType: pick(3, d.netType),
    addrType: pick(4, d.addrType),
    address: pick(5, d.address),
  };
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}...` : s;
}

/**
 * Serialize a session description: CRLF line ends, lines in the RFC 8866 order (v o s i u c b t a, then
 * per media m i c b a). An empty name is written `s= ` (RFC 8866 5.3) and an empty timing list `t=0 0`.
 * Throws MediaError('BAD_ARGUMENT') for a value containing CR, LF or NUL (it would inject lines).
 */
export function writeSdp(sd: SessionDescription): string {
  const out: string[] = [];
  const line = (type: string, value: string) => {
    if (/[\r\n\0]/.test(value)) throw new MediaError('BAD_ARGUMENT', `SDP ${type}= value contains CR, LF or NUL`);
    out.push(`${type}=${value}\r\n`);
  };
  const common = (x: { connection?: SdpConnection; bandwidths: SdpBandwidth[] }) => {
    if (x.connection) line('c', formatConnection(x.connection));
    for (const b of x.bandwidths) line('b', `${b.type}:${b.value}`);
  };
  const attributes = (attrs: SdpAttribute[]) => {
    for (const a of attrs) line('a', a.value === undefined ? a.name : `${a.name}:${a.value}`);
  };

  const o = sd.origin;
  line('v', String(sd.version));
  line('o', `${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`);
  line('s', sd.name === '' ? ' ' : sd.name);
  if (sd.info !== undefined) line('i', sd.info);
  if (sd.uri !== undefined) line('u', sd.uri);
  common(sd);
  const timing = sd.timing.length > 0 ? sd.timing : [{ start: 0, stop: 0 }];
  for (const t of timing) line('t', `${t.start} ${t.stop}`);
  attributes(sd.attributes);
  for (const m of sd.media) {
    const port = m.numPorts === undefined ? String(m.port) : `${m.port}/${m.numPorts}`;
    line('m', [m.type, port, m.protocol, ...m.formats].join(' '));
    if (m.info !== undefined) line('i', m.info);
    common(m);
    attributes(m.attributes);
  }
  return out.join('');
}

function formatConnection(c: SdpConnection): string {
  let addr = c.address;
  if (c.ttl !== undefined) addr += `/${c.ttl}`;
  if (c.numAddresses !== undefined) addr += `/${c.numAddresses}`;
  return `${c.netType} ${c.addrType} ${addr}`;
}

/** Value of the first attribute `name` (case-insensitive); '' for a flag attribute; undefined when absent. */
export function sdpAttribute(attrs: readonly SdpAttribute[], name: string): string | undefined {
  const n = name.toLowerCase();
  const a = attrs.find((x) => x.name.toLowerCase() === n);
  return a ? (a.value ?? '') : undefined;
}

/** Values of every attribute `name` (case-insensitive), in order; '' for flags. */
export function sdpAttributes(attrs: readonly SdpAttribute[], name: string): string[] {
  const n = name.toLowerCase();
  return attrs.filter((x) => x.name.toLowerCase() === n).map((x) => x.value ?? '');
}

/** `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]` (RFC 8866 6.6). */
export interface SdpRtpmap {
  payloadType: number;
  /** as written (H264, h264, MPEG4-GENERIC, ...): compare case-insensitively */
  encoding: string;
  clockRate: number;
  /** the encoding parameters when they are a number (audio channels) */
  channels?: number;
}

/** Parse an rtpmap value (spaces tolerated). Throws MediaError('BAD_SDP') without payload type 0..127, encoding and clock rate. */
export function parseRtpmap(value: string): SdpRtpmap {
  const m = /^\s*(\d{1,3})\s+([^\s/]+)\s*\/\s*(\d{1,10})\s*(?:\/\s*([^\s/]*)\s*)?\/?\s*$/.exec(value);
  if (!m) badSdp(`rtpmap '${clip(value)}' is not '<pt> <encoding>/<clock rate>[/<channels>]'`);
  const payloadType = Number(m[1]);
  const clockRate = Number(m[3]);
  if (payloadType > 127) badSdp(`rtpmap payload type ${payloadType} is outside 0..127`);
  if (clockRate === 0) badSdp('rtpmap clock rate 0');
  const r: SdpRtpmap = { payloadType, encoding: m[2], clockRate };
  if (m[4] && /^\d{1,3}$/.test(m[4]) && Number(m[4]) > 0) r.channels = Number(m[4]);
  return r;
}

/** `a=fmtp:<pt> <key>=<value>;...` */
export interface SdpFmtp {
  payloadType: number;
  /**
   * Keys lowercased, values as written (base64 padding kept: only the first '=' splits); a parameter
   * without '=' gets ''. The first of repeated keys wins. A null-prototype object.
   */
  params: Record<string, string>;
}

/** Parse an fmtp value, tolerating spaces around ';' and '=' and empty parameters. Throws MediaError('BAD_SDP') without a payload type 0..127. */
export function parseFmtp(value: string): SdpFmtp {
  const m = /^\s*(\d{1,3})(?:\s+([^]*))?$/.exec(value);
  if (!m || Number(m[1]) > 127) badSdp(`fmtp '${clip(value)}' does not start with a payload type 0..127`);
  const params: Record<string, string> = Object.create(null);
  for (const part of (m[2] ?? '').split(';')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (key === '' || key in params) continue;
    params[key] = eq < 0 ? '' : p.slice(eq + 1).trim();
  }
  return { payloadType: Number(m[1]), params };
}

/** An fmtp value: `<pt> k=v;k=v` (a parameter with value '' is written as its key alone). */
export function formatFmtp(payloadType: number, params: Readonly<Record<string, string>>): string {
  const parts = Object.entries(params).map(([k, v]) => (v === '' ? k : `${k}=${v}`));
  return parts.length > 0 ? `${payloadType} ${parts.join(';')}` : String(payloadType);
}

const DIRECTIONS: readonly SdpDirection[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];

/** Direction of a media section (RFC 8866 6.7): its own attribute, else the session's, else sendrecv. */
export function mediaDirection(media: Pick<SdpMedia, 'attributes'>, session?: Pick<SessionDescription, 'attributes'>): SdpDirection {
  const find = (attrs: readonly SdpAttribute[]) => attrs.map((a) => a.name.toLowerCase()).find((n): n is SdpDirection => (DIRECTIONS as readonly string[]).includes(n));
  return find(media.attributes) ?? (session ? find(session.attributes) : undefined) ?? 'sendrecv';
}

/**
 * The URL a control attribute names (RFC 2326 C.1.1, RFC 7826 18.33), given the base (Content-Base,
 * Content-Location or the request URL). An absolute URL (`scheme://...`) is kept as is; a missing or empty
 * control and `*` mean the base itself; a control starting with '/' replaces the base's path; one starting
 * with '?' is appended to the base; any other is appended with exactly one '/' between. The base's query is
 * kept where it is, before the appended part (`rtsp://cam/x?channel=1` + `trackID=0` ->
 * `rtsp://cam/x?channel=1/trackID=0`), the way ffmpeg, live555 and the cameras built against them do.
 */
export function resolveControlUrl(base: string, control: string | undefined): string {
  const c = control?.trim() ?? '';
  if (c === '' || c === '*') return base;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(c)) return c;
  if (c.startsWith('?')) return base + c;
  if (c.startsWith('/')) {
    const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(base);
    if (origin) return origin[0] + c;
  }
  return `${base.replace(/\/+$/, '')}/${c.replace(/^\/+/, '')}`;
}
