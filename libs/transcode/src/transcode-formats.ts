import {
  aacConfig,
  AdtsReader,
  adtsToAudioSpecificConfig,
  AudioCodec,
  AudioConfig,
  buildAdtsFrame,
  buildAudioSpecificConfig,
  buildOpusHead,
  isMediaError,
  OggOpusReader,
  OggOpusWriter,
  opusConfig,
  opusPacketSamples,
  parseAudioSpecificConfig,
  parseOpusHead,
} from '@m7s/media';

/** How the stream's frames go into ffmpeg's stdin. */
export interface InputFormat {
  /** ffmpeg options before `-i pipe:0`. */
  args: string[];
  /** Bytes to write before the first frame. */
  header(): Buffer;
  /** One frame as written to ffmpeg, and its duration (ms of audio). Throws MediaError for a frame it cannot frame. */
  frame(data: Buffer): { bytes: Buffer; duration: number };
}

/** A packet of ffmpeg's output, timed in content time (ms from the start of the audio fed). */
export interface OutputPacket {
  data: Buffer;
  start: number;
  duration: number;
}

/** How ffmpeg's stdout is read back into frames. */
export interface OutputFormat {
  /** ffmpeg options after `-i pipe:0` up to the output. */
  args: string[];
  /** Push a chunk of stdout; returns the config when it is first known (or changes) and the packets completed. Throws MediaError. */
  push(chunk: Buffer): { config?: AudioConfig; packets: OutputPacket[] };
}

/** The audio codecs ffmpeg is fed from, and those it makes. */
export const TRANSCODE_INPUTS: readonly AudioCodec[] = ['aac', 'opus', 'pcma', 'pcmu'];
export const TRANSCODE_OUTPUTS: readonly AudioCodec[] = ['opus', 'aac'];

const OPUS_RATE = 48_000;
/** libopus's encoder delay at 48 kHz (pre-skip of its OpusHead, default application). */
const LIBOPUS_PRE_SKIP = 312;
/** FFmpeg's AAC encoder starts with one frame of priming (its initial padding). */
const AAC_PRIMING = 1024;
const OUTPUT_RATE = 48_000;

/** Channels of the output: mono or stereo (more would need a channel mapping for Opus). */
export function outputChannels(input: AudioConfig): number {
  return Math.min(Math.max(input.channels, 1), 2);
}

/** The input format of a config, or undefined when ffmpeg cannot be fed it. */
export function inputFormat(config: AudioConfig): InputFormat | undefined {
  try {
    switch (config.codec) {
      case 'aac':
        return aacInput(config);
      case 'opus':
        return opusInput(config);
      case 'pcma':
      case 'pcmu':
        return g711Input(config);
      default:
        return undefined;
    }
  } catch (error) {
    if (isMediaError(error)) return undefined;
    throw error;
  }
}

function aacInput(config: AudioConfig): InputFormat | undefined {
  const info = parseAudioSpecificConfig(config.record);
  // ADTS carries the core object types with a channel configuration (not a PCE).
  if (info.objectType < 1 || info.objectType > 4 || info.channelConfig < 1 || info.channelConfig > 7) return undefined;
  buildAdtsFrame(info, Buffer.alloc(0));
  const duration = (info.frameLength / info.sampleRate) * 1000;
  return {
    args: ['-f', 'aac'],
    header: () => Buffer.alloc(0),
    frame: (data) => ({ bytes: buildAdtsFrame(info, data), duration }),
  };
}

function opusInput(config: AudioConfig): InputFormat {
  const head = Buffer.from(config.record.length ? config.record : buildOpusHead({ channels: config.channels }));
  parseOpusHead(head);
  // Pre-skip 0: ffmpeg then decodes from the first sample of the first packet, which is where its dts points.
  head.writeUInt16LE(0, 10);
  const writer = new OggOpusWriter(0x6d37);
  return {
    args: ['-f', 'ogg'],
    header: () => writer.headers(head),
    frame: (data) => {
      const bytes = writer.packet(data);
      return { bytes, duration: opusPacketSamples(data) / 48 };
    },
  };
}

function g711Input(config: AudioConfig): InputFormat {
  const perMs = (config.sampleRate * config.channels) / 1000;
  return {
    args: ['-f', config.codec === 'pcma' ? 'alaw' : 'mulaw', '-ar', String(config.sampleRate), '-ac', String(config.channels)],
    header: () => Buffer.alloc(0),
    frame: (data) => ({ bytes: data, duration: data.length / perMs }),
  };
}

/** The config a transcode into `target` will have, known before ffmpeg says it (so players can start with it). */
export function expectedOutputConfig(input: AudioConfig, target: AudioCodec): AudioConfig {
  const channels = outputChannels(input);
  if (target === 'opus') return opusConfig(buildOpusHead({ channels, preSkip: LIBOPUS_PRE_SKIP, inputSampleRate: OPUS_RATE }));
  return aacConfig(buildAudioSpecificConfig({ objectType: 2, sampleRate: OUTPUT_RATE, channels }));
}

/** The output format of a target codec. */
export function outputFormat(target: AudioCodec, channels: number, bitrate: string): OutputFormat {
  const common = ['-ar', String(OUTPUT_RATE), '-ac', String(channels), '-b:a', bitrate];
  if (target === 'opus') {
    const reader = new OggOpusReader();
    return {
      // One 20 ms packet per page, each page flushed at once: output follows input with no buffering.
      args: ['-c:a', 'libopus', ...common, '-frame_duration', '20', '-f', 'ogg', '-page_duration', '20000', '-flush_packets', '1'],
      push: (chunk) => {
        const got = reader.push(chunk);
        return {
          config: got.head ? opusConfig(got.head) : undefined,
          packets: got.packets.map((p) => ({ data: p.data, start: p.start / 48, duration: p.samples / 48 })),
        };
      },
    };
  }
  if (target !== 'aac') throw new Error(`no transcode to ${target}`);
  const reader = new AdtsReader();
  let frames = 0;
  let config: AudioConfig | undefined;
  return {
    args: ['-c:a', 'aac', ...common, '-f', 'adts', '-flush_packets', '1'],
    push: (chunk) => {
      let changed: AudioConfig | undefined;
      const packets = reader.push(chunk).map(({ header, payload }) => {
        if (!config || header.sampleRate !== config.sampleRate || header.channels !== config.channels) {
          config = changed = aacConfig(adtsToAudioSpecificConfig(header));
        }
        const samples = 1024 * header.rawBlocks;
        const start = ((frames * 1024 - AAC_PRIMING) * 1000) / header.sampleRate;
        frames += header.rawBlocks;
        return { data: payload, start, duration: (samples * 1000) / header.sampleRate };
      });
      return { config: changed, packets };
    },
  };
}
