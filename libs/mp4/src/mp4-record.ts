import { mkdir, open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AVFrame, TrackSet } from '@m7s/core';
import { AudioCodec, buildFragment, buildInitSegment, layoutProgressiveMp4, Mp4Index, Mp4Sample, Mp4Track, mp4SampleData, readMp4Index } from '@m7s/media';
import type { ClosedFile, FinalizedFile, RecordFileWriter, RecordFormat } from '@m7s/record';
import { openLocalFile } from '@m7s/storage';
import { coalesceSpans, readSpans } from './mp4-spans';
import { mp4TracksOf, nominalDuration, toMs, toUnits } from './mp4-tracks';

/**
 * The MP4 recording format. While recording the file is fragmented MP4 (init segment, then a fragment
 * every `flushInterval` ms), so a crash loses at most the last fragment. finalize() rewrites it as a
 * progressive MP4 (moov before mdat) beside it and renames it over the original.
 */
export class Mp4RecordFormat implements RecordFormat {
  readonly format = 'mp4' as const;
  readonly extension = 'mp4';
  /** Every audio codec the MP4 writer has a sample entry for (Opus kept as is). */
  readonly audioCodecs: readonly AudioCodec[] = ['aac', 'opus', 'mp3', 'pcma', 'pcmu'];

  constructor(private readonly flushInterval: () => number) {}

  /** One MP4 holds one config per track: a change starts a new file. */
  acceptsConfigChange(): boolean {
    return false;
  }

  async open(filePath: string, tracks: TrackSet): Promise<RecordFileWriter> {
    await mkdir(dirname(filePath), { recursive: true });
    const handle = await open(filePath, 'w');
    return new Mp4FileWriter(new AppendFile(handle), mp4TracksOf(tracks), this.flushInterval());
  }

  finalize(filePath: string): Promise<FinalizedFile> {
    return finalizeMp4(filePath);
  }

  async recover(filePath: string): Promise<FinalizedFile | undefined> {
    const file = await openLocalFile(filePath);
    let index: Mp4Index;
    try {
      index = await readMp4Index(file);
    } catch {
      return undefined; // not even an init segment
    } finally {
      await file.close();
    }
    if (!index.tracks.some((t) => t.samples.length > 0)) return undefined;
    return finalizeMp4(filePath);
  }

  async remove(filePath: string): Promise<void> {
    await rm(filePath, { force: true });
    await rm(filePath + '.tmp', { force: true });
  }
}

/** ms of media in an index (earliest sample start to latest sample end over the tracks). */
export function indexDuration(index: Mp4Index): number {
  let start = Infinity;
  let end = 0;
  for (const { track, samples } of index.tracks) {
    if (!samples.length) continue;
    const last = samples[samples.length - 1];
    start = Math.min(start, toMs(samples[0].dts, track.timescale));
    end = Math.max(end, toMs(last.dts + last.duration, track.timescale));
  }
  return start === Infinity ? 0 : Math.round(end - start);
}

/**
 * Rewrites a fragmented MP4 (a torn tail is left out) as a progressive one: the spans of the layout are
 * written to `{file}.tmp`, synced, and renamed over the file. A file already progressive is left alone.
 */
export async function finalizeMp4(filePath: string): Promise<FinalizedFile> {
  const source = await openLocalFile(filePath);
  let size: number;
  let duration: number;
  try {
    const index = await readMp4Index(source);
    duration = indexDuration(index);
    if (!index.fragmented) return { size: source.size, duration };
    const tracks = index.tracks.filter((t) => t.samples.length > 0);
    if (!tracks.length) throw new Error(`${filePath}: no complete fragment`);
    const layout = layoutProgressiveMp4(tracks.map(({ track, samples }) => ({ track, samples: samples.map((s) => ({ ...s, source: 0 })) })));
    const tmp = filePath + '.tmp';
    const out = new AppendFile(await open(tmp, 'w'));
    for await (const piece of readSpans(coalesceSpans(layout.spans), [source], 0, layout.size)) {
      out.write([piece]);
      await out.drained();
    }
    size = await out.close();
  } finally {
    await source.close();
  }
  await rename(filePath + '.tmp', filePath);
  await syncDirectory(dirname(filePath));
  return { size, duration };
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // some filesystems cannot sync a directory
  } finally {
    await handle.close();
  }
}

