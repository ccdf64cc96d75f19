import fc from 'fast-check';
import { fixture, ivfFrames } from '../../test-fixtures/fixtures';
import { joinAvcc, splitAnnexB } from '../annexb';
import { aacConfig, buildAudioSpecificConfig } from '../codecs/aac';
import { av1Config, buildAv1C, splitObus } from '../codecs/av1';
import { g711Config } from '../codecs/g711';
import { buildAvcC, h264Config, parseAvcC } from '../codecs/h264';
import { h265Config, H265NalType, h265NalType } from '../codecs/h265';
import { buildOpusHead, opusConfig } from '../codecs/opus';
import { buildVpcC, vp9Config } from '../codecs/vp9';
import { MediaError } from '../media.errors';
import { AudioConfig, VideoConfig } from '../media.types';
import {
  AudioBodyResult,
  buildAudioConfigBody,
  buildAudioEndBody,
  buildAudioFrameBody,
  buildVideoConfigBody,
  buildVideoEndBody,
  buildVideoFrameBody,
  fourccNumber,
  parseAudioBody,
  parseMp3Header,
  parseVideoBody,
  VideoBodyResult,
} from './flv-codec';
import { FlvTag, FlvTagReader } from './flv-tag';

const tagsOf = (name: string): FlvTag[] => new FlvTagReader().push(fixture(name));

function expectFrame(r: VideoBodyResult): Extract<VideoBodyResult, { type: 'frame' }> {
  if (r.type !== 'frame') throw new Error(`expected a frame, got ${JSON.stringify(r)}`);
  return r;
}
function expectVideoConfig(r: VideoBodyResult): VideoConfig {
  if (r.type !== 'config') throw new Error(`expected a config, got ${JSON.stringify(r)}`);
  return r.config;
}
function expectAudioFrame(r: AudioBodyResult): Extract<AudioBodyResult, { type: 'frame' }> {
  if (r.type !== 'frame') throw new Error(`expected a frame, got ${JSON.stringify(r)}`);
  return r;
}
function expectAudioConfig(r: AudioBodyResult): AudioConfig {
  if (r.type !== 'config') throw new Error(`expected a config, got ${JSON.stringify(r)}`);
  return r.config;
}

/** Parse every audio/video tag of a file and rebuild each body: all must come back byte for byte. */
function roundTripFile(name: string) {
  let video: VideoConfig | undefined;
  let audio: AudioConfig | undefined;
  let frames = 0;
  for (const t of tagsOf(name)) {
    if (t.type === 9) {
      const r = parseVideoBody(t.body, video);
      if (r.type === 'config') {
        video = r.config;
        expect(buildVideoConfigBody(r.config).equals(t.body)).toBe(true);
      } else if (r.type === 'frame') {
        frames++;
        expect(buildVideoFrameBody(r.codec, r.keyFrame, r.cts, r.units).equals(t.body)).toBe(true);
      } else if (r.type === 'end') {
        expect(buildVideoEndBody(r.codec).equals(t.body)).toBe(true);
      }
    } else if (t.type === 8) {
      const r = parseAudioBody(t.body, audio);
      if (r.type === 'config') {
        audio = r.config;
        expect(buildAudioConfigBody(r.config)!.equals(t.body)).toBe(true);
      } else if (r.type === 'frame') {
        frames++;
        if (r.config) audio = r.config;
        expect(buildAudioFrameBody(audio!, r.data).equals(t.body)).toBe(true);
      } else {
        throw new Error(`unexpected ${r.type}`);
      }
    }
  }
  return { video, audio, frames };
}

