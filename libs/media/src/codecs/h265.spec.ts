import fc from 'fast-check';
import { fixture, mp4BoxPayload, probe, probedFps } from '../../test-fixtures/fixtures';
import { splitAnnexB } from '../annexb';
import { MediaError } from '../media.errors';
import {
  buildHvcC,
  h265CodecString,
  h265Config,
  h265ConfigFromRecord,
  H265NalType,
  h265NalType,
  isH265KeyFrame,
  parseH265Sps,
  parseHvcC,
} from './h265';

function paramSets(name: string) {
  const nals = splitAnnexB(fixture(name));
  return {
    vps: nals.filter((n) => h265NalType(n) === H265NalType.VPS),
    sps: nals.filter((n) => h265NalType(n) === H265NalType.SPS),
    pps: nals.filter((n) => h265NalType(n) === H265NalType.PPS),
    nals,
  };
}

const FIXTURES = [
  { name: 'h265-main-640x360.h265', chroma: '4:2:0', depth: 8, tier: 'Main' },
  { name: 'h265-main10-352x288.h265', chroma: '4:2:0', depth: 10, tier: 'Main' },
  { name: 'h265-main-642x362.h265', chroma: '4:2:0', depth: 8, tier: 'High' },
  { name: 'h265-rext444-320x240.h265', chroma: '4:4:4', depth: 8, tier: 'Main' },
];

describe('parseH265Sps (libx265 streams, checked against ffprobe)', () => {
  it.each(FIXTURES)('$name', ({ name, chroma, depth, tier }) => {
    const { sps } = paramSets(name);
    const info = parseH265Sps(sps[0]);
    const p = probe(name);
    expect(info.width).toBe(p.width);
    expect(info.height).toBe(p.height);
    expect(info.profile).toBe(p.profile);
    expect(info.levelIdc).toBe(p.level);
    expect(info.level).toBeCloseTo((p.level ?? 0) / 30, 5);
    expect(info.chromaFormat).toBe(chroma);
    expect(info.bitDepthLuma).toBe(depth);
    expect(info.tier).toBe(tier);
    expect(info.fps).toBeCloseTo(probedFps(p), 5);
  });

  it('applies the conformance window (642x362 is coded as 648x368)', () => {
    const info = parseH265Sps(paramSets('h265-main-642x362.h265').sps[0]);
    expect(info.codedWidth).toBeGreaterThan(642);
    expect(info.width).toBe(642);
    expect(info.height).toBe(362);
  });

  it.each([
    ['not an SPS', '40010c01'],
    ['too short', '4201'],
    ['truncated PTL', '420101016000000300b0'],
  ])('rejects %s with BAD_SPS', (_n, h) => {
    expect(() => parseH265Sps(Buffer.from(h, 'hex'))).toThrow(expect.objectContaining({ code: 'BAD_SPS' }));
  });
});

