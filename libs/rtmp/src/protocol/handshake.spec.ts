import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  digestOffset,
  findDigestScheme,
  GENUINE_FMS_KEY,
  GENUINE_FP_KEY,
  HANDSHAKE_SIZE,
  HandshakeResult,
  RtmpClientHandshake,
  RtmpServerHandshake,
} from './handshake';
import { RtmpProtocolError } from './rtmp.errors';
import { expectErrorCode } from '@m7s/test-kit/expect-error';

const ffmpegPublish = readFileSync(join(__dirname, '../../test-fixtures/ffmpeg-publish.bin'));
const FP_KEY_30 = GENUINE_FP_KEY.subarray(0, 30);
const FMS_KEY_36 = GENUINE_FMS_KEY.subarray(0, 36);
const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();

/** deterministic "random" bytes */
function seeded(seed: number): (n: number) => Buffer {
  let x = seed;
  return (n) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b[i] = x >>> 24;
    }
    return b;
  };
}

const expectRtmpError = (fn: () => unknown, code: string): void => expectErrorCode(fn, RtmpProtocolError, code);

/** runs a client against a server, passing bytes in pieces of `piece` bytes */
function converse(client: RtmpClientHandshake, server: RtmpServerHandshake, piece = 1 << 30, afterC2 = Buffer.alloc(0)) {
  const c0c1 = client.start();
  let s: HandshakeResult = { done: false };
  const sOut: Buffer[] = [];
  for (let i = 0; i < c0c1.length; i += piece) {
    s = server.push(c0c1.subarray(i, i + piece));
    if (s.send) sOut.push(s.send);
  }
  const s012 = Buffer.concat(sOut);
  let c: HandshakeResult = { done: false };
  for (let i = 0; i < s012.length; i += piece) c = client.push(s012.subarray(i, i + piece));
  expect(c.done).toBe(true);
  const c2 = Buffer.concat([c.send!, afterC2]);
  for (let i = 0; i < c2.length; i += piece) {
    s = server.push(c2.subarray(i, i + piece));
    if (!s.done) expect(s.rest).toBeUndefined();
  }
  return { s012, c, s };
}

describe('RtmpServerHandshake with a real FFmpeg C0+C1 (digest, scheme 1)', () => {
  const c0c1 = ffmpegPublish.subarray(0, 1 + HANDSHAKE_SIZE);
  const c1 = c0c1.subarray(1);

  it('detects the client digest and answers a valid digested S1 and a signed S2', () => {
    const server = new RtmpServerHandshake();
    const r = server.push(c0c1);
    expect(r.done).toBe(false);
    expect(server.clientVersion).toBe(3);
    expect(server.scheme).toBe('digest1');
    expect(server.clientFlashVersion).toBe('9.0.124.2');
    const out = r.send!;
    expect(out.length).toBe(1 + 2 * HANDSHAKE_SIZE);
    expect(out[0]).toBe(3);
    const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = out.subarray(1 + HANDSHAKE_SIZE);
    expect(s1[4]).toBeGreaterThanOrEqual(3); // FFmpeg validates S1 when this version byte is >= 3
    expect(findDigestScheme(s1, FMS_KEY_36)).toBe('digest1');
    // S2 signature: HMAC(HMAC(full FMS key, client digest), S2[0..1504]) - what FFmpeg checks
    const off = digestOffset(c1, 'digest1');
    const key = hmac(GENUINE_FMS_KEY, c1.subarray(off, off + 32));
    expect(hmac(key, s2.subarray(0, HANDSHAKE_SIZE - 32)).equals(s2.subarray(HANDSHAKE_SIZE - 32))).toBe(true);
  });

  it('completes on the recorded C2 and hands over the chunk stream bytes', () => {
    const server = new RtmpServerHandshake();
    const r = server.push(ffmpegPublish);
    expect(r.done).toBe(true);
    expect(r.rest!.length).toBe(ffmpegPublish.length - 1 - 2 * HANDSHAKE_SIZE);
    expect(r.rest![0]).toBe(0x03); // type 0 header on csid 3: connect
    expect(server.done).toBe(true);
    expect(server.push(Buffer.from([1, 2]))).toEqual({ done: true, rest: Buffer.from([1, 2]) });
  });

  it('the same, fed byte by byte', () => {
    const server = new RtmpServerHandshake();
    const sent: Buffer[] = [];
    const rest: Buffer[] = [];
    let done = false;
    for (let i = 0; i < 2 * HANDSHAKE_SIZE + 1 + 50; i++) {
      const r = server.push(ffmpegPublish.subarray(i, i + 1));
      if (r.send) sent.push(r.send);
      if (r.done) {
        done = true;
        rest.push(r.rest!);
      }
    }
    expect(done).toBe(true);
    expect(Buffer.concat(sent).length).toBe(1 + 2 * HANDSHAKE_SIZE);
    expect(Buffer.concat(rest).equals(ffmpegPublish.subarray(1 + 2 * HANDSHAKE_SIZE, 1 + 2 * HANDSHAKE_SIZE + 50))).toBe(true);
  });

  it('falls back to plain when digest answers are disabled', () => {
    const server = new RtmpServerHandshake({ digest: false });
    const out = server.push(c0c1).send!;
    expect(server.scheme).toBe('plain');
    expect(out.readUInt32BE(5)).toBe(0);
    expect(out.subarray(1 + HANDSHAKE_SIZE).equals(c1)).toBe(true);
  });
});

