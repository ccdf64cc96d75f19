import { MediaError } from '../media.errors';
import { boxHeader, fullBox } from './mp4-box';
import { buildMoov, ftyp, MOVIE_TIMESCALE, TrakSpec } from './mp4-moov';
import { Mp4IndexedSample, Mp4Span, Mp4Track } from './mp4.types';

/**
 * A progressive MP4 (ftyp, moov, mdat) made of samples that stay in their source files: the layout is
 * the head it built (ftyp + moov + mdat header) and the source ranges of the sample data, in order.
 * Samples are interleaved in chunks of about `chunkSeconds` so a player can stream the file; a track
 * that starts later than the others gets an empty edit, a track whose first sample is presented after
 * its decode time (B-frames) a media start time, so tracks keep their sync. The timeline starts with the
 * first track; samples presented before time 0 (audio priming) are kept but skipped by the edit list.
 */

export type Mp4LayoutSample = Mp4IndexedSample & { source: number };

export interface Mp4LayoutTrack {
  track: Mp4Track;
  /** samples in decode order; `source` says which file `offset` is in */
  samples: readonly Mp4LayoutSample[];
}

export interface Mp4LayoutOptions {
  /** target duration of an interleaving chunk (default 0.5 s) */
  chunkSeconds?: number;
}

interface Chunk {
  track: number;
  /** decode time of the first sample, in seconds */
  time: number;
  first: number;
  count: number;
}

interface TrackPlan {
  input: Mp4LayoutTrack;
  durations: number[];
  mediaDuration: number;
  mediaTime: number;
  /** presentation start in seconds on the sources' clock */
  start: number;
  chunks: Chunk[];
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new MediaError('BAD_ARGUMENT', what);
}

function plan(input: Mp4LayoutTrack, index: number, chunkSeconds: number): TrackPlan {
  const { samples, track } = input;
  const n = samples.length;
  const durations = new Array<number>(n);
  let minPts = Infinity;
  for (let i = 0; i < n; i++) {
    const s = samples[i];
    check(Number.isInteger(s.dts) && Number.isInteger(s.cts) && Number.isInteger(s.size) && s.size >= 0, `track ${track.id}: sample ${i}`);
    check(Number.isInteger(s.offset) && s.offset >= 0 && Number.isInteger(s.source) && s.source >= 0, `track ${track.id}: sample ${i} offset`);
    if (i + 1 < n) {
      durations[i] = samples[i + 1].dts - s.dts;
      check(durations[i] >= 0, `track ${track.id}: decode times go back at sample ${i + 1}`);
    } else {
      durations[i] = s.duration > 0 ? s.duration : n > 1 ? durations[i - 1] : 0;
    }
    minPts = Math.min(minPts, s.dts + s.cts);
  }
  const d0 = samples[0].dts;
  const mediaTime = Math.max(0, minPts - d0);
  const ts = track.timescale;
  const chunks: Chunk[] = [];
  let chunk: Chunk | undefined;
  for (let i = 0; i < n; i++) {
    const t = samples[i].dts / ts;
    if (!chunk || t - chunk.time >= chunkSeconds) {
      chunk = { track: index, time: t, first: i, count: 0 };
      chunks.push(chunk);
    }
    chunk.count++;
  }
  const mediaDuration = samples[n - 1].dts - d0 + durations[n - 1];
  return { input, durations, mediaDuration, mediaTime, start: (d0 + mediaTime) / ts, chunks };
}

/** Run-length entries [count, value] of a sequence. */
function runs(values: ArrayLike<number>): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < values.length; i++) {
    const last = out[out.length - 1];
    if (last && last[1] === values[i]) last[0]++;
    else out.push([1, values[i]]);
  }
  return out;
}

function pairsBox(type: string, version: number, entries: [number, number][], signed: boolean): Buffer {
  const b = Buffer.alloc(4 + 8 * entries.length);
  b.writeUInt32BE(entries.length, 0);
  entries.forEach(([count, value], i) => {
    b.writeUInt32BE(count, 4 + 8 * i);
    if (signed) b.writeInt32BE(value, 8 + 8 * i);
    else b.writeUInt32BE(value, 8 + 8 * i);
  });
  return fullBox(type, version, 0, b);
}

