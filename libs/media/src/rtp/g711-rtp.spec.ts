import fc from 'fast-check';
import { depacketizeG711, G711_PAYLOAD_TYPE, packetizeG711 } from './g711-rtp';
import { parseRtpPacket, RtpStamper, serializeRtpPacket } from './rtp-packet';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('packetizeG711', () => {
  it('sends a frame within the MTU as one payload without the marker', () => {
    const frame = hex('d5d5 5555 d5');
    const out = packetizeG711(frame);
    expect(out).toEqual([{ payload: frame, marker: false, timestampOffset: 0 }]);
    expect(out[0].payload.buffer).toBe(frame.buffer); // no copy
  });

  it('splits at the MTU; each piece is stamped at its first sample', () => {
    const out = packetizeG711(Buffer.alloc(1000, 0xd5), { mtu: 400 });
    expect(out.map((p) => [p.payload.length, p.timestampOffset, p.marker])).toEqual([
      [400, 0, false],
      [400, 400, false],
      [200, 800, false],
    ]);
  });

  it('keeps the samples of all channels together', () => {
    const out = packetizeG711(Buffer.alloc(10), { mtu: 5, channels: 2 });
    expect(out.map((p) => [p.payload.length, p.timestampOffset])).toEqual([
      [4, 0],
      [4, 2],
      [2, 4],
    ]);
  });

  it('gives nothing for an empty frame', () => {
    expect(packetizeG711(Buffer.alloc(0))).toEqual([]);
  });

  it.each([{ mtu: 0 }, { mtu: 1.5 }, { mtu: NaN }, { channels: 0 }, { mtu: 1, channels: 2 }])('rejects %j', (o) => {
    expect(() => packetizeG711(Buffer.alloc(10), o)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('G.711 RTP round trip', () => {
  it.each([
    ['PCMU', G711_PAYLOAD_TYPE.PCMU],
    ['PCMA', G711_PAYLOAD_TYPE.PCMA],
  ])('%s: packetize, stamp, serialize, parse, depacketize at several MTUs across the sequence wrap', (_n, payloadType) => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 2000 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 1500 }), (frames, mtu) => {
        const stamper = new RtpStamper({ ssrc: 9, payloadType, sequenceNumber: 65534 });
        let ts = 0xfffffe00;
        const sent: Buffer[] = [];
        const got: Buffer[] = [];
        const times: number[] = [];
        for (const f of frames) {
          const frame = Buffer.from(f);
          sent.push(frame);
          for (const p of packetizeG711(frame, { mtu })) {
            const pkt = parseRtpPacket(serializeRtpPacket(stamper.packet(p, ts)));
            expect(pkt.payloadType).toBe(payloadType);
            expect(pkt.payload.length).toBeLessThanOrEqual(mtu);
            times.push(pkt.timestamp);
            got.push(depacketizeG711(pkt));
          }
          ts += frame.length;
        }
        expect(Buffer.concat(got).toString('hex')).toBe(Buffer.concat(sent).toString('hex'));
        // one sample per byte: each packet starts where the bytes before it end
        let expected = 0xfffffe00;
        got.forEach((g, i) => {
          expect(times[i]).toBe(expected >>> 0);
          expected += g.length;
        });
      }),
      { numRuns: 100 },
    );
  });
});
