/**
 * RTMP handshake (C0 C1 C2 / S0 S1 S2), server and client side, as pure state machines:
 * feed received bytes with push(), write back `send`, and once `done` hand `rest` (bytes that
 * already belong to the chunk stream) to the ChunkDecoder.
 *
 * Two flavours of C1/S1, both 1536 bytes:
 * - plain (spec): time(4) zero(4) random(1528); S2 echoes C1, C2 echoes S1;
 * - digest ("complex", Flash Player 9+, FMLE, OBS, FFmpeg, librtmp): time(4) version(4) and two
 *   764-byte blocks, one holding a 32-byte HMAC-SHA256 digest at an offset computed from 4 bytes
 *   of that block. Scheme 0 = key block first, digest block second (offset = sum(bytes
 *   772..775) % 728 + 776); scheme 1 = digest block first (offset = sum(bytes 8..11) % 728 + 12).
 *   The client's digest is keyed with "Genuine Adobe Flash Player 001" (30 bytes), the server's
 *   with "Genuine Adobe Flash Media Server 001" (36 bytes). S2 (resp. C2) is random with its last
 *   32 bytes = HMAC(HMAC(fullKey, peerDigest), first 1504 bytes), fullKey = the key text + 32 fixed
 *   bytes (FMS key for S2, FP key for C2).
 *
 * The server answers a valid client digest (either scheme) with a digested S1 (same scheme) and a
 * signed S2; otherwise it falls back to the plain echo with version bytes 0 (so players do not try to
 * validate S1). C2 is not validated (many clients send garbage). A C0 other than 3 (6 = RTMPE) throws
 * RtmpProtocolError BAD_VERSION as soon as the first byte arrives. Truncated input only waits: the
 * session applies the timeout.
 */
import { createHmac, randomBytes as cryptoRandomBytes } from 'node:crypto';
import { RtmpProtocolError } from './rtmp.errors';

export const RTMP_VERSION = 3;
export const HANDSHAKE_SIZE = 1536;
const DIGEST_LENGTH = 32;

const KEY_TAIL = Buffer.from([
  0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8,
  0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
]);
/** "Genuine Adobe Flash Media Server 001" + 32 bytes (68) */
export const GENUINE_FMS_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Media Server 001', 'latin1'), KEY_TAIL]);
/** "Genuine Adobe Flash Player 001" + 32 bytes (62) */
export const GENUINE_FP_KEY = Buffer.concat([Buffer.from('Genuine Adobe Flash Player 001', 'latin1'), KEY_TAIL]);
const FMS_KEY_SHORT = GENUINE_FMS_KEY.subarray(0, 36);
const FP_KEY_SHORT = GENUINE_FP_KEY.subarray(0, 30);

export type HandshakeScheme = 'plain' | 'digest0' | 'digest1';

export interface HandshakeResult {
  /** bytes to write to the peer now, if any */
  send?: Buffer;
  /** the handshake is over: the session switches to the chunk stream */
  done: boolean;
  /** when done: bytes received after the handshake (start of the chunk stream); may be empty */
  rest?: Buffer;
}

export interface HandshakeOptions {
  /** random source; default crypto.randomBytes */
  randomBytes?: (n: number) => Buffer;
  /** value of the 4-byte time field of S1/C1 (ms, any epoch); default 0 */
  time?: () => number;
}

function hmac(key: Buffer, ...data: Buffer[]): Buffer {
  const h = createHmac('sha256', key);
  for (const d of data) h.update(d);
  return h.digest();
}

/** Offset of the 32-byte digest in a 1536-byte C1/S1 for the scheme. */
export function digestOffset(block: Buffer, scheme: 'digest0' | 'digest1'): number {
  const base = scheme === 'digest0' ? 772 : 8;
  return ((block[base] + block[base + 1] + block[base + 2] + block[base + 3]) % 728) + base + 4;
}

function digestOf(block: Buffer, offset: number, key: Buffer): Buffer {
  return hmac(key, block.subarray(0, offset), block.subarray(offset + DIGEST_LENGTH));
}

/** Returns the scheme whose digest (keyed with `key`) checks out in this C1/S1, if any. */
export function findDigestScheme(block: Buffer, key: Buffer): 'digest0' | 'digest1' | undefined {
  if (block.length !== HANDSHAKE_SIZE) return undefined;
  for (const scheme of ['digest0', 'digest1'] as const) {
    const off = digestOffset(block, scheme);
    if (digestOf(block, off, key).equals(block.subarray(off, off + DIGEST_LENGTH))) return scheme;
  }
  return undefined;
}

