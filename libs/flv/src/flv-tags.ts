import { AVFrame, Track, TrackSet } from '@m7s/core';
import {
  AudioConfig,
  buildAudioConfigBody,
  buildAudioFrameBody,
  buildOnMetaData,
  buildVideoConfigBody,
  buildVideoFrameBody,
  flvTagHeader,
  previousTagSize,
  VideoConfig,
} from '@m7s/media';

export const FLV_AUDIO = 8;
export const FLV_VIDEO = 9;
export const FLV_SCRIPT = 18;

/**
 * FLV tag bodies of frames and track configs, built once per frame / config version and shared by every
 * FLV and RTMP player (an RTMP media message payload is an FLV tag body).
 */
export function frameTagBody(frame: AVFrame): Buffer {
  return frame.cached('flv-body', buildFrameTagBody);
}

// Builders are module-level so the per-player hot path allocates no closure.
function buildFrameTagBody(f: AVFrame): Buffer {
  return f.kind === 'video'
    ? buildVideoFrameBody(f.codec as VideoConfig['codec'], f.keyFrame, Math.round(f.cts), f.data as Buffer[])
    : buildAudioFrameBody(f.config as AudioConfig, f.data[0]);
}

function buildFrameTag(f: AVFrame): Buffer {
  return flvTag(f.kind === 'video' ? FLV_VIDEO : FLV_AUDIO, Math.round(f.dts), frameTagBody(f));
}

/** Sequence header body of a track, or null for codecs that have none (G.711, MP3). */
export function trackConfigBody(track: Track): Buffer | null {
  return track.cached('flv-body', (config) =>
    config.kind === 'video' ? buildVideoConfigBody(config) : buildAudioConfigBody(config),
  );
}

/** One complete tag (header, body, previous tag size) as a single Buffer. */
export function flvTag(type: number, timestamp: number, body: Buffer): Buffer {
  return Buffer.concat([flvTagHeader(type, timestamp, body.length), body, previousTagSize(11 + body.length)]);
}

/** The frame's complete FLV tag, stamped with the stream clock, built once for every player. */
export function frameTag(frame: AVFrame): Buffer {
  return frame.cached('flv-tag', buildFrameTag);
}

export function metadataBody(tracks: TrackSet): Buffer {
  return buildOnMetaData(tracks.video?.config, tracks.audio?.config, { encoder: 'm7s-nest' });
}
