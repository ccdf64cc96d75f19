/**
 * HTTP authentication as RTSP uses it (RFC 2326 appendix, RFC 2617, RFC 7616): Basic and Digest with MD5,
 * for the server (challenges, checking an Authorization header, stateless nonces) and the client (reading
 * challenges as cameras write them, answering them).
 *
 * The server's Digest challenge carries no `qop` and no `algorithm`: live555-based clients (VLC, many NVRs)
 * always answer with the RFC 2069 form `MD5(HA1:nonce:HA2)`, so offering qop would make them fail; clients
 * that do use qop=auth are still accepted.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RtspProtocolError } from './rtsp-message';

export interface BasicAuthorization {
  scheme: 'basic';
  username: string;
  password: string;
}

export interface DigestAuthorization {
  scheme: 'digest';
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  algorithm?: string;
  opaque?: string;
}

export type RtspAuthorization = BasicAuthorization | DigestAuthorization;

export interface BasicChallenge {
  scheme: 'basic';
  realm: string;
}

export interface DigestChallenge {
  scheme: 'digest';
  realm: string;
  nonce: string;
  opaque?: string;
  /** The qop options offered (`auth`, `auth-int`), lower case. */
  qop?: string[];
  algorithm?: string;
  stale?: boolean;
}

export type RtspChallenge = BasicChallenge | DigestChallenge;

export interface RtspCredentials {
  username: string;
  password: string;
}

/** Longest Authorization / WWW-Authenticate value looked at (the decoder already bounds header blocks). */
const MAX_AUTH_HEADER = 4096;

/** A quoted-string per RFC 7230 3.2.6 (backslash escapes `"` and `\`). */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** WWW-Authenticate value of a Basic challenge. */
export function basicChallenge(realm: string): string {
  return `Basic realm=${quote(realm)}`;
}

/** WWW-Authenticate value of a Digest challenge (MD5, no qop: see the file comment). */
export function digestChallenge(realm: string, nonce: string, stale = false): string {
  return `Digest realm=${quote(realm)}, nonce=${quote(nonce)}${stale ? ', stale=TRUE' : ''}`;
}

/**
 * One header value as a sequence of challenges or credentials: a bare token starts a new scheme, `k=v` and
 * `k="v"` are its parameters (keys lower-cased), separated by commas and/or whitespace, so the variants
 * cameras send (no spaces after commas, spaces around `=`, unquoted values, several challenges in one
 * value) all read the same.
 */
function parseAuthItems(value: string): { scheme: string; params: Record<string, string> }[] {
  const s = value.slice(0, MAX_AUTH_HEADER);
  const items: { scheme: string; params: Record<string, string> }[] = [];
  let i = 0;
  const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n';
  const readToken = () => {
    const from = i;
    while (i < s.length && !isSpace(s[i]) && s[i] !== ',' && s[i] !== '=' && s[i] !== '"') i++;
    return s.slice(from, i);
  };
  while (i < s.length) {
    while (i < s.length && (isSpace(s[i]) || s[i] === ',')) i++;
    if (i >= s.length) break;
    const token = readToken();
    if (token === '') {
      i++; // a stray `=` or `"`: skip it
      continue;
    }
    let j = i;
    while (j < s.length && isSpace(s[j])) j++;
    if (s[j] !== '=') {
      items.push({ scheme: token.toLowerCase(), params: Object.create(null) as Record<string, string> });
      continue;
    }
    i = j + 1;
    while (i < s.length && isSpace(s[i])) i++;
    let v = '';
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        v += s[i++];
      }
      i++; // the closing quote (or past the end when it is missing)
    } else {
      const from = i;
      while (i < s.length && !isSpace(s[i]) && s[i] !== ',') i++;
      v = s.slice(from, i);
    }
    const current = items[items.length - 1];
    const key = token.toLowerCase();
    if (current && !(key in current.params)) current.params[key] = v;
  }
  return items;
}

/**
 * An Authorization header value, or undefined when it is missing, of another scheme, or malformed (the
 * server then answers 401 with fresh challenges).
 */
