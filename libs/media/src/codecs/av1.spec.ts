import fc from 'fast-check';
import { fixture, mp4BoxPayload, probe, probedFps } from '../../test-fixtures/fixtures';
import { MediaError } from '../media.errors';
import {
  av1CodecString,
  av1Config,
  av1LevelFromIdx,
  Av1ObuType,
  buildAv1C,
  findAv1SequenceHeader,
  isAv1KeyFrame,
  parseAv1C,
  parseAv1SequenceHeaderPayload,
  readLeb128,
  splitObus,
  writeLeb128,
} from './av1';

/** Temporal units of a low-overhead OBU stream (split at temporal delimiters). */
function temporalUnits(buf: Buffer): Buffer[] {
  const tus: Buffer[] = [];
  let start = -1;
  for (const o of splitObus(buf)) {
    const at = o.obu.byteOffset - buf.byteOffset;
    if (o.type === Av1ObuType.TEMPORAL_DELIMITER) {
      if (start >= 0) tus.push(buf.subarray(start, at));
      start = at;
    }
  }
  if (start >= 0) tus.push(buf.subarray(start));
  return tus;
}

describe('AV1 sequence header (libaom streams, checked against ffprobe)', () => {
  it.each([
    ['av1-320x240.obu', 8],
    ['av1-10bit-192x108.obu', 10],
  ])('%s', (name, depth) => {
    const sh = findAv1SequenceHeader(fixture(name));
    expect(sh).toBeDefined();
    const seq = parseAv1SequenceHeaderPayload(sh!.payload);
    const p = probe(name);
    expect(seq.width).toBe(p.width);
    expect(seq.height).toBe(p.height);
    expect(seq.profile).toBe(p.profile);
    expect(seq.seqLevelIdx).toBe(p.level);
    expect(seq.bitDepth).toBe(depth);
    expect(seq.chromaSubsamplingX).toBe(1);
    expect(seq.chromaSubsamplingY).toBe(1);
    if (seq.fps !== undefined) expect(seq.fps).toBeCloseTo(probedFps(p), 3);
  });

  it('splits temporal units and finds the key frame', () => {
    const tus = temporalUnits(fixture('av1-320x240.obu'));
    expect(tus.length).toBe(3);
    expect(isAv1KeyFrame(tus[0])).toBe(true);
    expect(isAv1KeyFrame(tus[1])).toBe(false);
  });
});

describe('av1C', () => {
  it('matches the record ffmpeg wrote in MP4', () => {
    const mp4 = fixture('av1-320x240.mp4');
    const ref = mp4BoxPayload(mp4, 'av1C');
    const parsed = parseAv1C(ref);
    expect(parsed.width).toBe(320);
    expect(parsed.height).toBe(240);
    expect(buildAv1C(parsed.configObus).equals(ref)).toBe(true);
  });

  it('builds from a key frame temporal unit and parses back', () => {
    const tu = temporalUnits(fixture('av1-10bit-192x108.obu'))[0];
    const rec = buildAv1C(tu);
    const info = parseAv1C(rec);
    expect(info).toMatchObject({ version: 1, seqProfile: 0, highBitdepth: true, twelveBit: false, monochrome: false, width: 192, height: 108 });
    expect(av1CodecString(info)).toBe(`av01.0.${String(info.seqLevelIdx0).padStart(2, '0')}M.10`);
  });

  it('adds obu_size to a sequence header written without it', () => {
    const sh = findAv1SequenceHeader(fixture('av1-320x240.obu'))!;
    const bare = Buffer.concat([Buffer.from([sh.obu[0] & ~0x02]), sh.payload]);
    const rec = buildAv1C(bare);
    const again = findAv1SequenceHeader(rec.subarray(4))!;
    expect(again.hasSizeField).toBe(true);
    expect(again.payload.equals(sh.payload)).toBe(true);
  });

  it('av1Config', () => {
    const rec = buildAv1C(fixture('av1-320x240.obu'));
    expect(av1Config(rec)).toMatchObject({ kind: 'video', codec: 'av1', width: 320, height: 240, profile: 'Main', parameterSets: [] });
    // a record without configOBUs takes the size from the caller
    expect(av1Config(rec.subarray(0, 4), 640, 480)).toMatchObject({ width: 640, height: 480 });
  });

  it.each([
    ['short', '81'],
    ['no marker', '01000000'],
    ['bad version', '82000000'],
    ['config OBU past the end', '810000000a0b'],
  ])('rejects %s', (_n, h) => {
    expect(() => parseAv1C(Buffer.from(h, 'hex'))).toThrow(MediaError);
  });

  it('refuses to build without a sequence header', () => {
    expect(() => buildAv1C(Buffer.from([0x12, 0x00]))).toThrow(expect.objectContaining({ code: 'BAD_OBU' }));
  });
});

describe('leb128 and levels', () => {
  it.each([0, 1, 127, 128, 300, 16383, 16384, 2 ** 28, 2 ** 32 - 1])('round-trips %d', (v) => {
    const enc = writeLeb128(v);
    expect(readLeb128(enc, 0)).toEqual([v, enc.length]);
  });

  it('rejects overlong or truncated values', () => {
    expect(() => readLeb128(Buffer.from([0x80, 0x80]), 0)).toThrow(MediaError);
    expect(() => readLeb128(Buffer.alloc(9, 0xff), 0)).toThrow(MediaError);
  });

  it.each([
    [0, 2.0],
    [1, 2.1],
    [4, 3.0],
    [8, 4.0],
    [9, 4.1],
    [13, 5.1],
    [31, 0],
  ])('seq_level_idx %d = level %d', (idx, level) => {
    expect(av1LevelFromIdx(idx)).toBeCloseTo(level, 5);
  });
});

describe('AV1 parsers on random and mutated input (property)', () => {
  const onlyMediaError = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
    }
  };
  const rec = buildAv1C(fixture('av1-320x240.obu'));
  const tu = temporalUnits(fixture('av1-320x240.obu'))[0].subarray(0, 200);

  it('parseAv1C / av1Config / splitObus / isAv1KeyFrame', () => {
    const mutate = (base: Buffer) =>
      fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat()).map(([edits, cut]) => {
        const b = Buffer.from(base);
        for (const [i, v] of edits) b[i % b.length] = v;
        return b.subarray(0, b.length - (cut % b.length));
      });
    fc.assert(
      fc.property(fc.oneof(mutate(rec), mutate(tu), fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a))), (b) => {
        onlyMediaError(() => parseAv1C(b));
        onlyMediaError(() => av1Config(b));
        onlyMediaError(() => splitObus(b));
        onlyMediaError(() => isAv1KeyFrame(b));
        onlyMediaError(() => buildAv1C(b));
      }),
      { numRuns: 1500 },
    );
  });
});