describe('legacy FLV from ffmpeg: parse and rebuild every tag byte for byte', () => {
  it('H.264 (B-frames, composition times) + AAC', () => {
    const { video, audio, frames } = roundTripFile('h264-aac.flv');
    expect(video).toMatchObject({ codec: 'h264', width: 320, height: 240, profile: 'Main' });
    expect(audio).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 2, profile: 'LC' });
    expect(frames).toBeGreaterThan(20);
    // B-frames mean some frames carry a non-zero composition time
    const cts = tagsOf('h264-aac.flv')
      .filter((t) => t.type === 9)
      .map((t) => parseVideoBody(t.body))
      .filter((r) => r.type === 'frame')
      .map((r) => (r as { cts: number }).cts);
    expect(cts.some((c) => c > 0)).toBe(true);
  });

  it('H.264 High + MP3 (config derived from the frame header)', () => {
    const { video, audio } = roundTripFile('h264-mp3.flv');
    expect(video).toMatchObject({ codec: 'h264', width: 160, height: 120, profile: 'High' });
    expect(audio).toMatchObject({ codec: 'mp3', sampleRate: 44100, channels: 1 });
  });

  it.each([
    ['alaw.flv', 'pcma'],
    ['mulaw.flv', 'pcmu'],
  ])('G.711 %s', (name, codec) => {
    const { audio } = roundTripFile(name);
    expect(audio).toMatchObject({ codec, sampleRate: 8000, channels: 1 });
  });

  it('buildAvcC gives the record ffmpeg wrote (incl. the High profile extension)', () => {
    for (const name of ['h264-aac.flv', 'h264-mp3.flv']) {
      const cfg = expectVideoConfig(parseVideoBody(tagsOf(name).find((t) => t.type === 9)!.body));
      const avcc = parseAvcC(cfg.record);
      expect(buildAvcC(avcc.sps, avcc.pps).equals(cfg.record)).toBe(true);
    }
  });

  it('reports a derived audio config only when it changes', () => {
    const body = Buffer.from([0x72, 1, 2, 3]);
    const first = expectAudioFrame(parseAudioBody(body));
    expect(first.config).toMatchObject({ codec: 'pcma', sampleRate: 8000, channels: 1 });
    expect(expectAudioFrame(parseAudioBody(body, first.config)).config).toBeUndefined();
    expect(expectAudioFrame(parseAudioBody(Buffer.from([0x73, 1]), first.config)).config).toMatchObject({ channels: 2 });
  });
});

describe('H.264 builders', () => {
  const nals = splitAnnexB(fixture('h264-main-176x144.h264'));
  const cfg = h264Config(
    nals.filter((n) => (n[0] & 0x1f) === 7),
    nals.filter((n) => (n[0] & 0x1f) === 8),
  );

  it('writes a legacy sequence header and frames, with negative composition times too', () => {
    const body = buildVideoConfigBody(cfg);
    expect(body.subarray(0, 5).toString('hex')).toBe('1700000000');
    const units = nals.filter((n) => (n[0] & 0x1f) === 5).slice(0, 1);
    const frameBody = buildVideoFrameBody('h264', true, -40, units);
    expect(frameBody.subarray(0, 5).toString('hex')).toBe('1701ffffd8');
    const f = expectFrame(parseVideoBody(frameBody));
    expect(f).toMatchObject({ codec: 'h264', keyFrame: true, cts: -40 });
    expect(f.units[0].equals(units[0])).toBe(true);
    expect(f.units[0].buffer).toBe(frameBody.buffer);
    expect(expectFrame(parseVideoBody(buildVideoFrameBody('h264', false, 0, units))).keyFrame).toBe(false);
    expect(parseVideoBody(buildVideoEndBody('h264'))).toEqual({ type: 'end', codec: 'h264' });
  });

  it('uses the NAL length size of the current avcC, and rewrites records to 4-byte lengths', () => {
    const avcc = parseAvcC(cfg.record);
    const rec2 = buildAvcC(avcc.sps, avcc.pps, 2);
    const cfg2 = expectVideoConfig(parseVideoBody(Buffer.concat([Buffer.from('1700000000', 'hex'), rec2])));
    const payload = joinAvcc([Buffer.from('6588aa', 'hex'), Buffer.from('06ff', 'hex')], 2);
    const f = expectFrame(parseVideoBody(Buffer.concat([Buffer.from('1701000000', 'hex'), payload]), cfg2));
    expect(f.units.map((u) => u.toString('hex'))).toEqual(['6588aa', '06ff']);
    const out = buildVideoConfigBody(cfg2);
    expect(parseAvcC(out.subarray(5)).nalLengthSize).toBe(4);
    expect(cfg2.record[4] & 3).toBe(1); // the config itself is untouched
  });
});

