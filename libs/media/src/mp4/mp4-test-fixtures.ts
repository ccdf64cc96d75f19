/**
 * Spec helpers for the MP4 specs (not exported from the lib): media generated with ffmpeg into a temp dir
 * and cut into samples, and an fMP4 file writer on top of buildInitSegment/buildFragment.
 */
import { ffmpegPath, ffprobePath } from '@m7s/test-kit/tools';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitAnnexB } from '../annexb';
import { adtsToAudioSpecificConfig, aacConfig, parseAdtsHeader, splitAdts } from '../codecs/aac';
import { av1Config, Av1ObuType, buildAv1C, isAv1KeyFrame, splitObus } from '../codecs/av1';
import { g711Config } from '../codecs/g711';
import { h264Config, H264NalType, h264NalType, isH264KeyFrame } from '../codecs/h264';
import { h265Config, H265NalType, h265NalType, isH265KeyFrame } from '../codecs/h265';
import { opusConfig, opusPacketSamples } from '../codecs/opus';
import { buildVpcC, isVp9KeyFrame, vp9Config, vp9FrameSize, vpcCOptionsFromFrame } from '../codecs/vp9';
import { buildFragment, buildInitSegment, mp4SampleData } from './fmp4-writer';
import { ByteSource, Mp4Sample, Mp4Track } from './mp4.types';

export interface TestFrame {
  /** track timescale units */
  dts: number;
  duration: number;
  cts: number;
  keyFrame: boolean;
  /** canonical frame data (NAL units for H.264/H.265) */
  data: Buffer[];
}

export interface TestTrack {
  track: Mp4Track;
  frames: TestFrame[];
}

export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), 'm7s-mp4-'));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export function ffmpeg(args: string[]): void {
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.stderr}`);
}

/** What `ffmpeg -v error -i file -f null -` prints (empty when the file decodes cleanly). */
export function decodeErrors(file: string): string {
  const r = spawnSync(ffmpegPath(), ['-hide_banner', '-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8', timeout: 60_000 });
  return `${r.stderr}${r.status === 0 ? '' : `exit ${r.status}`}`;
}

export interface Probe {
  format: { duration: string; format_name: string };
  streams: { codec_name: string; codec_type: string; duration?: string; start_time?: string; nb_frames?: string; width?: number; sample_rate?: string }[];
}

/** ffprobe's view of a file; also fails when ffprobe prints an error. */
export function probe(file: string): Probe {
  const r = spawnSync(ffprobePath(), ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', file], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0 || r.stderr) throw new Error(`ffprobe ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Probe;
}