export function parseAuthorization(value: string): RtspAuthorization | undefined {
  const text = value.trim().slice(0, MAX_AUTH_HEADER);
  const basic = /^basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(text);
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    return { scheme: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const [item] = parseAuthItems(text);
  if (!item || item.scheme !== 'digest') return undefined;
  const p = item.params;
  if (p.username === undefined || p.realm === undefined || p.nonce === undefined || p.uri === undefined || p.response === undefined) return undefined;
  const auth: DigestAuthorization = { scheme: 'digest', username: p.username, realm: p.realm, nonce: p.nonce, uri: p.uri, response: p.response };
  for (const key of ['qop', 'nc', 'cnonce', 'algorithm', 'opaque'] as const) if (p[key] !== undefined) auth[key] = p[key];
  return auth;
}

type HashName = 'md5' | 'sha256';

/** The hash and whether it is a `-sess` variant for an algorithm name; undefined for ones we cannot do. */
function digestAlgorithm(algorithm: string | undefined): { hash: HashName; session: boolean } | undefined {
  switch ((algorithm ?? 'MD5').toUpperCase()) {
    case 'MD5':
      return { hash: 'md5', session: false };
    case 'MD5-SESS':
      return { hash: 'md5', session: true };
    case 'SHA-256':
      return { hash: 'sha256', session: false };
    case 'SHA-256-SESS':
      return { hash: 'sha256', session: true };
    default:
      return undefined;
  }
}

function hex(hash: HashName, text: string): string {
  return createHash(hash).update(text, 'utf8').digest('hex');
}

/** The request-digest of RFC 2617 3.2.2.1 (qop=auth, or none for RFC 2069 clients). */
function digestResponse(
  a: { hash: HashName; session: boolean },
  o: { username: string; realm: string; password: string; method: string; uri: string; nonce: string; qop?: string; nc?: string; cnonce?: string },
): string {
  let ha1 = hex(a.hash, `${o.username}:${o.realm}:${o.password}`);
  if (a.session) ha1 = hex(a.hash, `${ha1}:${o.nonce}:${o.cnonce ?? ''}`);
  const ha2 = hex(a.hash, `${o.method}:${o.uri}`);
  return o.qop ? hex(a.hash, `${ha1}:${o.nonce}:${o.nc}:${o.cnonce}:${o.qop}:${ha2}`) : hex(a.hash, `${ha1}:${o.nonce}:${ha2}`);
}

/**
 * Whether a Digest answer was made with `password` for this `method` and `realm` (qop=auth or none;
 * auth-int is refused). The response is compared in constant time. The nonce is checked separately
 * (checkNonce).
 */
export function verifyDigest(auth: DigestAuthorization, method: string, password: string, realm: string): boolean {
  if (auth.realm !== realm) return false;
  const algorithm = digestAlgorithm(auth.algorithm);
  if (!algorithm) return false;
  const qop = auth.qop?.toLowerCase();
  if (qop !== undefined && (qop !== 'auth' || auth.nc === undefined || auth.cnonce === undefined)) return false;
  if (algorithm.session && auth.cnonce === undefined) return false;
  // hashed with the qop as the client wrote it, as it did
  const expected = Buffer.from(digestResponse(algorithm, { ...auth, password, method }), 'latin1');
  const given = Buffer.from(auth.response.toLowerCase(), 'latin1');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const NONCE_PATTERN = /^([0-9a-f]{12})([0-9a-f]{16})([0-9a-f]{32})$/;

function nonceMac(secret: Buffer, stamp: string): string {
  return createHmac('sha256', secret).update(stamp, 'latin1').digest('hex').slice(0, 32);
}

/**
 * A stateless Digest nonce: the issue time (ms, 12 hex digits), 8 random bytes, and an HMAC-SHA256 of both
 * under `secret`, so any server holding the secret can check it without remembering it.
 */
export function createNonce(secret: Buffer, nowMs: number): string {
  const stamp = Math.max(0, Math.floor(nowMs)).toString(16).padStart(12, '0').slice(-12) + randomBytes(8).toString('hex');
  return stamp + nonceMac(secret, stamp);
}

/**
 * Checks a nonce made by createNonce: 'bad' when it is not ours (or malformed), 'stale' when it is ours
 * but older than maxAgeMs (or from the future by more than that: a clock step), else 'ok'. A stale nonce
 * deserves a new challenge with stale=TRUE (the client retries without asking the user).
 */
export function checkNonce(secret: Buffer, nonce: string, nowMs: number, maxAgeMs: number): 'ok' | 'stale' | 'bad' {
  const m = NONCE_PATTERN.exec(nonce);
  if (!m) return 'bad';
  const expected = Buffer.from(nonceMac(secret, m[1] + m[2]), 'latin1');
  if (!timingSafeEqual(expected, Buffer.from(m[3], 'latin1'))) return 'bad';
  const age = nowMs - parseInt(m[1], 16);
  return Math.abs(age) > maxAgeMs ? 'stale' : 'ok';
}

/**
 * The challenges of a 401's WWW-Authenticate headers (all of them: cameras send Digest and Basic as two
 * headers or in one). Unknown schemes and Digest challenges without a nonce are left out. Never throws.
 */
export function parseWwwAuthenticate(values: readonly string[]): RtspChallenge[] {
  const out: RtspChallenge[] = [];
  for (const value of values) {
    for (const { scheme, params } of parseAuthItems(value)) {
      if (scheme === 'basic') {
        out.push({ scheme: 'basic', realm: params.realm ?? '' });
      } else if (scheme === 'digest' && params.nonce !== undefined) {
        const challenge: DigestChallenge = { scheme: 'digest', realm: params.realm ?? '', nonce: params.nonce };
        if (params.opaque !== undefined) challenge.opaque = params.opaque;
        if (params.qop !== undefined) {
          challenge.qop = params.qop
            .split(',')
            .map((q) => q.trim().toLowerCase())
            .filter((q) => q !== '');
        }
        if (params.algorithm !== undefined) challenge.algorithm = params.algorithm;
        if (params.stale !== undefined) challenge.stale = params.stale.toLowerCase() === 'true';
        out.push(challenge);
      }
    }
  }
  return out;
}

/**
 * The Authorization header answering a challenge for one request. Given several challenges it picks a
 * Digest one it can compute (MD5, MD5-sess, SHA-256) over Basic. With qop=auth offered it answers with
 * qop=auth, `nc` (the count of requests made with this nonce, 1 for the first) and `cnonce` (random when
 * not given); else in the RFC 2069 form every camera accepts. Throws RtspProtocolError UNSUPPORTED_AUTH
 * when no challenge is usable (only unknown Digest algorithms).
 */
export function authorizationHeader(
  challenge: RtspChallenge | readonly RtspChallenge[],
  credentials: RtspCredentials,
  method: string,
  uri: string,
  nc = 1,
  cnonce?: string,
): string {
  const list: readonly RtspChallenge[] = Array.isArray(challenge) ? challenge : [challenge as RtspChallenge];
  const digest = list.find((c): c is DigestChallenge => c.scheme === 'digest' && digestAlgorithm(c.algorithm) !== undefined);
  if (!digest) {
    if (!list.some((c) => c.scheme === 'basic')) throw new RtspProtocolError('UNSUPPORTED_AUTH', 'no Basic or usable Digest challenge to answer', 401);
    return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
  }
  const algorithm = digestAlgorithm(digest.algorithm)!;
  const qop = digest.qop?.includes('auth') ? 'auth' : undefined;
  const ncText = (nc >>> 0).toString(16).padStart(8, '0');
  const clientNonce = cnonce ?? randomBytes(8).toString('hex');
  const useCnonce = qop !== undefined || algorithm.session;
  const response = digestResponse(algorithm, {
    username: credentials.username,
    realm: digest.realm,
    password: credentials.password,
    method,
    uri,
    nonce: digest.nonce,
    qop,
    nc: ncText,
    cnonce: clientNonce,
  });
  const parts = [
    `username=${quote(credentials.username)}`,
    `realm=${quote(digest.realm)}`,
    `nonce=${quote(digest.nonce)}`,
    `uri=${quote(uri)}`,
    `response=${quote(response)}`,
  ];
  if (digest.algorithm !== undefined) parts.push(`algorithm=${digest.algorithm}`);
  if (digest.opaque !== undefined) parts.push(`opaque=${quote(digest.opaque)}`);
  if (qop) parts.push(`qop=${qop}`, `nc=${ncText}`);
  if (useCnonce) parts.push(`cnonce=${quote(clientNonce)}`);
  return `Digest ${parts.join(', ')}`;
}
