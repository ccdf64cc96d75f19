import { MediaError } from '../media.errors';
import { AudioConfig } from '../media.types';

const EMPTY = Buffer.alloc(0);

/** AudioConfig for G.711 A-law ('pcma') or mu-law ('pcmu'); no codec record. */
export function g711Config(codec: 'pcma' | 'pcmu', sampleRate = 8000, channels = 1): AudioConfig {
  if (codec !== 'pcma' && codec !== 'pcmu') throw new MediaError('BAD_ARGUMENT', `not a G.711 codec: ${String(codec)}`);
  if (!(sampleRate > 0) || !(channels >= 1)) throw new MediaError('BAD_ARGUMENT', 'sample rate / channels');
  return { kind: 'audio', codec, record: EMPTY, sampleRate, channels };
}

/** Duration in ms of a G.711 payload (one byte per sample per channel). */
export function g711Duration(byteLength: number, sampleRate = 8000, channels = 1): number {
  return (byteLength / channels / sampleRate) * 1000;
}
