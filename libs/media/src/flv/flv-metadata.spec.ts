import fc from 'fast-check';
import { fixture } from '../../test-fixtures/fixtures';
import { encodeAmf0 } from '../amf/amf0';
import { aacConfig, buildAudioSpecificConfig } from '../codecs/aac';
import { g711Config } from '../codecs/g711';
import { opusConfig } from '../codecs/opus';
import { MediaError } from '../media.errors';
import { VideoConfig } from '../media.types';
import { FlvTagReader } from './flv-tag';
import { buildOnMetaData, parseScriptData } from './flv-metadata';

const video = (codec: VideoConfig['codec'], fps?: number): VideoConfig => ({
  kind: 'video',
  codec,
  record: Buffer.alloc(0),
  parameterSets: [],
  width: 1280,
  height: 720,
  fps,
});

describe('onMetaData', () => {
  it('reads the script tag ffmpeg wrote', () => {
    const tag = new FlvTagReader().push(fixture('h264-aac.flv'))[0];
    const { name, value } = parseScriptData(tag.body);
    expect(name).toBe('onMetaData');
    expect(value).toMatchObject({ width: 320, height: 240, videocodecid: 7, audiocodecid: 10, audiosamplerate: 44100, stereo: true, framerate: 25 });
  });

  it('builds H.264 + AAC metadata', () => {
    const aac = aacConfig(buildAudioSpecificConfig({ objectType: 2, sampleRate: 48000, channels: 2 }));
    const body = buildOnMetaData(video('h264', 30), aac, { duration: 0 });
    expect(body[0]).toBe(0x02);
    expect(body.indexOf(Buffer.from([0x08]), 13)).toBe(13); // ECMA array right after the name
    const { name, value } = parseScriptData(body);
    expect(name).toBe('onMetaData');
    expect(value).toEqual({
      width: 1280,
      height: 720,
      videocodecid: 7,
      framerate: 30,
      audiocodecid: 10,
      audiosamplerate: 48000,
      audiosamplesize: 16,
      stereo: true,
      audiochannels: 2,
      encoder: 'm7s-nest',
      duration: 0,
    });
  });

  it.each([
    ['h265', 0x68766331],
    ['av1', 0x61763031],
    ['vp9', 0x76703039],
  ] as const)('uses the FourCC number for %s', (codec, id) => {
    expect(parseScriptData(buildOnMetaData(video(codec))).value).toMatchObject({ videocodecid: id });
  });

  it('audio-only, Opus and G.711', () => {
    expect(parseScriptData(buildOnMetaData(undefined, opusConfig())).value).toMatchObject({ audiocodecid: 0x4f707573, audiosamplerate: 48000 });
    const v = parseScriptData(buildOnMetaData(undefined, g711Config('pcmu'), { encoder: 'x' })).value as Record<string, unknown>;
    expect(v).toMatchObject({ audiocodecid: 8, stereo: false, encoder: 'x' });
    expect(v.width).toBeUndefined();
  });

  it('unwraps @setDataFrame', () => {
    const body = encodeAmf0('@setDataFrame', 'onMetaData', { width: 2 });
    expect(parseScriptData(body)).toMatchObject({ name: 'onMetaData', value: { width: 2 } });
  });

  it.each([
    ['no name', encodeAmf0(1, 2)],
    ['empty', Buffer.alloc(0)],
    ['bad AMF', Buffer.from([0x02, 0x00, 0x05, 0x61])],
  ])('rejects %s with BAD_SCRIPT_DATA', (_n, body) => {
    expect(() => parseScriptData(body)).toThrow(expect.objectContaining({ code: 'BAD_SCRIPT_DATA' }));
  });

  it('only throws MediaError on random and mutated input (property)', () => {
    const base = buildOnMetaData(video('h264', 25), g711Config('pcma'));
    const mutated = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((edits) => {
      const b = Buffer.from(base);
      for (const [i, v] of edits) b[i % b.length] = v;
      return b;
    });
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a))), (b) => {
        try {
          parseScriptData(b);
        } catch (e) {
          if (!(e instanceof MediaError)) throw e;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
