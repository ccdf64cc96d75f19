import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  authorizationHeader,
  basicChallenge,
  checkNonce,
  createNonce,
  DigestAuthorization,
  digestChallenge,
  parseAuthorization,
  parseWwwAuthenticate,
  verifyDigest,
} from './rtsp-auth';
import { RtspProtocolError } from './rtsp-message';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

// RFC 2617 section 3.5 (its example response is right for the password "Circle Of Life").
const RFC2617_AUTHORIZATION =
  'Digest username="Mufasa",\r\n realm="testrealm@host.com",\r\n nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",\r\n uri="/dir/index.html",\r\n qop=auth,\r\n nc=00000001,\r\n cnonce="0a4f113b",\r\n response="6629fae49393a05397450978507c4ef1",\r\n opaque="5ccc069c403ebaf9f0171e9517f40e41"';

describe('server side', () => {
  it('writes Basic and Digest challenges (no qop: live555 clients ignore it)', () => {
    expect(basicChallenge('m7s')).toBe('Basic realm="m7s"');
    expect(digestChallenge('m7s', 'abc')).toBe('Digest realm="m7s", nonce="abc"');
    expect(digestChallenge('say "hi"\\', 'abc', true)).toBe('Digest realm="say \\"hi\\"\\\\", nonce="abc", stale=TRUE');
  });

  it('reads and verifies the RFC 2617 3.5 example (method GET)', () => {
    const auth = parseAuthorization(RFC2617_AUTHORIZATION);
    expect(auth).toEqual({
      scheme: 'digest',
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
      response: '6629fae49393a05397450978507c4ef1',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    });
    const digest = auth as DigestAuthorization;
    expect(verifyDigest(digest, 'GET', 'Circle Of Life', 'testrealm@host.com')).toBe(true);
    expect(verifyDigest(digest, 'GET', 'circle of life', 'testrealm@host.com')).toBe(false);
    expect(verifyDigest(digest, 'POST', 'Circle Of Life', 'testrealm@host.com')).toBe(false);
    expect(verifyDigest(digest, 'GET', 'Circle Of Life', 'other realm')).toBe(false);
    expect(verifyDigest({ ...digest, response: digest.response.toUpperCase() }, 'GET', 'Circle Of Life', 'testrealm@host.com')).toBe(true);
    expect(verifyDigest({ ...digest, qop: 'auth-int' }, 'GET', 'Circle Of Life', 'testrealm@host.com')).toBe(false);
    expect(verifyDigest({ ...digest, cnonce: undefined }, 'GET', 'Circle Of Life', 'testrealm@host.com')).toBe(false);
    expect(verifyDigest({ ...digest, response: 'short' }, 'GET', 'Circle Of Life', 'testrealm@host.com')).toBe(false);
  });

  it('verifies the RFC 2069 form live555 (VLC) sends', () => {
    const ha1 = md5('admin:m7s:secret');
    const ha2 = md5('DESCRIBE:rtsp://127.0.0.1:8554/live/test');
    const response = md5(`${ha1}:n0nce:${ha2}`);
    const header = `Digest username="admin", realm="m7s", nonce="n0nce", uri="rtsp://127.0.0.1:8554/live/test", response="${response}"`;
    const auth = parseAuthorization(header) as DigestAuthorization;
    expect(verifyDigest(auth, 'DESCRIBE', 'secret', 'm7s')).toBe(true);
    expect(verifyDigest({ ...auth, algorithm: 'SHA-512' }, 'DESCRIBE', 'secret', 'm7s')).toBe(false);
  });

  it('reads Basic credentials with a colon in the password', () => {
    expect(parseAuthorization(`Basic ${Buffer.from('admin:pa:ss@1').toString('base64')}`)).toEqual({ scheme: 'basic', username: 'admin', password: 'pa:ss@1' });
    expect(parseAuthorization(`basic   ${Buffer.from('nocolon').toString('base64')}`)).toBeUndefined();
  });

  it('refuses what it cannot use', () => {
    for (const v of ['', 'Bearer abc', 'Digest username="a", realm="b", nonce="c", uri="d"', 'Digest', 'Basic', 'Basic !!!', '=', '"', 'Digest ="x"']) {
      expect(parseAuthorization(v)).toBeUndefined();
    }
  });

  it('makes stateless nonces that expire and cannot be forged', () => {
    const secret = Buffer.from('0123456789abcdef0123456789abcdef');
    const now = 1_704_189_600_000;
    const nonce = createNonce(secret, now);
    expect(nonce).toMatch(/^[0-9a-f]{60}$/);
    expect(createNonce(secret, now)).not.toBe(nonce);
    expect(checkNonce(secret, nonce, now + 1000, 60_000)).toBe('ok');
    expect(checkNonce(secret, nonce, now + 60_001, 60_000)).toBe('stale');
    expect(checkNonce(secret, nonce, now - 120_000, 60_000)).toBe('stale');
    expect(checkNonce(Buffer.from('another secret'), nonce, now, 60_000)).toBe('bad');
    const forged = (parseInt(nonce.slice(0, 12), 16) + 100_000).toString(16).padStart(12, '0') + nonce.slice(12);
    expect(checkNonce(secret, forged, now + 100_000, 60_000)).toBe('bad');
    expect(checkNonce(secret, 'dcd98b7102dd2f0e8b11d0f600bfb0c093', now, 60_000)).toBe('bad');
    expect(checkNonce(secret, nonce.toUpperCase(), now, 60_000)).toBe('bad');
  });
});

