import fc from 'fast-check';
import { fixture, probe } from '../../test-fixtures/fixtures';
import { BitWriter } from '../bit-reader';
import { MediaError } from '../media.errors';
import {
  aacConfig,
  AdtsReader,
  adtsToAudioSpecificConfig,
  buildAdtsFrame,
  buildAdtsHeader,
  buildAudioSpecificConfig,
  parseAdtsHeader,
  parseAudioSpecificConfig,
  splitAdts,
} from './aac';

describe('parseAudioSpecificConfig', () => {
  it.each([
    ['1210', { objectType: 2, sampleRate: 44100, channels: 2, profile: 'LC', sbr: false }],
    ['1188', { objectType: 2, sampleRate: 48000, channels: 1, profile: 'LC' }],
    ['1190', { objectType: 2, sampleRate: 48000, channels: 2 }],
    ['1590', { objectType: 2, sampleRate: 8000, channels: 2 }],
    ['0a10', { objectType: 1, sampleRate: 44100, channels: 2, profile: 'Main' }],
    ['11b0', { objectType: 2, sampleRate: 48000, channels: 6 }],
    ['11b8', { objectType: 2, sampleRate: 48000, channels: 8, channelConfig: 7 }],
    ['1214', { objectType: 2, sampleRate: 44100, channels: 2, frameLength: 960 }],
  ])('%s', (hex, expected) => {
    expect(parseAudioSpecificConfig(Buffer.from(hex, 'hex'))).toMatchObject(expected);
  });

  it('explicit HE-AAC (object type 5) reports the core rate and SBR', () => {
    const asc = buildAudioSpecificConfig({ objectType: 5, sampleRate: 24000, channels: 2 });
    expect(parseAudioSpecificConfig(asc)).toMatchObject({ objectType: 2, sampleRate: 24000, extensionSampleRate: 48000, sbr: true, ps: false, profile: 'HE-AAC', channels: 2 });
    const v2 = buildAudioSpecificConfig({ objectType: 29, sampleRate: 22050, channels: 1 });
    expect(parseAudioSpecificConfig(v2)).toMatchObject({ sbr: true, ps: true, profile: 'HE-AACv2', sampleRate: 22050, extensionSampleRate: 44100 });
  });

  it('backward-compatible SBR/PS signalling (sync extension 0x2b7 / 0x548)', () => {
    const w = new BitWriter();
    w.writeBits(2, 5).writeBits(6, 4).writeBits(2, 4).writeBits(0, 3); // LC 24k stereo + GA
    w.writeBits(0x2b7, 11).writeBits(5, 5).writeBit(1).writeBits(3, 4); // SBR, 48k
    w.writeBits(0x548, 11).writeBit(1); // PS
    const info = parseAudioSpecificConfig(w.byteAlign().toBuffer());
    expect(info).toMatchObject({ objectType: 2, sampleRate: 24000, sbr: true, ps: true, extensionSampleRate: 48000, profile: 'HE-AACv2' });
  });

  it('escape object type (31) and an explicit 24-bit rate', () => {
    const asc = buildAudioSpecificConfig({ objectType: 39, sampleRate: 44000, channels: 2 });
    expect(asc[0] >> 3).toBe(31);
    const info = parseAudioSpecificConfig(asc);
    expect(info).toMatchObject({ objectType: 39, sampleRate: 44000, samplingFrequencyIndex: 15, channels: 2, profile: 'ELD' });
  });

  it('counts channels from a program config element', () => {
    const w = new BitWriter();
    w.writeBits(2, 5).writeBits(3, 4).writeBits(0, 4); // LC 48k, channelConfig 0
    w.writeBits(0, 3); // GA
    // PCE: tag, object type, sfi, 2 front, 0 side, 1 back, 1 lfe, 0 assoc, 0 cc, no mixdowns
    w.writeBits(0, 4).writeBits(1, 2).writeBits(3, 4).writeBits(2, 4).writeBits(0, 4).writeBits(1, 4).writeBits(1, 2).writeBits(0, 3).writeBits(0, 4);
    w.writeBits(0, 3);
    w.writeBit(0).writeBits(0, 4); // front SCE
    w.writeBit(1).writeBits(0, 4); // front CPE
    w.writeBit(1).writeBits(1, 4); // back CPE
    w.writeBits(0, 4); // LFE
    w.byteAlign().writeBits(0, 8); // comment bytes
    expect(parseAudioSpecificConfig(w.toBuffer())).toMatchObject({ channelConfig: 0, channels: 6 });
  });

  it.each([
    ['empty', ''],
    ['object type 0', '0010'],
    ['reserved frequency index', '1690'],
    ['reserved channel config', '1240'],
    ['truncated', '12'],
  ])('rejects %s with BAD_ASC', (_n, hex) => {
    expect(() => parseAudioSpecificConfig(Buffer.from(hex, 'hex'))).toThrow(expect.objectContaining({ code: 'BAD_ASC' }));
  });
});

