import fc from 'fast-check';
import { fixture } from '../../test-fixtures/fixtures';
import { MediaError } from '../media.errors';
import { buildFlvHeader, encodeFlvTag, FlvTag, flvTagHeader, FlvTagReader, parseFlvHeader, previousTagSize, writeFlvTag } from './flv-tag';

function readAll(file: Buffer, chunkSizes: number[] = [file.length]): FlvTag[] {
  const r = new FlvTagReader();
  const tags: FlvTag[] = [];
  let off = 0;
  let i = 0;
  while (off < file.length) {
    const n = Math.max(1, chunkSizes[i++ % chunkSizes.length]);
    tags.push(...r.push(file.subarray(off, off + n)));
    off += n;
  }
  return tags;
}

const summary = (tags: FlvTag[]) => tags.map((t) => `${t.type}@${t.timestamp}:${t.body.toString('hex')}`);

describe('FLV file header', () => {
  it('builds 13 bytes (header + PreviousTagSize0) and parses back', () => {
    const h = buildFlvHeader(true, false);
    expect(h.toString('hex')).toBe('464c5601040000000900000000');
    expect(parseFlvHeader(h)).toEqual({ version: 1, hasAudio: true, hasVideo: false, dataOffset: 9 });
    expect(buildFlvHeader()[4]).toBe(5);
  });

  it.each([
    ['short', '464c56', 'TRUNCATED'],
    ['bad signature', '464c5801050000000900000000', 'BAD_FLV_HEADER'],
    ['bad offset', '464c5601050000000300000000', 'BAD_FLV_HEADER'],
  ])('rejects %s', (_n, hex, code) => {
    expect(() => parseFlvHeader(Buffer.from(hex, 'hex'))).toThrow(expect.objectContaining({ code }));
  });
});

describe('tag writers', () => {
  it('writes the 24-bit timestamp and its extension byte', () => {
    expect(flvTagHeader(9, 0x12345678, 0x010203).toString('hex')).toBe('09010203345678' + '12000000');
    expect(flvTagHeader(8, -5, 1).readUIntBE(4, 3)).toBe(0);
    expect(flvTagHeader(8, 2 ** 32 + 7, 1).readUIntBE(4, 3)).toBe(7);
    expect(() => flvTagHeader(9, 0, 0x1000000)).toThrow(expect.objectContaining({ code: 'TAG_TOO_LARGE' }));
  });

  it('writeFlvTag returns pieces that share the body', () => {
    const body = Buffer.from('abcdef');
    const pieces = writeFlvTag(8, 1000, body);
    expect(pieces).toHaveLength(3);
    expect(pieces[1]).toBe(body);
    expect(pieces[2].equals(previousTagSize(17))).toBe(true);
    expect(Buffer.concat(pieces).equals(encodeFlvTag(8, 1000, body))).toBe(true);
  });
});

describe('FlvTagReader', () => {
  const file = fixture('h264-aac.flv');
  const whole = readAll(file);

  it('demuxes an ffmpeg FLV file', () => {
    expect(whole[0].type).toBe(18);
    expect(whole.filter((t) => t.type === 9).length).toBeGreaterThan(10);
    expect(whole.filter((t) => t.type === 8).length).toBeGreaterThan(10);
    // the first video tag is the AVC sequence header
    const v = whole.find((t) => t.type === 9)!;
    expect(v.body[0]).toBe(0x17);
    expect(v.body[1]).toBe(0);
    // bodies lie in the pushed buffer (no copy) when a tag is inside one chunk
    expect(v.body.buffer).toBe(file.buffer);
  });

  it('rebuilds the same file from the tags', () => {
    const rebuilt = Buffer.concat([buildFlvHeader(true, true), ...whole.map((t) => encodeFlvTag(t.type, t.timestamp, t.body))]);
    expect(rebuilt.equals(file)).toBe(true);
  });

  it('gives the same tags whatever the chunk boundaries (byte by byte)', () => {
    expect(summary(readAll(file, [1]))).toEqual(summary(whole));
  });

  it('gives the same tags whatever the chunk boundaries (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }), (sizes) => {
        expect(summary(readAll(file, sizes))).toEqual(summary(whole));
      }),
      { numRuns: 100 },
    );
  });

  it('reads extended timestamps', () => {
    const stream = Buffer.concat([buildFlvHeader(), encodeFlvTag(9, 0x89abcdef, Buffer.from([1, 2]))]);
    const [t] = new FlvTagReader().push(stream);
    expect(t).toMatchObject({ type: 9, timestamp: 0x89abcdef, streamId: 0 });
  });

  it('reads a stream without file header when told so, skips unknown tag types', () => {
    const stream = Buffer.concat([encodeFlvTag(8, 1, Buffer.from([0xaf])), encodeFlvTag(15, 2, Buffer.from([1])), encodeFlvTag(9, 3, Buffer.alloc(0))]);
    const tags = new FlvTagReader({ expectHeader: false }).push(stream);
    expect(tags.map((t) => [t.type, t.timestamp, t.body.length])).toEqual([
      [8, 1, 1],
      [9, 3, 0],
    ]);
  });

  it('skips a header with a larger data offset', () => {
    const h = Buffer.from('464c5601050000000c' + 'aabbcc' + '00000000', 'hex');
    const tags = new FlvTagReader().push(Buffer.concat([h, encodeFlvTag(18, 0, Buffer.from([2]))]));
    expect(tags).toHaveLength(1);
  });

  it('throws TAG_TOO_LARGE past maxTagSize, and stays failed', () => {
    const r = new FlvTagReader({ maxTagSize: 100 });
    const stream = Buffer.concat([buildFlvHeader(), encodeFlvTag(9, 0, Buffer.alloc(101))]);
    expect(() => r.push(stream)).toThrow(expect.objectContaining({ code: 'TAG_TOO_LARGE' }));
    expect(() => r.push(Buffer.alloc(1))).toThrow(MediaError);
  });

  it('throws BAD_FLV_HEADER on a bad signature', () => {
    expect(() => new FlvTagReader().push(Buffer.from('GIF89a0000000000', 'latin1'))).toThrow(expect.objectContaining({ code: 'BAD_FLV_HEADER' }));
  });

  it('checks PreviousTagSize when strict', () => {
    const good = Buffer.concat([buildFlvHeader(), encodeFlvTag(8, 0, Buffer.from([1])), encodeFlvTag(8, 0, Buffer.from([1]))]);
    expect(new FlvTagReader({ strictPreviousTagSize: true }).push(good)).toHaveLength(2);
    const bad = Buffer.from(good);
    bad.writeUInt32BE(99, 13 + 12);
    expect(() => new FlvTagReader({ strictPreviousTagSize: true }).push(bad)).toThrow(expect.objectContaining({ code: 'BAD_TAG' }));
    expect(new FlvTagReader().push(bad)).toHaveLength(2);
  });

  it('only throws MediaError on mutated or random input (property)', () => {
    const head = file.subarray(0, 3000);
    const mutated = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((edits) => {
      const b = Buffer.from(head);
      for (const [i, v] of edits) b[i % b.length] = v;
      return b;
    });
    const random = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.concat([buildFlvHeader(), Buffer.from(a)]));
    fc.assert(
      fc.property(fc.oneof(mutated, random), fc.integer({ min: 1, max: 700 }), (buf, chunk) => {
        const r = new FlvTagReader({ maxTagSize: 64 * 1024 });
        try {
          for (let off = 0; off < buf.length; off += chunk) r.push(buf.subarray(off, off + chunk));
        } catch (e) {
          if (!(e instanceof MediaError)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});