describe('client side', () => {
  it('reads challenges as cameras write them', () => {
    expect(
      parseWwwAuthenticate([
        'Digest realm="LIVE555 Streaming Media", nonce="a0d3f1f9b1b5e9d2c4e1a7b3c9f0e2d1"',
        'Basic realm="LIVE555 Streaming Media"',
        // Hikvision-style: quoted stale, no space after commas
        'Digest realm="IP Camera(C2358)",nonce="4e5449794d5445354e6a51364e6a45324d7a593d",stale="FALSE"',
        // Dahua-style: qop list, opaque, unquoted algorithm, spaces around =
        'Digest realm = "Login to 4K05A6DPAZ8C3C4", qop="auth,auth-int", nonce="1284393851", opaque = "b2e7f9", algorithm=MD5',
        // two challenges in one value, a scheme we do not know
        'Digest realm="a", nonce="n1", stale=true, Basic realm="a"',
        'Bearer realm="x", Digest realm="no nonce"',
      ]),
    ).toEqual([
      { scheme: 'digest', realm: 'LIVE555 Streaming Media', nonce: 'a0d3f1f9b1b5e9d2c4e1a7b3c9f0e2d1' },
      { scheme: 'basic', realm: 'LIVE555 Streaming Media' },
      { scheme: 'digest', realm: 'IP Camera(C2358)', nonce: '4e5449794d5445354e6a51364e6a45324d7a593d', stale: false },
      { scheme: 'digest', realm: 'Login to 4K05A6DPAZ8C3C4', nonce: '1284393851', qop: ['auth', 'auth-int'], opaque: 'b2e7f9', algorithm: 'MD5' },
      { scheme: 'digest', realm: 'a', nonce: 'n1', stale: true },
      { scheme: 'basic', realm: 'a' },
    ]);
  });

  it('answers the RFC 2617 3.5 challenge with the RFC response', () => {
    const [challenge] = parseWwwAuthenticate([
      'Digest\r\n realm="testrealm@host.com",\r\n qop="auth,auth-int",\r\n nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",\r\n opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    ]);
    const header = authorizationHeader(challenge, { username: 'Mufasa', password: 'Circle Of Life' }, 'GET', '/dir/index.html', 1, '0a4f113b');
    expect(header).toBe(
      'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001, cnonce="0a4f113b"',
    );
  });

  it('prefers Digest, answers Basic when it is all there is', () => {
    const challenges = parseWwwAuthenticate(['Basic realm="cam"', 'Digest realm="cam", nonce="xyz"']);
    expect(authorizationHeader(challenges, { username: 'u', password: 'p' }, 'OPTIONS', '*')).toMatch(/^Digest username="u", realm="cam", nonce="xyz", uri="\*", response="[0-9a-f]{32}"$/);
    expect(authorizationHeader(challenges[0], { username: 'admin', password: 'pass' }, 'OPTIONS', '*')).toBe('Basic YWRtaW46cGFzcw==');
    expect(() => authorizationHeader({ scheme: 'digest', realm: 'a', nonce: 'b', algorithm: 'SHA-512-256' }, { username: 'u', password: 'p' }, 'OPTIONS', '*')).toThrow(RtspProtocolError);
  });

  it('round-trips with the server for every digest flavour and awkward credentials', () => {
    const secret = Buffer.from('s3cret');
    const now = 1_700_000_000_000;
    const credentials = { username: 'ad"min\\', password: 'p@ss:wörd"' };
    for (const extra of ['', ', qop="auth"', ', algorithm=MD5-sess', ', algorithm="SHA-256", qop=auth', ', opaque="zz", algorithm=MD5']) {
      const nonce = createNonce(secret, now);
      const challenges = parseWwwAuthenticate([digestChallenge('m7s "realm"', nonce) + extra, basicChallenge('m7s')]);
      for (let nc = 1; nc <= 3; nc++) {
        const header = authorizationHeader(challenges, credentials, 'SETUP', 'rtsp://10.0.0.2:8554/live/cam1/trackID=0', nc);
        const auth = parseAuthorization(header);
        expect(auth?.scheme).toBe('digest');
        if (auth?.scheme !== 'digest') return;
        expect(auth.username).toBe(credentials.username);
        expect(checkNonce(secret, auth.nonce, now + 5000, 60_000)).toBe('ok');
        expect(verifyDigest(auth, 'SETUP', credentials.password, 'm7s "realm"')).toBe(true);
        expect(verifyDigest(auth, 'PLAY', credentials.password, 'm7s "realm"')).toBe(false);
      }
    }
    const basic = parseAuthorization(authorizationHeader({ scheme: 'basic', realm: 'm7s' }, credentials, 'PLAY', '*'));
    expect(basic).toEqual({ scheme: 'basic', ...credentials });
  });

  it('never throws on random header values', () => {
    const s = fc.string({ unit: fc.constantFrom('D', 'i', 'g', 'e', 's', 't', 'B', 'a', 'c', ' ', ',', '=', '"', '\\', 'r', 'l', 'm', 'n', 'o', 'q', 'p', 'u', '\t') });
    fc.assert(
      fc.property(fc.oneof(s, fc.string()), (v) => {
        parseWwwAuthenticate([v]);
        parseAuthorization(v);
        checkNonce(Buffer.from('k'), v, 0, 1000);
      }),
      { numRuns: 1000 },
    );
  });
});