describe('buildAudioSpecificConfig', () => {
  it.each([
    [{ objectType: 2, sampleRate: 44100, channels: 2 }, '1210'],
    [{ objectType: 2, sampleRate: 48000, channels: 1 }, '1188'],
    [{ objectType: 2, sampleRate: 48000, channels: 8 }, '11b8'],
  ])('%j -> %s', (o, hex) => {
    expect(buildAudioSpecificConfig(o).toString('hex')).toBe(hex);
  });

  it('refuses impossible inputs', () => {
    expect(() => buildAudioSpecificConfig({ objectType: 2, sampleRate: 44100, channels: 9 })).toThrow(MediaError);
    expect(() => buildAudioSpecificConfig({ objectType: 0, sampleRate: 44100, channels: 2 })).toThrow(MediaError);
    expect(() => buildAudioSpecificConfig({ objectType: 2, sampleRate: 0, channels: 2 })).toThrow(MediaError);
  });

  it('round-trips (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 3, 4, 5, 29, 23, 39, 42),
        fc.oneof(fc.constantFrom(96000, 48000, 44100, 32000, 22050, 16000, 8000, 7350), fc.integer({ min: 1, max: 2 ** 23 - 1 })),
        fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 8),
        (objectType, sampleRate, channels) => {
          const info = parseAudioSpecificConfig(buildAudioSpecificConfig({ objectType, sampleRate, channels }));
          expect(info.sampleRate).toBe(sampleRate);
          expect(info.channels).toBe(channels);
          expect(info.objectType).toBe(objectType === 5 || objectType === 29 ? 2 : objectType);
        },
      ),
    );
  });
});

describe('ADTS (ffmpeg aac encoder, checked against ffprobe)', () => {
  it.each(['aac-lc-44100-stereo.adts', 'aac-lc-48000-mono.adts', 'aac-lc-22050-6ch.adts'])('%s', (name) => {
    const file = fixture(name);
    const p = probe(name);
    const h = parseAdtsHeader(file);
    expect(h.sampleRate).toBe(Number(p.sample_rate));
    expect(h.channels).toBe(p.channels);
    expect(h.objectType).toBe(2);
    const frames = splitAdts(file);
    expect(frames.length).toBeGreaterThan(5);
    expect(frames[0].buffer).toBe(file.buffer);
    // the stream's config
    const cfg = aacConfig(adtsToAudioSpecificConfig(h));
    expect(cfg).toMatchObject({ codec: 'aac', sampleRate: Number(p.sample_rate), channels: p.channels, profile: p.profile });
    // rebuilding every header gives the same bytes back
    const info = parseAudioSpecificConfig(cfg.record);
    const rebuilt = Buffer.concat(frames.flatMap((f) => [buildAdtsHeader(info, f.length), f]));
    expect(rebuilt.equals(file)).toBe(true);
  });

  it.each([
    ['no sync', 'fff000000000ff', 'BAD_ADTS'],
    ['short', 'fff1', 'TRUNCATED'],
    ['length smaller than header', 'fff15080000000', 'BAD_ADTS'],
    ['reserved frequency', 'fff17480020000', 'BAD_ADTS'],
  ])('rejects %s', (_n, hex, code) => {
    expect(() => parseAdtsHeader(Buffer.from(hex, 'hex'))).toThrow(expect.objectContaining({ code }));
  });

  it('splitAdts throws on a truncated last frame', () => {
    const file = fixture('aac-lc-44100-stereo.adts');
    expect(() => splitAdts(file.subarray(0, file.length - 1))).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
  });

  it('buildAdtsHeader refuses what ADTS cannot carry', () => {
    expect(() => buildAdtsHeader({ objectType: 2, samplingFrequencyIndex: 4, channelConfig: 2 }, 9000)).toThrow(MediaError);
    expect(() => buildAdtsHeader({ objectType: 5, samplingFrequencyIndex: 4, channelConfig: 2 }, 10)).toThrow(MediaError);
    expect(() => buildAdtsHeader({ objectType: 2, samplingFrequencyIndex: 15, channelConfig: 2, sampleRate: 44000 }, 10)).toThrow(MediaError);
  });
});

describe('AdtsReader (ADTS from a pipe) and buildAdtsFrame', () => {
  it('reads the frames of a stream cut anywhere, like splitAdts', () => {
    const stream = fixture('aac-lc-44100-stereo.adts');
    const whole = splitAdts(stream);
    for (const size of [1, 6, 7, 100, 4096]) {
      const reader = new AdtsReader();
      const got = [];
      for (let at = 0; at < stream.length; at += size) got.push(...reader.push(stream.subarray(at, at + size)));
      expect(got.map((f) => f.payload)).toEqual(whole);
      expect(got[0].header).toMatchObject({ sampleRate: 44100, channels: 2, objectType: 2 });
    }
  });

  it('builds a frame that reads back', () => {
    const info = parseAudioSpecificConfig(Buffer.from('1190', 'hex'));
    const frame = buildAdtsFrame(info, Buffer.from([1, 2, 3]));
    expect(frame.subarray(0, 7)).toEqual(buildAdtsHeader(info, 3));
    expect(new AdtsReader().push(frame)).toEqual([{ header: parseAdtsHeader(frame), payload: Buffer.from([1, 2, 3]) }]);
  });

  it('throws MediaError on input that is not ADTS (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 1, max: 50 }), (bytes, size) => {
        const reader = new AdtsReader();
        try {
          for (let at = 0; at < bytes.length; at += size) reader.push(Buffer.from(bytes.subarray(at, at + size)));
        } catch (error) {
          if (!(error instanceof MediaError)) throw error;
        }
      }),
    );
  });
});

describe('AAC parsers on random input (property)', () => {
  it('only MediaError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), (b) => {
        for (const fn of [() => parseAudioSpecificConfig(b), () => aacConfig(b), () => parseAdtsHeader(b), () => splitAdts(b)]) {
          try {
            fn();
          } catch (e) {
            if (!(e instanceof MediaError)) throw e;
          }
        }
      }),
      { numRuns: 3000 },
    );
    // ADTS-looking input
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 5, maxLength: 40 }), (a) => {
        const b = Buffer.concat([Buffer.from([0xff, 0xf1]), Buffer.from(a)]);
        try {
          splitAdts(b);
        } catch (e) {
          if (!(e instanceof MediaError)) throw e;
        }
      }),
    );
  });
});
