import fc from 'fast-check';
import { MediaError } from '../media.errors';
import { isVp8KeyFrame, parseVp8FrameHeader, vp8Config } from './vp8';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A key frame start (RFC 6386 9.1): tag (show_frame, first partition of 100 bytes), start code, 14-bit sizes and scales. */
const KEY_320x240 = hex('900c00 9d012a 4001 f000 00');

describe('VP8 frame header (RFC 6386 9.1)', () => {
  it.each<[string, string, object]>([
    ['key frame 320x240', '900c00 9d012a 4001 f000', { keyFrame: true, version: 0, showFrame: true, firstPartitionSize: 100, width: 320, height: 240, horizontalScale: 0, verticalScale: 0 }],
    ['key frame 1920x1080, version 1, scaled 5/4 and 2', '920c00 9d012a 8047 38c4', { keyFrame: true, version: 1, width: 1920, height: 1080, horizontalScale: 1, verticalScale: 3 }],
    ['largest size 16383x16383', '100000 9d012a ff3f ff3f', { width: 16383, height: 16383 }],
    ['inter frame (no start code needed)', '31 02 00', { keyFrame: false, version: 0, showFrame: true, firstPartitionSize: 17 }],
    ['hidden inter frame', '2102 00', { keyFrame: false, showFrame: false, firstPartitionSize: 17 }],
  ])('%s', (_n, h, want) => {
    const header = parseVp8FrameHeader(hex(h));
    expect(header).toMatchObject(want);
    expect(isVp8KeyFrame(hex(h))).toBe(header.keyFrame);
  });

  it.each([
    ['shorter than the tag', '9000'],
    ['a key frame cut in its size', '900c00 9d012a 4001'],
    ['a bad start code', '900c00 9d012b 4001 f000'],
    ['width 0', '900c00 9d012a 0000 f000'],
    ['version 4', '980c00 9d012a 4001 f000'],
  ])('rejects %s', (_n, h) => {
    expect(() => parseVp8FrameHeader(hex(h))).toThrow(MediaError);
  });

  it('isVp8KeyFrame reads only the P bit', () => {
    expect(isVp8KeyFrame(Buffer.alloc(0))).toBe(false);
    expect(isVp8KeyFrame(hex('00'))).toBe(true);
    expect(isVp8KeyFrame(hex('01'))).toBe(false);
  });
});

describe('vp8Config', () => {
  it('takes the size from a key frame; no record, no parameter sets', () => {
    expect(vp8Config(KEY_320x240)).toEqual({ kind: 'video', codec: 'vp8', record: Buffer.alloc(0), parameterSets: [], width: 320, height: 240, profile: 'Profile 0' });
  });

  it('refuses an inter frame', () => {
    expect(() => vp8Config(hex('3102 00 0000000000000000'))).toThrow(MediaError);
  });

  it('throws only MediaError on random and mutated input (property)', () => {
    const mutated = fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }), fc.nat()).map(([edits, cut]) => {
      const b = Buffer.from(KEY_320x240);
      for (const [i, v] of edits) b[i % b.length] = v;
      return b.subarray(0, b.length - (cut % b.length));
    });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a))), (b) => {
        for (const fn of [() => parseVp8FrameHeader(b), () => vp8Config(b)]) {
          try {
            fn();
          } catch (e) {
            if (!(e instanceof MediaError)) throw e;
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
