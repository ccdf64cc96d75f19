import { aacConfig, adtsToAudioSpecificConfig, buildAdtsFrame, buildOpusHead, OggOpusReader, OggOpusWriter, opusConfig, parseAdtsHeader, parseAudioSpecificConfig, parseOpusHead, splitAdts } from '@m7s/media';
import { waitFor } from '@m7s/test-kit/wait';
import type { FfmpegAudioTranscoder } from './ffmpeg-audio-transcoder';
import { expectedOutputConfig } from './transcode-formats';
import { audioFrame, ffmpeg, startTranscoder } from './transcode-test-fixtures';

/** Silence, then a 440 Hz tone from 0.6 s: its onset marks a point in time through any codec. */
const ONSET_SOURCE = ['-f', 'lavfi', '-i', 'aevalsrc=if(gte(t\\,0.6)\\,sin(2*PI*440*t)\\,0):s=48000:d=1.2'];

/** Where the tone starts in decoded audio (48 kHz mono s16le), ms from its first sample. */
function onsetMs(pcm: Buffer): number {
  let max = 0;
  for (let i = 0; i < pcm.length; i += 2) max = Math.max(max, Math.abs(pcm.readInt16LE(i)));
  expect(max).toBeGreaterThan(8000); // the tone made it through
  for (let i = 0; i < pcm.length; i += 2) if (Math.abs(pcm.readInt16LE(i)) > max * 0.3) return i / 2 / 48;
  return NaN;
}

const decode = (format: string, data: Buffer): Buffer => ffmpeg(['-f', format, '-i', 'pipe:0', '-ar', '48000', '-ac', '1', '-f', 's16le', 'pipe:1'], data);

describe('FfmpegAudioTranscoder: output (real ffmpeg)', () => {
  let running: FfmpegAudioTranscoder | undefined;
  afterEach(() => running?.stop());

  it('AAC -> Opus: decodable Opus on the input clock, gaps kept, the tone where the input has it', async () => {
    const adts = ffmpeg([...ONSET_SOURCE, '-c:a', 'aac', '-b:a', '96k', '-ac', '1', '-f', 'adts', 'pipe:1']);
    const frames = splitAdts(adts);
    const config = aacConfig(adtsToAudioSpecificConfig(parseAdtsHeader(adts)));
    const inputOnset = onsetMs(decode('aac', adts)); // the input's own priming included, as its frames' dts count it
    const { t, out } = startTranscoder(config, 'opus');
    running = t;
    expect(out.configs[0]).toEqual(expectedOutputConfig(config, 'opus'));
    // RTMP-style whole-ms dts from 10 s on, and 500 ms missing after 0.25 s.
    const frameMs = 1024 / 48;
    const dtsOf = (i: number) => 10_000 + Math.round(i * frameMs) + (i >= 12 ? 500 : 0);
    frames.forEach((data, i) => t.write(audioFrame(config, dtsOf(i), data)));
    const last = dtsOf(frames.length - 1);
    await waitFor(() => out.frames.length && out.frames[out.frames.length - 1].dts >= last - 100, 'Opus output', 10_000, 10);

    expect(out.configs.every((c) => c.codec === 'opus' && c.channels === 1)).toBe(true);
    expect(parseOpusHead(out.configs.at(-1)!.record).preSkip).toBe(312);
    const dts = out.frames.map((f) => f.dts);
    // The first packet begins with the encoder's pre-skip, before the first input sample: it is placed there.
    expect(dts[0]).toBe(10_000);
    const steps = dts.slice(2).map((d, i) => d - dts[i + 1]);
    expect(steps.filter((s) => Math.abs(s - 20) > 1.5).map((s) => Math.round(s))).toEqual([520]);
    // The tone starts in the output where it starts in the input, on the stream's clock (gap included): the
    // output packet holding the onset (packet k starts at 20k ms minus the pre-skip) is placed by its dts.
    const writer = new OggOpusWriter(1);
    const ogg = Buffer.concat([writer.headers(out.configs.at(-1)!.record), ...out.frames.map((f) => writer.packet(f.data))]);
    const content = onsetMs(decode('ogg', ogg)) + 312 / 48;
    const k = Math.floor(content / 20);
    const outputOnset = dts[k] + (content - k * 20);
    const i = Math.floor(inputOnset / frameMs);
    const inputOnsetDts = dtsOf(i) + (inputOnset - i * frameMs);
    expect(Math.abs(outputOnset - inputOnsetDts)).toBeLessThan(3);
    expect(t.framesIn).toBe(frames.length);
    expect(t.dropped).toBe(0);
    expect(t.cpuSeconds()).toBeGreaterThanOrEqual(0);
  });

  it('Opus -> AAC: decodable ADTS on the input clock, the tone where the input has it', async () => {
    const reader = new OggOpusReader();
    const got = reader.push(ffmpeg([...ONSET_SOURCE, '-c:a', 'libopus', '-b:a', '64k', '-ac', '2', '-f', 'ogg', 'pipe:1']));
    const config = opusConfig(got.head!);
    // What ffmpeg is fed: the packets with pre-skip 0, so decoded sample 0 is where the first packet's dts points.
    const asFed = new OggOpusWriter(2);
    const fed = Buffer.concat([asFed.headers(buildOpusHead({ channels: 2, preSkip: 0 })), ...got.packets.map((p) => asFed.packet(p.data))]);
    const inputOnset = onsetMs(decode('ogg', fed));
    const { t, out } = startTranscoder(config, 'aac', { bitrate: '128k' });
    running = t;
    got.packets.forEach((p, i) => t.write(audioFrame(config, 5000 + i * 20, p.data)));
    const last = 5000 + (got.packets.length - 1) * 20;
    await waitFor(() => out.frames.length && out.frames[out.frames.length - 1].dts >= last - 150, 'AAC output', 10_000, 10);

    // The config told at start, then the same read from ffmpeg's first ADTS header.
    expect(out.configs[0]).toEqual(expectedOutputConfig(config, 'aac'));
    expect(out.configs.every((c) => c.record.equals(out.configs[0].record))).toBe(true);
    expect(out.configs.map((c) => [c.codec, c.sampleRate, c.channels])).toContainEqual(['aac', 48000, 2]);
    const dts = out.frames.map((f) => f.dts);
    expect(dts[0]).toBeCloseTo(5000, 6);
    const steps = dts.slice(1).map((d, i) => d - dts[i]);
    expect(steps.every((s) => Math.abs(s - 1024 / 48) < 0.01)).toBe(true);
    const info = parseAudioSpecificConfig(out.configs[0].record);
    const adts = Buffer.concat(out.frames.map((f) => buildAdtsFrame(info, f.data)));
    // The first frame made (all encoder priming) was left out: decoded sample 0 is the first input sample.
    const content = onsetMs(decode('aac', adts));
    const k = Math.floor(content / (1024 / 48));
    const outputOnset = dts[k] + (content - (k * 1024) / 48);
    expect(Math.abs(outputOnset - (5000 + inputOnset))).toBeLessThan(3);
  });
});
