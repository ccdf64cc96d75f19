import fc from 'fast-check';
import { RtpPacket, rtpSeqDiff } from './rtp-packet';
import { RtpReorderBuffer } from './rtp-reorder';

const rtp = (seq: number): RtpPacket => ({ marker: false, payloadType: 96, sequenceNumber: seq & 0xffff, timestamp: 0, ssrc: 1, csrcs: [], payload: Buffer.alloc(0), paddingSize: 0 });
const seqs = (pkts: RtpPacket[]) => pkts.map((p) => p.sequenceNumber);

describe('RtpReorderBuffer', () => {
  it('passes in-order packets through at once', () => {
    const b = new RtpReorderBuffer();
    for (let s = 10; s < 20; s++) expect(seqs(b.push(rtp(s), 0))).toEqual([s]);
    expect(b.size).toBe(0);
    expect(b.nextDeadlineMs).toBeUndefined();
    expect(b.stats).toMatchObject({ packets: 10, released: 10, reordered: 0, skippedGaps: 0 });
  });

  it('puts a swap back in order', () => {
    const b = new RtpReorderBuffer();
    expect(seqs(b.push(rtp(1), 0))).toEqual([1]);
    expect(seqs(b.push(rtp(3), 1))).toEqual([]);
    expect(seqs(b.push(rtp(4), 2))).toEqual([]);
    expect(b.nextDeadlineMs).toBe(101);
    expect(seqs(b.push(rtp(2), 3))).toEqual([2, 3, 4]);
    expect(b.stats).toMatchObject({ reordered: 1, skippedGaps: 0 });
  });

  it('gives up on a lost packet after maxDelayMs and drops it when it comes late', () => {
    const b = new RtpReorderBuffer({ maxDelayMs: 50 });
    b.push(rtp(1), 0);
    expect(seqs(b.push(rtp(3), 10))).toEqual([]);
    expect(seqs(b.push(rtp(4), 20))).toEqual([]);
    expect(seqs(b.poll(59))).toEqual([]);
    expect(seqs(b.poll(60))).toEqual([3, 4]);
    expect(seqs(b.push(rtp(2), 61))).toEqual([]);
    expect(seqs(b.push(rtp(5), 62))).toEqual([5]);
    expect(b.stats).toMatchObject({ late: 1, skippedGaps: 1, skippedPackets: 1 });
  });

  it('skips on push too when the wait ran out, and through several gaps', () => {
    const b = new RtpReorderBuffer({ maxDelayMs: 50 });
    b.push(rtp(1), 0);
    b.push(rtp(3), 0);
    b.push(rtp(6), 40);
    // at 50 the packet 3 has waited enough: skip 2, release 3; 6 waited only 10 ms (4, 5 missing)
    expect(seqs(b.push(rtp(7), 50))).toEqual([3]);
    expect(seqs(b.poll(90))).toEqual([6, 7]);
    expect(b.stats).toMatchObject({ skippedGaps: 2, skippedPackets: 3 });
  });

  it('never waits with maxDelayMs 0', () => {
    const b = new RtpReorderBuffer({ maxDelayMs: 0 });
    b.push(rtp(1), 0);
    expect(seqs(b.push(rtp(3), 0))).toEqual([3]);
    expect(seqs(b.push(rtp(2), 0))).toEqual([]);
  });

  it('skips a gap when more than maxPackets are held', () => {
    const b = new RtpReorderBuffer({ maxPackets: 4, maxDelayMs: 1e9 });
    b.push(rtp(1), 0);
    for (let s = 3; s <= 6; s++) expect(seqs(b.push(rtp(s), 0))).toEqual([]);
    expect(b.size).toBe(4);
    expect(seqs(b.push(rtp(7), 0))).toEqual([3, 4, 5, 6, 7]);
    expect(b.size).toBe(0);
  });

  it('drops duplicates, held or already released', () => {
    const b = new RtpReorderBuffer();
    b.push(rtp(1), 0);
    expect(seqs(b.push(rtp(1), 0))).toEqual([]);
    b.push(rtp(3), 0);
    expect(seqs(b.push(rtp(3), 0))).toEqual([]);
    expect(seqs(b.push(rtp(2), 0))).toEqual([2, 3]);
    expect(b.stats).toMatchObject({ duplicates: 1, late: 1, released: 3 });
  });

  it('orders across the wrap at 65535', () => {
    const b = new RtpReorderBuffer();
    expect(seqs(b.push(rtp(65533), 0))).toEqual([65533]);
    expect(seqs(b.push(rtp(0), 0))).toEqual([]);
    expect(seqs(b.push(rtp(65535), 0))).toEqual([]);
    expect(seqs(b.push(rtp(65534), 0))).toEqual([65534, 65535, 0]);
    expect(seqs(b.push(rtp(1), 0))).toEqual([1]);
    expect(seqs(b.push(rtp(65535), 0))).toEqual([]); // late, not 65534 ahead
  });

  it('restarts on a far jump ahead or behind, releasing what it held', () => {
    const b = new RtpReorderBuffer();
    b.push(rtp(100), 0);
    b.push(rtp(102), 0);
    expect(seqs(b.push(rtp(20000), 0))).toEqual([102, 20000]);
    expect(seqs(b.push(rtp(20001), 0))).toEqual([20001]);
    expect(seqs(b.push(rtp(5), 0))).toEqual([5]);
    expect(seqs(b.push(rtp(6), 0))).toEqual([6]);
    expect(b.stats).toMatchObject({ restarts: 2, late: 0 });
  });

  it('flushes everything held in order and continues after it', () => {
    const b = new RtpReorderBuffer();
    b.push(rtp(1), 0);
    b.push(rtp(5), 0);
    b.push(rtp(3), 0);
    expect(seqs(b.flush())).toEqual([3, 5]);
    expect(seqs(b.push(rtp(6), 0))).toEqual([6]);
    expect(seqs(b.push(rtp(4), 0))).toEqual([]);
    expect(seqs(b.flush())).toEqual([]);
  });

  it.each([{ maxPackets: 0 }, { maxPackets: 1.5 }, { maxDelayMs: -1 }, { maxDelayMs: NaN }, { maxJump: 40000 }])('rejects options %j', (o) => {
    expect(() => new RtpReorderBuffer(o)).toThrow(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });

  describe('properties', () => {
    /** Packets from `start`, shuffled locally (each moves up to `spread` places), some dropped, some duplicated. */
    const traffic = fc
      .record({
        start: fc.nat(0xffff),
        count: fc.integer({ min: 0, max: 400 }),
        spread: fc.integer({ min: 0, max: 40 }),
        seed: fc.nat(),
        dropRate: fc.constantFrom(0, 0, 0.05, 0.3),
        dupRate: fc.constantFrom(0, 0.05),
      })
      .map(({ start, count, spread, seed, dropRate, dupRate }) => {
        let x = seed || 1;
        const rand = () => {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          return (x >>> 0) / 2 ** 32;
        };
        const items: { key: number; seq: number }[] = [];
        for (let i = 0; i < count; i++) {
          if (rand() < dropRate) continue;
          items.push({ key: i + rand() * spread, seq: (start + i) & 0xffff });
          if (rand() < dupRate) items.push({ key: i + rand() * spread, seq: (start + i) & 0xffff });
        }
        items.sort((a, b) => a.key - b.key);
        return { start, dropped: dropRate > 0, duplicated: dupRate > 0, spread, arrivals: items.map((it) => it.seq), steps: items.map(() => Math.floor(rand() * 10)) };
      });
    const options = fc.record({ maxPackets: fc.integer({ min: 1, max: 64 }), maxDelayMs: fc.integer({ min: 0, max: 200 }) });

    it('releases pushed packets only, once, in strictly increasing extended order, within maxPackets', () => {
      fc.assert(
        fc.property(traffic, options, (t, o) => {
          const b = new RtpReorderBuffer(o);
          const pushed = new Set<RtpPacket>();
          const released = new Set<RtpPacket>();
          let last: number | undefined;
          // plain throws: jest's expect per packet would dominate the run time
          const check = (out: RtpPacket[]) => {
            for (const p of out) {
              if (!pushed.has(p)) throw new Error(`released ${p.sequenceNumber}, never pushed`);
              if (released.has(p)) throw new Error(`released ${p.sequenceNumber} twice`);
              released.add(p);
              const ext = last === undefined ? p.sequenceNumber : last + rtpSeqDiff(p.sequenceNumber, last & 0xffff);
              if (last !== undefined && ext <= last) throw new Error(`released ${ext} after ${last}`);
              last = ext;
            }
            if (b.size > o.maxPackets) throw new Error(`holds ${b.size} > ${o.maxPackets}`);
          };
          let now = 0;
          t.arrivals.forEach((seq, i) => {
            now += t.steps[i];
            const p = rtp(seq);
            pushed.add(p);
            check(b.push(p, now));
            if (i % 7 === 0) check(b.poll(now));
          });
          check(b.flush());
          expect(b.size).toBe(0);
          expect(b.stats.released).toBe(released.size);
          expect(b.stats.packets).toBe(t.arrivals.length);
          expect(b.stats.released + b.stats.duplicates + b.stats.late).toBe(t.arrivals.length);
          if (!t.dropped && !t.duplicated) {
            // nothing lost: every sequence number comes out once, whatever had to be skipped meanwhile
            // (a packet behind a skipped gap is late), and with room and time enough nothing is skipped
            // but the packets sent before the first one to arrive (they are behind the start: late)
            const out = [...released].map((p) => p.sequenceNumber);
            if (o.maxPackets > t.spread + 1 && o.maxDelayMs >= 10 * (t.spread + 2)) {
              const firstOffset = t.arrivals.length > 0 ? (t.arrivals[0] - t.start) & 0xffff : 0;
              const sent = t.arrivals.map((_s, i) => (t.start + i) & 0xffff);
              expect(out).toEqual(sent.slice(firstOffset));
              expect(b.stats.late).toBe(firstOffset);
              expect(b.stats.skippedGaps).toBe(0);
            } else {
              expect(out.length + b.stats.late).toBe(t.arrivals.length);
            }
          }
        }),
        { numRuns: 400 },
      );
    });
  });
});