describe('Enhanced RTMP video', () => {
  const hevcNals = splitAnnexB(fixture('h265-main-640x360.h265'));
  const byType = (t: number) => hevcNals.filter((n) => h265NalType(n) === t);
  const hevc = h265Config(byType(H265NalType.VPS), byType(H265NalType.SPS), byType(H265NalType.PPS));
  const idr = hevcNals.filter((n) => h265NalType(n) === H265NalType.IDR_W_RADL || h265NalType(n) === H265NalType.PREFIX_SEI);

  it('HEVC: SequenceStart + CodedFramesX / CodedFrames round-trip', () => {
    const cfgBody = buildVideoConfigBody(hevc);
    expect(cfgBody[0]).toBe(0x90);
    expect(cfgBody.toString('latin1', 1, 5)).toBe('hvc1');
    const back = expectVideoConfig(parseVideoBody(cfgBody));
    expect(back).toMatchObject({ codec: 'h265', width: 640, height: 360, profile: 'Main' });
    expect(back.record.equals(hevc.record)).toBe(true);
    expect(back.parameterSets).toHaveLength(3);

    const x = buildVideoFrameBody('h265', true, 0, idr);
    expect(x[0]).toBe(0x80 | 0x10 | 3);
    const fx = expectFrame(parseVideoBody(x, back));
    expect(fx).toMatchObject({ codec: 'h265', keyFrame: true, cts: 0 });
    expect(fx.units.map((u) => u.toString('hex'))).toEqual(idr.map((u) => u.toString('hex')));

    const c = buildVideoFrameBody('h265', false, 80, idr);
    expect(c[0]).toBe(0x80 | 0x20 | 1);
    expect(expectFrame(parseVideoBody(c, back))).toMatchObject({ keyFrame: false, cts: 80 });

    expect(parseVideoBody(buildVideoEndBody('h265'))).toEqual({ type: 'end', codec: 'h265' });
  });

  it('HEVC with the legacy codec id 12 (SRS / ZLMediaKit convention)', () => {
    const cfgBody = buildVideoConfigBody(hevc, { legacyHevc: true });
    expect(cfgBody.subarray(0, 5).toString('hex')).toBe('1c00000000');
    expect(expectVideoConfig(parseVideoBody(cfgBody))).toMatchObject({ codec: 'h265', width: 640 });
    const f = expectFrame(parseVideoBody(buildVideoFrameBody('h265', true, 33, idr, { legacyHevc: true })));
    expect(f).toMatchObject({ codec: 'h265', keyFrame: true, cts: 33 });
    expect(f.units).toHaveLength(idr.length);
    expect(parseVideoBody(buildVideoEndBody('h265', { legacyHevc: true }))).toEqual({ type: 'end', codec: 'h265' });
  });

  it('AV1: SequenceStart with av1C, CodedFrames with the temporal unit', () => {
    const obus = fixture('av1-320x240.obu');
    const av1 = av1Config(buildAv1C(obus));
    const cfgBody = buildVideoConfigBody(av1);
    expect(cfgBody.toString('latin1', 1, 5)).toBe('av01');
    expect(expectVideoConfig(parseVideoBody(cfgBody))).toMatchObject({ codec: 'av1', width: 320, height: 240, profile: 'Main' });
    const tds = splitObus(obus).filter((o) => o.type === 2);
    const tu = obus.subarray(0, tds[1].obu.byteOffset - obus.byteOffset);
    const body = buildVideoFrameBody('av1', true, 0, [tu]);
    expect(body[0]).toBe(0x80 | 0x10 | 1);
    const f = expectFrame(parseVideoBody(body, av1));
    expect(f).toMatchObject({ codec: 'av1', keyFrame: true, cts: 0 });
    expect(f.units).toHaveLength(1);
    expect(f.units[0].equals(tu)).toBe(true);
    expect(parseVideoBody(buildVideoEndBody('av1'))).toEqual({ type: 'end', codec: 'av1' });
  });

  it('VP9: SequenceStart with vpcC, CodedFrames with the frame; size kept from the current config', () => {
    const vp9 = vp9Config(buildVpcC(), 320, 240);
    const cfg = expectVideoConfig(parseVideoBody(buildVideoConfigBody(vp9), vp9));
    expect(cfg).toMatchObject({ codec: 'vp9', width: 320, height: 240 });
    const frame = ivfFrames(fixture('vp9-320x240.ivf'))[1];
    const f = expectFrame(parseVideoBody(buildVideoFrameBody('vp9', false, 0, [frame])));
    expect(f).toMatchObject({ codec: 'vp9', keyFrame: false });
    expect(f.units[0].equals(frame)).toBe(true);
  });

  it('skips ModEx entries (TimestampOffsetNano) before the FourCC', () => {
    const nal = Buffer.from('2601af', 'hex');
    const body = Buffer.concat([
      Buffer.from([0x80 | 0x10 | 7, 2, 0x00, 0x01, 0x02, (0 << 4) | 1]),
      Buffer.from('hvc1', 'latin1'),
      Buffer.from([0, 0, 40]),
      joinAvcc([nal]),
    ]);
    expect(expectFrame(parseVideoBody(body))).toMatchObject({ codec: 'h265', keyFrame: true, cts: 40 });
    // 16-bit size escape
    const big = Buffer.concat([Buffer.from([0x80 | 0x10 | 7, 0xff, 0x01, 0x00]), Buffer.alloc(257), Buffer.from([0x03]), Buffer.from('hvc1', 'latin1'), joinAvcc([nal])]);
    expect(expectFrame(parseVideoBody(big))).toMatchObject({ codec: 'h265', cts: 0 });
  });

  it('multitrack: takes track 0', () => {
    const p0 = Buffer.from('0a0b', 'hex');
    const p1 = Buffer.from('0c0d0e', 'hex');
    const one = Buffer.concat([Buffer.from([0x80 | 0x10 | 6, (0 << 4) | 1]), Buffer.from('av01', 'latin1'), Buffer.from([0]), p0]);
    expect(expectFrame(parseVideoBody(one)).units[0].equals(p0)).toBe(true);
    const many = Buffer.concat([
      Buffer.from([0x80 | 0x10 | 6, (1 << 4) | 1]),
      Buffer.from('av01', 'latin1'),
      Buffer.from([1, 0, 0, 3]),
      p1,
      Buffer.from([0, 0, 0, 2]),
      p0,
    ]);
    expect(expectFrame(parseVideoBody(many)).units[0].equals(p0)).toBe(true);
    const manyCodecs = Buffer.concat([
      Buffer.from([0x80 | 0x20 | 6, (2 << 4) | 1]),
      Buffer.from('vp09', 'latin1'),
      Buffer.from([0, 0, 0, 2]),
      p0,
    ]);
    expect(expectFrame(parseVideoBody(manyCodecs))).toMatchObject({ codec: 'vp9', keyFrame: false });
  });

  it.each([
    ['empty', ''],
    ['command frame (legacy)', '5700'],
    ['command frame (enhanced)', 'd168766331' + '00'],
    ['metadata', '8468766331' + '02000a636f6c6f72496e666f'],
    ['unknown FourCC', '9178797a31'],
    ['MPEG2-TS sequence start', '9561763031'],
    ['legacy VP6', '2400'],
    ['unknown AVC packet type', '1703000000'],
  ])('ignores %s', (_n, hex) => {
    expect(parseVideoBody(Buffer.from(hex, 'hex')).type).toBe('ignored');
  });

  it.each([
    ['short AVC header', '1701'],
    ['short FourCC', '9168'],
    ['NAL length past the end', '170100000000000009aa'],
    ['short composition time', '9168766331' + '00'],
    ['ModEx past the end', '970a00'],
  ])('throws MediaError on %s', (_n, hex) => {
    expect(() => parseVideoBody(Buffer.from(hex, 'hex'))).toThrow(MediaError);
  });
});

