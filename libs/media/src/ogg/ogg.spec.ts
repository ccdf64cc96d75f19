import fc from 'fast-check';
import { fixture } from '../../test-fixtures/fixtures';
import { buildOpusHead, parseOpusHead } from '../codecs/opus';
import { MediaError } from '../media.errors';
import { buildOggPage, OGG_BOS, OGG_CONTINUED, OGG_EOS, oggCrc, OggPage, OggReader, OggWriter } from './ogg';
import { buildOpusTags, OggOpusPacket, OggOpusReader, OggOpusWriter } from './ogg-opus';

/** Feeds a byte stream in chunks of the given sizes (cycled). */
function readInChunks<T>(push: (chunk: Buffer) => T[], data: Buffer, sizes: number[]): T[] {
  const out: T[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]);
    out.push(...push(data.subarray(at, at + size)));
    at += size;
  }
  return out;
}

function opusPackets(reader: OggOpusReader, data: Buffer, sizes: number[]): { heads: Buffer[]; packets: OggOpusPacket[] } {
  const heads: Buffer[] = [];
  const packets = readInChunks((chunk) => {
    const got = reader.push(chunk);
    if (got.head) heads.push(got.head);
    return got.packets;
  }, data, sizes);
  return { heads, packets };
}

/** A 20 ms CELT fullband packet (TOC config 31, one frame) of `size` bytes. */
const celt20 = (size: number, fill = 0): Buffer => Buffer.concat([Buffer.from([31 << 3]), Buffer.alloc(size - 1, fill)]);

