import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  av1Config,
  Av1ObuType,
  buildAv1C,
  h265Config,
  H265NalType,
  h265NalType,
  isAv1KeyFrame,
  isH265KeyFrame,
  splitAnnexB,
  splitObus,
  VideoConfig,
} from '@m7s/media';
import { run } from './process';
import { ffmpegPath } from './tools';

/**
 * Media fixtures generated at test time with ffmpeg (libx265, libaom-av1) and cut into the canonical
 * frames the engine carries: H.265 access units as NAL units without start codes, AV1 temporal units
 * as low-overhead OBUs. Used to publish codecs that Debian's ffmpeg 5.1 cannot send over RTMP.
 */

export interface FixtureFrame {
  /** decode time in ms from the first frame (no B-frames: pts = dts) */
  dts: number;
  keyFrame: boolean;
  /** H.265: NAL units (AUDs dropped); AV1: one temporal unit without its temporal delimiter */
  units: Buffer[];
}

export interface VideoFixture {
  codec: 'h265' | 'av1';
  config: VideoConfig;
  fps: number;
  frames: FixtureFrame[];
}

export interface FixtureOptions {
  /** seconds (default 3 for H.265, 2 for AV1) */
  duration?: number;
  fps?: number;
  /** key frame interval in frames (default fps) */
  gop?: number;
  size?: string;
}

/** A fresh private directory under the OS temp dir. */
export function makeTempDir(prefix = 'm7s-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a directory made by makeTempDir (no error when it is already gone). */
export async function removeTempDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** A self-signed certificate for 127.0.0.1 (for RTMPS/RTSPS listeners), written into `dir`. */
export async function makeSelfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const openssl = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1', '-keyout', key, '-out', cert]);
  if (openssl.code !== 0) throw new Error(`openssl failed (${openssl.code}): ${openssl.stderr}`);
  return { cert, key };
}

async function ffmpeg(args: string[], what: string): Promise<void> {
  const { code, stderr } = await run(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args], 120_000);
  if (code !== 0) throw new Error(`ffmpeg (${what}) failed (${code}): ${stderr}`);
}

/**
 * Splits an H.265 Annex-B elementary stream into access units at its access unit delimiters (the
 * stream must have them: x265 `aud=1`). AUDs are dropped; parameter sets stay in band.
 */
export function h265AccessUnits(stream: Buffer): Buffer[][] {
  const nals = splitAnnexB(stream);
  if (!nals.some((n) => h265NalType(n) === H265NalType.AUD)) throw new Error('H.265 stream has no access unit delimiters (encode with aud=1)');
  const units: Buffer[][] = [];
  let current: Buffer[] | undefined;
  for (const nal of nals) {
    if (h265NalType(nal) === H265NalType.AUD) {
      if (current?.length) units.push(current);
      current = [];
      continue;
    }
    (current ??= []).push(nal);
  }
  if (current?.length) units.push(current);
  return units;
}

/** Frames and config (hvcC from the first VPS/SPS/PPS) of an H.265 Annex-B stream with AUDs. */
export function h265FixtureFromAnnexB(stream: Buffer, fps: number): VideoFixture {
  const aus = h265AccessUnits(stream);
  const first = (type: number) => aus.flat().find((n) => h265NalType(n) === type);
  const vps = first(H265NalType.VPS);
  const sps = first(H265NalType.SPS);
  const pps = first(H265NalType.PPS);
  if (!vps || !sps || !pps) throw new Error('H.265 stream lacks VPS/SPS/PPS');
  // Copies, so the fixture does not pin (or alias) the file buffer.
  const config = h265Config([Buffer.from(vps)], [Buffer.from(sps)], [Buffer.from(pps)]);
  const frames = aus.map((units, i) => ({ dts: Math.round((i * 1000) / fps), keyFrame: isH265KeyFrame(units), units: units.map((u) => Buffer.from(u)) }));
  return { codec: 'h265', config, fps, frames };
}

/**
 * Splits an AV1 low-overhead OBU stream (`ffmpeg -f obu`, Annex-B off) into temporal units at its
 * temporal delimiters; the delimiters (and padding OBUs) are dropped, as ISOBMFF/FLV samples carry them not.
 */
export function av1TemporalUnits(stream: Buffer): Buffer[] {
  const units: Buffer[] = [];
  let current: Buffer[] | undefined;
  for (const obu of splitObus(stream)) {
    if (obu.type === Av1ObuType.TEMPORAL_DELIMITER) {
      if (current?.length) units.push(Buffer.concat(current));
      current = [];
      continue;
    }
    if (obu.type === Av1ObuType.PADDING) continue;
    if (!obu.hasSizeField) throw new Error('AV1 OBU without obu_size: not a low-overhead bitstream');
    (current ??= []).push(obu.obu);
  }
  if (current?.length) units.push(Buffer.concat(current));
  return units;
}

/** Frames and config (av1C built from the first sequence header) of an AV1 low-overhead OBU stream. */
export function av1FixtureFromObus(stream: Buffer, fps: number): VideoFixture {
  const tus = av1TemporalUnits(stream);
  const withHeader = tus.find((tu) => splitObus(tu).some((o) => o.type === Av1ObuType.SEQUENCE_HEADER));
  if (!withHeader) throw new Error('AV1 stream has no sequence header');
  const config = av1Config(buildAv1C(withHeader));
  const frames = tus.map((tu, i) => ({ dts: Math.round((i * 1000) / fps), keyFrame: isAv1KeyFrame(tu), units: [tu] }));
  return { codec: 'av1', config, fps, frames };
}

/** Encodes a test pattern with libx265 (AUDs, no B-frames, fixed GOP) into `dir` and cuts it into frames. */
export async function makeH265Fixture(dir: string, o: FixtureOptions = {}): Promise<VideoFixture> {
  const fps = o.fps ?? 25;
  const gop = o.gop ?? fps;
  const file = join(dir, 'fixture.h265');
  await ffmpeg(
    [
      '-f', 'lavfi', '-i', `testsrc2=size=${o.size ?? '320x240'}:rate=${fps}`, '-t', String(o.duration ?? 3),
      '-c:v', 'libx265', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
      '-x265-params', `aud=1:keyint=${gop}:min-keyint=${gop}:scenecut=0:bframes=0:log-level=error`,
      '-f', 'hevc', file,
    ],
    'H.265 fixture',
  );
  return h265FixtureFromAnnexB(await readFile(file), fps);
}

/** Encodes a test pattern with libaom-av1 (fast, fixed GOP) into `dir` as an OBU stream and cuts it into temporal units. */
export async function makeAv1Fixture(dir: string, o: FixtureOptions = {}): Promise<VideoFixture> {
  const fps = o.fps ?? 25;
  const gop = o.gop ?? fps;
  const file = join(dir, 'fixture.obu');
  await ffmpeg(
    [
      '-f', 'lavfi', '-i', `testsrc2=size=${o.size ?? '320x240'}:rate=${fps}`, '-t', String(o.duration ?? 2),
      '-c:v', 'libaom-av1', '-cpu-used', '8', '-g', String(gop), '-keyint_min', String(gop), '-pix_fmt', 'yuv420p',
      '-f', 'obu', file,
    ],
    'AV1 fixture',
  );
  return av1FixtureFromObus(await readFile(file), fps);
}
