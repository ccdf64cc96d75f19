import fc from 'fast-check';
import { fixture, probe, probedFps } from '../../test-fixtures/fixtures';
import { splitAnnexB } from '../annexb';
import { MediaError } from '../media.errors';
import {
  buildAvcC,
  h264CodecString,
  h264Config,
  h264ConfigFromRecord,
  H264NalType,
  h264NalType,
  isH264KeyFrame,
  parseAvcC,
  parseH264Sps,
} from './h264';

function paramSets(name: string): { sps: Buffer[]; pps: Buffer[]; nals: Buffer[] } {
  const nals = splitAnnexB(fixture(name));
  return {
    sps: nals.filter((n) => h264NalType(n) === H264NalType.SPS),
    pps: nals.filter((n) => h264NalType(n) === H264NalType.PPS),
    nals,
  };
}

const FIXTURES = [
  { name: 'h264-baseline-320x240.h264', chroma: '4:2:0', depth: 8 },
  { name: 'h264-main-176x144.h264', chroma: '4:2:0', depth: 8 },
  { name: 'h264-high-640x360.h264', chroma: '4:2:0', depth: 8 },
  { name: 'h264-high10-352x288.h264', chroma: '4:2:0', depth: 10 },
  { name: 'h264-high422-320x180.h264', chroma: '4:2:2', depth: 8 },
  { name: 'h264-high444-322x242.h264', chroma: '4:4:4', depth: 8 },
  { name: 'h264-interlaced-720x576.h264', chroma: '4:2:0', depth: 8 },
];

describe('parseH264Sps (ffmpeg/libx264 streams, checked against ffprobe)', () => {
  it.each(FIXTURES)('$name', ({ name, chroma, depth }) => {
    const { sps } = paramSets(name);
    expect(sps).toHaveLength(1);
    const info = parseH264Sps(sps[0]);
    const p = probe(name);
    expect(info.width).toBe(p.width);
    expect(info.height).toBe(p.height);
    expect(info.profile).toBe(p.profile);
    expect(info.levelIdc).toBe(p.level);
    expect(info.level).toBeCloseTo((p.level ?? 0) / 10, 5);
    expect(info.chromaFormat).toBe(chroma);
    expect(info.bitDepthLuma).toBe(depth);
    expect(info.fps).toBeCloseTo(probedFps(p), 5);
    expect(info.frameMbsOnly).toBe(p.field_order === 'progressive');
  });

  it('applies frame cropping (640x360 is coded as 640x368)', () => {
    const info = parseH264Sps(paramSets('h264-high-640x360.h264').sps[0]);
    expect(info.codedHeight).toBe(368);
    expect(info.crop.bottom).toBe(4);
  });

  it.each([
    ['not an SPS', '6801'],
    ['too short', '6742'],
    ['forbidden bit', 'e742c01e'],
    ['truncated after level', '6742c01e'],
  ])('rejects %s with BAD_SPS', (_n, h) => {
    expect(() => parseH264Sps(Buffer.from(h, 'hex'))).toThrow(expect.objectContaining({ code: 'BAD_SPS' }));
  });

  it('keeps the size when the VUI is damaged', () => {
    const sps = paramSets('h264-high-640x360.h264').sps[0];
    const cut = sps.subarray(0, sps.length - 6);
    const info = parseH264Sps(cut);
    expect(info.width).toBe(640);
    expect(info.height).toBe(360);
  });
});

