import type { AudioConfig, Mp4Track, TrackConfig } from '@m7s/media';

/** Track ids used by every file and live stream this lib writes. */
export const VIDEO_TRACK_ID = 1;
export const AUDIO_TRACK_ID = 2;

/** MP4 time units per second: 90 kHz for video, the sample rate for audio. */
export function timescaleOf(config: TrackConfig): number {
  return config.kind === 'video' ? 90_000 : config.sampleRate;
}

export function mp4TrackOf(config: TrackConfig): Mp4Track {
  return { id: config.kind === 'video' ? VIDEO_TRACK_ID : AUDIO_TRACK_ID, config, timescale: timescaleOf(config) };
}

/** The MP4 tracks of a stream's (or file's) track configs, video first. */
export function mp4TracksOf(tracks: { video?: { config: TrackConfig }; audio?: { config: TrackConfig } }): Mp4Track[] {
  const list: Mp4Track[] = [];
  if (tracks.video) list.push(mp4TrackOf(tracks.video.config));
  if (tracks.audio) list.push(mp4TrackOf(tracks.audio.config));
  return list;
}

/** ms -> track units. */
export function toUnits(ms: number, timescale: number): number {
  return Math.round((ms * timescale) / 1000);
}

/** track units -> ms. */
export function toMs(units: number, timescale: number): number {
  return (units * 1000) / timescale;
}

/** The duration (track units) of one frame whose successor is not known yet. */
export function nominalDuration(config: TrackConfig, size: number): number {
  if (config.kind === 'video') return Math.round(90_000 / (config.fps && config.fps > 0 ? config.fps : 25));
  return audioFrameSamples(config, size);
}

function audioFrameSamples(config: AudioConfig, size: number): number {
  switch (config.codec) {
    case 'aac':
      return 1024;
    case 'mp3':
      return 1152;
    case 'opus':
      return Math.round(config.sampleRate / 50); // 20 ms, the usual packet
    default:
      return Math.max(1, Math.floor(size / Math.max(1, config.channels))); // G.711: one byte per sample
  }
}
