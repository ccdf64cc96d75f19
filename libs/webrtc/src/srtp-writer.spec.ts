import { randomBytes } from 'node:crypto';
import { deserializeAbsSendTime, ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80, RtpHeader, RtpPacket, serializeAbsSendTime, SrtpSession } from 'werift';
import { absSendTime, ntpOfUnixMs, ntpTimestamp, RtpHeaderFields, RtpHeaderLayout, SRTP_AEAD_AES_128_GCM, SRTP_AES128_CM_HMAC_SHA1_80, SrtpWriter } from './srtp-writer';

const LOCAL = { key: randomBytes(16), salt: randomBytes(14) };
const REMOTE = { key: randomBytes(16), salt: randomBytes(14) };

/** werift's own SRTP session for our side (what it would send) and the peer's (to decrypt what we send). */
function sessions(profile: number): { ours: SrtpSession; peer: SrtpSession } {
  const config = (a: typeof LOCAL, b: typeof LOCAL) => ({
    profile,
    keys: { localMasterKey: a.key, localMasterSalt: profile === ProtectionProfileAeadAes128Gcm ? a.salt.subarray(0, 12) : a.salt, remoteMasterKey: b.key, remoteMasterSalt: profile === ProtectionProfileAeadAes128Gcm ? b.salt.subarray(0, 12) : b.salt },
  });
  return { ours: new SrtpSession(config(LOCAL, REMOTE)), peer: new SrtpSession(config(REMOTE, LOCAL)) };
}

function writerOf(session: SrtpSession): SrtpWriter {
  const ctx = session.localContext;
  return new SrtpWriter({ profile: ctx.profile, key: ctx.srtpSessionKey, salt: ctx.srtpSessionSalt, authKey: ctx.srtpSessionAuthTag });
}

const IDS = { mid: 4, absSendTime: 2, transportCc: 3 };

function ours(layout: RtpHeaderLayout, writer: SrtpWriter, h: RtpHeaderFields, payload: Buffer, roc: number): Buffer {
  const out = Buffer.alloc(layout.size + payload.length + writer.tagLength);
  layout.write(out, h);
  writer.seal(out, layout.size, payload, h.ssrc, h.sequenceNumber, roc);
  return out;
}

function weriftHeader(h: RtpHeaderFields, mid: string): RtpHeader {
  // werift writes the extensions sorted by id, as RTCRtpSender.sendRtp leaves them
  return new RtpHeader({
    payloadType: h.payloadType,
    marker: h.marker,
    sequenceNumber: h.sequenceNumber,
    timestamp: h.timestamp,
    ssrc: h.ssrc,
    extensions: [
      { id: IDS.absSendTime, payload: Buffer.from([h.absSendTime >>> 16, (h.absSendTime >>> 8) & 0xff, h.absSendTime & 0xff]) },
      { id: IDS.transportCc, payload: Buffer.from([h.transportSequence >>> 8, h.transportSequence & 0xff]) },
      { id: IDS.mid, payload: Buffer.from(mid) },
    ],
  });
}

