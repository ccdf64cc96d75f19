import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ffmpegPath, ffprobePath } from './tools';
import { run, spawnTracked, Tracked } from './process';

export interface PublishOptions {
  url: string;
  /** seconds; omitted = until killed */
  duration?: number;
  fps?: number;
  gop?: number;
  size?: string;
  audioRate?: number;
  videoBitrate?: string;
  audio?: boolean;
  video?: boolean;
  profile?: string;
  /** x264 preset (default ultrafast) and tune (default zerolatency; '' for none, which allows B-frames) */
  preset?: string;
  tune?: string;
  /** For rtsp:// urls: RTP over the RTSP connection (default) or over UDP. */
  rtspTransport?: 'tcp' | 'udp';
}

/** ffmpeg publishing a live H.264 + AAC test pattern in real time to an RTMP (or RTSP) url. */
export function publishTestPattern(o: PublishOptions): Tracked {
  const fps = o.fps ?? 25;
  const args = ['-hide_banner', '-loglevel', 'error', '-re'];
  if (o.video !== false) args.push('-f', 'lavfi', '-i', `testsrc2=size=${o.size ?? '320x240'}:rate=${fps}`);
  if (o.audio !== false) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=${o.audioRate ?? 44100}`);
  if (o.duration) args.push('-t', String(o.duration));
  if (o.video !== false) {
    args.push('-c:v', 'libx264', '-preset', o.preset ?? 'ultrafast', '-profile:v', o.profile ?? 'baseline', '-pix_fmt', 'yuv420p');
    if (o.tune !== '') args.push('-tune', o.tune ?? 'zerolatency');
    args.push('-g', String(o.gop ?? fps), '-b:v', o.videoBitrate ?? '500k');
  }
  if (o.audio !== false) args.push('-c:a', 'aac', '-b:a', '64k');
  if (o.url.startsWith('rtsp')) args.push('-f', 'rtsp', '-rtsp_transport', o.rtspTransport ?? 'tcp', o.url);
  else args.push('-f', 'flv', o.url);
  return spawnTracked(ffmpegPath(), args);
}

export interface ProbeStream {
  codec_type: string;
  codec_name: string;
  profile?: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  level?: number;
}

/** ffprobe -show_streams of a url (reads `seconds` of it). */
export async function probeStreams(url: string, extra: string[] = [], binary = ffprobePath()): Promise<ProbeStream[]> {
  const { code, stdout, stderr } = await run(binary, ['-v', 'error', '-rw_timeout', '15000000', ...extra, '-show_streams', '-of', 'json', url], 60_000);
  if (code !== 0) throw new Error(`ffprobe ${url} failed (${code}): ${stderr}`);
  return (JSON.parse(stdout) as { streams: ProbeStream[] }).streams;
}

export interface ProbePacket {
  codec_type: string;
  pts_time?: string;
  dts_time?: string;
  flags: string;
}

/** Packets (dts, flags) of `seconds` of a live url, read by ffprobe. */
export async function probePackets(url: string, seconds: number, binary = ffprobePath()): Promise<ProbePacket[]> {
  const { code, stdout, stderr } = await run(
    binary,
    ['-v', 'error', '-rw_timeout', '15000000', '-read_intervals', `%+${seconds}`, '-show_entries', 'packet=codec_type,pts_time,dts_time,flags', '-of', 'json', url],
    60_000 + seconds * 1000,
  );
  if (code !== 0) throw new Error(`ffprobe ${url} failed (${code}): ${stderr}`);
  return (JSON.parse(stdout) as { packets: ProbePacket[] }).packets ?? [];
}

/** Reads a WS-FLV url with a WebSocket client and lets ffprobe read the bytes from stdin. */
export async function probeWsFlv(url: string, extra: string[] = []): Promise<{ streams: ProbeStream[]; packets: ProbePacket[] }> {
  const { WebSocket } = await import('ws');
  const probe = spawnTracked(ffprobePath(), ['-v', 'error', ...extra, '-show_streams', '-of', 'json', '-i', 'pipe:0']);
  const ws = new WebSocket(url);
  ws.binaryType = 'nodebuffer';
  ws.on('message', (data: Buffer) => {
    if (probe.child.stdin?.writable) probe.child.stdin.write(data);
  });
  ws.on('error', () => probe.child.stdin?.end());
  ws.on('close', () => probe.child.stdin?.end());
  probe.child.stdin?.on('error', () => undefined); // ffprobe may exit before we stop writing
  const timer = setTimeout(() => probe.child.kill('SIGKILL'), 60_000);
  const code = await probe.exited;
  clearTimeout(timer);
  ws.terminate();
  if (code !== 0) throw new Error(`ffprobe of ${url} failed (${code}): ${probe.stderr()}`);
  const parsed = JSON.parse(probe.stdout()) as { streams: ProbeStream[]; packets?: ProbePacket[] };
  return { streams: parsed.streams, packets: parsed.packets ?? [] };
}

/** What `ffmpeg -v error [before] -i INPUT -f null -` prints, plus the exit code when it failed: '' for a good file or URL. */
export async function decodeErrors(input: string, before: string[] = []): Promise<string> {
  const { code, stderr } = await run(ffmpegPath(), ['-hide_banner', '-v', 'error', ...before, '-i', input, '-f', 'null', '-'], 120_000);
  return stderr + (code === 0 ? '' : `exit ${code}`);
}

/** The container duration ffprobe reads, in seconds. */
export async function probeDuration(input: string): Promise<number> {
  const { code, stdout, stderr } = await run(ffprobePath(), ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', input], 60_000);
  if (code !== 0) throw new Error(`ffprobe ${input}: ${stderr}`);
  return Number(stdout.trim());
}

/** The types of the top-level boxes of an MP4 file, in order (read box header by box header). */
export function topLevelBoxes(path: string): string[] {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const header = Buffer.alloc(16);
    const types: string[] = [];
    for (let at = 0; at + 8 <= size; ) {
      readSync(fd, header, 0, 16, at);
      let boxSize = header.readUInt32BE(0);
      if (boxSize === 1) boxSize = Number(header.readBigUInt64BE(8));
      else if (boxSize === 0) boxSize = size - at;
      types.push(header.toString('latin1', 4, 8));
      if (boxSize < 8) break;
      at += boxSize;
    }
    return types;
  } finally {
    closeSync(fd);
  }
}
