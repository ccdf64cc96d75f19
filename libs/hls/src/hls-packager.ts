import {
  AudioConfig,
  buildFragment,
  buildInitSegment,
  isMediaError,
  MediaKind,
  Mp4Sample,
  Mp4Track,
  mp4SampleData,
  TrackConfig,
  TsFrame,
  TsMuxer,
  tsSupports,
  VideoConfig,
} from '@m7s/media';
import type { PartPackager } from './hls-segmenter';
import type { HlsContainer } from './hls-path';

/** A frame as the packagers read it (an AVFrame is one). */
export type PackFrame = TsFrame;

export interface HlsTracks {
  video?: VideoConfig;
  audio?: AudioConfig;
}

/** The tracks a container can carry (others are left out: e.g. G.711 audio in TS). */
export function usableTracks(container: HlsContainer, tracks: HlsTracks): HlsTracks {
  const ok = (config: TrackConfig): boolean => {
    if (container === 'ts') return tsSupports(config);
    try {
      buildInitSegment([{ id: 1, config, timescale: timescaleOf(config) }]);
      return true;
    } catch (error) {
      if (isMediaError(error)) return false;
      throw error;
    }
  };
  const out: HlsTracks = {};
  if (tracks.video && ok(tracks.video)) out.video = tracks.video;
  if (tracks.audio && ok(tracks.audio)) out.audio = tracks.audio;
  return out;
}

/** MPEG-TS parts: PAT/PMT at the start of each segment, then the frames' PES packets. */
export class TsPackager implements PartPackager<PackFrame> {
  private readonly muxer: TsMuxer;

  constructor(private readonly tracks: HlsTracks) {
    this.muxer = new TsMuxer(tracks);
  }

  pack(frames: readonly PackFrame[], segmentStart: boolean): Buffer {
    const out: Buffer[] = segmentStart ? [this.muxer.tables()] : [];
    for (const frame of frames) if (this.tracks[frame.kind]) out.push(this.muxer.frame(frame));
    return Buffer.concat(out);
  }
}

function timescaleOf(config: TrackConfig): number {
  return config.kind === 'video' ? 90_000 : config.sampleRate || 48_000;
}

const TRACK_ID: Record<MediaKind, number> = { video: 1, audio: 2 };

/** fMP4 (CMAF) parts: one moof + mdat per part; the init section is made once per set of tracks. */
export class Fmp4Packager implements PartPackager<PackFrame> {
  readonly init: Buffer;
  private readonly mp4Tracks: Mp4Track[] = [];
  private sequence = 1;
  /** Last sample duration per track (timescale units), for a track's last sample in a part. */
  private readonly lastDuration = new Map<number, number>();

  constructor(private readonly tracks: HlsTracks) {
    for (const config of [tracks.video, tracks.audio]) {
      if (config) this.mp4Tracks.push({ id: TRACK_ID[config.kind], config, timescale: timescaleOf(config) });
    }
    this.init = buildInitSegment(this.mp4Tracks);
  }

  pack(frames: readonly PackFrame[], _segmentStart: boolean, end: number): Buffer {
    const parts = [];
    for (const track of this.mp4Tracks) {
      const own = frames.filter((f) => f.kind === track.config.kind);
      if (!own.length) continue;
      const t = (ms: number): number => Math.max(0, Math.round((ms * track.timescale) / 1000));
      const samples: Mp4Sample[] = [];
      const data: Buffer[] = [];
      own.forEach((frame, i) => {
        const next = own[i + 1];
        let duration = next ? t(next.dts) - t(frame.dts) : track.config.kind === 'video' ? t(end) - t(frame.dts) : 0;
        if (duration <= 0) duration = this.lastDuration.get(track.id) ?? defaultDuration(track.config, track.timescale);
        this.lastDuration.set(track.id, duration);
        const bytes = mp4SampleData(track.config.codec, frame.data);
        const size = bytes.reduce((n, b) => n + b.length, 0);
        samples.push({ dts: t(frame.dts), duration, cts: t(frame.pts) - t(frame.dts), keyFrame: frame.keyFrame, size });
        data.push(...bytes);
      });
      parts.push({ trackId: track.id, baseDecodeTime: t(own[0].dts), samples, data });
    }
    if (!parts.length) return Buffer.alloc(0);
    return Buffer.concat(buildFragment(this.sequence++, parts));
  }
}

/** A sample's duration when nothing else tells it: a frame of the codec, 40 ms for video. */
function defaultDuration(config: TrackConfig, timescale: number): number {
  if (config.kind === 'video') return Math.round(timescale / 25);
  if (config.codec === 'aac') return 1024;
  if (config.codec === 'mp3') return 1152;
  return Math.round(timescale / 50); // 20 ms (Opus, G.711 packets)
}

export function createPackager(container: HlsContainer, tracks: HlsTracks): TsPackager | Fmp4Packager {
  return container === 'ts' ? new TsPackager(tracks) : new Fmp4Packager(tracks);
}
