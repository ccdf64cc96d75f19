/**
 * rtsp:// and rtsps:// URLs (RFC 2326 3.2, RFC 7826 4.2) as cameras and users write them: credentials
 * with unescaped `@` (and even `/`, `?`, `#`) in the password, IPv6 literals, request URIs in absolute or
 * path form, and the stream path / track control split of a SETUP URI.
 */
import { RtspProtocolError } from './rtsp-message';

export interface ParsedRtspUrl {
  /** rtsps:// (RTSP over TLS). */
  secure: boolean;
  /** Host name or address; an IPv6 literal without its brackets. */
  host: string;
  /** Given, else 554 (rtsp) or 322 (rtsps). */
  port: number;
  username?: string;
  password?: string;
  /** Without the leading `/`, percent-decoded. */
  path: string;
  /** Raw, without the `?` (empty when none). */
  query: string;
}

const DEFAULT_PORT = { rtsp: 554, rtsps: 322 };
/** Longest URL looked at: request lines are bounded by the decoder anyway. */
const MAX_URL_LENGTH = 8192;
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+(?:%[\w.~-]+)?\]|[A-Za-z0-9._~%-]+)(?::(\d*))?$/;

function badUrl(url: string, why: string): RtspProtocolError {
  return new RtspProtocolError('BAD_URL', `${why}: ${JSON.stringify(url.slice(0, 120))}`, 400);
}

/** Percent-decoding that keeps a malformed escape as written instead of throwing. */
function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const firstOf = (s: string, chars: string, from = 0): number => {
  for (let i = from; i < s.length; i++) if (chars.includes(s[i])) return i;
  return s.length;
};

interface UrlParts {
  scheme: 'rtsp' | 'rtsps';
  /** Everything after `scheme://`. */
  rest: string;
  /** Index in `rest` of the `@` ending the credentials, -1 without. */
  at: number;
  /** Index in `rest` where the authority ends (path, query or fragment start). */
  authorityEnd: number;
}

function splitUrl(url: string): UrlParts {
  if (url.length > MAX_URL_LENGTH) throw badUrl(url, 'URL too long');
  const m = /^(rtsps?):\/\//i.exec(url);
  if (!m) throw badUrl(url, 'not an rtsp:// or rtsps:// URL');
  const scheme = m[1].toLowerCase() as 'rtsp' | 'rtsps';
  const rest = url.slice(m[0].length);
  let authorityEnd = firstOf(rest, '/?#');
  let at = rest.lastIndexOf('@', authorityEnd - 1);
  if (at < 0 && authorityEnd < rest.length && !HOST_PORT.test(rest.slice(0, authorityEnd)) && rest.slice(0, authorityEnd).includes(':')) {
    // `user:pa/ss@host/...`: what precedes the first `/` is no host, so look for the `@` that ends the
    // credentials further on, before something that is a host
    let tries = 8; // bounds the work on hostile input
    for (let i = rest.indexOf('@', authorityEnd); i >= 0 && tries-- > 0; i = rest.indexOf('@', i + 1)) {
      const end = firstOf(rest, '/?#', i + 1);
      if (HOST_PORT.test(rest.slice(i + 1, end))) {
        at = i;
        authorityEnd = end;
        break;
      }
    }
  }
  return { scheme, rest, at, authorityEnd };
}

/**
 * The parts of an rtsp:// or rtsps:// URL. Throws RtspProtocolError BAD_URL (400) for another scheme, an
 * empty or malformed host, or a port outside 1..65535.
 */
export function parseRtspUrl(url: string): ParsedRtspUrl {
  const { scheme, rest, at, authorityEnd } = splitUrl(url);
  const hostPort = rest.slice(at + 1, authorityEnd);
  const h = HOST_PORT.exec(hostPort);
  if (!h) throw badUrl(url, 'bad host');
  let port = DEFAULT_PORT[scheme];
  if (h[2] !== undefined && h[2] !== '') {
    port = Number(h[2]);
    if (h[2].length > 5 || port < 1 || port > 65535) throw badUrl(url, 'bad port');
  }
  const host = h[1].startsWith('[') ? decode(h[1].slice(1, -1)) : decode(h[1]);
  if (host === '') throw badUrl(url, 'empty host');
  const parsed: ParsedRtspUrl = { secure: scheme === 'rtsps', host, port, path: '', query: '' };
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    parsed.username = decode(colon < 0 ? userinfo : userinfo.slice(0, colon));
    if (colon >= 0) parsed.password = decode(userinfo.slice(colon + 1));
  }
  const tail = rest.slice(authorityEnd);
  const queryAt = firstOf(tail, '?#');
  parsed.path = decode(tail.slice(0, queryAt).replace(/^\/+/, ''));
  if (tail[queryAt] === '?') parsed.query = tail.slice(queryAt + 1, firstOf(tail, '#', queryAt + 1));
  return parsed;
}

/** The URL without `user:password@`, otherwise exactly as given (for logs and the request line). */
export function rtspUrlWithoutCredentials(url: string): string {
  const { scheme, rest, at } = splitUrl(url);
  return at < 0 ? url : `${url.slice(0, scheme.length)}://${rest.slice(at + 1)}`;
}

/**
 * The stream path a request URI names: absolute (`rtsp://host:8554/live/cam1/?token=x`) or path form
 * (`/live/cam1`), without the query, without leading and trailing slashes, percent-decoded; `*` gives ''.
 * Throws RtspProtocolError BAD_URL (400) for another scheme, and for a path with a `..` segment or a NUL
 * (a stream path may become a file path later).
 */
export function streamPathOf(requestUri: string): string {
  if (requestUri === '*') return '';
  let path: string;
  if (requestUri.startsWith('/')) {
    if (requestUri.length > MAX_URL_LENGTH) throw badUrl(requestUri, 'URL too long');
    path = decode(requestUri.slice(0, firstOf(requestUri, '?#')));
  } else {
    path = parseRtspUrl(requestUri).path;
  }
  path = path.replace(/^\/+/, '').replace(/\/+$/, '');
  if (path.includes('\0') || path.split('/').some((segment) => segment === '..')) throw badUrl(requestUri, 'bad stream path');
  return path;
}

/**
 * Splits a SETUP URI path (`live/cam1/trackID=1`) into the stream path and the track control it ends with,
 * among the `controls` the session handed out (relative names such as `trackID=1` or `streamid=0`; a
 * longer one wins, exact case before any case). Without a match the whole path is the stream path.
 */
export function splitControl(path: string, controls: readonly string[]): { streamPath: string; control?: string } {
  const p = path.replace(/^\/+/, '').replace(/\/+$/, '');
  const candidates = controls
    .map((control) => ({ control, name: control.replace(/^\/+/, '').replace(/\/+$/, '') }))
    .filter((c) => c.name !== '' && !/^rtsps?:\/\//i.test(c.name))
    .sort((a, b) => b.name.length - a.name.length);
  for (const fold of [false, true]) {
    const target = fold ? p.toLowerCase() : p;
    for (const { control, name } of candidates) {
      const n = fold ? name.toLowerCase() : name;
      if (target === n) return { streamPath: '', control };
      if (target.endsWith(`/${n}`)) return { streamPath: p.slice(0, p.length - n.length - 1), control };
    }
  }
  return { streamPath: p };
}
