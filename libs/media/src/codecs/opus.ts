import { MediaError } from '../media.errors';
import { AudioConfig } from '../media.types';

/** Identification header (RFC 7845 5.1). */
export interface OpusHead {
  version: number;
  channels: number;
  preSkip: number;
  inputSampleRate: number;
  /** Q7.8 dB */
  outputGain: number;
  mappingFamily: number;
  streamCount?: number;
  coupledCount?: number;
  channelMapping?: number[];
}

const MAGIC = Buffer.from('OpusHead', 'latin1');

/** Parse an OpusHead packet. Throws MediaError('BAD_OPUS_HEAD'). */
export function parseOpusHead(buf: Buffer): OpusHead {
  if (buf.length < 19) throw new MediaError('BAD_OPUS_HEAD', 'OpusHead too short');
  if (!buf.subarray(0, 8).equals(MAGIC)) throw new MediaError('BAD_OPUS_HEAD', 'no OpusHead magic');
  const version = buf[8];
  if (version >> 4 !== 0) throw new MediaError('BAD_OPUS_HEAD', `unsupported OpusHead version ${version}`);
  const channels = buf[9];
  if (channels === 0) throw new MediaError('BAD_OPUS_HEAD', 'channel count 0');
  const head: OpusHead = {
    version,
    channels,
    preSkip: buf.readUInt16LE(10),
    inputSampleRate: buf.readUInt32LE(12),
    outputGain: buf.readInt16LE(16),
    mappingFamily: buf[18],
  };
  if (head.mappingFamily === 0) {
    if (channels > 2) throw new MediaError('BAD_OPUS_HEAD', 'mapping family 0 with more than 2 channels');
  } else {
    if (buf.length < 21 + channels) throw new MediaError('BAD_OPUS_HEAD', 'channel mapping table truncated');
    head.streamCount = buf[19];
    head.coupledCount = buf[20];
    if (head.streamCount === 0 || head.coupledCount > head.streamCount) {
      throw new MediaError('BAD_OPUS_HEAD', 'bad stream counts');
    }
    head.channelMapping = Array.from(buf.subarray(21, 21 + channels));
  }
  return head;
}

export interface OpusHeadOptions {
  channels?: number;
  preSkip?: number;
  inputSampleRate?: number;
  outputGain?: number;
  /** required for more than 2 channels */
  mapping?: { family: number; streamCount: number; coupledCount: number; channelMapping: number[] };
}

/** Build an OpusHead packet (defaults: stereo, pre-skip 312, 48 kHz input, 0 gain, family 0). */
export function buildOpusHead(o: OpusHeadOptions = {}): Buffer {
  const channels = o.channels ?? 2;
  if (!(channels >= 1 && channels <= 255) || !Number.isInteger(channels)) {
    throw new MediaError('BAD_ARGUMENT', `channels ${channels}`);
  }
  const m = o.mapping;
  if (!m && channels > 2) throw new MediaError('UNSUPPORTED', 'more than 2 channels need an explicit channel mapping');
  if (m && m.channelMapping.length !== channels) throw new MediaError('BAD_ARGUMENT', 'channel mapping length');
  const family = m ? m.family : 0;
  const out = Buffer.alloc(family === 0 ? 19 : 21 + channels);
  MAGIC.copy(out, 0);
  out[8] = 1;
  out[9] = channels;
  out.writeUInt16LE(o.preSkip ?? 312, 10);
  out.writeUInt32LE(o.inputSampleRate ?? 48000, 12);
  out.writeInt16LE(o.outputGain ?? 0, 16);
  out[18] = family;
  if (m && family !== 0) {
    out[19] = m.streamCount;
    out[20] = m.coupledCount;
    for (let i = 0; i < channels; i++) out[21 + i] = m.channelMapping[i];
  }
  return out;
}

/** AudioConfig for Opus (always 48 kHz); without a head, stereo with a default head. */
export function opusConfig(head?: Buffer): AudioConfig {
  const record = head ?? buildOpusHead({ channels: 2 });
  const h = parseOpusHead(record);
  return { kind: 'audio', codec: 'opus', record, sampleRate: 48000, channels: h.channels };
}

const FRAME_SIZES_48K = [
  // SILK NB/MB/WB: 10, 20, 40, 60 ms
  480, 960, 1920, 2880, 480, 960, 1920, 2880, 480, 960, 1920, 2880,
  // Hybrid SWB/FB: 10, 20 ms
  480, 960, 480, 960,
  // CELT NB/WB/SWB/FB: 2.5, 5, 10, 20 ms
  120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960, 120, 240, 480, 960,
];

/** Samples (at 48 kHz) in an Opus packet, from its TOC byte (RFC 6716 3.1). */
export function opusPacketSamples(packet: Buffer): number {
  if (packet.length < 1) throw new MediaError('TRUNCATED', 'empty Opus packet');
  const toc = packet[0];
  const perFrame = FRAME_SIZES_48K[toc >>> 3];
  switch (toc & 3) {
    case 0:
      return perFrame;
    case 1:
    case 2:
      return perFrame * 2;
    default:
      if (packet.length < 2) throw new MediaError('TRUNCATED', 'Opus code 3 packet without frame count');
      return perFrame * (packet[1] & 0x3f);
  }
}

/** Duration of an Opus packet in milliseconds. */
export function opusPacketDuration(packet: Buffer): number {
  return opusPacketSamples(packet) / 48;
}
