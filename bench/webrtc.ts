/**
 * The WebRTC part of `npm run bench`: WHEP fan-out and the AAC -> Opus transcode.
 *
 * One stream published over RTMP (the bench clip: H.264 + AAC), then N WHEP viewers (werift peer connections
 * in a forked process, video H.264 + audio Opus, with Chromium's RTP header extensions) for each N, the server restarted for every row, plus a row
 * with no viewer (ingest only). Over the window: server CPU per viewer-second (utime+stime of the server
 * process / (N x window)), and the same minus the ingest-only row (what the viewers add). The Opus the viewers
 * get is made by one ffmpeg process per stream (the transcoder): its CPU is read from /proc for the server's
 * child processes and reported per stream-second. nginx-rtmp and Node-Media-Server have no WebRTC: the report
 * sets WHEP beside the RTMP fan-out of the main table instead.
 */
import { ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchMedia, BenchPublisher } from './media';
import { procCpuMs, procCpuTimes, startServer, StartOptions } from './servers';
import type { WhepViewerCommand, WhepViewerStats } from './whep-viewer';

export interface WebRtcBenchOptions {
  /** viewer counts (empty: the part is skipped) */
  viewers: number[];
  windowS: number;
  warmupS: number;
  startOptions: Omit<StartOptions, 'streamPath'>;
}

export interface WhepRow {
  viewers: number;
  status: 'ok' | 'error';
  error?: string;
  windowS?: number;
  receivingVideo?: number;
  receivingAudio?: number;
  failed?: number;
  /** server CPU, share of one core */
  serverCpuCore?: number;
  /** server CPU ms per viewer-second */
  cpuPerViewerS?: number;
  /** minus the ingest-only row, per viewer-second */
  addedCpuPerViewerS?: number;
  /** transcoder (ffmpeg children of the server) CPU ms per stream-second */
  transcodeCpuPerStreamS?: number;
  /** viewers' received Mbit/s each */
  mbpsPerViewer?: number;
  firstVideoP50Ms?: number;
  firstVideoMaxMs?: number;
  viewerProcessCpuCore?: number;
  errors?: string[];
  /** the window on the monotonic clock (probe.ts nowUs), to cut a --cpu-prof profile to it */
  windowMonoUs?: [number, number];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const STREAM = 'live/whep';

/** PIDs of a process's children (every thread's), from /proc. */
function childPids(pid: number): number[] {
  const pids: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) pids.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // the process is gone
  }
  return pids;
}

/** CPU ms of the server's ffmpeg children (the transcoders), by PID. */
function transcoderCpuMs(serverPid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of childPids(serverPid)) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ffmpeg')) continue;
      out.set(pid, procCpuMs(pid));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

class ViewerProcess {
  readonly child: ChildProcess;
  private waiters: ((msg: { type: string }) => void)[] = [];

  constructor() {
    this.child = fork(join(__dirname, 'whep-viewer.ts'), [], { execArgv: ['-r', '@swc-node/register'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (msg: { type: string }) => {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w(msg);
    });
  }

  request<T>(cmd: WhepViewerCommand, replyType: string, timeoutMs = 120_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`viewer process: no '${replyType}' reply`)), timeoutMs);
      const wait = (msg: { type: string }): void => {
        if (msg.type !== replyType) return void this.waiters.push(wait);
        clearTimeout(timer);
        resolve(msg as T);
      };
      this.waiters.push(wait);
      this.child.send(cmd);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    await this.request({ type: 'close' }, 'closed', 15_000).catch(() => this.child.kill('SIGKILL'));
    await exited;
  }
}

async function whepRow(n: number, o: WebRtcBenchOptions, media: BenchMedia): Promise<WhepRow> {
  const row: WhepRow = { viewers: n, status: 'ok' };
  const server = await startServer('m7s', { ...o.startOptions, streamPath: STREAM });
  const publisher = new BenchPublisher(media, server.rtmpUrl);
  const viewers = n > 0 ? new ViewerProcess() : undefined;
  try {
    await publisher.start();
    if (viewers) {
      await viewers.request({ type: 'connect', url: `${server.httpUrl}/webrtc/play/${STREAM}`, count: n, batch: 10 }, 'connected');
      const deadline = Date.now() + 30_000;
      let s = await viewers.request<WhepViewerStats>({ type: 'stats' }, 'stats');
      while ((s.receivingVideo < n || s.receivingAudio < n) && Date.now() < deadline) {
        await sleep(500);
        s = await viewers.request<WhepViewerStats>({ type: 'stats' }, 'stats');
      }
      if (s.receivingVideo < n) throw new Error(`${n - s.receivingVideo} of ${n} viewers get no video (${s.failed} failed): ${s.errors.slice(0, 3).join(' | ')}`);
    }
    await sleep(o.warmupS * 1000);
    const before = viewers ? await viewers.request<WhepViewerStats>({ type: 'stats' }, 'stats') : undefined;
    const cpu0 = procCpuTimes(server.pid);
    const transcode0 = transcoderCpuMs(server.pid);
    const viewerCpu0 = viewers ? procCpuMs(viewers.child.pid!) : 0;
    const t0 = process.hrtime.bigint();
    await sleep(o.windowS * 1000);
    const t1 = process.hrtime.bigint();
    const cpu1 = procCpuTimes(server.pid);
    const transcode1 = transcoderCpuMs(server.pid);
    const viewerCpu1 = viewers ? procCpuMs(viewers.child.pid!) : 0;
    const windowS = Number(process.hrtime.bigint() - t0) / 1e9;
    if (publisher.closed) throw new Error(`the publisher was disconnected\n${server.output()}`);
    const cpuMs = cpu1.user + cpu1.sys - (cpu0.user + cpu0.sys);
    let transcodeMs = 0;
    for (const [pid, ms] of transcode1) transcodeMs += ms - (transcode0.get(pid) ?? 0);
    row.windowS = Math.round(windowS * 100) / 100;
    row.windowMonoUs = [Number(t0 / 1000n), Number(t1 / 1000n)];
    row.serverCpuCore = Math.round((cpuMs / (windowS * 1000)) * 1000) / 1000;
    row.transcodeCpuPerStreamS = Math.round((transcodeMs / windowS) * 100) / 100;
    if (viewers && before) {
      const after = await viewers.request<WhepViewerStats>({ type: 'stats' }, 'stats');
      row.receivingVideo = after.receivingVideo;
      row.receivingAudio = after.receivingAudio;
      row.failed = after.failed;
      row.cpuPerViewerS = Math.round((cpuMs / (n * windowS)) * 1000) / 1000;
      row.mbpsPerViewer = Math.round((((after.bytes - before.bytes) * 8) / (n * windowS * 1e6)) * 100) / 100;
      const first = [...after.firstVideoMs].sort((a, b) => a - b);
      row.firstVideoP50Ms = first[Math.floor(first.length / 2)];
      row.firstVideoMaxMs = first[first.length - 1];
      row.viewerProcessCpuCore = Math.round(((viewerCpu1 - viewerCpu0) / (windowS * 1000)) * 100) / 100;
      row.errors = after.errors.slice(0, 3);
    }
  } catch (error) {
    row.status = 'error';
    row.error = error instanceof Error ? error.message.split('\n').slice(0, 4).join(' | ') : String(error);
  } finally {
    await viewers?.close();
    publisher.stop();
    await server.stop();
  }
  return row;
}

