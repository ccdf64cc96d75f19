import { createHash } from 'node:crypto';
import { expireParam, signedQuery, signStreamPath, verifyStreamSignature } from './url-signing';

const KEY = 'publish-key';
const PATH = 'live/cam1';
const NOW = 1_700_000_000;
const FUTURE = expireParam(NOW + 60);
const GOOD = signStreamPath(KEY, PATH, FUTURE);

describe('stream URL signing', () => {
  it('is md5 hex of key + streamPath + expire (Monibuca)', () => {
    expect(signStreamPath('k', 'live/a', '6553f100')).toBe(createHash('md5').update('klive/a6553f100').digest('hex'));
    expect(expireParam(0x6553f100)).toBe('6553f100');
  });

  it('builds a query that verifies', () => {
    const query = new URLSearchParams(signedQuery(KEY, PATH, NOW + 5));
    expect(verifyStreamSignature(KEY, PATH, query.get('secret'), query.get('expire'), NOW)).toEqual({ ok: true });
  });

  it.each([
    ['a valid signature', GOOD, FUTURE, NOW, true, ''],
    ['uppercase hex', GOOD.toUpperCase(), FUTURE, NOW, true, ''],
    ['expire equal to now', signStreamPath(KEY, PATH, expireParam(NOW)), expireParam(NOW), NOW, true, ''],
    ['uppercase expire (signed as sent)', signStreamPath(KEY, PATH, FUTURE.toUpperCase()), FUTURE.toUpperCase(), NOW, true, ''],
    ['no secret', undefined, FUTURE, NOW, false, 'signed URL is required'],
    ['no expire', GOOD, null, NOW, false, 'signed URL is required'],
    ['empty secret', '', FUTURE, NOW, false, 'signed URL is required'],
    ['expired', signStreamPath(KEY, PATH, expireParam(NOW - 1)), expireParam(NOW - 1), NOW, false, 'expired'],
    ['expire not hex', GOOD, 'zz', NOW, false, 'hex Unix seconds'],
    ['expire too long', GOOD, '1'.repeat(14), NOW, false, 'hex Unix seconds'],
    ['expire with a sign', GOOD, '-1', NOW, false, 'hex Unix seconds'],
    ['secret one digit short', GOOD.slice(1), FUTURE, NOW, false, '32 hex digits'],
    ['secret one digit long', GOOD + '0', FUTURE, NOW, false, '32 hex digits'],
    ['secret not hex', 'g'.repeat(32), FUTURE, NOW, false, '32 hex digits'],
    ['secret of another path', signStreamPath(KEY, 'live/cam2', FUTURE), FUTURE, NOW, false, 'wrong secret'],
    ['secret of another key', signStreamPath('other', PATH, FUTURE), FUTURE, NOW, false, 'wrong secret'],
    ['secret for another expire', signStreamPath(KEY, PATH, expireParam(NOW + 61)), FUTURE, NOW, false, 'wrong secret'],
    ['expire moved later', GOOD, expireParam(NOW + 3600), NOW, false, 'wrong secret'],
  ])('%s', (_name, secret, expire, now, ok, reason) => {
    const result = verifyStreamSignature(KEY, PATH, secret, expire, now);
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.reason).toContain(reason);
  });
});
