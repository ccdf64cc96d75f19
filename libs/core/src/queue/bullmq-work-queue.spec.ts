import fc from 'fast-check';
import { fromBullmqJobId, toBullmqJobId } from './bullmq-work-queue';

describe('BullMQ job ids', () => {
  it.each([
    ['evt:abc', 'evt%3Aabc'],
    ['42', '%N42'],
    ['-7', '%N-7'],
    ['50%:x', '50%25%3Ax'],
    ['plain-id', 'plain-id'],
  ])('%s is stored as %s', (id, stored) => {
    expect(toBullmqJobId(id)).toBe(stored);
    expect(fromBullmqJobId(stored)).toBe(id);
  });

  it('maps every id to one BullMQ accepts (no ":", not an integer) and back, without collisions', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        const stored = toBullmqJobId(a);
        expect(stored).not.toContain(':');
        expect(`${parseInt(stored, 10)}`).not.toBe(stored);
        expect(fromBullmqJobId(stored)).toBe(a);
        if (a !== b) expect(toBullmqJobId(b)).not.toBe(stored);
      }),
    );
  });
});
