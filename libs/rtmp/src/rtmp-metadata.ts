import type { TrackSet } from '@m7s/core';
import { audioCodecId, videoCodecId, type Amf0Value } from '@m7s/media';

/** The onMetaData object describing a stream's tracks, as RTMP players expect it. */
export function buildFlvMetadataObject(tracks: TrackSet): Record<string, Amf0Value> {
  const metadata: Record<string, Amf0Value> = { encoder: 'm7s-nest' };
  const video = tracks.video?.config;
  const audio = tracks.audio?.config;
  if (video) {
    metadata.width = video.width;
    metadata.height = video.height;
    metadata.videocodecid = videoCodecId(video);
    if (video.fps) metadata.framerate = video.fps;
  }
  if (audio) {
    metadata.audiocodecid = audioCodecId(audio);
    metadata.audiosamplerate = audio.sampleRate;
    metadata.audiochannels = audio.channels;
    metadata.stereo = audio.channels > 1;
  }
  return metadata;
}
