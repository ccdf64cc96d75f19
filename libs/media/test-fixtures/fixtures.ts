/** Test helpers for the binary fixtures beside this file (see generate.sh). Specs only. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function fixture(name: string): Buffer {
  return readFileSync(join(__dirname, name));
}

export interface ProbedStream {
  codec_name: string;
  profile?: string;
  level?: number;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  field_order?: string;
}

const probes = JSON.parse(readFileSync(join(__dirname, 'probe.json'), 'utf8')) as Record<string, { streams: ProbedStream[] }>;

/** What ffprobe said about a fixture when it was generated. */
export function probe(name: string, index = 0): ProbedStream {
  const p = probes[name];
  if (!p) throw new Error(`no probe for ${name}`);
  return p.streams[index];
}

export function probedFps(s: ProbedStream): number {
  const [n, d] = (s.r_frame_rate ?? '0/1').split('/').map(Number);
  return n / d;
}

/** Frames of an IVF file. */
export function ivfFrames(buf: Buffer): Buffer[] {
  if (buf.toString('latin1', 0, 4) !== 'DKIF') throw new Error('not IVF');
  const headerLen = buf.readUInt16LE(6);
  const out: Buffer[] = [];
  let off = headerLen;
  while (off + 12 <= buf.length) {
    const size = buf.readUInt32LE(off);
    out.push(buf.subarray(off + 12, off + 12 + size));
    off += 12 + size;
  }
  return out;
}

/** Payload of the first MP4 box of that type (found by scanning for its FourCC). */
export function mp4BoxPayload(buf: Buffer, type: string): Buffer {
  const i = buf.indexOf(Buffer.from(type, 'latin1'));
  if (i < 4) throw new Error(`no ${type} box`);
  const size = buf.readUInt32BE(i - 4);
  return buf.subarray(i + 4, i - 4 + size);
}
