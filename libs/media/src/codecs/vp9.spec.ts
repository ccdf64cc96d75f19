import fc from 'fast-check';
import { fixture, ivfFrames, mp4BoxPayload, probe } from '../../test-fixtures/fixtures';
import { MediaError } from '../media.errors';
import { buildVpcC, isVp9KeyFrame, parseVp9FrameHeader, parseVpcC, vp9CodecString, vp9Config, vp9FrameSize, vpcCOptionsFromFrame } from './vp9';

describe('VP9 frame header (libvpx streams, checked against ffprobe)', () => {
  it.each([
    ['vp9-320x240.ivf', 0, 1, 1],
    ['vp9-profile1-160x90.ivf', 1, 0, 0],
  ])('%s', (name, profile, sx, sy) => {
    const frames = ivfFrames(fixture(name));
    const p = probe(name);
    expect(vp9FrameSize(frames[0])).toEqual({ width: p.width, height: p.height });
    const h = parseVp9FrameHeader(frames[0]);
    expect(h).toMatchObject({ profile, keyFrame: true, bitDepth: 8, subsamplingX: sx, subsamplingY: sy });
    expect(`Profile ${h.profile}`).toBe(p.profile);
    expect(isVp9KeyFrame(frames[0])).toBe(true);
    expect(isVp9KeyFrame(frames[1])).toBe(false);
    expect(vp9FrameSize(frames[1])).toBeUndefined();
  });

  it('rejects a bad frame marker or sync code', () => {
    expect(() => parseVp9FrameHeader(Buffer.from([0x00, 0, 0]))).toThrow(expect.objectContaining({ code: 'BAD_VP9_HEADER' }));
    const key = Buffer.from(ivfFrames(fixture('vp9-320x240.ivf'))[0].subarray(0, 16));
    key[2] ^= 0xff;
    expect(() => parseVp9FrameHeader(key)).toThrow(MediaError);
  });
});

describe('vpcC', () => {
  it('parses the record ffmpeg wrote in MP4 (with its version/flags prefix)', () => {
    const ref = mp4BoxPayload(fixture('vp9-320x240.mp4'), 'vpcC');
    const info = parseVpcC(ref);
    expect(info.profile).toBe(0);
    expect(info.bitDepth).toBe(8);
    expect(info.codecInitializationData.length).toBe(0);
    expect(vp9Config(ref, 320, 240)).toMatchObject({ kind: 'video', codec: 'vp9', width: 320, height: 240, profile: 'Profile 0' });
  });

  it('accepts a record without the FullBox prefix', () => {
    const full = buildVpcC({ profile: 1, levelIdc: 31, bitDepth: 10, chromaSubsampling: 3, videoFullRange: true });
    const bare = full.subarray(4);
    for (const r of [full, bare]) {
      expect(parseVpcC(r)).toMatchObject({ profile: 1, levelIdc: 31, bitDepth: 10, chromaSubsampling: 3, videoFullRange: true });
    }
    expect(vp9CodecString(parseVpcC(full))).toBe('vp09.01.31.10');
    expect(vp9Config(full).level).toBeCloseTo(3.1, 5);
  });

  it('derives vpcC options from a key frame', () => {
    const opts = vpcCOptionsFromFrame(ivfFrames(fixture('vp9-profile1-160x90.ivf'))[0]);
    expect(opts).toMatchObject({ profile: 1, bitDepth: 8, chromaSubsampling: 3 });
    expect(() => vpcCOptionsFromFrame(ivfFrames(fixture('vp9-profile1-160x90.ivf'))[1])).toThrow(MediaError);
  });

  it.each([
    ['short', '0100000000'],
    ['init data past the end', '01000000' + '0000' + '8201' + '0101' + '0005'],
  ])('rejects %s', (_n, h) => {
    expect(() => parseVpcC(Buffer.from(h, 'hex'))).toThrow(expect.objectContaining({ code: 'BAD_RECORD' }));
  });
});

describe('VP9 parsers on random and mutated input (property)', () => {
  it('only MediaError', () => {
    const key = ivfFrames(fixture('vp9-320x240.ivf'))[0].subarray(0, 32);
    const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat()).map(([edits, cut]) => {
      const b = Buffer.from(key);
      for (const [i, v] of edits) b[i % b.length] = v;
      return b.subarray(0, b.length - (cut % b.length));
    });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a))), (b) => {
        for (const fn of [() => parseVp9FrameHeader(b), () => vp9FrameSize(b), () => parseVpcC(b), () => vp9Config(b), () => vpcCOptionsFromFrame(b)]) {
          try {
            fn();
          } catch (e) {
            if (!(e instanceof MediaError)) throw e;
          }
        }
      }),
      { numRuns: 1500 },
    );
  });
});
