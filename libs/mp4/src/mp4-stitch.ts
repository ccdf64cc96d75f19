import type { Mp4Index, Mp4IndexedSample, Mp4Track, TrackConfig } from '@m7s/media';
import { toMs } from './mp4-tracks';

/** One recorded file: its sample index and the wall-clock time (ms since the epoch) of its time 0. */
export interface StitchFile {
  index: Mp4Index;
  startTime: number;
}

export type StitchedSample = Mp4IndexedSample & { source: number };

export interface Stitched {
  /** Video first; samples on one timeline starting at 0 (the key frame at or before the range start). */
  tracks: { track: Mp4Track; samples: StitchedSample[] }[];
  /** ms of media. */
  duration: number;
  /** Wall-clock time (ms since the epoch) of the first sample. */
  start: number;
  /** How many of the files were used (files after a change of track config are left out). */
  filesUsed: number;
}

function sameConfig(a: TrackConfig, b: TrackConfig): boolean {
  return a.codec === b.codec && a.record.equals(b.record);
}

/**
 * The samples of [start, end] (ms since the epoch) taken from consecutive recordings (sorted by start time)
 * on one timeline: from the video key frame at or before `start`, each following file continuing where the
 * previous one ended (gaps between files are closed). The file list ends at the first file whose tracks differ
 * from the first file's (one MP4 has one config per track). `source` of each sample is the file's position in
 * `files`. Undefined when the range holds no sample.
 */
export function stitchRange(files: readonly StitchFile[], start: number, end: number): Stitched | undefined {
  let reference: Mp4Track[] | undefined;
  const out = new Map<number, StitchedSample[]>();
  let offsetMs = 0;
  let first: number | undefined;
  let filesUsed = 0;
  for (let source = 0; source < files.length; source++) {
    const { index, startTime } = files[source];
    const tracks = index.tracks.filter((t) => t.samples.length > 0).sort((a, b) => (a.track.config.kind === 'video' ? -1 : b.track.config.kind === 'video' ? 1 : 0));
    if (tracks.length === 0) continue;
    if (!reference) reference = tracks.map((t) => t.track);
    const matches = tracks.length === reference.length && tracks.every((t, i) => sameConfig(t.track.config, reference![i].config) && t.track.timescale === reference![i].timescale);
    if (!matches) break;
    // A file whose media ends before the range has nothing for it (its last key frame is not a start).
    if (fileEnd(tracks) <= start - startTime) continue;
    const cut = cutPoint(tracks, start - startTime);
    if (cut === undefined) continue;
    const localEnd = end - startTime;
    let spanMs = 0;
    let used = false;
    for (let i = 0; i < tracks.length; i++) {
      const { track, samples } = tracks[i];
      const ts = track.timescale;
      const cutUnits = Math.floor((cut * ts) / 1000);
      const selected = samples.filter((s) => s.dts >= cutUnits && toMs(s.dts, ts) < localEnd);
      if (selected.length === 0) continue;
      used = true;
      const shift = Math.round((offsetMs * ts) / 1000) - cutUnits;
      const list = out.get(i) ?? [];
      out.set(i, list);
      for (const s of selected) list.push({ ...s, dts: s.dts + shift, source });
      const last = selected[selected.length - 1];
      spanMs = Math.max(spanMs, toMs(last.dts + last.duration - cutUnits, ts));
    }
    if (!used) continue;
    first ??= startTime + cut;
    filesUsed = source + 1;
    offsetMs += spanMs;
  }
  if (!reference || first === undefined) return undefined;
  const result: Stitched['tracks'] = [];
  reference.forEach((track, i) => {
    const samples = out.get(i);
    if (samples?.length) result.push({ track, samples: evenOut(samples) });
  });
  return { tracks: result, duration: offsetMs, start: first, filesUsed };
}

/** ms (of the file's time) where the file's media ends. */
function fileEnd(tracks: { track: Mp4Track; samples: Mp4IndexedSample[] }[]): number {
  return Math.max(...tracks.map(({ track, samples }) => toMs(samples[samples.length - 1].dts + samples[samples.length - 1].duration, track.timescale)));
}

/**
 * Where a file's part of the range starts (ms of the file's time): the video key frame at or before
 * `localStart` (the first key frame when there is none before), else `localStart` itself for audio only.
 */
function cutPoint(tracks: { track: Mp4Track; samples: Mp4IndexedSample[] }[], localStart: number): number | undefined {
  const video = tracks.find((t) => t.track.config.kind === 'video');
  if (!video) return Math.max(localStart, toMs(tracks[0].samples[0].dts, tracks[0].track.timescale));
  const ts = video.track.timescale;
  let cut: number | undefined;
  for (const s of video.samples) {
    if (!s.keyFrame) continue;
    const ms = toMs(s.dts, ts);
    if (cut === undefined || ms <= localStart) cut = ms;
    if (ms > localStart) break;
  }
  return cut;
}

/** Strictly increasing decode times, each duration reaching the next sample (gaps between files closed). */
function evenOut(samples: StitchedSample[]): StitchedSample[] {
  for (let i = 1; i < samples.length; i++) {
    // The samples are this module's own copies.
    if (samples[i].dts <= samples[i - 1].dts) samples[i].dts = samples[i - 1].dts + 1;
    samples[i - 1].duration = samples[i].dts - samples[i - 1].dts;
  }
  return samples;
}
