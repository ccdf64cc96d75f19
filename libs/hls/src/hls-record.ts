import { createWriteStream, WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { basename, join } from 'node:path';
import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { AVFrame, ConfigService, TrackSet } from '@m7s/core';
import { scanTs } from '@m7s/media';
import { ClosedFile, FinalizedFile, RecordFileWriter, RecordFormat, RecordFormats } from '@m7s/record';
import type { HlsConfig } from './hls.config';
import { HLS_AUDIO_CODECS } from './hls-live';
import { TsPackager, usableTracks } from './hls-packager';
import { HlsSegmenter } from './hls-segmenter';
import { parseMediaPlaylist, renderRecordedPlaylist, VodSegment } from './hls-vod';

const SEGMENT_FILE = /^\d{6,}\.ts$/;

/** `.../2026-11-24T10-00-00.000.m3u8` -> `.../2026-11-24T10-00-00.000` (the directory of its segments). */
export function hlsSegmentDir(playlistPath: string): string {
  return playlistPath.replace(/\.m3u8$/, '');
}

function segmentFileName(msn: number): string {
  return `${String(msn + 1).padStart(6, '0')}.ts`;
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/**
 * Writes a recording as TS segments in a directory beside the playlist, cut like live HLS (at the first key
 * frame after the segment duration), and rewrites the playlist (EVENT) after each segment.
 */
export class HlsFileWriter implements RecordFileWriter {
  private readonly segmenter: HlsSegmenter<AVFrame>;
  private readonly dirName: string;
  private readonly entries: VodSegment[] = [];
  private out: { msn: number; stream: WriteStream; parts: number } | undefined;
  private nextMsn = 0;
  private bytes = 0;
  private playlistWrite: Promise<void> = Promise.resolve();
  private error: Error | undefined;

  constructor(
    private readonly playlistPath: string,
    private readonly dir: string,
    tracks: TrackSet,
    segmentDuration: number,
  ) {
    this.dirName = basename(dir);
    const configs = usableTracks('ts', { video: tracks.video?.config, audio: tracks.audio?.config });
    if (!configs.video && !configs.audio) throw new Error(`HLS recording: no track fits MPEG-TS (${[tracks.video?.codec, tracks.audio?.codec].filter(Boolean).join(', ')})`);
    this.segmenter = new HlsSegmenter<AVFrame>({ segmentDuration, partDuration: segmentDuration, windowSize: 1, extraSegments: 0 });
    this.segmenter.begin(new TsPackager(configs), configs.video !== undefined, 1);
  }

  backlog(): number {
    return this.out?.stream.writableLength ?? 0;
  }

  frame(frame: AVFrame): void {
    if (this.error) return;
    if (this.segmenter.push(frame, Date.now()) > 0) this.drain();
  }

  async close(): Promise<ClosedFile> {
    this.segmenter.flush();
    this.drain();
    if (this.out) await this.endSegment();
    await this.playlistWrite;
    if (this.error) throw this.error;
    const text = renderRecordedPlaylist(this.entries, false);
    await writeAtomic(this.playlistPath, text);
    return { size: this.bytes + Buffer.byteLength(text) };
  }

  /** Writes the parts made since the last call; a completed segment closes its file and is added to the playlist. */
  private drain(): void {
    for (const segment of this.segmenter.segments) {
      if (segment.msn < this.nextMsn) continue;
      if (!this.out) {
        const stream = createWriteStream(join(this.dir, segmentFileName(segment.msn)));
        stream.on('error', (error) => (this.error ??= error));
        this.out = { msn: segment.msn, stream, parts: 0 };
      }
      const out = this.out;
      for (; out.parts < segment.parts.length; out.parts++) {
        const data = segment.parts[out.parts].data;
        this.bytes += data.length;
        out.stream.write(data);
      }
      if (!segment.complete) return;
      this.entries.push({ uri: `${this.dirName}/${segmentFileName(segment.msn)}`, duration: segment.duration, programDateTime: segment.programDateTime });
      const ended = this.endSegment();
      this.nextMsn = segment.msn + 1;
      // The playlist names a segment once its file is complete.
      const text = renderRecordedPlaylist(this.entries, false);
      this.playlistWrite = this.playlistWrite
        .then(() => ended)
        .then(() => writeAtomic(this.playlistPath, text))
        .catch((error: Error) => void (this.error ??= error));
    }
  }

  private async endSegment(): Promise<void> {
    const stream = this.out?.stream;
    this.out = undefined;
    if (!stream) return;
    stream.end();
    if (!stream.closed) await once(stream, 'close').catch(() => undefined);
  }
}

/**
 * The `hls` recording format: `{name}.m3u8` plus `{name}/000001.ts`, `{name}/000002.ts`... Segment length is
 * hls.segmentDuration. finalize/recover rebuild the playlist from the segment files when it lacks some
 * (a crash), then write it as VOD with EXT-X-ENDLIST. Registers itself into RecordFormats at init.
 */
@Injectable()
export class HlsRecordFormat implements RecordFormat, OnModuleInit {
  readonly format = 'hls' as const;
  readonly extension = 'm3u8';
  readonly audioCodecs = HLS_AUDIO_CODECS;

  constructor(
    private readonly config: ConfigService,
    @Optional() private readonly formats?: RecordFormats,
  ) {}

  onModuleInit(): void {
    this.formats?.register(this);
  }

  acceptsConfigChange(): boolean {
    return false; // a new file (and PMT) for new codecs
  }

  async open(filePath: string, tracks: TrackSet): Promise<RecordFileWriter> {
    const dir = hlsSegmentDir(filePath);
    await mkdir(dir, { recursive: true });
    const writer = new HlsFileWriter(filePath, dir, tracks, this.config.section<HlsConfig>('hls').segmentDuration);
    await writeAtomic(filePath, renderRecordedPlaylist([], false));
    return writer;
  }

  async finalize(filePath: string): Promise<FinalizedFile> {
    return this.rebuild(filePath);
  }

  async recover(filePath: string): Promise<FinalizedFile | undefined> {
    const result = await this.rebuild(filePath);
    return result.segments > 0 ? result : undefined;
  }

  async remove(filePath: string): Promise<void> {
    await rm(filePath, { force: true });
    await rm(hlsSegmentDir(filePath), { recursive: true, force: true });
  }

  /** The VOD playlist of the segment files on disk: listed ones as listed, others (a crash) timed from their PTS. */
  private async rebuild(filePath: string): Promise<FinalizedFile & { segments: number }> {
    const dir = hlsSegmentDir(filePath);
    const dirName = basename(dir);
    const listed = new Map<string, VodSegment>();
    const text = await readFile(filePath, 'utf8').catch(() => '');
    for (const s of parseMediaPlaylist(text).segments) listed.set(basename(s.uri), s);
    const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => SEGMENT_FILE.test(f)).sort();
    const entries: VodSegment[] = [];
    let size = 0;
    let previous: VodSegment | undefined;
    for (const name of files) {
      const path = join(dir, name);
      let entry = listed.get(name);
      if (!entry) {
        const data = await readFile(path);
        const scan = scanTs(data);
        if (scan.pesCount === 0 || scan.firstPts === undefined || scan.lastPts === undefined) {
          await rm(path, { force: true });
          continue;
        }
        if (scan.validEnd < data.length) await truncate(path, scan.validEnd);
        const span = (scan.lastPts - scan.firstPts) / 90;
        const duration = span + (scan.pesCount > 1 ? span / (scan.pesCount - 1) : 0);
        const pdt = previous?.programDateTime !== undefined ? previous.programDateTime + previous.duration : (await stat(path)).mtimeMs - duration;
        entry = { uri: `${dirName}/${name}`, duration, programDateTime: pdt };
      }
      size += (await stat(path)).size;
      entries.push(entry);
      previous = entry;
    }
    const playlist = renderRecordedPlaylist(entries, true);
    await writeAtomic(filePath, playlist);
    return { size: size + Buffer.byteLength(playlist), duration: entries.reduce((t, e) => t + e.duration, 0), segments: entries.length };
  }
}