/** Builds a digested C1/S1: time, version, random, digest at the scheme's offset. */
function makeDigestedBlock(rand: Buffer, time: number, version: Buffer, scheme: 'digest0' | 'digest1', key: Buffer): { block: Buffer; digest: Buffer } {
  const block = rand;
  block.writeUInt32BE(time >>> 0, 0);
  version.copy(block, 4, 0, 4);
  const off = digestOffset(block, scheme);
  const digest = digestOf(block, off, key);
  digest.copy(block, off);
  return { block, digest };
}

/** S2/C2 of the digest handshake: random, signed with a key derived from the peer's digest. */
function makeSignedResponse(rand: Buffer, peerDigest: Buffer, fullKey: Buffer): Buffer {
  const key = hmac(fullKey, peerDigest);
  hmac(key, rand.subarray(0, HANDSHAKE_SIZE - DIGEST_LENGTH)).copy(rand, HANDSHAKE_SIZE - DIGEST_LENGTH);
  return rand;
}

function checkSignedResponse(block: Buffer, ownDigest: Buffer, fullKey: Buffer): boolean {
  const key = hmac(fullKey, ownDigest);
  return hmac(key, block.subarray(0, HANDSHAKE_SIZE - DIGEST_LENGTH)).equals(block.subarray(HANDSHAKE_SIZE - DIGEST_LENGTH));
}

function checkVersion(v: number, who: string): void {
  if (v === RTMP_VERSION) return;
  if (v === 6 || v === 8 || v === 9) throw new RtmpProtocolError('BAD_VERSION', `${who} version ${v}: encrypted RTMP (RTMPE) is not supported`);
  throw new RtmpProtocolError('BAD_VERSION', `${who} version ${v}, expected 3`);
}

/** Collects bytes until a wanted amount is available. */
class Accumulator {
  private parts: Buffer[] = [];
  length = 0;

  add(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.length += b.length;
  }

  /** first byte, when any */
  peek(): number | undefined {
    return this.parts.length ? this.parts[0][0] : undefined;
  }

  take(n: number): Buffer {
    const all = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.length);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.parts = rest.length ? [rest] : [];
    this.length = rest.length;
    return head;
  }
}

/** FMS 4.5-ish version bytes announced in a digested S1 */
const SERVER_VERSION = Buffer.from([0x04, 0x05, 0x00, 0x01]);

export interface ServerHandshakeOptions extends HandshakeOptions {
  /** answer digest handshakes with a digest (default true); false = always the plain echo */
  digest?: boolean;
}

/**
 * Server side: waits for C0+C1, answers S0+S1+S2 at once, waits for C2, then is done.
 */
export class RtmpServerHandshake {
  /** C0 once received */
  clientVersion: number | undefined;
  /** bytes 4..7 of C1: the Flash Player / encoder version (0.0.0.0 for the plain handshake) */
  clientFlashVersion: string | undefined;
  /** how C1 was answered */
  scheme: HandshakeScheme | undefined;
  private state: 'c0c1' | 'c2' | 'done' = 'c0c1';
  private readonly acc = new Accumulator();
  private readonly random: (n: number) => Buffer;
  private readonly time: () => number;
  private readonly digest: boolean;