export async function whepFanout(o: WebRtcBenchOptions, media: BenchMedia, log: (s: string) => void): Promise<WhepRow[]> {
  const rows: WhepRow[] = [];
  for (const n of [0, ...o.viewers]) {
    log(`WHEP fan-out: ${n === 0 ? 'ingest only' : `${n} viewers`} ...`);
    const row = await whepRow(n, o, media);
    rows.push(row);
    log(
      row.status === 'ok'
        ? `  server ${row.serverCpuCore} core, ${row.cpuPerViewerS ?? '-'} CPU ms/viewer-s, transcoder ${row.transcodeCpuPerStreamS} CPU ms/s, video ${row.receivingVideo ?? '-'} audio ${row.receivingAudio ?? '-'} receiving, window ${row.windowMonoUs?.join(',')} us`
        : `  error: ${row.error}`,
    );
  }
  const ingest = rows.find((r) => r.viewers === 0 && r.status === 'ok');
  for (const row of rows) {
    if (row.viewers > 0 && row.status === 'ok' && ingest?.serverCpuCore !== undefined && row.serverCpuCore !== undefined) {
      row.addedCpuPerViewerS = Math.round((((row.serverCpuCore - ingest.serverCpuCore) * 1000) / row.viewers) * 1000) / 1000;
    }
  }
  return rows;
}

const fmt = (x: number | undefined, digits = 2): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

/** `rtmpPerPlayerS`: the main table's RTMP CPU ms per player-second (smallest N) of m7s and nginx-rtmp, for scale. */
export function webRtcReport(rows: WhepRow[], o: WebRtcBenchOptions, rtmpPerPlayerS: { m7s?: number; nginx?: number; n?: number }): string {
  const out: string[] = ['## WebRTC (WHEP)', ''];
  out.push(
    `One stream (the clip: H.264 + AAC) published over RTMP; N WHEP viewers (werift, H.264 + Opus with Chromium's RTP header extensions mid, abs-send-time and transport-cc, in a forked process); the AAC is transcoded to Opus once for all of them by one ffmpeg process. ` +
      `Window ${o.windowS} s after ${o.warmupS} s warm-up. CPU ms/viewer-s: server utime+stime / (N x window); added: minus the ingest-only row. ` +
      'Transcoder: CPU of the server\'s ffmpeg children per second of stream. nginx-rtmp and Node-Media-Server have no WebRTC.',
  );
  out.push('');
  out.push('| viewers | status | server core | CPU ms/viewer-s | added ms/viewer-s | vs m7s RTMP | vs nginx RTMP | transcoder ms/s | video/audio receiving | Mbit/s each | first video p50/max ms | viewer process core |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const vs = (ref: number | undefined): string => (r.cpuPerViewerS !== undefined && ref ? fmt(r.cpuPerViewerS / ref) : '-');
    out.push(
      `| ${r.viewers === 0 ? 'ingest only' : r.viewers} | ${r.status === 'ok' ? 'ok' : `error: ${r.error ?? ''}`.slice(0, 120)} | ${fmt(r.serverCpuCore, 3)} | ${fmt(r.cpuPerViewerS, 3)} | ${fmt(r.addedCpuPerViewerS, 3)} | ${vs(rtmpPerPlayerS.m7s)} | ${vs(rtmpPerPlayerS.nginx)} | ${fmt(r.transcodeCpuPerStreamS)} | ${r.receivingVideo ?? '-'}/${r.receivingAudio ?? '-'} | ${fmt(r.mbpsPerViewer)} | ${r.firstVideoP50Ms ?? '-'}/${r.firstVideoMaxMs ?? '-'} | ${fmt(r.viewerProcessCpuCore)} |`,
    );
  }
  if (rtmpPerPlayerS.n) out.push('', `vs RTMP: CPU ms/viewer-s over the main table's RTMP CPU ms/player-s at N=${rtmpPerPlayerS.n} (m7s ${fmt(rtmpPerPlayerS.m7s, 3)}, nginx-rtmp ${fmt(rtmpPerPlayerS.nginx, 3)}).`);
  return out.join('\n') + '\n';
}
