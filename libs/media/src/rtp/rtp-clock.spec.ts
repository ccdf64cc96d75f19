import fc from 'fast-check';
import { ntpMiddle32, ntpToUnixMs, RtpMediaClock, rtpTimestampDiff, RtpTimestampUnwrapper, unixMsToNtp } from './rtp-clock';

describe('NTP <-> Unix time', () => {
  it('maps the Unix epoch and a known instant', () => {
    expect(unixMsToNtp(0)).toEqual({ seconds: 2208988800, fraction: 0 });
    expect(ntpToUnixMs(2208988800, 0)).toBe(0);
    // 2024-01-01T00:00:00.5Z
    const ms = Date.UTC(2024, 0, 1) + 500;
    expect(unixMsToNtp(ms)).toEqual({ seconds: 3913056000, fraction: 0x80000000 });
    expect(ntpToUnixMs(3913056000, 0x80000000)).toBe(ms);
  });

  it('crosses the 2036 era boundary', () => {
    const eraEnd = (0x100000000 - 2208988800) * 1000; // 2036-02-07T06:28:16Z
    expect(unixMsToNtp(eraEnd)).toEqual({ seconds: 0, fraction: 0 });
    expect(ntpToUnixMs(0, 0)).toBe(eraEnd);
    const y2040 = Date.UTC(2040, 0, 1);
    expect(ntpToUnixMs(unixMsToNtp(y2040).seconds, unixMsToNtp(y2040).fraction)).toBe(y2040);
  });

  it('round trips to well under a microsecond from 1970 to 2100', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: Date.UTC(2100, 0, 1), noNaN: true }), (ms) => {
        const n = unixMsToNtp(ms);
        expect(Number.isInteger(n.seconds) && n.seconds >= 0 && n.seconds < 2 ** 32).toBe(true);
        expect(Number.isInteger(n.fraction) && n.fraction >= 0 && n.fraction < 2 ** 32).toBe(true);
        expect(Math.abs(ntpToUnixMs(n.seconds, n.fraction) - ms)).toBeLessThan(0.001);
      }),
    );
  });

  it('takes the middle 32 bits', () => {
    expect(ntpMiddle32(0xaabbccdd, 0x11223344)).toBe(0xccdd1122);
    expect(ntpMiddle32(0xffffffff, 0xffffffff)).toBe(0xffffffff);
  });
});

describe('rtpTimestampDiff', () => {
  it.each([
    [10, 5, 5],
    [5, 10, -5],
    [0x10, 0xfffffff0, 0x20],
    [0xfffffff0, 0x10, -0x20],
    [0x7fffffff, 0, 0x7fffffff],
    [0x80000000, 0, -0x80000000],
  ])('%d - %d = %d', (a, b, d) => {
    expect(rtpTimestampDiff(a, b)).toBe(d);
  });
});

describe('RtpTimestampUnwrapper', () => {
  it('continues across the 32-bit wrap and takes small steps back', () => {
    const u = new RtpTimestampUnwrapper();
    expect(u.unwrap(0xffffff00)).toBe(0xffffff00);
    expect(u.unwrap(0x00000100)).toBe(0x100000100);
    expect(u.unwrap(0xfffffff0)).toBe(0xfffffff0); // B-frame style step back across the wrap
    expect(u.unwrap(0x00000200)).toBe(0x100000200);
    expect(u.unwrap(0x00000100 + 3000)).toBe(0x100000100 + 3000);
  });

  it('starts over after reset', () => {
    const u = new RtpTimestampUnwrapper();
    u.unwrap(0xfffffff0);
    u.unwrap(0x10);
    u.reset();
    expect(u.unwrap(7)).toBe(7);
  });

  it('follows any walk of steps under 2^31', () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.array(fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }), { maxLength: 50 }), (start, steps) => {
        const u = new RtpTimestampUnwrapper();
        let real = start;
        expect(u.unwrap(start)).toBe(start);
        for (const s of steps) {
          real += s;
          expect(u.unwrap(((real % 2 ** 32) + 2 ** 32) % 2 ** 32)).toBe(real);
        }
      }),
    );
  });
});

describe('RtpMediaClock', () => {
  it('counts ms from the first timestamp, across the wrap', () => {
    const c = new RtpMediaClock(90000);
    expect(c.toMs(0xffffffff - 89999)).toBe(0);
    expect(c.toMs(0xffffffff - 86999)).toBeCloseTo(33.333, 3);
    expect(c.toMs(0)).toBe(1000); // wrapped
    expect(c.toMs(90000 * 2)).toBe(3000);
    expect(c.toMs(90000 * 2 - 3600)).toBe(2960); // a B-frame before the previous frame
  });

  it('gives no wall clock before a sender report', () => {
    const c = new RtpMediaClock(8000);
    expect(c.synchronized).toBe(false);
    expect(c.wallClockMs(1234)).toBeUndefined();
  });

  it('maps timestamps to the sender wall clock through the last sender report, across the wrap', () => {
    const c = new RtpMediaClock(90000);
    const ntpMs = Date.UTC(2024, 5, 1, 12);
    c.onSenderReport(ntpMs, 0xffffff00);
    expect(c.synchronized).toBe(true);
    expect(c.wallClockMs(0xffffff00)).toBe(ntpMs);
    expect(c.wallClockMs(0xffffff00 - 9000)).toBe(ntpMs - 100);
    expect(c.wallClockMs(0xffffff00 + 90000 - 2 ** 32)).toBe(ntpMs + 1000);
    c.onSenderReport(ntpMs + 5000, 12345);
    expect(c.wallClockMs(12345 + 450000)).toBe(ntpMs + 10000);
  });

  it('lines up two tracks with unrelated clocks (lip sync)', () => {
    const video = new RtpMediaClock(90000);
    const audio = new RtpMediaClock(48000);
    const t0 = Date.UTC(2024, 0, 1);
    // both sampled at t0 + 1000 ms, with random initial timestamps
    video.onSenderReport(t0 + 1000, 3_000_000_000);
    audio.onSenderReport(t0 + 1000, 17);
    // a video frame at t0 + 1500 and an audio frame at t0 + 1500
    expect(video.wallClockMs(3_000_000_000 + 45000)).toBe(t0 + 1500);
    expect(audio.wallClockMs(17 + 24000)).toBe(t0 + 1500);
  });
});