/** Appends to a file in the background, in order; `queued` bytes are not on disk yet. */
class AppendFile {
  queued = 0;
  written = 0;
  private tail: Promise<void> = Promise.resolve();
  private error: unknown;

  constructor(private readonly handle: FileHandle) {}

  write(buffers: Buffer[]): void {
    const bytes = buffers.reduce((n, b) => n + b.length, 0);
    if (bytes === 0) return;
    this.queued += bytes;
    this.tail = this.tail.then(async () => {
      try {
        if (this.error === undefined) await this.writeAll(buffers);
      } catch (error) {
        this.error = error;
      } finally {
        this.queued -= bytes;
      }
    });
  }

  /** Resolves when everything queued so far is written. */
  drained(): Promise<void> {
    return this.tail;
  }

  /** Writes what is queued, syncs and closes; the file's size, or the first write error. */
  async close(): Promise<number> {
    await this.tail;
    try {
      if (this.error === undefined) await this.handle.sync();
    } finally {
      await this.handle.close();
    }
    if (this.error !== undefined) throw this.error;
    return this.written;
  }

  private async writeAll(buffers: Buffer[]): Promise<void> {
    for (let i = 0; i < buffers.length; i += 512) {
      let batch = buffers.slice(i, i + 512);
      let left = batch.reduce((n, b) => n + b.length, 0);
      while (left > 0) {
        const { bytesWritten } = await this.handle.writev(batch);
        this.written += bytesWritten;
        left -= bytesWritten;
        if (left > 0) batch = [Buffer.concat(batch).subarray(bytesWritten)];
      }
    }
  }
}

interface PendingSample extends Mp4Sample {
  data: Buffer[];
}

interface TrackState {
  track: Mp4Track;
  /** Samples whose duration is known, waiting for the next fragment. */
  ready: PendingSample[];
  /** The newest sample: its duration is known when the next one comes. */
  open: PendingSample | undefined;
}

/**
 * Writes one fragmented MP4 recording: the init segment at once, then a fragment (one traf per track) at the
 * first frame `flushInterval` ms after the previous fragment began. Sample times are in track units from the
 * file's first frame; a track's newest sample waits for the next (its duration) and goes into the next fragment.
 */
class Mp4FileWriter implements RecordFileWriter {
  private readonly states = new Map<string, TrackState>();
  private baseMs: number | undefined;
  private fragmentStartMs: number | undefined;
  private sequence = 0;

  constructor(
    private readonly file: AppendFile,
    tracks: Mp4Track[],
    private readonly flushInterval: number,
  ) {
    for (const track of tracks) this.states.set(track.config.kind, { track, ready: [], open: undefined });
    this.file.write([buildInitSegment(tracks)]);
  }

  backlog(): number {
    return this.file.queued;
  }

  frame(frame: AVFrame): void {
    const state = this.states.get(frame.kind);
    if (!state) return;
    this.baseMs ??= frame.dts;
    this.fragmentStartMs ??= frame.dts;
    if (frame.dts - this.fragmentStartMs >= this.flushInterval) {
      this.flush();
      this.fragmentStartMs = frame.dts;
    }
    const ts = state.track.timescale;
    const data = mp4SampleData(frame.codec, frame.data);
    const size = data.reduce((n, b) => n + b.length, 0);
    let dts = Math.max(0, toUnits(frame.dts - this.baseMs, ts));
    const previous = state.open;
    if (previous) {
      if (dts <= previous.dts) dts = previous.dts + 1;
      previous.duration = dts - previous.dts;
      state.ready.push(previous);
    }
    state.open = { dts, duration: nominalDuration(frame.config, size), cts: toUnits(frame.cts, ts), keyFrame: frame.keyFrame, size, data };
  }

  async close(): Promise<ClosedFile> {
    for (const state of this.states.values()) {
      if (!state.open) continue;
      const previous = state.ready[state.ready.length - 1];
      if (previous) state.open.duration = previous.duration;
      state.ready.push(state.open);
      state.open = undefined;
    }
    this.flush();
    return { size: await this.file.close() };
  }

  /** Writes the ready samples of every track as one fragment. */
  private flush(): void {
    const parts = [];
    for (const state of this.states.values()) {
      if (!state.ready.length) continue;
      const samples = state.ready;
      state.ready = [];
      parts.push({ trackId: state.track.id, baseDecodeTime: samples[0].dts, samples, data: samples.flatMap((s) => s.data) });
    }
    if (parts.length) this.file.write(buildFragment(++this.sequence, parts));
  }
}