describe('avcC', () => {
  it('builds and parses a record (main profile, no extension)', () => {
    const { sps, pps } = paramSets('h264-main-176x144.h264');
    const rec = buildAvcC(sps, pps);
    expect(rec[0]).toBe(1);
    expect(rec[1]).toBe(77);
    expect(rec[4]).toBe(0xff);
    expect(rec[5]).toBe(0xe1);
    expect(rec.length).toBe(6 + 2 + sps[0].length + 1 + 2 + pps[0].length);
    const back = parseAvcC(rec);
    expect(back.nalLengthSize).toBe(4);
    expect(back.sps[0].equals(sps[0])).toBe(true);
    expect(back.pps[0].equals(pps[0])).toBe(true);
    expect(back.chromaFormatIdc).toBeUndefined();
  });

  it('writes the high-profile extension', () => {
    const { sps, pps } = paramSets('h264-high422-320x180.h264');
    const rec = buildAvcC(sps, pps);
    const back = parseAvcC(rec);
    expect(back.profileIdc).toBe(122);
    expect(back.chromaFormatIdc).toBe(2);
    expect(back.bitDepthLuma).toBe(8);
    expect(back.spsExt).toEqual([]);
    const hi10 = parseAvcC(buildAvcC(paramSets('h264-high10-352x288.h264').sps, paramSets('h264-high10-352x288.h264').pps));
    expect(hi10.bitDepthLuma).toBe(10);
    expect(hi10.bitDepthChroma).toBe(10);
  });

  it('supports 2-byte NAL lengths', () => {
    const { sps, pps } = paramSets('h264-main-176x144.h264');
    expect(parseAvcC(buildAvcC(sps, pps, 2)).nalLengthSize).toBe(2);
  });

  it.each([
    ['empty', ''],
    ['bad version', '02640028ffe1'],
    ['SPS past the end', '01640028ffe10010'],
    ['missing PPS count', '01640028ffe1000167'],
  ])('rejects %s with BAD_RECORD', (_n, h) => {
    expect(() => parseAvcC(Buffer.from(h, 'hex'))).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
  });

  it('needs an SPS to build', () => {
    expect(() => buildAvcC([], [])).toThrow(MediaError);
  });
});

describe('h264Config', () => {
  it('fills the canonical VideoConfig', () => {
    const { sps, pps } = paramSets('h264-high-640x360.h264');
    const c = h264Config(sps, pps);
    expect(c).toMatchObject({ kind: 'video', codec: 'h264', width: 640, height: 360, profile: 'High', level: 3.1, fps: 30 });
    expect(c.parameterSets).toHaveLength(2);
    const again = h264ConfigFromRecord(c.record);
    expect(again.record).toBe(c.record);
    expect(again).toMatchObject({ width: 640, height: 360, profile: 'High' });
  });

  it('codec string', () => {
    const { sps } = paramSets('h264-high-640x360.h264');
    expect(h264CodecString(sps[0])).toBe('avc1.64001f');
  });
});

describe('isH264KeyFrame', () => {
  it('finds the IDR of the first access unit', () => {
    const { nals } = paramSets('h264-baseline-320x240.h264');
    expect(isH264KeyFrame(nals)).toBe(true);
    expect(isH264KeyFrame(nals.filter((n) => h264NalType(n) !== H264NalType.IDR))).toBe(false);
    expect(isH264KeyFrame([Buffer.alloc(0)])).toBe(false);
  });
});

describe('H.264 parsers on random and mutated input (property)', () => {
  const realSps = FIXTURES.map((f) => paramSets(f.name).sps[0]);
  const onlyMediaError = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
    }
  };

  it('parseH264Sps', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...realSps), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat())
      .map(([sps, edits, cut]) => {
        const b = Buffer.from(sps);
        for (const [i, v] of edits) b[1 + (i % (b.length - 1))] = v;
        return b.subarray(0, Math.max(1, b.length - (cut % 4)));
      });
    const random = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.concat([Buffer.from([0x67]), Buffer.from(a)]));
    fc.assert(
      fc.property(fc.oneof(mutated, random), (sps) => {
        onlyMediaError(() => {
          const info = parseH264Sps(sps);
          expect(info.width).toBeGreaterThan(0);
          expect(info.height).toBeGreaterThan(0);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('parseAvcC / h264ConfigFromRecord', () => {
    const rec = buildAvcC(paramSets('h264-high-640x360.h264').sps, paramSets('h264-high-640x360.h264').pps);
    const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat()).map(([edits, cut]) => {
      const b = Buffer.from(rec);
      for (const [i, v] of edits) b[i % b.length] = v;
      return b.subarray(0, b.length - (cut % b.length));
    });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a))), (r) => {
        onlyMediaError(() => parseAvcC(r));
        onlyMediaError(() => h264ConfigFromRecord(r));
      }),
      { numRuns: 1000 },
    );
  });
});
