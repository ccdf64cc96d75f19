import { MediaError } from '../media.errors';
import { box, fullBox, u32 } from './mp4-box';
import { buildStsd, handlerType } from './mp4-sample-entry';
import { Mp4Track } from './mp4.types';

/** The moov box shared by the fragmented writer (empty tables + mvex) and the progressive layout. */

/** Timescale of mvhd/tkhd/elst durations. */
export const MOVIE_TIMESCALE = 1000;

const MATRIX = [0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000];

export interface TrakSpec {
  track: Mp4Track;
  /** media duration in track timescale units (0 when the samples are in fragments) */
  duration: number;
  /** sample table boxes after stsd: stts, ctts, stss, stsc, stsz, stco/co64 */
  tables: readonly Buffer[];
  /** edit list: an empty edit of `empty` (movie timescale), then the media from `mediaTime` (track timescale) */
  edit?: { empty: number; mediaTime: number };
}

function fits32(...values: number[]): boolean {
  return values.every((v) => v <= 0xffffffff);
}

function matrix(): Buffer {
  const b = Buffer.alloc(36);
  MATRIX.forEach((v, i) => b.writeUInt32BE(v, i * 4));
  return b;
}

function mvhd(duration: number, nextTrackId: number): Buffer {
  const v = fits32(duration) ? 0 : 1;
  const head = Buffer.alloc(v === 1 ? 28 : 16);
  if (v === 1) {
    head.writeUInt32BE(MOVIE_TIMESCALE, 16);
    head.writeBigUInt64BE(BigInt(duration), 20);
  } else {
    head.writeUInt32BE(MOVIE_TIMESCALE, 8);
    head.writeUInt32BE(duration, 12);
  }
  const rest = Buffer.alloc(80);
  rest.writeUInt32BE(0x00010000, 0); // rate 1.0
  rest.writeUInt16BE(0x0100, 4); // volume 1.0
  matrix().copy(rest, 16);
  rest.writeUInt32BE(nextTrackId, 76);
  return fullBox('mvhd', v, 0, head, rest);
}

function tkhd(t: Mp4Track, duration: number): Buffer {
  const v = fits32(duration) ? 0 : 1;
  const head = Buffer.alloc(v === 1 ? 32 : 20);
  if (v === 1) {
    head.writeUInt32BE(t.id, 16);
    head.writeBigUInt64BE(BigInt(duration), 24);
  } else {
    head.writeUInt32BE(t.id, 8);
    head.writeUInt32BE(duration, 16);
  }
  const rest = Buffer.alloc(60);
  if (t.config.kind === 'audio') rest.writeUInt16BE(0x0100, 12); // volume
  matrix().copy(rest, 16);
  if (t.config.kind === 'video') {
    rest.writeUInt32BE(t.config.width * 65536, 52);
    rest.writeUInt32BE(t.config.height * 65536, 56);
  }
  return fullBox('tkhd', v, 3, head, rest); // enabled | in movie
}

function mdhd(t: Mp4Track, duration: number): Buffer {
  const v = fits32(duration) ? 0 : 1;
  const head = Buffer.alloc(v === 1 ? 32 : 20);
  if (v === 1) {
    head.writeUInt32BE(t.timescale, 16);
    head.writeBigUInt64BE(BigInt(duration), 20);
    head.writeUInt16BE(0x55c4, 28); // 'und'
  } else {
    head.writeUInt32BE(t.timescale, 8);
    head.writeUInt32BE(duration, 12);
    head.writeUInt16BE(0x55c4, 16);
  }
  return fullBox('mdhd', v, 0, head);
}

function hdlr(t: Mp4Track): Buffer {
  const name = t.config.kind === 'video' ? 'VideoHandler' : 'SoundHandler';
  const b = Buffer.alloc(20 + name.length + 1);
  b.write(handlerType(t.config), 4, 'latin1');
  b.write(name, 20, 'latin1');
  return fullBox('hdlr', 0, 0, b);
}