  constructor(options: ServerHandshakeOptions = {}) {
    this.random = options.randomBytes ?? cryptoRandomBytes;
    this.time = options.time ?? (() => 0);
    this.digest = options.digest ?? true;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  push(buf: Buffer): HandshakeResult {
    if (this.state === 'done') return { done: true, rest: buf };
    this.acc.add(buf);
    let send: Buffer | undefined;
    if (this.state === 'c0c1') {
      const c0 = this.acc.peek();
      if (c0 === undefined) return { done: false };
      checkVersion(c0, 'client');
      this.clientVersion = c0;
      if (this.acc.length < 1 + HANDSHAKE_SIZE) return { done: false };
      const c1 = Buffer.from(this.acc.take(1 + HANDSHAKE_SIZE).subarray(1));
      send = this.answer(c1);
      this.state = 'c2';
    }
    if (this.acc.length < HANDSHAKE_SIZE) return { send, done: false };
    this.acc.take(HANDSHAKE_SIZE); // C2: not validated
    this.state = 'done';
    return { send, done: true, rest: this.acc.take(this.acc.length) };
  }

  private answer(c1: Buffer): Buffer {
    this.clientFlashVersion = `${c1[4]}.${c1[5]}.${c1[6]}.${c1[7]}`;
    const out = Buffer.allocUnsafe(1 + 2 * HANDSHAKE_SIZE);
    out[0] = RTMP_VERSION;
    const scheme = this.digest ? findDigestScheme(c1, FP_KEY_SHORT) : undefined;
    if (scheme) {
      this.scheme = scheme;
      const clientDigest = c1.subarray(digestOffset(c1, scheme), digestOffset(c1, scheme) + DIGEST_LENGTH);
      const { block } = makeDigestedBlock(randomBlock(this.random), this.time(), SERVER_VERSION, scheme, FMS_KEY_SHORT);
      block.copy(out, 1);
      makeSignedResponse(randomBlock(this.random), clientDigest, GENUINE_FMS_KEY).copy(out, 1 + HANDSHAKE_SIZE);
    } else {
      this.scheme = 'plain';
      const s1 = randomBlock(this.random);
      s1.writeUInt32BE(this.time() >>> 0, 0);
      s1.writeUInt32BE(0, 4);
      s1.copy(out, 1);
      c1.copy(out, 1 + HANDSHAKE_SIZE);
    }
    return out;
  }
}

function randomBlock(random: (n: number) => Buffer): Buffer {
  const r = random(HANDSHAKE_SIZE);
  if (r.length !== HANDSHAKE_SIZE) throw new RtmpProtocolError('BAD_ARGUMENT', `randomBytes returned ${r.length} bytes`);
  return Buffer.from(r);
}

export interface ClientHandshakeOptions extends HandshakeOptions {
  /** send a digested C1 like Flash Player / FFmpeg (default false = plain) */
  digest?: boolean;
  /** the 4 version bytes of a digested C1; default 9.0.124.2 (what FFmpeg sends) */
  flashVersion?: [number, number, number, number];
}

/**
 * Client side: `start()` gives C0+C1; push() the server's bytes; once S0+S1+S2 are in, `send`
 * carries C2 and the handshake is done.
 */
export class RtmpClientHandshake {
  /** whether S1 carried a valid server digest (digest mode only) */
  serverDigestValid = false;
  /** whether S2 was signed with our digest (digest mode with a digested S1), or echoed our C1 (plain) */
  serverResponseValid = false;
  private state: 'init' | 's0s1s2' | 'done' = 'init';
  private readonly acc = new Accumulator();
  private readonly random: (n: number) => Buffer;
  private readonly time: () => number;
  private readonly digest: boolean;
  private readonly version: Buffer;
  private c1: Buffer | undefined;
  private c1Digest: Buffer | undefined;

  constructor(options: ClientHandshakeOptions = {}) {
    this.random = options.randomBytes ?? cryptoRandomBytes;
    this.time = options.time ?? (() => 0);
    this.digest = options.digest ?? false;
    this.version = Buffer.from(options.flashVersion ?? [9, 0, 124, 2]);
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** C0 + C1, to write as soon as the connection is up. */
  start(): Buffer {
    if (this.state !== 'init') throw new RtmpProtocolError('BAD_ARGUMENT', 'handshake already started');
    let c1: Buffer;
    if (this.digest) {
      const { block, digest } = makeDigestedBlock(randomBlock(this.random), this.time(), this.version, 'digest1', FP_KEY_SHORT);
      c1 = block;
      this.c1Digest = digest;
    } else {
      c1 = randomBlock(this.random);
      c1.writeUInt32BE(this.time() >>> 0, 0);
      c1.writeUInt32BE(0, 4);
    }
    this.c1 = c1;
    this.state = 's0s1s2';
    return Buffer.concat([Buffer.from([RTMP_VERSION]), c1]);
  }

  push(buf: Buffer): HandshakeResult {
    if (this.state === 'done') return { done: true, rest: buf };
    if (this.state === 'init') throw new RtmpProtocolError('BAD_ARGUMENT', 'call start() first');
    this.acc.add(buf);
    const s0 = this.acc.peek();
    if (s0 === undefined) return { done: false };
    checkVersion(s0, 'server');
    if (this.acc.length < 1 + 2 * HANDSHAKE_SIZE) return { done: false };
    const all = Buffer.from(this.acc.take(1 + 2 * HANDSHAKE_SIZE));
    const s1 = all.subarray(1, 1 + HANDSHAKE_SIZE);
    const s2 = all.subarray(1 + HANDSHAKE_SIZE);
    let c2: Buffer;
    const scheme = this.digest ? findDigestScheme(s1, FMS_KEY_SHORT) : undefined;
    if (scheme) {
      this.serverDigestValid = true;
      const off = digestOffset(s1, scheme);
      c2 = makeSignedResponse(randomBlock(this.random), s1.subarray(off, off + DIGEST_LENGTH), GENUINE_FP_KEY);
      this.serverResponseValid = checkSignedResponse(s2, this.c1Digest!, GENUINE_FMS_KEY);
    } else {
      c2 = Buffer.from(s1);
      this.serverResponseValid = s2.subarray(8).equals(this.c1!.subarray(8));
    }
    this.state = 'done';
    return { send: c2, done: true, rest: this.acc.take(this.acc.length) };
  }
}