describe('RtmpServerHandshake digest schemes', () => {
  function digestedC1(scheme: 'digest0' | 'digest1'): Buffer {
    const c1 = seeded(7)(HANDSHAKE_SIZE);
    c1.writeUInt32BE(0, 0);
    Buffer.from([10, 0, 45, 2]).copy(c1, 4);
    const off = digestOffset(c1, scheme);
    hmac(FP_KEY_30, Buffer.concat([c1.subarray(0, off), c1.subarray(off + 32)])).copy(c1, off);
    return c1;
  }

  it.each(['digest0', 'digest1'] as const)('answers %s in the same scheme', (scheme) => {
    const c1 = digestedC1(scheme);
    expect(findDigestScheme(c1, FP_KEY_30)).toBe(scheme);
    const server = new RtmpServerHandshake({ randomBytes: seeded(1) });
    const out = server.push(Buffer.concat([Buffer.from([3]), c1])).send!;
    expect(server.scheme).toBe(scheme);
    expect(findDigestScheme(out.subarray(1, 1 + HANDSHAKE_SIZE), FMS_KEY_36)).toBe(scheme);
  });

  it('a C1 with a wrong digest gets the plain echo', () => {
    const c1 = digestedC1('digest1');
    c1[digestOffset(c1, 'digest1')] ^= 1;
    const server = new RtmpServerHandshake();
    const out = server.push(Buffer.concat([Buffer.from([3]), c1])).send!;
    expect(server.scheme).toBe('plain');
    expect(out.subarray(1 + HANDSHAKE_SIZE).equals(c1)).toBe(true);
  });
});

describe('client <-> server', () => {
  it.each([
    ['digest', true, 'digest1'],
    ['plain', false, 'plain'],
  ] as const)('%s handshake completes both ways', (_n, digest, scheme) => {
    const client = new RtmpClientHandshake({ digest, randomBytes: seeded(3) });
    const server = new RtmpServerHandshake({ randomBytes: seeded(4) });
    const extra = Buffer.from('chunk-stream');
    const { c, s } = converse(client, server, 1 << 30, extra);
    expect(server.scheme).toBe(scheme);
    expect(client.serverDigestValid).toBe(digest);
    expect(client.serverResponseValid).toBe(true);
    expect(c.rest!.length).toBe(0);
    expect(s.done).toBe(true);
    expect(s.rest).toEqual(extra);
  });

  it('completes whatever the split', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.boolean(), (piece, digest) => {
        const server = new RtmpServerHandshake();
        const client = new RtmpClientHandshake({ digest });
        const extra = Buffer.from([1, 2, 3]);
        const c0c1 = client.start();
        const sends: Buffer[] = [];
        for (let i = 0; i < c0c1.length; i += piece) {
          const r = server.push(c0c1.subarray(i, i + piece));
          if (r.send) sends.push(r.send);
        }
        const s012 = Buffer.concat(sends);
        let cr: HandshakeResult = { done: false };
        for (let i = 0; i < s012.length; i += piece) cr = client.push(s012.subarray(i, i + piece));
        const c2 = Buffer.concat([cr.send!, extra]);
        const rest: Buffer[] = [];
        for (let i = 0; i < c2.length; i += piece) {
          const r = server.push(c2.subarray(i, i + piece));
          if (r.done) rest.push(r.rest!);
        }
        expect(Buffer.concat(rest)).toEqual(extra);
        expect(client.serverResponseValid).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('a digest client accepts a plain server', () => {
    const client = new RtmpClientHandshake({ digest: true });
    const server = new RtmpServerHandshake({ digest: false });
    const { c } = converse(client, server);
    expect(client.serverDigestValid).toBe(false);
    expect(c.done).toBe(true);
  });
});

describe('errors and truncation', () => {
  it.each([
    [0x06, 'RTMPE'],
    [0x00, 'zero'],
    [0x47, 'HTTP "GET"'],
    [0x16, 'TLS'],
  ])('rejects C0 = %d (%s) at the first byte', (v) => {
    expectRtmpError(() => new RtmpServerHandshake().push(Buffer.from([v])), 'BAD_VERSION');
  });

  it('rejects S0 != 3 on the client', () => {
    const client = new RtmpClientHandshake();
    client.start();
    expectRtmpError(() => client.push(Buffer.from([6])), 'BAD_VERSION');
  });

  it('waits on truncated input', () => {
    const server = new RtmpServerHandshake();
    expect(server.push(Buffer.alloc(0))).toEqual({ done: false });
    expect(server.push(Buffer.alloc(1000, 3))).toEqual({ done: false });
    const r = server.push(Buffer.alloc(537, 0));
    expect(r.send!.length).toBe(3073);
    expect(r.done).toBe(false);
    expect(server.push(Buffer.alloc(1535))).toEqual({ done: false });
    expect(server.push(Buffer.alloc(1)).done).toBe(true);
  });

  it('random input: only RtmpProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), fc.boolean(), (bytes, forceVersion) => {
        const b = Buffer.from(bytes);
        if (forceVersion && b.length) b[0] = 3;
        try {
          const server = new RtmpServerHandshake();
          server.push(b.subarray(0, 1000));
          server.push(b.subarray(1000));
        } catch (e) {
          if (!(e instanceof RtmpProtocolError)) throw e;
        }
        try {
          const client = new RtmpClientHandshake({ digest: true });
          client.start();
          client.push(b);
        } catch (e) {
          if (!(e instanceof RtmpProtocolError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});
