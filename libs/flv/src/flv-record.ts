import { createReadStream, createWriteStream, WriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { AVFrame, Track, TrackSet } from '@m7s/core';
import { Amf0EcmaArray, Amf0Value, buildFlvHeader, encodeAmf0, FlvTagReader, flvTagHeader, isMediaError, parseScriptData, previousTagSize } from '@m7s/media';
import type { ClosedFile, FinalizedFile, RecordFileWriter, RecordFormat } from '@m7s/record';
import { FLV_AUDIO_CODECS } from './flv-sink';
import { FLV_AUDIO, FLV_SCRIPT, FLV_VIDEO, frameTagBody, metadataBody, trackConfigBody } from './flv-tags';

/** FLV file header and PreviousTagSize0. */
const FILE_HEADER_SIZE = 13;
/** Tag header + PreviousTagSize around a body. */
const TAG_OVERHEAD = 15;

/**
 * Appends FLV tags to a file: header, onMetaData, sequence headers, then each frame's tag body (built once per
 * frame and shared with every FLV/RTMP player) behind a header stamped with the time since the file's first
 * frame. Writes are queued on a write stream; backlog() is what it has not flushed yet.
 */
export class FlvFileWriter implements RecordFileWriter {
  private base: number | undefined;
  private lastTs = 0;
  private error: Error | undefined;

  constructor(
    private readonly out: WriteStream,
    tracks: TrackSet,
  ) {
    out.on('error', (error) => (this.error ??= error));
    this.write(buildFlvHeader(tracks.audio !== undefined, tracks.video !== undefined));
    this.tag(FLV_SCRIPT, 0, metadataBody(tracks));
    if (tracks.video) this.track(tracks.video);
    if (tracks.audio) this.track(tracks.audio);
  }

  backlog(): number {
    return this.out.writableLength;
  }

  frame(frame: AVFrame): void {
    if (this.error) return;
    this.base ??= frame.dts;
    const ts = Math.max(0, Math.round(frame.dts - this.base));
    if (ts > this.lastTs) this.lastTs = ts;
    this.tag(frame.kind === 'video' ? FLV_VIDEO : FLV_AUDIO, ts, frameTagBody(frame));
  }

  /** A new sequence header (config change mid-file), stamped with the current time. */
  track(track: Track): void {
    const body = trackConfigBody(track);
    if (body) this.tag(track.kind === 'video' ? FLV_VIDEO : FLV_AUDIO, this.lastTs, body);
  }

  async close(): Promise<ClosedFile> {
    if (!this.out.writableEnded) this.out.end();
    if (!this.out.closed) await once(this.out, 'close').catch(() => undefined);
    if (this.error) throw this.error;
    return { size: this.out.bytesWritten };
  }

  private tag(type: number, ts: number, body: Buffer): void {
    this.out.cork();
    this.write(flvTagHeader(type, ts, body.length));
    this.write(body);
    this.write(previousTagSize(11 + body.length));
    this.out.uncork();
  }

  private write(data: Buffer): void {
    if (!this.error && !this.out.writableEnded) this.out.write(data);
  }
}

/** A media tag of a scanned file. */
interface ScannedTag {
  type: number;
  timestamp: number;
  /** Offset of its tag header in the file. */
  offset: number;
  bodySize: number;
  /** A video key frame (not a sequence header). */
  keyFrame: boolean;
}

/** What scanFlv found. */
export interface FlvScan {
  header: Buffer;
  /** The first onMetaData, decoded. */
  metadata: Record<string, Amf0Value>;
  /** Audio and video tags that are whole (PreviousTagSize included), in file order. */
  tags: ScannedTag[];
  /** The file had bytes after the last whole tag (a torn tail) or could not be parsed past some point. */
  torn: boolean;
}

/** Whether a video tag body is a coded key frame (legacy and Enhanced RTMP), not a sequence header or end. */
export function isKeyFrameBody(body: Buffer): boolean {
  if (body.length < 2 || ((body[0] >> 4) & 7) !== 1) return false;
  if (body[0] & 0x80) {
    const packetType = body[0] & 0x0f;
    return packetType === 1 || packetType === 3; // CodedFrames, CodedFramesX
  }
  return (body[0] & 0x0f) !== 7 || body[1] === 1; // AVC/HEVC(12): NALU packets only
}

/** Reads the tags of an FLV file up to its end or its first torn / malformed byte. */
export async function scanFlv(filePath: string): Promise<FlvScan> {
  const reader = new FlvTagReader({ strictPreviousTagSize: true, maxTagSize: 64 * 1024 * 1024 });
  const { size } = await stat(filePath);
  let header = Buffer.alloc(0);
  let metadata: Record<string, Amf0Value> | undefined;
  const tags: ScannedTag[] = [];
  let offset = FILE_HEADER_SIZE;
  let torn = false;
  try {
    for await (const chunk of createReadStream(filePath)) {
      const buffer = chunk as Buffer;
      if (header.length < FILE_HEADER_SIZE) header = Buffer.concat([header, buffer.subarray(0, FILE_HEADER_SIZE - header.length)]);
      for (const tag of reader.push(buffer)) {
        const tagOffset = offset;
        offset += TAG_OVERHEAD + tag.body.length;
        if (offset > size) break;
        if (tag.type === FLV_SCRIPT) {
          if (!metadata) {
            try {
              const script = parseScriptData(tag.body);
              if (script.name === 'onMetaData' && script.value && typeof script.value === 'object') metadata = { ...(script.value as Record<string, Amf0Value>) };
            } catch {
              // a broken script tag is left out
            }
          }
          continue;
        }
        tags.push({ type: tag.type, timestamp: tag.timestamp, offset: tagOffset, bodySize: tag.body.length, keyFrame: tag.type === FLV_VIDEO && isKeyFrameBody(tag.body) });
      }
    }
  } catch (error) {
    if (!isMediaError(error)) throw error;
    torn = true;
  }
  if (header.length >= 9 && header.readUInt32BE(5) !== 9) throw new Error(`${filePath}: FLV data offset ${header.readUInt32BE(5)} not supported`);
  return { header, metadata: metadata ?? {}, tags, torn: torn || offset !== size };
}

/** ms of media: first to last tag time plus the last video (else audio) frame interval. */
export function flvDuration(tags: readonly { type: number; timestamp: number }[]): number {
  if (!tags.length) return 0;
  let first = Infinity;
  let last = 0;
  for (const t of tags) {
    first = Math.min(first, t.timestamp);
    last = Math.max(last, t.timestamp);
  }
  const kind = tags.some((t) => t.type === FLV_VIDEO) ? FLV_VIDEO : FLV_AUDIO;
  const times = tags.filter((t) => t.type === kind).map((t) => t.timestamp);
  const interval = times.length > 1 ? Math.max(0, times[times.length - 1] - times[times.length - 2]) : 0;
  return last - first + interval;
}

/** The onMetaData script tag (whole, with PreviousTagSize) of a finalized file. */
function metadataTag(base: Record<string, Amf0Value>, fields: Record<string, Amf0Value>): Buffer {
  const body = encodeAmf0('onMetaData', new Amf0EcmaArray({ ...base, ...fields }));
  return Buffer.concat([flvTagHeader(FLV_SCRIPT, 0, body.length), body, previousTagSize(11 + body.length)]);
}

/** Byte ranges [start, end) of the file holding the media tags, adjacent tags merged. */
function mediaRanges(tags: readonly ScannedTag[]): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  for (const tag of tags) {
    const end = tag.offset + TAG_OVERHEAD + tag.bodySize;
    const lastRange = ranges.at(-1);
    if (lastRange && lastRange.end === tag.offset) lastRange.end = end;
    else ranges.push({ start: tag.offset, end });
  }
  return ranges;
}

