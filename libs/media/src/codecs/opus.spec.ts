import fc from 'fast-check';
import { fixture } from '../../test-fixtures/fixtures';
import { MediaError } from '../media.errors';
import { buildOpusHead, opusConfig, opusPacketDuration, opusPacketSamples, parseOpusHead } from './opus';

describe('OpusHead', () => {
  it('parses the head libopus/ffmpeg wrote in an Ogg file', () => {
    const ogg = fixture('opus-stereo.opus');
    const at = ogg.indexOf('OpusHead');
    const head = parseOpusHead(ogg.subarray(at, at + 19));
    expect(head).toMatchObject({ version: 1, channels: 2, inputSampleRate: 48000, mappingFamily: 0, outputGain: 0 });
    expect(head.preSkip).toBeGreaterThan(0);
    // and rebuilding gives the same bytes
    expect(buildOpusHead(head).equals(ogg.subarray(at, at + 19))).toBe(true);
  });

  it('round-trips with a channel mapping table', () => {
    const mapping = { family: 1, streamCount: 4, coupledCount: 2, channelMapping: [0, 4, 1, 2, 3, 5] };
    const buf = buildOpusHead({ channels: 6, preSkip: 100, inputSampleRate: 44100, outputGain: -256, mapping });
    expect(buf.length).toBe(27);
    expect(parseOpusHead(buf)).toEqual({
      version: 1,
      channels: 6,
      preSkip: 100,
      inputSampleRate: 44100,
      outputGain: -256,
      mappingFamily: 1,
      streamCount: 4,
      coupledCount: 2,
      channelMapping: [0, 4, 1, 2, 3, 5],
    });
  });

  it('needs a mapping for more than 2 channels', () => {
    expect(() => buildOpusHead({ channels: 3 })).toThrow(MediaError);
  });

  it.each([
    ['short', Buffer.from('OpusHead')],
    ['bad magic', Buffer.concat([Buffer.from('OpusTags'), Buffer.alloc(11, 1)])],
    ['future major version', (() => { const b = buildOpusHead(); b[8] = 0x10; return b; })()],
    ['zero channels', (() => { const b = buildOpusHead(); b[9] = 0; return b; })()],
    ['family 0 with 3 channels', (() => { const b = buildOpusHead(); b[9] = 3; return b; })()],
    ['mapping table truncated', (() => { const b = buildOpusHead(); b[18] = 1; return b; })()],
  ])('rejects %s with BAD_OPUS_HEAD', (_n, buf) => {
    expect(() => parseOpusHead(buf)).toThrow(expect.objectContaining({ code: 'BAD_OPUS_HEAD' }));
  });

  it('opusConfig is always 48 kHz', () => {
    expect(opusConfig()).toMatchObject({ kind: 'audio', codec: 'opus', sampleRate: 48000, channels: 2 });
    expect(opusConfig(buildOpusHead({ channels: 1, inputSampleRate: 16000 }))).toMatchObject({ sampleRate: 48000, channels: 1 });
  });

  it('only throws MediaError on random input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (a) => {
        const b = Buffer.concat([Buffer.from('OpusHead'), Buffer.from(a)]);
        try {
          parseOpusHead(b);
        } catch (e) {
          if (!(e instanceof MediaError)) throw e;
        }
      }),
    );
  });
});

describe('Opus packet duration (TOC)', () => {
  it.each([
    // config << 3 | code
    [[(0 << 3) | 0], 480],
    [[(1 << 3) | 0], 960],
    [[(3 << 3) | 1], 5760],
    [[(16 << 3) | 0], 120],
    [[(31 << 3) | 0], 960],
    [[(31 << 3) | 3, 3], 2880],
    [[(12 << 3) | 2], 960],
  ])('%j -> %d samples', (bytes, samples) => {
    expect(opusPacketSamples(Buffer.from(bytes))).toBe(samples);
    expect(opusPacketDuration(Buffer.from(bytes))).toBe(samples / 48);
  });

  it('throws on an empty packet', () => {
    expect(() => opusPacketSamples(Buffer.alloc(0))).toThrow(MediaError);
  });
});
