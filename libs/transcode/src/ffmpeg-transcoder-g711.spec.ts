import { g711Config, OggOpusWriter } from '@m7s/media';
import { waitFor } from '@m7s/test-kit/wait';
import type { FfmpegAudioTranscoder } from './ffmpeg-audio-transcoder';
import { TRANSCODE_INPUTS } from './transcode-formats';
import { audioFrame, ffmpeg, startTranscoder } from './transcode-test-fixtures';

describe('FfmpegAudioTranscoder: G.711 input (real ffmpeg)', () => {
  let running: FfmpegAudioTranscoder | undefined;
  afterEach(() => running?.stop());

  it.each(['pcma', 'pcmu'] as const)('%s -> Opus: decodable, 20 ms packets from the input clock', async (codec) => {
    expect(TRANSCODE_INPUTS).toContain(codec);
    const raw = ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:duration=0.6', '-f', codec === 'pcma' ? 'alaw' : 'mulaw', 'pipe:1']);
    const config = g711Config(codec);
    const { t, out } = startTranscoder(config, 'opus');
    running = t;
    // 20 ms RTP-style packets of 160 bytes.
    for (let i = 0; i * 160 < raw.length; i++) t.write(audioFrame(config, 3000 + i * 20, raw.subarray(i * 160, (i + 1) * 160)));
    await waitFor(() => out.frames.length && out.frames[out.frames.length - 1].dts >= 3000 + 600 - 100, 'Opus output', 10_000, 10);
    expect(out.frames[0].dts).toBe(3000);
    expect(out.configs.at(-1)).toMatchObject({ codec: 'opus', channels: 1 });
    const writer = new OggOpusWriter(1);
    const ogg = Buffer.concat([writer.headers(out.configs.at(-1)!.record), ...out.frames.map((f) => writer.packet(f.data))]);
    const pcm = ffmpeg(['-f', 'ogg', '-i', 'pipe:0', '-f', 's16le', '-ac', '1', 'pipe:1'], ogg);
    expect(pcm.length / 2 / 48).toBeGreaterThan(400);
  });
});
