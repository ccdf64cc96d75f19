import { randomBytes } from 'node:crypto';
import type { RtpPayload } from '@m7s/media';
import { SrtpSender } from './srtp-sender';
import { sentLogOf } from './werift-internals';
import { until, weriftTestPair, WeriftTestPair } from './werift-test-pair';

const VIDEO_PT = 102;

function frame(packets: number, size = 900): RtpPayload[] {
  return Array.from({ length: packets }, (_, i) => ({ payload: randomBytes(size), marker: i === packets - 1 }));
}

/** The sequence number of an SRTP datagram of the video payload type, or undefined (RTCP, DTLS, audio). */
function videoSeq(data: Buffer): number | undefined {
  if (data.length < 12 || data[0] < 128 || data[0] > 191 || (data[1] & 0x7f) !== VIDEO_PT) return undefined;
  return data.readUInt16BE(2);
}

describe('SrtpSender (a werift player over loopback)', () => {
  let pair: WeriftTestPair;

  beforeEach(async () => {
    pair = await weriftTestPair();
  });

  afterEach(async () => {
    pair.setPlayerFilter(undefined);
    await pair.close();
  });

  it('delivers every packet with its payload, timestamp, marker, SSRC and negotiated payload type, in sequence', async () => {
    const video = new SrtpSender(pair.video.sender, pair.video);
    const audio = new SrtpSender(pair.audio.sender, pair.audio);
    const first = video.nextSequenceNumber;
    const sent: RtpPayload[] = [];
    for (let f = 0; f < 5; f++) {
      const payloads = frame(f === 0 ? 30 : 4);
      sent.push(...payloads);
      await video.sendFrame(payloads, 1000 + f * 3600);
      await audio.sendFrame([{ payload: randomBytes(120), marker: false }], 960 * f);
    }
    await until(() => pair.received.video.length === sent.length && pair.received.audio.length === 5, 'every packet');
    pair.received.video.forEach((rtp, i) => {
      expect(rtp.header.sequenceNumber).toBe((first + i) & 0xffff);
      expect(rtp.header.ssrc).toBe(pair.video.sender.ssrc);
      expect(rtp.header.payloadType).toBe(VIDEO_PT);
      expect(rtp.payload.equals(sent[i].payload)).toBe(true);
      expect(rtp.header.marker).toBe(sent[i].marker);
    });
    expect(pair.received.video.map((r) => r.header.timestamp).slice(28, 31)).toEqual([1000, 1000, 4600]);
    expect(pair.received.audio[0].header.payloadType).toBe(111);
    expect(video.packets).toBe(sent.length);
    expect(video.payloadBytes).toBe(sent.reduce((n, p) => n + p.payload.length, 0));
    // The transport's counters and the transport-wide sequence (one per packet of the transport).
    const transport = pair.server.dtlsTransports[0];
    expect(transport.packetsSent).toBeGreaterThanOrEqual(sent.length + 5);
    expect(transport.transportSequenceNumber).toBe(sent.length + 5);
  });

  it("logs each packet's transport-wide sequence number and size with the congestion estimator, as the player reads it", async () => {
    const video = new SrtpSender(pair.video.sender, pair.video);
    await video.sendFrame(frame(6, 500), 0);
    await until(() => pair.received.video.length === 6, 'the packets');
    const twccId = pair.video.headerExtensions.find((e) => e.uri.includes('transport-wide-cc'))!.id;
    const seen = pair.received.video.map((r) => r.header.extensions.find((e) => e.id === twccId)!.payload.readUInt16BE(0));
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    const log = sentLogOf(video.estimator);
    for (const seq of seen) {
      expect(log[seq]?.wideSeq).toBe(seq);
      // the datagram: header with mid, abs-send-time and transport-cc (12 + 4 + 12), payload, GCM or HMAC tag
      expect([500 + 28 + 16, 500 + 28 + 10]).toContain(log[seq]?.size);
    }
  });

  it('sends a lost packet again after the NACK, the same datagram byte for byte', async () => {
    const video = new SrtpSender(pair.video.sender, pair.video);
    pair.video.sender.onGenericNack.subscribe((nack) => video.retransmit(nack.lost));
    const first = video.nextSequenceNumber;
    const lose = new Set([(first + 3) & 0xffff, (first + 7) & 0xffff, (first + 8) & 0xffff]);
    const datagrams = new Map<number, Buffer[]>();
    pair.setPlayerFilter((data) => {
      const seq = videoSeq(data);
      if (seq === undefined || !lose.has(seq)) return true;
      const seen = datagrams.get(seq) ?? [];
      datagrams.set(seq, [...seen, Buffer.from(data)]);
      return seen.length > 0;
    });
    const payloads = frame(12);
    await video.sendFrame(payloads, 90000);
    // werift's receiver notices a gap only at the next packet: a second frame.
    await video.sendFrame(frame(2), 93600);
    await until(() => new Set(pair.received.video.map((r) => r.header.sequenceNumber)).size === 14, 'the lost packets, resent');
    for (const seq of lose) {
      const [dropped, resent] = datagrams.get(seq)!;
      expect(resent.equals(dropped)).toBe(true);
      const rtp = pair.received.video.find((r) => r.header.sequenceNumber === seq)!;
      expect(rtp.payload.equals(payloads[(seq - first) & 0xffff].payload)).toBe(true);
    }
    expect(video.retransmitted).toBeGreaterThanOrEqual(lose.size);
  });

  it('resends a packet at most once per interval, and only what the history still holds', async () => {
    const video = new SrtpSender(pair.video.sender, pair.video, { historySize: 8, minResendIntervalMs: 60_000 });
    const first = video.nextSequenceNumber;
    await video.sendFrame(frame(20, 100), 0);
    video.retransmit([(first + 19) & 0xffff, (first + 18) & 0xffff]);
    video.retransmit([(first + 19) & 0xffff]);
    expect(video.retransmitted).toBe(2);
    // older than the 8 packets kept; and never sent
    video.retransmit([(first + 5) & 0xffff, (first + 20) & 0xffff, (first - 1) & 0xffff]);
    expect(video.retransmitted).toBe(2);
  });

  it('numbers packets across the 16-bit wrap (SRTP rollover counter) and the player reads them all', async () => {
    const video = new SrtpSender(pair.video.sender, pair.video);
    // Start just below the wrap: the rollover counter must go to 1 for the player to authenticate the rest.
    (video as unknown as { index: number }).index = 0xfffa;
    await video.sendFrame(frame(12, 200), 0);
    await until(() => pair.received.video.length === 12, 'packets across the wrap');
    expect(pair.received.video.map((r) => r.header.sequenceNumber)).toEqual([0xfffa, 0xfffb, 0xfffc, 0xfffd, 0xfffe, 0xffff, 0, 1, 2, 3, 4, 5]);
  });

  it('sends nothing once DTLS is closed', async () => {
    const video = new SrtpSender(pair.video.sender, pair.video);
    await pair.server.close();
    expect(video.sendFrame(frame(3), 0)).toBeUndefined();
    expect(video.packets).toBe(0);
  });
});
