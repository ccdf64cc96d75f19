import { ContentClock } from './content-clock';

const AAC_44K = (1024 / 44100) * 1000;
const OPUS = 20;

describe('ContentClock', () => {
  it('places output at the dts of the input at the same content time', () => {
    const clock = new ContentClock();
    expect(clock.place(0)).toBeUndefined();
    for (let i = 0; i < 10; i++) clock.input(1000 + i * 20, 20);
    expect(clock.place(0)).toBe(1000);
    expect(clock.place(30)).toBe(1030);
    expect(clock.place(190)).toBe(1190);
  });

  it('keeps a gap in the input as a gap in the output', () => {
    const clock = new ContentClock();
    for (let i = 0; i < 5; i++) clock.input(i * 20, 20);
    // 2 s missing (packet loss, a stalled source), then the input goes on.
    for (let i = 0; i < 5; i++) clock.input(2100 + i * 20, 20);
    const placed = [0, 20, 40, 60, 80, 100, 120].map((t) => clock.place(t));
    expect(placed).toEqual([0, 20, 40, 60, 80, 2100, 2120]);
  });

  it('places output straddling a gap by where it starts, and never goes back in time', () => {
    const clock = new ContentClock();
    clock.input(0, 20);
    clock.input(500, 20);
    expect(clock.place(10)).toBe(10);
    expect(clock.place(25)).toBe(505);
    expect(clock.place(24)).toBe(505); // an earlier content time after a later one: held at the last
  });

  it('does not drift over 10 minutes of AAC with dts rounded to ms (RTMP), into 20 ms Opus packets', () => {
    const clock = new ContentClock();
    const frames = Math.ceil((10 * 60 * 1000) / AAC_44K);
    const start = 123_456;
    let maxError = 0;
    let out = 0;
    for (let i = 0; i < frames; i++) {
      clock.input(start + Math.round(i * AAC_44K), AAC_44K);
      // Output lags the input by a few packets, as an encoder's does.
      while ((out + 3) * OPUS < clock.contentTime) {
        const dts = clock.place(out * OPUS)!;
        maxError = Math.max(maxError, Math.abs(dts - (start + out * OPUS)));
        out++;
      }
    }
    expect(out).toBeGreaterThan(29_000);
    expect(maxError).toBeLessThan(1);
  });

  it('follows a source clock that runs slow against the sample rate, within the tolerance', () => {
    const clock = new ContentClock(2);
    // The publisher's clock says 999 ms for each second of samples.
    const frames = Math.ceil((10 * 60 * 1000) / OPUS);
    let maxError = 0;
    for (let i = 0; i < frames; i++) {
      clock.input(i * OPUS * 0.999, OPUS);
      const t = i * OPUS;
      maxError = Math.max(maxError, Math.abs(clock.place(t)! - t * 0.999));
    }
    expect(maxError).toBeLessThanOrEqual(2);
  });

  it('holds a bounded number of runs whatever the input', () => {
    const clock = new ContentClock(2, 16);
    for (let i = 0; i < 1000; i++) clock.input(i * 1000, 20);
    // The oldest runs were dropped: the oldest kept is frame 984's.
    expect(clock.place(984 * 20)).toBe(984_000);
    expect(clock.place(985 * 20)).toBe(985_000);
  });
});