describe('hvcC', () => {
  it.each(['h265-main-640x360.mp4', 'h265-main10-352x288.mp4'])('rebuilds the record ffmpeg wrote (%s) byte for byte', (name) => {
    const ref = mp4BoxPayload(fixture(name), 'hvcC');
    const parsed = parseHvcC(ref);
    const sei = parsed.arrays.filter((a) => a.nalType === H265NalType.PREFIX_SEI).flatMap((a) => a.nals);
    const rebuilt = buildHvcC(parsed.vps, parsed.sps, parsed.pps, { sei });
    expect(rebuilt.subarray(0, 23).toString('hex')).toBe(ref.subarray(0, 23).toString('hex'));
    expect(rebuilt.equals(ref)).toBe(true);
  });

  it('builds from Annex B parameter sets and parses back', () => {
    const { vps, sps, pps } = paramSets('h265-main-642x362.h265');
    const rec = buildHvcC(vps, sps, pps);
    const h = parseHvcC(rec);
    const s = parseH265Sps(sps[0]);
    expect(h).toMatchObject({
      profileSpace: s.profileSpace,
      tierFlag: 1,
      profileIdc: 1,
      compatibilityFlags: s.compatibilityFlags,
      levelIdc: s.levelIdc,
      chromaFormatIdc: 1,
      bitDepthLuma: 8,
      nalLengthSize: 4,
      numTemporalLayers: s.maxSubLayers,
      temporalIdNested: s.temporalIdNesting,
    });
    expect(h.constraintFlags.equals(s.constraintFlags)).toBe(true);
    expect(h.vps[0].equals(vps[0])).toBe(true);
    expect(h.sps[0].equals(sps[0])).toBe(true);
    expect(h.pps[0].equals(pps[0])).toBe(true);
    expect(h.arrays.map((a) => [a.nalType, a.completeness])).toEqual([
      [32, true],
      [33, true],
      [34, true],
    ]);
  });

  it.each([
    ['short', '01'],
    ['bad version', '00' + '00'.repeat(22)],
    ['array past the end', '01' + '00'.repeat(20) + '0f01' + 'a10001'],
    ['NAL past the end', '01' + '00'.repeat(20) + '0f01' + 'a100010010'],
  ])('rejects %s with BAD_RECORD', (_n, h) => {
    expect(() => parseHvcC(Buffer.from(h, 'hex'))).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
  });
});

describe('h265Config', () => {
  it('fills the canonical VideoConfig', () => {
    const { vps, sps, pps } = paramSets('h265-main10-352x288.h265');
    const c = h265Config(vps, sps, pps);
    expect(c).toMatchObject({ kind: 'video', codec: 'h265', width: 352, height: 288, profile: 'Main 10', level: 2, fps: 24 });
    expect(c.parameterSets).toHaveLength(3);
    expect(h265ConfigFromRecord(c.record)).toMatchObject({ width: 352, height: 288, profile: 'Main 10' });
  });

  it('codec string', () => {
    const { sps } = paramSets('h265-main-640x360.h265');
    expect(h265CodecString(parseH265Sps(sps[0]))).toBe('hvc1.1.6.L63.90');
  });
});

describe('isH265KeyFrame', () => {
  it.each([
    [16, true],
    [19, true],
    [20, true],
    [21, true],
    [23, true],
    [1, false],
    [15, false],
    [24, false],
    [32, false],
  ])('type %d -> %s', (type, key) => {
    expect(isH265KeyFrame([Buffer.from([type << 1, 1])])).toBe(key);
  });

  it('finds the IDR in a real stream', () => {
    expect(isH265KeyFrame(paramSets('h265-main-640x360.h265').nals)).toBe(true);
  });
});

describe('H.265 parsers on random and mutated input (property)', () => {
  const realSps = FIXTURES.map((f) => paramSets(f.name).sps[0]);
  const onlyMediaError = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
    }
  };

  it('parseH265Sps', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...realSps), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat())
      .map(([sps, edits, cut]) => {
        const b = Buffer.from(sps);
        for (const [i, v] of edits) b[2 + (i % (b.length - 2))] = v;
        return b.subarray(0, Math.max(2, b.length - (cut % 8)));
      });
    const random = fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.concat([Buffer.from([0x42, 0x01]), Buffer.from(a)]));
    fc.assert(
      fc.property(fc.oneof(mutated, random), (sps) => {
        onlyMediaError(() => {
          const info = parseH265Sps(sps);
          expect(info.width).toBeGreaterThan(0);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('parseHvcC / h265ConfigFromRecord', () => {
    const { vps, sps, pps } = paramSets('h265-main-640x360.h265');
    const rec = buildHvcC(vps, sps, pps);
    const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat()).map(([edits, cut]) => {
      const b = Buffer.from(rec);
      for (const [i, v] of edits) b[i % b.length] = v;
      return b.subarray(0, b.length - (cut % b.length));
    });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a))), (r) => {
        onlyMediaError(() => parseHvcC(r));
        onlyMediaError(() => h265ConfigFromRecord(r));
      }),
      { numRuns: 1000 },
    );
  });
});
