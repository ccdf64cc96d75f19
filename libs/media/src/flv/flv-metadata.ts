import { AmfError } from '../amf/amf.errors';
import { Amf0EcmaArray, Amf0Value, decodeAmf0, encodeAmf0 } from '../amf/amf0';
import { MediaError } from '../media.errors';
import { AudioConfig, VideoConfig } from '../media.types';
import { FlvSoundFormat, fourccNumber, VIDEO_FOURCC } from './flv-codec';

/** onMetaData videocodecid: 7 for H.264, the FourCC number for Enhanced RTMP codecs. */
export function videoCodecId(config: VideoConfig): number {
  return config.codec === 'h264' ? 7 : fourccNumber(VIDEO_FOURCC[config.codec]);
}

/** onMetaData audiocodecid: the legacy SoundFormat, or the FourCC number for Opus. */
export function audioCodecId(config: AudioConfig): number {
  switch (config.codec) {
    case 'aac':
      return FlvSoundFormat.AAC;
    case 'mp3':
      return FlvSoundFormat.MP3;
    case 'pcma':
      return FlvSoundFormat.G711_ALAW;
    case 'pcmu':
      return FlvSoundFormat.G711_MULAW;
    case 'opus':
      return fourccNumber('Opus');
    default:
      throw new MediaError('UNSUPPORTED', `audio codec ${String((config as AudioConfig).codec)}`);
  }
}

/**
 * The script tag body 'onMetaData' + ECMA array describing the tracks. `extra` entries are added
 * last and override computed ones (e.g. { duration: 12.5, encoder: 'x' }).
 */
export function buildOnMetaData(video?: VideoConfig, audio?: AudioConfig, extra: Record<string, Amf0Value> = {}): Buffer {
  const meta: Record<string, Amf0Value> = {};
  if (video) {
    if (video.width > 0) meta.width = video.width;
    if (video.height > 0) meta.height = video.height;
    meta.videocodecid = videoCodecId(video);
    if (video.fps !== undefined && Number.isFinite(video.fps)) meta.framerate = video.fps;
  }
  if (audio) {
    meta.audiocodecid = audioCodecId(audio);
    meta.audiosamplerate = audio.sampleRate;
    meta.audiosamplesize = 16;
    meta.stereo = audio.channels > 1;
    meta.audiochannels = audio.channels;
  }
  meta.encoder = 'm7s-nest';
  Object.assign(meta, extra);
  return encodeAmf0('onMetaData', new Amf0EcmaArray(meta));
}

export interface ScriptData {
  /** e.g. 'onMetaData' ('@setDataFrame' wrappers are unwrapped) */
  name: string;
  /** the value after the name (an object for onMetaData), undefined when absent */
  value: Amf0Value;
  /** every decoded value after the name */
  values: Amf0Value[];
}

/** Parse a script tag / RTMP data message body. Throws MediaError('BAD_SCRIPT_DATA'). */
export function parseScriptData(body: Buffer): ScriptData {
  let values: Amf0Value[];
  try {
    values = decodeAmf0(body);
  } catch (e) {
    if (e instanceof AmfError) throw new MediaError('BAD_SCRIPT_DATA', `AMF0: ${e.message}`);
    throw e;
  }
  if (values.length > 1 && values[0] === '@setDataFrame' && typeof values[1] === 'string') values = values.slice(1);
  const name = values[0];
  if (typeof name !== 'string') throw new MediaError('BAD_SCRIPT_DATA', 'script data does not start with a name');
  const rest = values.slice(1);
  return { name, value: rest[0], values: rest };
}
