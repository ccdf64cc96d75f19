import { randomBytes } from 'node:crypto';
import { RtcpSrPacket, RtpHeader } from 'werift';
import type { RtcpPacket } from 'werift';
import { RtpHeaderLayout, SrtpWriter } from './srtp-writer';
import { ignoreStaleDtlsFlight4, logSentPacket, recordSent, senderReportFields, sentLogOf, srtpKeysOf, weriftFlight5 } from './werift-internals';
import { until, weriftTestPair, WeriftTestPair } from './werift-test-pair';

/** These fail when a werift upgrade moves what the WHEP send path takes from inside werift (werift-internals.ts). */
describe('werift internals the WHEP send path relies on', () => {
  let pair: WeriftTestPair;

  beforeAll(async () => {
    pair = await weriftTestPair();
  });

  afterAll(async () => {
    await pair.close();
  });

  it("reads the connected transport's SRTP session keys: they protect a packet exactly as werift's own SRTP session does", () => {
    const transport = pair.server.dtlsTransports[0];
    const srtp = srtpKeysOf(transport);
    expect(srtp).toBeDefined();
    expect(srtp!.session).toBe(transport.srtp);
    const writer = new SrtpWriter(srtp!.keys);
    const layout = new RtpHeaderLayout({ mid: 0, absSendTime: 0, transportCc: 0 }, undefined);
    const payload = randomBytes(200);
    // an SSRC of its own, so werift's rollover state for the real senders is left alone
    const fields = { payloadType: 96, marker: true, sequenceNumber: 7, timestamp: 1234, ssrc: 0x01020304, absSendTime: 0, transportSequence: 0 };
    const out = Buffer.alloc(layout.size + payload.length + writer.tagLength);
    layout.write(out, fields);
    writer.seal(out, layout.size, payload, fields.ssrc, fields.sequenceNumber, 0);
    const expected = transport.srtp.encrypt(payload, new RtpHeader({ payloadType: 96, marker: true, sequenceNumber: 7, timestamp: 1234, ssrc: 0x01020304 }));
    expect(out.equals(expected)).toBe(true);
  });

  it("sets the sender's report fields and starts its report loop: the player gets a sender report with them", async () => {
    const sender = pair.video.sender;
    const before = senderReportFields(sender);
    expect(typeof before.ntpTimestamp).toBe('bigint');
    expect(before).toMatchObject({ rtpTimestamp: expect.any(Number), packetCount: expect.any(Number), octetCount: expect.any(Number) });
    expect(sender.rtcpRunning).toBe(false);
    const ntp = (3_900_000_000n << 32n) | 0x40000000n;
    recordSent(sender, ntp, 0xfffffffe, 3, 3000);
    recordSent(sender, ntp + 1n, 0xffffffff, 2, 0xffffffff);
    expect(sender.rtcpRunning).toBe(true);
    // both counts wrap at 2^32
    expect(senderReportFields(sender)).toEqual({ ntpTimestamp: ntp + 1n, rtpTimestamp: 0xffffffff, packetCount: 5, octetCount: 2999 });
    const reports: RtcpSrPacket[] = [];
    const sub = pair.player.dtlsTransports[0].onRtcp.subscribe((p: RtcpPacket) => {
      if (p instanceof RtcpSrPacket && p.ssrc === sender.ssrc) reports.push(p);
    });
    try {
      await until(() => reports.length > 0, 'a sender report (werift sends one every 0.5-1.5 s)', 5000);
    } finally {
      sub.unSubscribe();
    }
    expect(reports[0].senderInfo).toMatchObject({ ntpTimestamp: ntp + 1n, rtpTimestamp: 0xffffffff, packetCount: 5, octetCount: 2999 });
  });

  it("logs sent packets where the congestion estimator matches transport-wide feedback: it yields a bitrate; older entries go", () => {
    const estimator = pair.audio.sender.senderBWE;
    const now = Date.now();
    // 65530..65535, 0..33: 40 packets of 1000 bytes across the wrap, 5 ms apart
    const seqs = Array.from({ length: 40 }, (_, i) => (65530 + i) & 0xffff);
    seqs.forEach((seq, i) => logSentPacket(estimator, seq, 1000, now - 400 + i * 5));
    expect(sentLogOf(estimator)[65535]).toMatchObject({ wideSeq: 65535, size: 1000 });
    estimator.receiveTWCC({ packetResults: seqs.map((sequenceNumber, i) => ({ sequenceNumber, received: true, receivedAtMs: now - 390 + i * 5 })) } as unknown as Parameters<typeof estimator.receiveTWCC>[0]);
    // 40 kB over ~195 ms sent and received
    expect(estimator.availableBitrate).toBeGreaterThan(1_000_000);
    expect(estimator.availableBitrate).toBeLessThan(3_000_000);
    for (let seq = 34; seq < 34 + 5000; seq++) logSentPacket(estimator, seq, 1000, now);
    const live = Object.keys(sentLogOf(estimator)).map(Number);
    expect(live.length).toBe(1024);
    expect(Math.min(...live)).toBe(34 + 5000 - 1024);
  });
});

describe("werift's DTLS client flight 5 (ignoreStaleDtlsFlight4)", () => {
  it('is where the patch expects it', () => {
    expect(typeof weriftFlight5().prototype.exec).toBe('function');
  });

  it('does not start again once the handshake is done (a stale flight 4 from the peer)', async () => {
    ignoreStaleDtlsFlight4();
    const done = { dtls: { flight: 7 } };
    // werift's own exec would set flight 5 and build its messages (and throw on this bare object)
    await expect(weriftFlight5().prototype.exec.call(done)).resolves.toBeUndefined();
    expect(done.dtls.flight).toBe(7);
    const during = { dtls: { flight: 3 } };
    await expect(weriftFlight5().prototype.exec.call(during)).rejects.toThrow();
    expect(during.dtls.flight).toBe(5);
  });
});
