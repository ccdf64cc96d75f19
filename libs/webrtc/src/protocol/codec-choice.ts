import { H265NalType, h265NalType, parseH265Sps, type AudioCodec, type AudioConfig, type VideoConfig } from '@m7s/media';
import { DEFAULT_PROFILE_LEVEL_ID, h264Decodes, h264ProfileOfBytes, H264ProfileLevel, parseH264ProfileLevelId } from './h264-profile';
import type { OfferCodec, OfferMedia } from './offer';

/** The media codecs WebRTC carries here, by their names in the media model. */
export type WebrtcVideoCodec = 'h264' | 'h265' | 'vp8' | 'vp9' | 'av1';
export type WebrtcAudioCodec = Extract<AudioCodec, 'opus' | 'pcma' | 'pcmu'>;

export const WEBRTC_VIDEO_CODECS: readonly WebrtcVideoCodec[] = ['h264', 'h265', 'av1', 'vp9', 'vp8'];
export const WEBRTC_AUDIO_CODECS: readonly WebrtcAudioCodec[] = ['opus', 'pcma', 'pcmu'];

/** The model's codec name of an RTP encoding this module carries, else undefined. */
export function codecOfEncoding(encoding: string): WebrtcVideoCodec | WebrtcAudioCodec | undefined {
  const name = encoding.toLowerCase();
  return ([...WEBRTC_VIDEO_CODECS, ...WEBRTC_AUDIO_CODECS] as string[]).includes(name) ? (name as WebrtcVideoCodec | WebrtcAudioCodec) : undefined;
}

/** Formats of a codec we can carry as RTP (H.264 in packetization mode 1, Opus at 48 kHz, G.711 at 8 kHz mono). */
function carriable(codec: OfferCodec): boolean {
  switch (codec.encoding) {
    case 'H264':
      return codec.fmtp['packetization-mode'] === '1';
    case 'OPUS':
      return codec.clockRate === 48000;
    case 'PCMA':
    case 'PCMU':
      return codec.clockRate === 8000 && (codec.channels ?? 1) === 1;
    default:
      return codecOfEncoding(codec.encoding) !== undefined;
  }
}

/**
 * WHIP: the format a publisher's m-line is answered with: the first of the server's `preference` (codec
 * names) that the offer has in a carriable form and `accept` (the ingest can read it) allows; between
 * formats of one codec, the offer's order. Undefined when there is none.
 */
export function choosePushCodec(media: OfferMedia, preference: readonly string[], accept: (codec: OfferCodec) => boolean): OfferCodec | undefined {
  for (const name of preference) {
    const found = media.codecs.find((c) => c.encoding === name.toUpperCase() && carriable(c) && accept(c));
    if (found) return found;
  }
  return undefined;
}

/** The profile and level of an H.264 track: from its SPS (or its avcC record). */
export function h264ProfileOfConfig(config: VideoConfig): H264ProfileLevel | undefined {
  const sps = config.parameterSets.find((n) => n.length >= 4 && (n[0] & 0x1f) === 7);
  if (sps) return h264ProfileOfBytes(sps[1], sps[2], sps[3]);
  if (config.record.length >= 4) return h264ProfileOfBytes(config.record[1], config.record[2], config.record[3]);
  return undefined;
}

/** The general profile_idc and level_idc of an H.265 track (RFC 7798 profile-id, level-id): from its SPS, else its hvcC record. */
export function h265ProfileOfConfig(config: VideoConfig): { profileId: number; levelId: number } | undefined {
  const sps = config.parameterSets.find((n) => n.length >= 4 && h265NalType(n) === H265NalType.SPS);
  if (sps) {
    try {
      const info = parseH265Sps(sps);
      return { profileId: info.profileIdc, levelId: info.levelIdc };
    } catch {
      // an SPS that does not read: try the record
    }
  }
  if (config.record.length >= 13 && config.record[0] === 1) return { profileId: config.record[1] & 0x1f, levelId: config.record[12] };
  return undefined;
}