const lavfiVideo = (seconds: number, fps: number) => ['-f', 'lavfi', '-i', `testsrc2=size=160x120:rate=${fps}`, '-t', String(seconds)];
const lavfiAudio = (seconds: number, rate: number) => ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${rate}`, '-t', String(seconds)];

/** Groups NAL units into access units at access unit delimiters (dropped). */
function accessUnits(nals: Buffer[], isAud: (n: Buffer) => boolean): Buffer[][] {
  const units: Buffer[][] = [];
  for (const n of nals) {
    if (isAud(n)) units.push([]);
    else if (units.length > 0) units[units.length - 1].push(n);
  }
  return units.filter((u) => u.length > 0);
}

function videoFrames(units: Buffer[][] | Buffer[], fps: number, isKey: (u: any) => boolean, toData: (u: any) => Buffer[]): TestFrame[] {
  const d = 90000 / fps;
  return units.map((u, i) => ({ dts: Math.round(i * d), duration: Math.round((i + 1) * d) - Math.round(i * d), cts: 0, keyFrame: isKey(u), data: toData(u) }));
}

export function h264Track(dir: string, seconds = 2, fps = 25, id = 1): TestTrack {
  const file = join(dir, 'v.h264');
  ffmpeg([...lavfiVideo(seconds, fps), '-c:v', 'libx264', '-preset', 'ultrafast', '-bf', '0', '-g', String(fps), '-pix_fmt', 'yuv420p', '-x264-params', 'aud=1', '-f', 'h264', file]);
  const nals = splitAnnexB(readFileSync(file));
  const sps = nals.filter((n) => h264NalType(n) === H264NalType.SPS).slice(0, 1);
  const pps = nals.filter((n) => h264NalType(n) === H264NalType.PPS).slice(0, 1);
  const aus = accessUnits(nals, (n) => h264NalType(n) === H264NalType.AUD);
  return { track: { id, config: h264Config(sps, pps), timescale: 90000 }, frames: videoFrames(aus, fps, isH264KeyFrame, (u) => u) };
}

export function h265Track(dir: string, seconds = 2, fps = 25, id = 1): TestTrack {
  const file = join(dir, 'v.h265');
  ffmpeg([
    ...lavfiVideo(seconds, fps), '-c:v', 'libx265', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    '-x265-params', `aud=1:keyint=${fps}:min-keyint=${fps}:scenecut=0:bframes=0:log-level=error`, '-f', 'hevc', file,
  ]);
  const nals = splitAnnexB(readFileSync(file));
  const first = (t: number) => nals.filter((n) => h265NalType(n) === t).slice(0, 1);
  const config = h265Config(first(H265NalType.VPS), first(H265NalType.SPS), first(H265NalType.PPS));
  const aus = accessUnits(nals, (n) => h265NalType(n) === H265NalType.AUD);
  return { track: { id, config, timescale: 90000 }, frames: videoFrames(aus, fps, isH265KeyFrame, (u) => u) };
}

function ivfFrames(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = buf.readUInt16LE(6);
  while (off + 12 <= buf.length) {
    const size = buf.readUInt32LE(off);
    out.push(buf.subarray(off + 12, off + 12 + size));
    off += 12 + size;
  }
  return out;
}

export function av1Track(dir: string, seconds = 1, fps = 25, id = 1): TestTrack {
  const file = join(dir, 'v.ivf');
  ffmpeg([...lavfiVideo(seconds, fps), '-c:v', 'libaom-av1', '-cpu-used', '8', '-g', String(fps), '-b:v', '100k', '-pix_fmt', 'yuv420p', '-f', 'ivf', file]);
  const tus = ivfFrames(readFileSync(file)).map((tu) =>
    Buffer.concat(splitObus(tu).filter((o) => o.type !== Av1ObuType.TEMPORAL_DELIMITER).map((o) => o.obu)),
  );
  const config = av1Config(buildAv1C(tus[0]));
  return { track: { id, config, timescale: 90000 }, frames: videoFrames(tus, fps, isAv1KeyFrame, (u) => [u]) };
}

export function vp9Track(dir: string, seconds = 1, fps = 25, id = 1): TestTrack {
  const file = join(dir, 'v.ivf');
  ffmpeg([...lavfiVideo(seconds, fps), '-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-g', String(fps), '-b:v', '100k', '-pix_fmt', 'yuv420p', '-f', 'ivf', file]);
  const frames = ivfFrames(readFileSync(file));
  const size = vp9FrameSize(frames[0]) ?? { width: 0, height: 0 };
  const config = vp9Config(buildVpcC(vpcCOptionsFromFrame(frames[0])), size.width, size.height);
  return { track: { id, config, timescale: 90000 }, frames: videoFrames(frames, fps, isVp9KeyFrame, (u) => [u]) };
}

export function aacTrack(dir: string, seconds = 2, rate = 44100, id = 2): TestTrack {
  const file = join(dir, 'a.aac');
  ffmpeg([...lavfiAudio(seconds, rate), '-c:a', 'aac', '-ac', '2', '-b:a', '64k', '-f', 'adts', file]);
  const buf = readFileSync(file);
  const config = aacConfig(adtsToAudioSpecificConfig(parseAdtsHeader(buf)));
  const frames = splitAdts(buf).map((f, i) => ({ dts: i * 1024, duration: 1024, cts: 0, keyFrame: true, data: [f] }));
  return { track: { id, config, timescale: config.sampleRate }, frames };
}

/** Packets of an Ogg stream (RFC 3533): lacing values joined across pages. */
function oggPackets(buf: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  let off = 0;
  while (off + 27 <= buf.length && buf.toString('latin1', off, off + 4) === 'OggS') {
    const nsegs = buf[off + 26];
    let data = off + 27 + nsegs;
    for (let i = 0; i < nsegs; i++) {
      const lace = buf[off + 27 + i];
      pending.push(buf.subarray(data, data + lace));
      data += lace;
      if (lace < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    off = data;
  }
  return packets;
}

export function opusTrack(dir: string, seconds = 2, id = 2): TestTrack {
  const file = join(dir, 'a.opus');
  ffmpeg([...lavfiAudio(seconds, 48000), '-c:a', 'libopus', '-ac', '2', '-b:a', '64k', '-f', 'ogg', file]);
  const [head, , ...packets] = oggPackets(readFileSync(file));
  let dts = 0;
  const frames = packets.map((p) => {
    const duration = opusPacketSamples(p);
    const f = { dts, duration, cts: 0, keyFrame: true, data: [p] };
    dts += duration;
    return f;
  });
  return { track: { id, config: opusConfig(head), timescale: 48000 }, frames };
}

export function g711Track(dir: string, codec: 'pcma' | 'pcmu', seconds = 2, id = 2): TestTrack {
  const file = join(dir, 'a.g711');
  const fmt = codec === 'pcma' ? 'alaw' : 'mulaw';
  ffmpeg([...lavfiAudio(seconds, 8000), '-c:a', `pcm_${fmt}`, '-ac', '1', '-f', fmt, file]);
  const buf = readFileSync(file);
  const frames: TestFrame[] = [];
  for (let off = 0; off < buf.length; off += 160) {
    const data = buf.subarray(off, Math.min(buf.length, off + 160));
    frames.push({ dts: off, duration: data.length, cts: 0, keyFrame: true, data: [data] });
  }
  return { track: { id, config: g711Config(codec), timescale: 8000 }, frames };
}

/** Sample data + sample of a frame in MP4 form. */
export function toSample(t: TestTrack, f: TestFrame): { sample: Mp4Sample; data: Buffer[] } {
  const data = mp4SampleData(t.track.config.codec, f.data);
  const size = data.reduce((s, b) => s + b.length, 0);
  return { sample: { dts: f.dts, duration: f.duration, cts: f.cts, keyFrame: f.keyFrame, size }, data };
}

/**
 * Writes an fMP4 (init segment + fragments of about `fragmentSeconds`, cut at key frames of the first
 * track) and returns the bytes, the offsets where each fragment ends and the segments (init, fragments).
 */
export function buildFmp4(tracks: TestTrack[], fragmentSeconds = 1): { file: Buffer; fragmentEnds: number[]; segments: Buffer[] } {
  const segments: Buffer[] = [buildInitSegment(tracks.map((t) => t.track))];
  let size = segments[0].length;
  const fragmentEnds: number[] = [];
  const cursors = tracks.map(() => 0);
  const lead = tracks[0];
  let seq = 1;
  for (let end = fragmentSeconds; cursors.some((c, i) => c < tracks[i].frames.length); end += fragmentSeconds) {
    const parts = tracks
      .map((t, i) => {
        const samples: Mp4Sample[] = [];
        const data: Buffer[] = [];
        const baseDecodeTime = t.frames[cursors[i]]?.dts ?? 0;
        while (cursors[i] < t.frames.length) {
          const f = t.frames[cursors[i]];
          const last = end * t.track.timescale;
          if (f.dts >= last && (t !== lead || f.keyFrame)) break;
          const s = toSample(t, f);
          samples.push(s.sample);
          data.push(...s.data);
          cursors[i]++;
        }
        return { trackId: t.track.id, baseDecodeTime, samples, data };
      })
      .filter((p) => p.samples.length > 0);
    if (parts.length === 0) continue;
    const fragment = Buffer.concat(buildFragment(seq++, parts));
    segments.push(fragment);
    size += fragment.length;
    fragmentEnds.push(size);
  }
  return { file: Buffer.concat(segments), fragmentEnds, segments };
}

export function writeFile(dir: string, name: string, data: Buffer): string {
  const file = join(dir, name);
  writeFileSync(file, data);
  return file;
}

/** A ByteSource over a buffer (counts the bytes read). */
export function bufferSource(buf: Buffer): ByteSource & { bytesRead: number } {
  return {
    size: buf.length,
    bytesRead: 0,
    read(offset: number, length: number) {
      this.bytesRead += length;
      return Promise.resolve(buf.subarray(offset, offset + length));
    },
  };
}

export interface ProbedPacket {
  pts: number;
  dts: number;
  size: number;
  pos: number;
  key: boolean;
}

/** ffprobe's packets of one stream (times in the stream time base). */
export function probePackets(file: string, stream: number): ProbedPacket[] {
  const r = spawnSync(ffprobePath(), ['-v', 'error', '-select_streams', String(stream), '-show_entries', 'packet=pts,dts,size,pos,flags', '-of', 'json', file], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`ffprobe ${file}: ${r.stderr}`);
  const packets = (JSON.parse(r.stdout) as { packets: Record<string, string>[] }).packets;
  return packets.map((p) => ({ pts: Number(p.pts), dts: Number(p.dts), size: Number(p.size), pos: Number(p.pos), key: p.flags.includes('K') }));
}
