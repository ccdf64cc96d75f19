import { diskPercent, maxAgeCutoff, nextSlot, pickForDiskLimit } from './retention';

describe('retention selection', () => {
  const rows = [
    { id: 1, size: 100 },
    { id: 2, size: 100 },
    { id: 3, size: 300 },
    { id: 4, size: 100 },
  ];

  it('picks nothing under the limit or without one', () => {
    expect(pickForDiskLimit(rows, { total: 1000, used: 800 }, 80)).toEqual([]);
    expect(pickForDiskLimit(rows, { total: 1000, used: 999 }, 0)).toEqual([]);
  });

  it('picks the oldest until the freed size brings the use under the limit', () => {
    expect(pickForDiskLimit(rows, { total: 1000, used: 850 }, 80).map((r) => r.id)).toEqual([1]);
    expect(pickForDiskLimit(rows, { total: 1000, used: 950 }, 80).map((r) => r.id)).toEqual([1, 2]);
    expect(pickForDiskLimit(rows, { total: 1000, used: 1000 }, 50).map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it('picks everything it has when that is not enough', () => {
    expect(pickForDiskLimit(rows, { total: 1000, used: 1000 }, 1).map((r) => r.id)).toEqual([1, 2, 3, 4]);
  });

  it('computes percentages and age cutoffs', () => {
    expect(diskPercent({ total: 200, used: 50 })).toBe(25);
    expect(maxAgeCutoff(10 * 86_400_000, 3)).toBe(7 * 86_400_000);
    expect(maxAgeCutoff(Date.now(), 0)).toBeUndefined();
  });

  it('aligns scheduled runs on multiples of the interval', () => {
    expect(nextSlot(0, 1000)).toBe(1000);
    expect(nextSlot(999, 1000)).toBe(1000);
    expect(nextSlot(1000, 1000)).toBe(2000);
  });
});