describe('Ogg pages', () => {
  it('computes the Ogg CRC (polynomial 0x04C11DB7, initial 0) and continues one over pieces', () => {
    expect(oggCrc(Buffer.from('123456789'))).toBe(0x89a1897f);
    const data = Buffer.from('an Ogg page in two pieces');
    expect(oggCrc(data, 9, data.length, oggCrc(data, 0, 9))).toBe(oggCrc(data));
  });

  it('reads the pages of an Ogg Opus file ffmpeg wrote, CRCs checked', () => {
    const pages = new OggReader().push(fixture('opus-stereo.opus'));
    expect(pages[0].flags & OGG_BOS).toBe(OGG_BOS);
    expect(parseOpusHead(pages[0].packets[0])).toMatchObject({ channels: 2, preSkip: 312 });
    expect(pages[1].packets[0].toString('latin1', 0, 8)).toBe('OpusTags');
    expect(pages.at(-1)!.flags & OGG_EOS).toBe(OGG_EOS);
    expect(pages.flatMap((p) => p.packets)).toHaveLength(2 + 11);
    expect(new Set(pages.map((p) => p.serial)).size).toBe(1);
    expect(pages.map((p) => p.sequence)).toEqual(pages.map((_, i) => i));
  });

  it('places the packets of that file where ffprobe does (pts - pre-skip, end trimming on the last page)', () => {
    const { heads, packets } = opusPackets(new OggOpusReader(), fixture('opus-stereo.opus'), [4096]);
    expect(heads).toHaveLength(1);
    // ffprobe: the first packet at pts -312 (pre-skip), 960 samples each.
    expect(packets.slice(0, 10).map((p) => p.start)).toEqual([...Array(10).keys()].map((i) => -312 + i * 960));
    expect(packets.every((p) => p.samples === 960)).toBe(true);
  });

  it('round-trips pages, with the same result whatever the chunking', () => {
    const writer = new OggWriter(0x1234);
    const big = Buffer.alloc(600, 7); // 3 lacing values: 255, 255, 90
    const exact = Buffer.alloc(255, 9); // 255 then a 0 lacing value
    const stream = Buffer.concat([
      writer.page([Buffer.from('first')], 0),
      writer.page([big, exact, Buffer.alloc(0)], 1000),
      writer.page([Buffer.from('last')], 2000, true),
    ]);
    const whole = new OggReader().push(stream);
    expect(whole.map((p) => [p.sequence, p.granule, p.flags, p.serial])).toEqual([
      [0, 0, OGG_BOS, 0x1234],
      [1, 1000, 0, 0x1234],
      [2, 2000, OGG_EOS, 0x1234],
    ]);
    expect(whole[1].packets).toEqual([big, exact, Buffer.alloc(0)]);
    for (const sizes of [[1], [7, 3], [27], [28, 100], [stream.length]]) {
      const reader = new OggReader();
      expect(readInChunks<OggPage>((c) => reader.push(c), stream, sizes)).toEqual(whole);
    }
  });

  it('joins a packet continued across pages, drops a continuation it lacks the start of', () => {
    const long = Buffer.alloc(255 * 2, 5);
    const tail = Buffer.from('tail of the long packet');
    // First page: the long packet's 510 bytes, unfinished (lacing 255, 255); second: continued, ends it.
    const first = buildOggPage({ serial: 1, sequence: 0, granule: -1, packets: [] });
    const firstWithBody = Buffer.concat([first.subarray(0, 26), Buffer.from([2, 255, 255]), long]);
    firstWithBody.writeUInt32LE(0, 22);
    firstWithBody.writeUInt32LE(oggCrc(firstWithBody), 22);
    const second = buildOggPage({ serial: 1, sequence: 1, granule: 500, packets: [tail, Buffer.from('next')] });
    second[5] = OGG_CONTINUED;
    second.writeUInt32LE(0, 22);
    second.writeUInt32LE(oggCrc(second), 22);

    const pages = new OggReader().push(Buffer.concat([firstWithBody, second]));
    expect(pages[0].packets).toEqual([]);
    expect(pages[0].granule).toBe(-1);
    expect(pages[1].packets).toEqual([Buffer.concat([long, tail]), Buffer.from('next')]);
    // Joined in the middle of the stream: the continuation alone is dropped, the next packet kept.
    expect(new OggReader().push(second)[0].packets).toEqual([Buffer.from('next')]);
  });

  it('rejects a bad capture pattern, version, CRC, or an oversized packet with MediaError', () => {
    const page = new OggWriter(1).page([Buffer.from('data')], 0);
    const bad = (mutate: (b: Buffer) => void) => {
      const copy = Buffer.from(page);
      mutate(copy);
      return () => new OggReader().push(copy);
    };
    expect(bad((b) => (b[0] = 0x41))).toThrow(MediaError);
    expect(bad((b) => (b[4] = 1))).toThrow(/version/);
    expect(bad((b) => (b[27 + 1] ^= 1))).toThrow(/CRC/);
    expect(bad((b) => (b[27 + 1 + 2] ^= 1))).toThrow(/CRC/);
    const huge = Buffer.concat([new OggWriter(1).page([Buffer.alloc(60_000)], 0)]);
    expect(() => new OggReader({ maxPacketSize: 1000 }).push(huge)).toThrow(/over 1000 bytes/);
    expect(() => buildOggPage({ serial: 1, sequence: 0, granule: 0, packets: [Buffer.alloc(255 * 255)] })).toThrow(MediaError);
  });

  it('fuzz: random and mutated input only ever throws MediaError', () => {
    const valid = fixture('opus-stereo.opus');
    const onlyMediaError = (data: Buffer, chunk: number) => {
      const ogg = new OggReader({ maxPacketSize: 4096 });
      const opus = new OggOpusReader();
      for (const reader of [(c: Buffer) => ogg.push(c), (c: Buffer) => opus.push(c)]) {
        try {
          for (let at = 0; at < data.length; at += chunk) reader(data.subarray(at, at + chunk));
        } catch (error) {
          if (!(error instanceof MediaError)) throw error;
        }
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 64 }), (bytes, chunk) => onlyMediaError(Buffer.from(bytes), chunk)),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.integer({ min: 1, max: 700 }), (edits, chunk) => {
        const copy = Buffer.from(valid);
        for (const [at, value] of edits) copy[at] = value;
        // Mutations past the header bytes would mostly just fail the CRC: fix it up so packet parsing is fuzzed too.
        for (let at = 0; at + 27 <= copy.length; ) {
          if (copy.readUInt32BE(at) !== 0x4f676753) break;
          const segments = copy[at + 26];
          let size = 27 + segments;
          for (let i = 0; i < segments && at + 27 + i < copy.length; i++) size += copy[at + 27 + i];
          if (at + size > copy.length) break;
          copy.writeUInt32LE(0, at + 22);
          copy.writeUInt32LE(oggCrc(copy, at, at + size), at + 22);
          at += size;
        }
        onlyMediaError(copy, chunk);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Ogg Opus', () => {
  it('writes headers and packets that the reader gives back with their positions', () => {
    const writer = new OggOpusWriter(7);
    const head = buildOpusHead({ channels: 2, preSkip: 0 });
    const packets = [celt20(40, 1), celt20(50, 2), celt20(30, 3)];
    const stream = Buffer.concat([writer.headers(head), ...packets.map((p) => writer.packet(p))]);
    const pages = new OggReader().push(stream);
    expect(pages[1].packets[0]).toEqual(buildOpusTags());
    expect(pages.slice(2).map((p) => p.granule)).toEqual([960, 1920, 2880]);
    for (const sizes of [[1], [13, 5], [stream.length]]) {
      const got = opusPackets(new OggOpusReader(), stream, sizes);
      expect(got.heads).toEqual([head]);
      expect(got.packets).toEqual(packets.map((data, i) => ({ data, start: i * 960, samples: 960 })));
    }
  });

  it('places several packets of one page back from the page granule, minus the pre-skip', () => {
    const ogg = new OggWriter(3);
    const head = buildOpusHead({ channels: 1, preSkip: 312 });
    const stream = Buffer.concat([
      ogg.page([head], 0),
      ogg.page([buildOpusTags()], 0),
      ogg.page([celt20(10), celt20(10), celt20(10)], 2880),
    ]);
    expect(new OggOpusReader().push(stream).packets.map((p) => p.start)).toEqual([-312, 648, 1608]);
  });

  it('rejects audio before the comment header, and an OpusHead that is not one', () => {
    const ogg = new OggWriter(3);
    const noTags = Buffer.concat([ogg.page([buildOpusHead()], 0), ogg.page([celt20(10)], 960)]);
    expect(() => new OggOpusReader().push(noTags)).toThrow(/OpusTags/);
    expect(() => new OggOpusReader().push(new OggWriter(1).page([Buffer.from('not a head at all')], 0))).toThrow(MediaError);
  });
});