/**
 * Rewrites an FLV file with onMetaData carrying duration, filesize and the keyframe index ({filepositions,
 * times}), keeping only whole media tags (a torn tail is dropped). Written beside the file, then renamed over it.
 * Undefined when no media tag is in the file.
 */
export async function finalizeFlv(filePath: string): Promise<FinalizedFile | undefined> {
  const scan = await scanFlv(filePath);
  if (!scan.tags.length) return undefined;
  const duration = flvDuration(scan.tags);
  const ranges = mediaRanges(scan.tags);
  const mediaBytes = ranges.reduce((n, r) => n + r.end - r.start, 0);
  const keyTags = scan.tags.filter((t) => t.keyFrame);
  const firstTs = Math.min(...scan.tags.map((t) => t.timestamp));
  const lastTs = Math.max(...scan.tags.map((t) => t.timestamp));
  // AMF0 numbers are 8 bytes whatever their value: the tag's size does not depend on the positions in it.
  const fields = (metaSize: number): Record<string, Amf0Value> => {
    const positions = new Map<number, number>();
    let at = FILE_HEADER_SIZE + metaSize;
    for (const range of ranges) {
      for (const tag of scan.tags) if (tag.keyFrame && tag.offset >= range.start && tag.offset < range.end) positions.set(tag.offset, at + tag.offset - range.start);
      at += range.end - range.start;
    }
    return {
      duration: duration / 1000,
      filesize: FILE_HEADER_SIZE + metaSize + mediaBytes,
      lasttimestamp: (lastTs - firstTs) / 1000,
      lastkeyframetimestamp: keyTags.length ? keyTags[keyTags.length - 1].timestamp / 1000 : 0,
      keyframes: { filepositions: keyTags.map((t) => positions.get(t.offset)!), times: keyTags.map((t) => t.timestamp / 1000) },
    };
  };
  const metaSize = metadataTag(scan.metadata, fields(0)).length;
  const meta = metadataTag(scan.metadata, fields(metaSize));
  const header = scan.header.length === FILE_HEADER_SIZE ? scan.header : buildFlvHeader(true, true);

  const temp = `${filePath}.finalize.tmp`;
  const out = createWriteStream(temp);
  try {
    out.write(header);
    out.write(meta);
    for (const range of ranges) await pipeline(createReadStream(filePath, { start: range.start, end: range.end - 1 }), out, { end: false });
    out.end();
    await once(out, 'close');
    const handle = await open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, filePath);
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    throw error;
  }
  return { size: FILE_HEADER_SIZE + meta.length + mediaBytes, duration };
}

/** The FLV recording format: registered into RecordFormats by FlvModule. */
export class FlvRecordFormat implements RecordFormat {
  readonly format = 'flv' as const;
  readonly extension = 'flv';
  readonly audioCodecs = FLV_AUDIO_CODECS;

  /** FLV carries a new sequence header mid-file. */
  acceptsConfigChange(): boolean {
    return true;
  }

  async open(filePath: string, tracks: TrackSet): Promise<RecordFileWriter> {
    await mkdir(dirname(filePath), { recursive: true });
    const out = createWriteStream(filePath, { flags: 'wx' });
    await once(out, 'open');
    return new FlvFileWriter(out, tracks);
  }

  async finalize(filePath: string): Promise<FinalizedFile> {
    const result = await finalizeFlv(filePath);
    if (!result) throw new Error(`${filePath}: no audio or video in the file`);
    return result;
  }

  recover(filePath: string): Promise<FinalizedFile | undefined> {
    return finalizeFlv(filePath);
  }

  async remove(filePath: string): Promise<void> {
    await rm(filePath, { force: true });
    await rm(`${filePath}.finalize.tmp`, { force: true });
  }
}