function elst(edit: { empty: number; mediaTime: number }, mediaDuration: number): Buffer {
  const entries: [number, number][] = [];
  if (edit.empty > 0) entries.push([edit.empty, -1]);
  entries.push([mediaDuration, edit.mediaTime]);
  const v = entries.every(([d, m]) => fits32(d) && m <= 0x7fffffff) ? 0 : 1;
  const size = v === 1 ? 20 : 12;
  const b = Buffer.alloc(4 + entries.length * size);
  b.writeUInt32BE(entries.length, 0);
  entries.forEach(([d, m], i) => {
    const o = 4 + i * size;
    if (v === 1) {
      b.writeBigUInt64BE(BigInt(d), o);
      b.writeBigInt64BE(BigInt(m), o + 8);
      b.writeUInt16BE(1, o + 16);
    } else {
      b.writeUInt32BE(d, o);
      b.writeInt32BE(m, o + 4);
      b.writeUInt16BE(1, o + 8);
    }
  });
  return box('edts', fullBox('elst', v, 0, b));
}

/** Converts a duration between timescales (rounded). */
export function rescale(value: number, from: number, to: number): number {
  return Math.round((value * to) / from);
}

function checkTrack(t: Mp4Track): void {
  if (!(Number.isInteger(t.id) && t.id >= 1 && t.id <= 0xffffffff)) throw new MediaError('BAD_ARGUMENT', `track id ${t.id}`);
  if (!(Number.isInteger(t.timescale) && t.timescale >= 1 && t.timescale <= 0xffffffff)) {
    throw new MediaError('BAD_ARGUMENT', `timescale ${t.timescale}`);
  }
}

/** The duration of a trak in movie timescale (empty edit + media). */
function trakMovieDuration(spec: TrakSpec): number {
  const media = rescale(spec.duration - (spec.edit?.mediaTime ?? 0), spec.track.timescale, MOVIE_TIMESCALE);
  return Math.max(0, media) + (spec.edit?.empty ?? 0);
}

function trak(spec: TrakSpec): Buffer {
  const t = spec.track;
  checkTrack(t);
  const media = Math.max(0, rescale(spec.duration - (spec.edit?.mediaTime ?? 0), t.timescale, MOVIE_TIMESCALE));
  const mediaHeader =
    t.config.kind === 'video' ? fullBox('vmhd', 0, 1, Buffer.alloc(8)) : fullBox('smhd', 0, 0, Buffer.alloc(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  const stbl = box('stbl', buildStsd(t.config, t.id), ...spec.tables);
  return box(
    'trak',
    tkhd(t, trakMovieDuration(spec)),
    ...(spec.edit ? [elst(spec.edit, media)] : []),
    box('mdia', mdhd(t, spec.duration), hdlr(t), box('minf', mediaHeader, dinf, stbl)),
  );
}

/** moov: mvhd, one trak per spec, then `extra` boxes (mvex for fragmented files). */
export function buildMoov(traks: readonly TrakSpec[], extra: readonly Buffer[] = []): Buffer {
  if (traks.length === 0) throw new MediaError('BAD_ARGUMENT', 'no tracks');
  const ids = new Set(traks.map((s) => s.track.id));
  if (ids.size !== traks.length) throw new MediaError('BAD_ARGUMENT', 'duplicate track ids');
  const duration = Math.max(...traks.map(trakMovieDuration));
  const nextId = Math.max(...ids) + 1;
  return box('moov', mvhd(duration, nextId), ...traks.map(trak), ...extra);
}

/** ftyp with a major brand and compatible brands. */
export function ftyp(major: string, minor: number, compatible: readonly string[]): Buffer {
  return box('ftyp', Buffer.from(major, 'latin1'), u32(minor), ...compatible.map((c) => Buffer.from(c, 'latin1')));
}