describe('audio', () => {
  it('AAC: legacy sequence header and raw frames', () => {
    const asc = buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 2 });
    const cfg = aacConfig(asc);
    const body = buildAudioConfigBody(cfg)!;
    expect(body.toString('hex')).toBe('af00' + asc.toString('hex'));
    expect(expectAudioConfig(parseAudioBody(body))).toMatchObject({ codec: 'aac', sampleRate: 48000, channels: 2 });
    const f = expectAudioFrame(parseAudioBody(buildAudioFrameBody(cfg, Buffer.from('21100503', 'hex'))));
    expect(f).toMatchObject({ codec: 'aac' });
    expect(f.data.toString('hex')).toBe('21100503');
    expect(f.config).toBeUndefined();
  });

  it('Enhanced mp4a', () => {
    const asc = buildAudioSpecificConfig({ objectType: 2, sampleRate: 44100, channels: 1 });
    const seq = Buffer.concat([Buffer.from([0x90]), Buffer.from('mp4a', 'latin1'), asc]);
    expect(expectAudioConfig(parseAudioBody(seq))).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 1 });
    const fr = Buffer.concat([Buffer.from([0x91]), Buffer.from('mp4a', 'latin1'), Buffer.from([1, 2])]);
    expect(expectAudioFrame(parseAudioBody(fr)).data.toString('hex')).toBe('0102');
    expect(parseAudioBody(buildAudioEndBody(aacConfig(asc))!)).toEqual({ type: 'end', codec: 'aac' });
  });

  it('Enhanced Opus: SequenceStart carries OpusHead, CodedFrames the packet', () => {
    const cfg = opusConfig(buildOpusHead({ channels: 1, preSkip: 312 }));
    const body = buildAudioConfigBody(cfg)!;
    expect(body[0]).toBe(0x90);
    expect(body.toString('latin1', 1, 5)).toBe('Opus');
    const back = expectAudioConfig(parseAudioBody(body));
    expect(back).toMatchObject({ codec: 'opus', sampleRate: 48000, channels: 1 });
    expect(back.record.equals(cfg.record)).toBe(true);
    const pkt = Buffer.from('fc0102', 'hex');
    const frameBody = buildAudioFrameBody(cfg, pkt);
    expect(frameBody.subarray(0, 5).toString('hex')).toBe('914f707573');
    const f = expectAudioFrame(parseAudioBody(frameBody, back));
    expect(f.data.equals(pkt)).toBe(true);
    expect(f.config).toBeUndefined();
    // without a head first, a default stereo config comes with the frame
    expect(expectAudioFrame(parseAudioBody(frameBody)).config).toMatchObject({ codec: 'opus', channels: 2 });
    // an OpusTags comment header in SequenceStart is ignored
    const tags = Buffer.concat([Buffer.from([0x90]), Buffer.from('OpusOpusTags', 'latin1'), Buffer.alloc(8)]);
    expect(parseAudioBody(tags).type).toBe('ignored');
  });

  it('Enhanced audio ModEx and multitrack', () => {
    const pkt = Buffer.from('fc01', 'hex');
    const modEx = Buffer.concat([Buffer.from([0x97, 2, 0, 0, 9, 0x01]), Buffer.from('Opus', 'latin1'), pkt]);
    expect(expectAudioFrame(parseAudioBody(modEx)).data.equals(pkt)).toBe(true);
    const mt = Buffer.concat([Buffer.from([0x95, (1 << 4) | 1]), Buffer.from('Opus', 'latin1'), Buffer.from([2, 0, 0, 1, 0xaa, 0, 0, 0, 2]), pkt]);
    expect(expectAudioFrame(parseAudioBody(mt)).data.equals(pkt)).toBe(true);
  });

  it('G.711 and MP3 build without a sequence header', () => {
    expect(buildAudioConfigBody(g711Config('pcmu'))).toBeNull();
    expect(buildAudioFrameBody(g711Config('pcmu', 8000, 2), Buffer.from([1]))[0]).toBe(0x83);
    const mp3: AudioConfig = { kind: 'audio', codec: 'mp3', record: Buffer.alloc(0), sampleRate: 8000, channels: 1 };
    expect(buildAudioFrameBody(mp3, Buffer.from([1]))[0] >> 4).toBe(14);
    expect(buildAudioEndBody(mp3)).toBeNull();
  });

  it('parseMp3Header', () => {
    expect(parseMp3Header(Buffer.from('fffb9064', 'hex'))).toEqual({ sampleRate: 44100, channels: 2 });
    expect(parseMp3Header(Buffer.from('fff3c0c4', 'hex'))).toEqual({ sampleRate: 22050, channels: 1 });
    expect(parseMp3Header(Buffer.from('0000', 'hex'))).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['Speex', 'b2'],
    ['unknown AAC packet type', 'af02'],
    ['FLAC', '9066' + '4c6143'],
    ['multichannel config', '944f707573' + '0102'],
  ])('ignores %s', (_n, hex) => {
    expect(parseAudioBody(Buffer.from(hex, 'hex')).type).toBe('ignored');
  });

  it.each([
    ['short AAC', 'af'],
    ['bad ASC', 'af00f8'],
    ['bad OpusHead', '904f707573' + '00'],
    ['short FourCC', '914f70'],
  ])('throws MediaError on %s', (_n, hex) => {
    expect(() => parseAudioBody(Buffer.from(hex, 'hex'))).toThrow(MediaError);
  });

  it('fourccNumber', () => {
    expect(fourccNumber('hvc1')).toBe(0x68766331);
    expect(fourccNumber('Opus')).toBe(0x4f707573);
  });
});

describe('tag body parsers on random and mutated input (property)', () => {
  const onlyMediaError = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
    }
  };
  const samples = tagsOf('h264-aac.flv')
    .filter((t) => t.type !== 18)
    .slice(0, 8)
    .map((t) => t.body.subarray(0, 120));
  const enhanced = [
    buildVideoConfigBody(av1Config(buildAv1C(fixture('av1-320x240.obu')))),
    buildVideoFrameBody('h265', true, 5, [Buffer.from('2601aa', 'hex')]),
    buildAudioConfigBody(opusConfig())!,
    Buffer.from('9702000009014f70757301', 'hex'),
    Buffer.from('9610617630310000000201' + '02', 'hex'),
  ];

  it('parseVideoBody / parseAudioBody', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...samples, ...enhanced), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat())
      .map(([base, edits, cut]) => {
        const b = Buffer.from(base);
        for (const [i, v] of edits) b[i % b.length] = v;
        return b.subarray(0, b.length - (cut % b.length));
      });
    const random = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
    fc.assert(
      fc.property(fc.oneof(mutated, random), (b) => {
        onlyMediaError(() => parseVideoBody(b));
        onlyMediaError(() => parseAudioBody(b));
      }),
      { numRuns: 3000 },
    );
  });
});
