import { createCipheriv, createHmac, createSecretKey, KeyObject } from 'node:crypto';

/** DTLS-SRTP protection profiles (RFC 5764, RFC 7714) werift negotiates. */
export const SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001;
export const SRTP_AEAD_AES_128_GCM = 0x0007;

/** The sending side's SRTP session keys (already derived from the master key, RFC 3711 4.3). */
export interface SrtpSessionKeys {
  profile: number;
  key: Buffer;
  /** 14 bytes (AES-CM) or 12 (GCM; a longer salt is cut). */
  salt: Buffer;
  /** HMAC-SHA1 key, AES-CM only. */
  authKey?: Buffer;
}

/** One-byte RTP header extensions (RFC 8285) a packet carries: ids as negotiated, 0 = not negotiated. */
export interface RtpExtensionIds {
  mid: number;
  absSendTime: number;
  transportCc: number;
}

/** The fields of one outgoing RTP header (no CSRC, no padding). */
export interface RtpHeaderFields {
  payloadType: number;
  marker: boolean;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  /** 24-bit abs-send-time (6.18 fixed point seconds). */
  absSendTime: number;
  /** 16-bit transport-wide sequence number. */
  transportSequence: number;
}

const ONE_BYTE_PROFILE = 0xbede;
const enum Ext {
  Mid,
  AbsSendTime,
  TransportCc,
}

/**
 * The header layout of a sender's packets: its extensions in id order (as werift writes them) and their
 * size, fixed once negotiated, so each packet's header is written straight into its datagram.
 */
export class RtpHeaderLayout {
  readonly size: number;
  private readonly elements: { id: number; ext: Ext; length: number }[] = [];
  private readonly mid: Buffer;

  constructor(ids: RtpExtensionIds, mid: string | undefined) {
    this.mid = Buffer.from(mid ?? '');
    if (ids.mid && this.mid.length > 0 && this.mid.length <= 16) this.elements.push({ id: ids.mid, ext: Ext.Mid, length: this.mid.length });
    if (ids.absSendTime) this.elements.push({ id: ids.absSendTime, ext: Ext.AbsSendTime, length: 3 });
    if (ids.transportCc) this.elements.push({ id: ids.transportCc, ext: Ext.TransportCc, length: 2 });
    for (const e of this.elements) if (e.id < 1 || e.id > 14) throw new Error(`RTP header extension id ${e.id} does not fit the one-byte form`);
    this.elements.sort((a, b) => a.id - b.id);
    const data = this.elements.reduce((n, e) => n + 1 + e.length, 0);
    this.size = 12 + (this.elements.length ? 4 + Math.ceil(data / 4) * 4 : 0);
  }

  get hasTransportCc(): boolean {
    return this.elements.some((e) => e.ext === Ext.TransportCc);
  }

  /** Writes the header at the start of `buf` (at least `size` bytes). */
  write(buf: Buffer, h: RtpHeaderFields): void {
    const withExtensions = this.elements.length > 0;
    buf[0] = withExtensions ? 0x90 : 0x80;
    buf[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
    buf.writeUInt16BE(h.sequenceNumber & 0xffff, 2);
    buf.writeUInt32BE(h.timestamp >>> 0, 4);
    buf.writeUInt32BE(h.ssrc >>> 0, 8);
    if (!withExtensions) return;
    buf.writeUInt16BE(ONE_BYTE_PROFILE, 12);
    buf.writeUInt16BE((this.size - 16) / 4, 14);
    let at = 16;
    for (const e of this.elements) {
      buf[at++] = (e.id << 4) | (e.length - 1);
      if (e.ext === Ext.Mid) at += this.mid.copy(buf, at);
      else if (e.ext === Ext.AbsSendTime) {
        buf[at++] = (h.absSendTime >>> 16) & 0xff;
        buf[at++] = (h.absSendTime >>> 8) & 0xff;
        buf[at++] = h.absSendTime & 0xff;
      } else {
        buf[at++] = (h.transportSequence >>> 8) & 0xff;
        buf[at++] = h.transportSequence & 0xff;
      }
    }
    buf.fill(0, at, this.size);
  }
}

/**
 * SRTP protection of outgoing RTP (RFC 3711 AES_CM_128_HMAC_SHA1_80, RFC 7714 AEAD_AES_128_GCM) into one
 * buffer per datagram: header, encrypted payload, tag. Node's ciphers take an IV only when created, so a
 * cipher is made per packet (the cheapest of what node:crypto offers for either profile).
 */
export class SrtpWriter {
  readonly tagLength: number;
  private readonly gcm: boolean;
  private readonly key: KeyObject;
  private readonly salt: Buffer;
  private readonly authKey: KeyObject | undefined;
  private readonly iv: Buffer;
  private readonly roc = Buffer.alloc(4);

