import { createHash, timingSafeEqual } from 'node:crypto';

/** Query parameters of a signed stream URL (Monibuca's names). */
export const SIGNATURE_PARAM = 'secret';
export const EXPIRE_PARAM = 'expire';

/** At most 13 hex digits: enough for any Unix time in seconds, and never beyond Number's exact range. */
const EXPIRE_PATTERN = /^[0-9a-fA-F]{1,13}$/;
const SIGNATURE_PATTERN = /^[0-9a-fA-F]{32}$/;

/**
 * Monibuca's URL signature: md5 hex of key + streamPath + expire, where `expire` is the text of the query
 * parameter exactly as sent (hex Unix seconds).
 */
export function signStreamPath(key: string, streamPath: string, expire: string): string {
  return createHash('md5').update(key + streamPath + expire, 'utf8').digest('hex');
}

/** `expire` for a URL valid until `unixSeconds`. */
export function expireParam(unixSeconds: number): string {
  return Math.floor(unixSeconds).toString(16);
}

/** The query string (`secret=...&expire=...`) that lets a URL through until `unixSeconds`. */
export function signedQuery(key: string, streamPath: string, unixSeconds: number): string {
  const expire = expireParam(unixSeconds);
  return `${SIGNATURE_PARAM}=${signStreamPath(key, streamPath, expire)}&${EXPIRE_PARAM}=${expire}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * Checks `secret` and `expire` of a URL for `streamPath` against `key`: the signature must be 32 hex digits
 * (either case) equal to md5(key + streamPath + expire), compared in constant time, and `expire` a hex Unix
 * time not yet passed at `nowSeconds`.
 */
export function verifyStreamSignature(
  key: string,
  streamPath: string,
  secret: string | null | undefined,
  expire: string | null | undefined,
  nowSeconds: number,
): SignatureCheck {
  if (!secret || !expire) return { ok: false, reason: `a signed URL is required (query ${SIGNATURE_PARAM} and ${EXPIRE_PARAM})` };
  if (!EXPIRE_PATTERN.test(expire)) return { ok: false, reason: `${EXPIRE_PARAM} must be hex Unix seconds` };
  if (Number.parseInt(expire, 16) < nowSeconds) return { ok: false, reason: 'the signed URL has expired' };
  if (!SIGNATURE_PATTERN.test(secret)) return { ok: false, reason: `${SIGNATURE_PARAM} must be 32 hex digits` };
  const expected = Buffer.from(signStreamPath(key, streamPath, expire), 'hex');
  const given = Buffer.from(secret, 'hex');
  if (!timingSafeEqual(expected, given)) return { ok: false, reason: `wrong ${SIGNATURE_PARAM} for ${streamPath}` };
  return { ok: true };
}