/** H.265 profile-ids whose decoders also decode a stream of a profile-id: Main 10 reads Main, both read Main Still Picture. */
const H265_DECODES: Record<number, readonly number[]> = { 1: [1, 3], 2: [1, 2, 3], 3: [3] };

/** An offered format's fit for the stream: 4 for its profile, 2 for a decoder that reads it, +1 for a level at least the stream's. */
type FormatScore = (codec: OfferCodec) => number;

function h264Score(stream: VideoConfig): FormatScore | undefined {
  const profile = h264ProfileOfConfig(stream);
  if (!profile) return undefined;
  return (codec) => {
    const offered = parseH264ProfileLevelId(codec.fmtp['profile-level-id'] ?? DEFAULT_PROFILE_LEVEL_ID);
    if (!offered) return 0;
    const fit = offered.profile === profile.profile ? 4 : h264Decodes(offered, profile) ? 2 : 0;
    return fit + (offered.level >= profile.level ? 1 : 0);
  };
}

function h265Score(stream: VideoConfig): FormatScore | undefined {
  const profile = h265ProfileOfConfig(stream);
  if (!profile) return undefined;
  return (codec) => {
    // RFC 7798 defaults: Main (profile-id 1), level 3.1 (level-id 93).
    const profileId = Number(codec.fmtp['profile-id'] ?? 1);
    const levelId = Number(codec.fmtp['level-id'] ?? 93);
    const fit = profileId === profile.profileId ? 4 : H265_DECODES[profileId]?.includes(profile.profileId) ? 2 : 0;
    return fit + (levelId >= profile.levelId ? 1 : 0);
  };
}

/**
 * WHEP: the video format to answer with for a stream whose video is `stream` (undefined: the stream has no
 * video, any carriable format does). H.264 and H.265: the offered profile equal to the stream's first, then
 * one whose decoder reads it, then any (browsers decode more than they list); a level at least the stream's
 * breaks ties, then the offer's order. Other codecs: the first format of the same codec. Undefined when the
 * offer lacks the codec.
 */
export function choosePlayVideoCodec(media: OfferMedia, stream: VideoConfig | undefined): OfferCodec | undefined {
  const usable = media.codecs.filter((c) => carriable(c) && WEBRTC_VIDEO_CODECS.includes(codecOfEncoding(c.encoding) as WebrtcVideoCodec));
  if (!stream) return usable[0];
  const same = usable.filter((c) => c.encoding === stream.codec.toUpperCase());
  const score = stream.codec === 'h264' ? h264Score(stream) : stream.codec === 'h265' ? h265Score(stream) : undefined;
  if (!score || same.length === 0) return same[0];
  let best: OfferCodec | undefined;
  let bestScore = -1;
  for (const codec of same) {
    const value = score(codec);
    if (value > bestScore) {
      best = codec;
      bestScore = value;
    }
  }
  return best;
}

/** WHEP: the audio formats of an m-line this server can send, in its order of preference (Opus, PCMA, PCMU). */
export function playableAudioCodecs(media: OfferMedia): { codec: WebrtcAudioCodec; format: OfferCodec }[] {
  const out: { codec: WebrtcAudioCodec; format: OfferCodec }[] = [];
  for (const codec of WEBRTC_AUDIO_CODECS) {
    const format = media.codecs.find((c) => c.encoding === codec.toUpperCase() && carriable(c));
    if (format) out.push({ codec, format });
  }
  return out;
}

/**
 * WHEP: the audio format for a stream whose audio is `stream`: its own codec when the player takes it as
 * is (G.711 only at 8 kHz mono), else the first playable one (the engine derives that codec from the
 * stream's audio, SubscriberSink.audioCodecs).
 */
export function choosePlayAudioCodec(playable: readonly { codec: WebrtcAudioCodec; format: OfferCodec }[], stream: AudioConfig | undefined): { codec: WebrtcAudioCodec; format: OfferCodec } | undefined {
  const own = stream && playable.find((p) => p.codec === stream.codec && (p.codec === 'opus' || (stream.sampleRate === 8000 && stream.channels === 1)));
  return own ?? playable[0];
}