describe.each([
  ['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm, SRTP_AEAD_AES_128_GCM],
  ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80, SRTP_AES128_CM_HMAC_SHA1_80],
])('SrtpWriter %s', (_name, profile, ourProfile) => {
  it('uses the profile number werift negotiates', () => expect(ourProfile).toBe(profile));

  it("writes the same datagram as werift's header serialization + SrtpSession.encrypt, across a sequence-number wrap", () => {
    const { ours: session } = sessions(profile);
    const writer = writerOf(session);
    const layout = new RtpHeaderLayout(IDS, '0');
    const payload = randomBytes(1100);
    // werift derives the rollover counter from the sequence numbers it sees: run it through a wrap.
    let roc = 0;
    let previous = -1;
    for (const seq of [65533, 65534, 65535, 0, 1, 2]) {
      if (previous > seq) roc++;
      previous = seq;
      const h: RtpHeaderFields = { payloadType: 102, marker: seq === 1, sequenceNumber: seq, timestamp: (0xfffffff0 + seq) >>> 0, ssrc: 0x8badf00d, absSendTime: 0x123456, transportSequence: seq ^ 0x5a5a };
      const expected = session.encrypt(payload, weriftHeader(h, '0'));
      expect(ours(layout, writer, h, payload, roc).equals(expected)).toBe(true);
    }
  });

  it('is read back by the peer: header fields, extensions and payload', () => {
    const { ours: session, peer } = sessions(profile);
    const writer = writerOf(session);
    const layout = new RtpHeaderLayout(IDS, 'video1');
    const payload = randomBytes(300);
    const h: RtpHeaderFields = { payloadType: 111, marker: true, sequenceNumber: 4242, timestamp: 123456789, ssrc: 42, absSendTime: 0xabcdef, transportSequence: 65535 };
    const rtp = RtpPacket.deSerialize(peer.decrypt(ours(layout, writer, h, payload, 0)));
    expect(rtp.payload.equals(payload)).toBe(true);
    expect(rtp.header).toMatchObject({ payloadType: 111, marker: true, sequenceNumber: 4242, timestamp: 123456789, ssrc: 42 });
    const ext = new Map(rtp.header.extensions.map((e) => [e.id, e.payload]));
    expect(ext.get(IDS.mid)?.toString()).toBe('video1');
    expect(deserializeAbsSendTime(ext.get(IDS.absSendTime)!)).toBe(0xabcdef);
    expect(ext.get(IDS.transportCc)?.readUInt16BE(0)).toBe(65535);
  });

  it('fails authentication at the peer when a byte changes', () => {
    const { ours: session, peer } = sessions(profile);
    const out = ours(new RtpHeaderLayout(IDS, '1'), writerOf(session), { payloadType: 96, marker: false, sequenceNumber: 1, timestamp: 1, ssrc: 1, absSendTime: 0, transportSequence: 1 }, randomBytes(50), 0);
    out[30] ^= 1;
    expect(() => peer.decrypt(out)).toThrow();
  });
});

describe('RtpHeaderLayout', () => {
  it('writes a bare 12-byte header when no extension was negotiated', () => {
    const layout = new RtpHeaderLayout({ mid: 0, absSendTime: 0, transportCc: 0 }, '0');
    expect(layout.size).toBe(12);
    const buf = Buffer.alloc(12);
    layout.write(buf, { payloadType: 8, marker: true, sequenceNumber: 0x1234, timestamp: 0x01020304, ssrc: 0xa0b0c0d0, absSendTime: 0, transportSequence: 0 });
    expect(buf.toString('hex')).toBe('80881234' + '01020304' + 'a0b0c0d0');
    expect(layout.hasTransportCc).toBe(false);
  });

  it('pads the extension block to 32-bit words', () => {
    // mid "abc": 1+3, abs-send-time 1+3 -> 8 bytes, no padding; + transport-cc 1+2 -> 11 -> 12
    expect(new RtpHeaderLayout({ mid: 1, absSendTime: 2, transportCc: 0 }, 'abc').size).toBe(12 + 4 + 8);
    const layout = new RtpHeaderLayout({ mid: 1, absSendTime: 2, transportCc: 3 }, 'abc');
    expect(layout.size).toBe(12 + 4 + 12);
    const buf = Buffer.alloc(layout.size, 0xff);
    layout.write(buf, { payloadType: 96, marker: false, sequenceNumber: 1, timestamp: 2, ssrc: 3, absSendTime: 0x010203, transportSequence: 0x0405 });
    expect(buf.subarray(12).toString('hex')).toBe('bede0003' + '12616263' + '22010203' + '310405' + '00');
  });

  it('refuses an id the one-byte form cannot carry', () => {
    expect(() => new RtpHeaderLayout({ mid: 15, absSendTime: 0, transportCc: 0 }, '0')).toThrow(/one-byte/);
  });
});

describe('NTP time', () => {
  it('converts Unix milliseconds to NTP seconds and fraction', () => {
    // 2000-01-01T00:00:00.500Z: NTP 3155673600.5
    const t = ntpOfUnixMs(Date.UTC(2000, 0, 1) + 500);
    expect(t).toEqual({ seconds: 3155673600, fraction: 0x80000000 });
    expect(ntpTimestamp(t)).toBe((3155673600n << 32n) | 0x80000000n);
  });

  it("abs-send-time is werift's serialization of the same NTP time", () => {
    for (const ms of [Date.now(), Date.UTC(2030, 5, 6, 7, 8, 9, 999), Date.UTC(1999, 11, 31, 23, 59, 59, 1)]) {
      const t = ntpOfUnixMs(ms);
      expect(absSendTime(t)).toBe(serializeAbsSendTime(ntpTimestamp(t)).readUIntBE(0, 3));
    }
  });
});