function sampleTables(p: TrackPlan, chunkOffsets: number[], co64: boolean): Buffer[] {
  const samples = p.input.samples;
  const n = samples.length;
  for (const d of p.durations) check(d <= 0xffffffff, `track ${p.input.track.id}: sample duration ${d}`);
  const tables: Buffer[] = [pairsBox('stts', 0, runs(p.durations), false)];
  const cts = samples.map((s) => s.cts);
  if (cts.some((c) => c !== 0)) {
    const negative = cts.some((c) => c < 0);
    for (const c of cts) check(c >= -0x80000000 && c <= (negative ? 0x7fffffff : 0xffffffff), `composition offset ${c}`);
    tables.push(pairsBox('ctts', negative ? 1 : 0, runs(cts), negative));
  }
  if (p.input.track.config.kind === 'video' && samples.some((s) => !s.keyFrame)) {
    const keys: number[] = [];
    samples.forEach((s, i) => s.keyFrame && keys.push(i + 1));
    const b = Buffer.alloc(4 + 4 * keys.length);
    b.writeUInt32BE(keys.length, 0);
    keys.forEach((k, i) => b.writeUInt32BE(k, 4 + 4 * i));
    tables.push(fullBox('stss', 0, 0, b));
  }
  // stsc: first chunk (1-based), samples per chunk, sample description 1, when the count changes
  const stsc: number[] = [];
  p.chunks.forEach((c, i) => {
    if (stsc.length === 0 || stsc[stsc.length - 2] !== c.count) stsc.push(i + 1, c.count, 1);
  });
  const stscBuf = Buffer.alloc(4 + 4 * stsc.length);
  stscBuf.writeUInt32BE(stsc.length / 3, 0);
  stsc.forEach((v, i) => stscBuf.writeUInt32BE(v, 4 + 4 * i));
  tables.push(fullBox('stsc', 0, 0, stscBuf));
  const stsz = Buffer.alloc(8 + 4 * n);
  stsz.writeUInt32BE(n, 4);
  samples.forEach((s, i) => {
    check(s.size <= 0xffffffff, `sample size ${s.size}`);
    stsz.writeUInt32BE(s.size, 8 + 4 * i);
  });
  tables.push(fullBox('stsz', 0, 0, stsz));
  const co = Buffer.alloc(4 + (co64 ? 8 : 4) * chunkOffsets.length);
  co.writeUInt32BE(chunkOffsets.length, 0);
  chunkOffsets.forEach((o, i) => (co64 ? co.writeBigUInt64BE(BigInt(o), 4 + 8 * i) : co.writeUInt32BE(o, 4 + 4 * i)));
  tables.push(fullBox(co64 ? 'co64' : 'stco', 0, 0, co));
  return tables;
}

/** A progressive MP4 (ftyp, moov before mdat) made of samples of one or more source files: the file is the spans in order. */
export function layoutProgressiveMp4(tracks: readonly Mp4LayoutTrack[], options: Mp4LayoutOptions = {}): { size: number; spans: Mp4Span[] } {
  const chunkSeconds = options.chunkSeconds ?? 0.5;
  const plans = tracks.filter((t) => t.samples.length > 0).map((t, i) => plan(t, i, chunkSeconds));
  check(plans.length > 0, 'no samples');
  // The timeline starts where the first track starts; what is presented before 0 (audio priming an edit
  // list skipped in the source) stays skipped.
  const t0 = Math.min(...plans.map((p) => Math.max(p.start, 0)));
  for (const p of plans) {
    if (p.start >= t0) continue;
    p.mediaTime += Math.round((t0 - p.start) * p.input.track.timescale);
    p.start = t0;
  }
  // interleave the chunks of all tracks by decode time
  const order = plans.flatMap((p) => p.chunks).sort((a, b) => a.time - b.time || a.track - b.track);
  const relative = plans.map((p) => new Array<number>(p.chunks.length));
  const chunkIndex = plans.map(() => 0);
  let payload = 0;
  for (const c of order) {
    relative[c.track][chunkIndex[c.track]++] = payload;
    const samples = plans[c.track].input.samples;
    for (let i = c.first; i < c.first + c.count; i++) payload += samples[i].size;
  }
  const negativeCts = plans.some((p) => p.input.samples.some((s) => s.cts < 0));
  const head = ftyp('isom', 0x200, negativeCts ? ['isom', 'iso2', 'iso6', 'mp41'] : ['isom', 'iso2', 'mp41']);
  const mdatHeader = boxHeader('mdat', payload);
  const moov = (dataStart: number, co64: boolean) =>
    buildMoov(
      plans.map(
        (p, k): TrakSpec => ({
          track: p.input.track,
          duration: p.mediaDuration,
          tables: sampleTables(
            p,
            relative[k].map((r) => dataStart + r),
            co64,
          ),
          edit: { empty: Math.round((p.start - t0) * MOVIE_TIMESCALE), mediaTime: p.mediaTime },
        }),
      ),
    );
  // The moov size does not depend on the offsets: build it once to learn where the data starts.
  let co64 = false;
  let moovSize = moov(0, co64).length;
  if (head.length + moovSize + mdatHeader.length + payload > 0xffffffff) {
    co64 = true;
    moovSize = moov(0, co64).length;
  }
  const dataStart = head.length + moovSize + mdatHeader.length;
  const spans: Mp4Span[] = [{ data: Buffer.concat([head, moov(dataStart, co64), mdatHeader]) }];
  let last: { source: number; offset: number; length: number } | undefined;
  for (const c of order) {
    const samples = plans[c.track].input.samples;
    for (let i = c.first; i < c.first + c.count; i++) {
      const s = samples[i];
      if (s.size === 0) continue;
      if (last && last.source === s.source && last.offset + last.length === s.offset) {
        last.length += s.size;
      } else {
        last = { source: s.source, offset: s.offset, length: s.size };
        spans.push(last);
      }
    }
  }
  return { size: dataStart + payload, spans };
}