  constructor(keys: SrtpSessionKeys) {
    if (keys.profile !== SRTP_AEAD_AES_128_GCM && keys.profile !== SRTP_AES128_CM_HMAC_SHA1_80) throw new Error(`SRTP profile ${keys.profile} is not supported`);
    this.gcm = keys.profile === SRTP_AEAD_AES_128_GCM;
    if (!this.gcm && !keys.authKey) throw new Error('AES_CM_128_HMAC_SHA1_80 needs the authentication key');
    this.tagLength = this.gcm ? 16 : 10;
    this.key = createSecretKey(keys.key);
    this.salt = Buffer.from(keys.salt.subarray(0, this.gcm ? 12 : 14));
    this.authKey = keys.authKey ? createSecretKey(keys.authKey) : undefined;
    this.iv = Buffer.alloc(this.gcm ? 12 : 16);
  }

  /**
   * Encrypts `payload` into `out` after the header already written there (`headerSize` bytes) and appends the
   * tag; `out` is headerSize + payload.length + tagLength bytes. `roc` is the rollover counter of the packet's index.
   */
  seal(out: Buffer, headerSize: number, payload: Buffer, ssrc: number, sequenceNumber: number, roc: number): void {
    const iv = this.iv;
    const salt = this.salt;
    iv.fill(0);
    if (this.gcm) {
      // RFC 7714 8.1: 00 00 | SSRC | ROC | SEQ, XOR the 12-byte salt
      iv.writeUInt32BE(ssrc >>> 0, 2);
      iv.writeUInt32BE(roc >>> 0, 6);
      iv.writeUInt16BE(sequenceNumber & 0xffff, 10);
      for (let i = 0; i < 12; i++) iv[i] ^= salt[i];
      const cipher = createCipheriv('aes-128-gcm', this.key, iv);
      cipher.setAAD(out.subarray(0, headerSize));
      cipher.update(payload).copy(out, headerSize);
      cipher.final();
      cipher.getAuthTag().copy(out, headerSize + payload.length);
      return;
    }
    // RFC 3711 4.1.1: (salt << 16) XOR (SSRC << 64) XOR (index << 16)
    iv.writeUInt32BE(ssrc >>> 0, 4);
    iv.writeUInt32BE(roc >>> 0, 8);
    iv.writeUInt16BE(sequenceNumber & 0xffff, 12);
    for (let i = 0; i < 14; i++) iv[i] ^= salt[i];
    const cipher = createCipheriv('aes-128-ctr', this.key, iv);
    cipher.update(payload).copy(out, headerSize);
    const end = headerSize + payload.length;
    this.roc.writeUInt32BE(roc >>> 0, 0);
    const mac = createHmac('sha1', this.authKey!).update(out.subarray(0, end)).update(this.roc).digest();
    mac.copy(out, end, 0, 10);
  }
}

const NTP_EPOCH_OFFSET_S = 2208988800;
const TWO_POW_32 = 0x100000000;

/** Wall-clock time as NTP seconds and 32-bit fraction (RFC 3550 4), from Unix milliseconds. */
export function ntpOfUnixMs(ms: number): { seconds: number; fraction: number } {
  const whole = Math.floor(ms / 1000);
  return { seconds: (whole + NTP_EPOCH_OFFSET_S) >>> 0, fraction: Math.floor(((ms - whole * 1000) / 1000) * TWO_POW_32) >>> 0 };
}

/** The 64-bit NTP timestamp, as RTCP sender reports carry it. */
export function ntpTimestamp(t: { seconds: number; fraction: number }): bigint {
  return (BigInt(t.seconds) << 32n) | BigInt(t.fraction);
}

/** abs-send-time: the middle 24 bits of the NTP timestamp (6 bits of seconds, 18 of fraction). */
export function absSendTime(t: { seconds: number; fraction: number }): number {
  return (((t.seconds & 0x3f) << 18) | (t.fraction >>> 14)) & 0xffffff;
}
