/**
 * The Transport header (RFC 2326 12.39, RFC 7826 18.54): the client's offers in SETUP, the server's choice
 * in the reply.
 */
import { RtspProtocolError } from './rtsp-message';

export interface RtspTransport {
  /** The transport spec as written: `RTP/AVP`, `RTP/AVP/TCP`, `RTP/AVP/UDP`, `RTP/SAVP`... */
  protocol: string;
  /** From the spec's third part; `RTP/AVP` alone means UDP. */
  lowerTransport: 'UDP' | 'TCP';
  /** `multicast` given (unicast is the default). */
  multicast: boolean;
  /** RTP and RTCP channels of interleaved frames (TCP). */
  interleaved?: [number, number];
  clientPort?: [number, number];
  serverPort?: [number, number];
  /** RTP and RTCP ports of a multicast group. */
  port?: [number, number];
  destination?: string;
  source?: string;
  ttl?: number;
  ssrc?: number;
  /** As written, quotes removed (`play`, `PLAY`, `record`, `receive`): compare case-insensitively. */
  mode?: string;
  /** Every parameter as written (quotes removed), `unicast`/`multicast` and unknown ones included. */
  params: Record<string, string>;
}

/** More alternatives than this in one header is not a client offering transports. */
const MAX_ALTERNATIVES = 16;

/** Splits on `sep` outside double quotes. */
function splitOutsideQuotes(value: string, sep: string): string[] {
  const parts: string[] = [];
  let inQuotes = false;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (c === sep && !inQuotes) {
      parts.push(value.slice(from, i));
      from = i + 1;
    }
  }
  parts.push(value.slice(from));
  return parts;
}

function unquote(v: string): string {
  const t = v.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

function badTransport(what: string): RtspProtocolError {
  return new RtspProtocolError('BAD_TRANSPORT', `Transport: ${what}`, 400);
}

/** `a-b`, or `a` meaning [a, a+1] (RFC 2326 12.39: the RTCP port or channel follows the RTP one). */
function parsePair(key: string, v: string, max: number): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v.trim());
  if (!m) throw badTransport(`${key}=${v.slice(0, 40)}`);
  const first = Number(m[1]);
  const second = m[2] === undefined ? first + 1 : Number(m[2]);
  if (first > max || second > max + 1) throw badTransport(`${key}=${v.slice(0, 40)}`);
  return [first, second];
}

/**
 * The alternatives of a Transport header, in the order given (the client's preference). An empty value
 * gives none. Throws RtspProtocolError BAD_TRANSPORT (400) when a field we interpret is malformed (ports,
 * channels, ttl); parameters we do not interpret are kept in `params` whatever they hold.
 */
export function parseTransportHeader(value: string): RtspTransport[] {
  const out: RtspTransport[] = [];
  const alternatives = splitOutsideQuotes(value, ',').filter((a) => a.trim() !== '');
  if (alternatives.length > MAX_ALTERNATIVES) throw badTransport(`${alternatives.length} alternatives`);
  for (const alternative of alternatives) {
    const [spec, ...rest] = splitOutsideQuotes(alternative, ';').map((p) => p.trim());
    if (!/^[A-Za-z0-9.-]+(\/[A-Za-z0-9.-]+){1,2}$/.test(spec)) throw badTransport(`transport spec ${JSON.stringify(spec.slice(0, 40))}`);
    const lower = spec.split('/')[2]?.toUpperCase();
    if (lower !== undefined && lower !== 'TCP' && lower !== 'UDP') throw badTransport(`lower transport ${lower.slice(0, 10)}`);
    const t: RtspTransport = { protocol: spec, lowerTransport: lower === 'TCP' ? 'TCP' : 'UDP', multicast: false, params: {} };
    for (const param of rest) {
      if (param === '') continue;
      const eq = param.indexOf('=');
      const key = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
      const raw = eq < 0 ? '' : unquote(param.slice(eq + 1));
      if (key === '' || key === '__proto__') continue;
      t.params[key] = raw;
      switch (key) {
        case 'multicast':
          t.multicast = true;
          break;
        case 'unicast':
          t.multicast = false;
          break;
        case 'interleaved':
          t.interleaved = parsePair(key, raw, 255);
          break;
        case 'client_port':
          t.clientPort = parsePair(key, raw, 65535);
          break;
        case 'server_port':
          t.serverPort = parsePair(key, raw, 65535);
          break;
        case 'port':
          t.port = parsePair(key, raw, 65535);
          break;
        case 'destination':
          if (raw !== '') t.destination = raw;
          break;
        case 'source':
          if (raw !== '') t.source = raw;
          break;
        case 'ttl':
          if (!/^\d{1,3}$/.test(raw) || Number(raw) > 255) throw badTransport(`ttl=${raw.slice(0, 10)}`);
          t.ttl = Number(raw);
          break;
        case 'ssrc':
          // 8 hex digits by the RFC; some cameras write fewer, or a list in RFC 7826: take the first
          if (/^[0-9A-Fa-f]{1,8}(\/|$)/.test(raw)) t.ssrc = parseInt(raw, 16);
          break;
        case 'mode':
          if (raw !== '') t.mode = raw;
          break;
      }
    }
    out.push(t);
  }
  return out;
}

const pair = (p: [number, number]) => `${p[0]}-${p[1]}`;

/** Parameters formatTransport writes from the typed fields (the rest of `params` follows them). */
const TYPED_PARAMS = new Set(['unicast', 'multicast', 'destination', 'source', 'interleaved', 'client_port', 'server_port', 'port', 'ttl', 'ssrc', 'mode']);

/**
 * A Transport header value for one transport: the spec, unicast/multicast, then the typed fields, then the
 * other `params` as given. `mode` is written without quotes (ffmpeg only recognizes it so).
 */
export function formatTransport(t: RtspTransport): string {
  const parts = [t.protocol, t.multicast ? 'multicast' : 'unicast'];
  if (t.destination !== undefined) parts.push(`destination=${t.destination}`);
  if (t.source !== undefined) parts.push(`source=${t.source}`);
  if (t.interleaved) parts.push(`interleaved=${pair(t.interleaved)}`);
  if (t.clientPort) parts.push(`client_port=${pair(t.clientPort)}`);
  if (t.serverPort) parts.push(`server_port=${pair(t.serverPort)}`);
  if (t.port) parts.push(`port=${pair(t.port)}`);
  if (t.ttl !== undefined) parts.push(`ttl=${t.ttl}`);
  if (t.ssrc !== undefined) parts.push(`ssrc=${(t.ssrc >>> 0).toString(16).toUpperCase().padStart(8, '0')}`);
  if (t.mode !== undefined) parts.push(`mode=${t.mode}`);
  for (const [key, value] of Object.entries(t.params)) {
    if (TYPED_PARAMS.has(key.toLowerCase())) continue;
    parts.push(value === '' ? key : /[;,\s"]/.test(value) ? `${key}="${value.replace(/"/g, '')}"` : `${key}=${value}`);
  }
  return parts.join(';');
}
