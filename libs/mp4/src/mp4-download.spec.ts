import { parseRange, parseTime } from './mp4-download.service';
import { coalesceSpans, readSpans } from './mp4-spans';

describe('parseRange', () => {
  it.each([
    ['bytes=0-99', { start: 0, end: 100 }],
    ['bytes=500-', { start: 500, end: 1000 }],
    ['bytes=-100', { start: 900, end: 1000 }],
    ['bytes=900-5000', { start: 900, end: 1000 }],
    ['bytes=-5000', { start: 0, end: 1000 }],
  ])('%s of 1000 bytes', (header, range) => expect(parseRange(header, 1000)).toEqual(range));

  it.each(['bytes=1000-', 'bytes=5-2', 'bytes=-0', 'bytes=-', 'bytes=0-1,5-6', 'items=0-1', 'bytes=x-1'])('%s is unsatisfiable', (header) => {
    expect(parseRange(header, 1000)).toBe('unsatisfiable');
  });

  it('no header: the whole file', () => expect(parseRange(undefined, 1000)).toBeUndefined());
});

describe('parseTime', () => {
  it('reads ms, Unix seconds and ISO 8601', () => {
    expect(parseTime('1700000000000')).toBe(1_700_000_000_000);
    expect(parseTime('1700000000')).toBe(1_700_000_000_000);
    expect(parseTime('1700000000.5')).toBe(1_700_000_000_500);
    expect(parseTime('2023-11-14T22:13:20Z')).toBe(1_700_000_000_000);
    expect(parseTime('soon')).toBeUndefined();
  });
});

describe('readSpans', () => {
  const source = Buffer.from('0123456789abcdefghij');
  const sources = [{ size: source.length, read: async (offset: number, length: number) => source.subarray(offset, offset + length) }];
  const spans = coalesceSpans([{ data: Buffer.from('HEAD') }, { source: 0, offset: 2, length: 3 }, { source: 0, offset: 5, length: 5 }, { data: Buffer.from('!') }]);

  async function read(from: number, to: number): Promise<string> {
    const pieces: Buffer[] = [];
    for await (const piece of readSpans(spans, sources, from, to)) pieces.push(piece);
    return Buffer.concat(pieces).toString();
  }

  it('joins continuing source spans and reads any slice of the file', async () => {
    expect(spans).toHaveLength(3);
    expect(await read(0, 13)).toBe('HEAD23456789!');
    expect(await read(3, 6)).toBe('D23');
    expect(await read(12, 13)).toBe('!');
  });
});
