/**
 * `npm run bench [-- options]`: fan-out benchmark of m7s-nest against nginx-rtmp and Node-Media-Server.
 *
 * One publisher (our RTMP client, a looped ~2 Mbit/s 720p25 H.264 + AAC clip), N players over RTMP,
 * HTTP-FLV or RTSP (RTP over TCP interleaved) held by forked player processes; for each server / protocol / N a fresh server process, and over
 * a measuring window: server CPU per player-second and RSS (from /proc), forwarding latency (probe in each
 * frame, see probe.ts), time to first key frame, stalls. Then a longer window on m7s alone for RSS growth.
 * Results: stdout, bench/results/<timestamp>.md and .json. Nothing here asserts; targets are reported.
 *
 * Options (also as env BENCH_N, BENCH_WINDOW, ...):
 *   --n 100,400,1000          player counts
 *   --window 12               measuring window, seconds
 *   --warmup 3                seconds between "all players receiving" and the window
 *   --servers m7s,nginx,nms   servers to run
 *   --protocols rtmp,flv,rtsp player protocols (nginx-rtmp has no HTTP-FLV, only m7s has RTSP: n/a)
 *   --workers 2               player processes
 *   --batch 50 --batch-ms 50  connection ramp: players per batch, ms between batches
 *   --rss-window 120          seconds of the m7s RSS-growth run (0 skips it)
 *   --rss-n 100               RTMP players during the RSS-growth run
 *   --cpu-prof DIR            write a V8 CPU profile of every m7s server process into DIR
 *   --hls-streams 20          HLS cost: streams published, one HLS client each (0 skips the HLS part; see hls.ts)
 *   --hls-variants ts,fmp4,llhls  m7s HLS variants measured (nginx-rtmp: MPEG-TS)
 *   --hls-window 10 --hls-segment 2  HLS measuring window and segment length, seconds
 *   --whep 20,50              WHEP fan-out: viewer counts (0 skips the WebRTC part; see webrtc.ts)
 *   --whep-window 10          WHEP measuring window, seconds
 *   --m7s build               how m7s runs: build = sources compiled once by swc into the temp dir (default),
 *                             register = node -r @swc-node/register (+~90 MB RSS of compiler), dist = nest build output
 *   --m7s-main PATH           mode build: run this main.js (an earlier build, for A/B runs) instead of building
 *   --no-write                do not write bench/results/
 */
import { ChildProcess, execFileSync, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { BenchMedia, BenchPublisher, DEFAULT_MEDIA, ensureMedia, loadMedia } from './media';
import type { Protocol, WorkerCommand, WorkerProgress, WorkerStats } from './player-worker';
import { hlsCost, HlsBenchOptions, HlsCostRow, hlsReport, HlsVariant, llHlsLatency, LlHlsLatency } from './hls';
import { webRtcReport, WebRtcBenchOptions, whepFanout, WhepRow } from './webrtc';
import { histogramCount, mergeInto, newHistogram, nowUs, quantile, quantileMs } from './probe';
import { buildM7s, M7sMode, machineBusyMs, procCpuMs, procCpuTimes, procRssKb, procSyscalls, ServerHandle, ServerName, setClockTicks, startServer } from './servers';

interface Options {
  n: number[];
  window: number;
  warmup: number;
  servers: ServerName[];
  protocols: Protocol[];
  workers: number;
  batch: number;
  batchMs: number;
  rssWindow: number;
  rssN: number;
  cpuProf?: string;
  m7sMode: M7sMode;
  m7sMain?: string;
  write: boolean;
  hls: HlsBenchOptions;
  webrtc: WebRtcBenchOptions;
}

function parseOptions(argv: string[]): Options {
  const get = (name: string, fallback: string): string => {
    const i = argv.indexOf(`--${name}`);
    if (i >= 0 && argv[i + 1] !== undefined) return argv[i + 1];
    const inline = argv.find((a) => a.startsWith(`--${name}=`));
    if (inline) return inline.slice(name.length + 3);
    return process.env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback;
  };
  const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
  const servers = list(get('servers', 'm7s,nginx,nms')) as ServerName[];
  for (const s of servers) if (!['m7s', 'nginx', 'nms'].includes(s)) throw new Error(`unknown server ${s} (m7s, nginx, nms)`);
  const protocols = list(get('protocols', 'rtmp,flv,rtsp')) as Protocol[];
  for (const p of protocols) if (!['rtmp', 'flv', 'rtsp'].includes(p)) throw new Error(`unknown protocol ${p} (rtmp, flv, rtsp)`);
  if (!['build', 'register', 'dist'].includes(get('m7s', 'build'))) throw new Error('--m7s: build, register or dist');
  const cpuProf = get('cpu-prof', '');
  return {
    n: list(get('n', '100,400,1000')).map(Number).filter((n) => n > 0),
    window: Number(get('window', '12')),
    warmup: Number(get('warmup', '3')),
    servers,
    protocols,
    workers: Math.max(1, Number(get('workers', '2'))),
    batch: Number(get('batch', '50')),
    batchMs: Number(get('batch-ms', '50')),
    rssWindow: Number(get('rss-window', '120')),
    rssN: Number(get('rss-n', '100')),
    cpuProf: cpuProf ? resolve(cpuProf) : undefined,
    m7sMode: get('m7s', 'build') as M7sMode,
    m7sMain: get('m7s-main', '') ? resolve(get('m7s-main', '')) : undefined,
    write: !argv.includes('--no-write'),
    hls: {
      streams: Number(get('hls-streams', '20')),
      windowS: Number(get('hls-window', '10')),
      warmupS: Number(get('warmup', '3')),
      segmentS: Number(get('hls-segment', '2')),
      variants: list(get('hls-variants', 'ts,fmp4,llhls')) as HlsVariant[],
      servers: servers.filter((s) => s !== 'nms'),
      startOptions: { tmpDir: '', m7sMode: get('m7s', 'build') as M7sMode },
    },
    webrtc: {
      viewers: servers.includes('m7s') ? list(get('whep', '20,50')).map(Number).filter((n) => n > 0) : [],
      windowS: Number(get('whep-window', '10')),
      warmupS: Number(get('warmup', '3')),
      startOptions: { tmpDir: '', m7sMode: get('m7s', 'build') as M7sMode },
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The player protocols each server serves; the others get 'n/a' rows. */
const SERVES: Record<ServerName, readonly Protocol[]> = { m7s: ['rtmp', 'flv', 'rtsp'], nginx: ['rtmp'], nms: ['rtmp', 'flv'] };

function playUrl(server: ServerHandle, protocol: Protocol): string {
  const url = protocol === 'rtmp' ? server.rtmpUrl : protocol === 'flv' ? server.flvUrl : server.rtspUrl;
  if (!url) throw new Error(`${server.name} has no ${protocol}`);
  return url;
}

/** A forked player process. */
class Worker {
  readonly child: ChildProcess;
  progress: WorkerProgress | undefined;
  private waiters: ((msg: { type: string }) => void)[] = [];

  constructor() {
    this.child = fork(join(__dirname, 'player-worker.ts'), [], {
      execArgv: ['-r', '@swc-node/register', '--max-old-space-size=4096'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (msg: { type: string }) => {
      if (msg.type === 'progress') this.progress = msg as WorkerProgress;
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w(msg);
    });
  }

  send(cmd: WorkerCommand): void {
    this.child.send(cmd);
  }

  /** Sends a command and resolves with the first reply of the given type. */
  request<T>(cmd: WorkerCommand, replyType: string, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolveReply, reject) => {
      const timer = setTimeout(() => reject(new Error(`player process: no '${replyType}' reply`)), timeoutMs);
      const wait = (msg: { type: string }): void => {
        if (msg.type === replyType) {
          clearTimeout(timer);
          resolveReply(msg as T);
        } else this.waiters.push(wait);
      };
      this.waiters.push(wait);
      this.send(cmd);
    });
  }

  cpuMs(): number {
    try {
      return procCpuMs(this.child.pid!);
    } catch {
      return NaN;
    }
  }
}

export interface CellResult {
  server: ServerName;
  protocol: Protocol;
  n: number;
  status: 'ok' | 'n/a' | 'error';
  error?: string;
  /** players that were receiving (had a first key frame) when the window started */
  receiving?: number;
  failed?: number;
  windowS?: number;
  serverCpuMs?: number;
  /** the server's write system calls per player-second (a frame is one message of video + ~1.7 of audio per 40 ms) */
  writesPerPlayerS?: number;
  /** share of the server's CPU time spent in the kernel (stime / (utime + stime)) */
  sysShare?: number;
  /** server CPU ms per player-second */
  cpuPerPlayerS?: number;
  /** server CPU, share of one core */
  cpuCore?: number;
  rssMaxMb?: number;
  rssIdleMb?: number;
  latP50Ms?: number;
  latP99Ms?: number;
  latMaxMs?: number;
  latSamples?: number;
  ttffP50Ms?: number;
  ttffP99Ms?: number;
  stalled?: number;
  maxGapMs?: number;
  framesMissedPct?: number;
  /** the window on the monotonic clock, us (for bench/profile-top.ts --mono) */
  windowMonoUs?: [number, number];
  /** mean / max latency (ms) per 500 ms of the window */
  timeline?: { t: number; mean: number; max: number }[];
  /** player processes' CPU, share of one core (they share the machine with the server) */
  clientCpuCore?: number;
  /** CPU used by other processes of the machine in the window, share of one core (noise) */
  otherCpuCore?: number;
  /** m7s/nginx or nms/nginx CPU per player-second (nginx RTMP row of the same N, for every protocol) */
  cpuVsNginx?: number;
  errors?: string[];
}

export interface RssGrowth {
  players: number;
  windowS: number;
  framesSent: number;
  startMb: number;
  endMb: number;
  minMb: number;
  maxMb: number;
  growthMb: number;
  /** peak RSS in the first and the second half of the window (V8 grows the heap in a sawtooth; a leak lifts the second) */
  firstHalfMaxMb: number;
  secondHalfMaxMb: number;
  /** least-squares slope over the window */
  slopeMbPerMin: number;
  samples: { t: number; mb: number }[];
  error?: string;
}

/** Waits until every player receives, then until the GOP bursts of the ramp have drained (latency settled). */
async function waitReceiving(workers: Worker[], counts: number[], timeoutMs: number, settleMs = 15_000): Promise<void> {
  let deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const done = workers.every((w, i) => {
      const p = w.progress;
      return p !== undefined && p.started === counts[i] && p.receiving + p.failed >= counts[i];
    });
    if (done) break;
    await sleep(100);
  }
  deadline = Date.now() + settleMs;
  let calm = 0;
  let seen = new Set<WorkerProgress>();
  while (Date.now() < deadline && calm < 4) {
    await sleep(250);
    const fresh = workers.map((w) => w.progress).filter((p): p is WorkerProgress => p !== undefined && !seen.has(p));
    seen = new Set(workers.map((w) => w.progress!).filter(Boolean));
    const frames = fresh.reduce((a, p) => a + p.recentFrames, 0);
    const mean = frames ? fresh.reduce((a, p) => a + p.recentMeanMs * p.recentFrames, 0) / frames : Infinity;
    calm = mean < SETTLED_MEAN_MS ? calm + 1 : 0;
  }
}

/** Mean latency under which the players are taken as caught up after the ramp. */
const SETTLED_MEAN_MS = 50;

interface Measured {
  stats: WorkerStats[];
  serverCpuMs: number;
  /** of which in the kernel (stime) */
  serverSysMs: number;
  /** write-type system calls of the server (write, writev, send...) in the window */
  serverWrites: number;
  clientCpuMs: number;
  /** CPU of everything else on the machine in the window (other tests, the kernel's softirq...), ms */
  otherCpuMs: number;
  windowS: number;
  rss: { t: number; mb: number }[];
  /** RSS with the publisher only, before the players came */
  rssIdleMb: number;
  /** the window on the monotonic clock (probe.ts nowUs), to cut a --cpu-prof profile to it */
  monoUs: [number, number];
  videoSent: number;
}

/** Connects n players, waits until they receive, then measures one window. */
async function measure(
  server: ServerHandle,
  publisher: BenchPublisher,
  protocol: Protocol,
  n: number,
  windowS: number,
  workers: Worker[],
  media: BenchMedia,
  opts: Options,
  rssEverySec = 0.25,
): Promise<Measured> {
  const url = playUrl(server, protocol);
  const counts = workers.map((_, i) => Math.floor(n / workers.length) + (i < n % workers.length ? 1 : 0));
  const perBatch = Math.max(1, Math.ceil(opts.batch / workers.length));
  for (const w of workers) w.progress = undefined;
  const rssIdleMb = procRssKb(server.pid) / 1024;
  workers.forEach((w, i) => w.send({ type: 'connect', protocol, url, count: counts[i], batch: perBatch, intervalMs: opts.batchMs, nalLengthSize: media.nalLengthSize }));
  await waitReceiving(workers, counts, 20_000 + (n / opts.batch) * opts.batchMs);
  await sleep(opts.warmup * 1000);
  if (publisher.closed) throw new Error(`publisher disconnected\n${server.output()}`);

  const rss: { t: number; mb: number }[] = [];
  const t0 = Date.now();
  const sample = (): void => {
    try {
      rss.push({ t: (Date.now() - t0) / 1000, mb: procRssKb(server.pid) / 1024 });
    } catch {
      // the server is gone; reported by the caller
    }
  };
  for (const w of workers) w.send({ type: 'window', on: true });
  const t0s = procCpuTimes(server.pid);
  const cpu0 = t0s.user + t0s.sys;
  const io0 = procSyscalls(server.pid);
  const client0 = workers.reduce((s, w) => s + w.cpuMs(), 0);
  const video0 = publisher.videoSent;
  const busy0 = machineBusyMs();
  const own0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const mono0 = nowUs();
  sample();
  const timer = setInterval(sample, rssEverySec * 1000);
  await sleep(windowS * 1000);
  clearInterval(timer);
  sample();
  const t1s = procCpuTimes(server.pid);
  const cpu1 = t1s.user + t1s.sys;
  const io1 = procSyscalls(server.pid);
  const client1 = workers.reduce((s, w) => s + w.cpuMs(), 0);
  const busy1 = machineBusyMs();
  const own = process.cpuUsage(own0);
  const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
  const mono1 = nowUs();
  for (const w of workers) w.send({ type: 'window', on: false });
  const stats = await Promise.all(workers.map((w) => w.request<WorkerStats>({ type: 'stats' }, 'stats')));
  return { stats, serverCpuMs: cpu1 - cpu0, serverSysMs: t1s.sys - t0s.sys, serverWrites: io1.writes - io0.writes, clientCpuMs: client1 - client0, otherCpuMs: busy1 - busy0 - (cpu1 - cpu0) - (client1 - client0) - (own.user + own.system) / 1000, windowS: elapsedS, rss, rssIdleMb, monoUs: [mono0, mono1], videoSent: publisher.videoSent - video0 };
}

async function closePlayers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((w) => w.request({ type: 'close' }, 'closed')));
}

async function withServer<T>(name: ServerName, tmpDir: string, opts: Options, media: BenchMedia, body: (server: ServerHandle, publisher: BenchPublisher) => Promise<T>): Promise<T> {
  const server = await startServer(name, { tmpDir, streamPath: 'live/bench', cpuProfDir: name === 'm7s' ? opts.cpuProf : undefined, m7sMode: opts.m7sMode, m7sMain: opts.m7sMain });
  const publisher = new BenchPublisher(media, server.rtmpUrl);
  try {
    await publisher.start();
    // a full GOP in the server before players come (a GOP cache then serves them at once)
    await sleep(2500);
    return await body(server, publisher);
  } finally {
    publisher.stop();
    await server.stop();
  }
}

async function runCell(name: ServerName, protocol: Protocol, n: number, tmpDir: string, opts: Options, media: BenchMedia, workers: Worker[]): Promise<CellResult> {
  const base: CellResult = { server: name, protocol, n, status: 'ok' };
  try {
    const m = await withServer(name, tmpDir, opts, media, async (server, publisher) => {
      try {
        return await measure(server, publisher, protocol, n, opts.window, workers, media, opts);
      } finally {
        await closePlayers(workers);
      }
    });
    const lat = newHistogram();
    const ttff: number[] = [];
    let receiving = 0;
    let failed = 0;
    let stalled = 0;
    let maxGapMs = 0;
    let framesReceived = 0;
    let framesMissed = 0;
    const errors: string[] = [];
    const slots: number[][] = [];
    for (const s of m.stats) {
      s.timeline.forEach((row, i) => {
        const acc = (slots[i] ??= [0, 0, 0]);
        acc[0] += row[0];
        acc[1] += row[1];
        acc[2] = Math.max(acc[2], row[2]);
      });
      mergeInto(lat, s.latency);
      ttff.push(...s.ttff);
      receiving += s.receiving;
      failed += s.failed;
      stalled += s.stalled;
      maxGapMs = Math.max(maxGapMs, s.maxGapMs);
      framesReceived += s.framesReceived;
      framesMissed += s.framesMissed;
      errors.push(...s.errors);
    }
    const rssMax = Math.max(...m.rss.map((r) => r.mb));
    return {
      ...base,
      receiving,
      failed,
      windowS: round(m.windowS, 2),
      windowMonoUs: m.monoUs,
      serverCpuMs: Math.round(m.serverCpuMs),
      // nginx writes with sendto(), which /proc/<pid>/io does not count
      writesPerPlayerS: name === 'nginx' ? undefined : round(m.serverWrites / (n * m.windowS), 1),
      sysShare: round(m.serverSysMs / Math.max(1, m.serverCpuMs), 2),
      cpuPerPlayerS: round(m.serverCpuMs / (n * m.windowS), 4),
      cpuCore: round(m.serverCpuMs / (m.windowS * 1000), 3),
      rssMaxMb: round(rssMax, 1),
      rssIdleMb: round(m.rssIdleMb, 1),
      latP50Ms: round(quantileMs(lat, 0.5), 2),
      latP99Ms: round(quantileMs(lat, 0.99), 2),
      latMaxMs: round(quantileMs(lat, 1), 2),
      latSamples: histogramCount(lat),
      ttffP50Ms: round(quantile(ttff, 0.5), 1),
      ttffP99Ms: round(quantile(ttff, 0.99), 1),
      stalled: Math.min(stalled, n),
      maxGapMs: Math.round(maxGapMs),
      framesMissedPct: round((100 * framesMissed) / Math.max(1, framesMissed + framesReceived), 3),
      clientCpuCore: round(m.clientCpuMs / (m.windowS * 1000), 3),
      otherCpuCore: round(Math.max(0, m.otherCpuMs) / (m.windowS * 1000), 3),
      errors: [...new Set(errors)].slice(0, 5),
      timeline: Array.from(slots, (r, i) => ({ t: i / 2, mean: round(r ? r[1] / Math.max(1, r[0]) : NaN, 2), max: round(r ? r[2] : NaN, 1) })),
    };
  } catch (error) {
    return { ...base, status: 'error', error: error instanceof Error ? error.message.split('\n').slice(0, 6).join(' | ') : String(error) };
  }
}

async function rssGrowth(tmpDir: string, opts: Options, media: BenchMedia, workers: Worker[]): Promise<RssGrowth> {
  const blank: RssGrowth = { players: opts.rssN, windowS: opts.rssWindow, framesSent: 0, startMb: NaN, endMb: NaN, minMb: NaN, maxMb: NaN, growthMb: NaN, firstHalfMaxMb: NaN, secondHalfMaxMb: NaN, slopeMbPerMin: NaN, samples: [] };
  try {
    return await withServer('m7s', tmpDir, opts, media, async (server, publisher) => {
      try {
        const m = await measure(server, publisher, 'rtmp', opts.rssN, opts.rssWindow, workers, media, opts, 1);
        const s = m.rss;
        const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
        const tMean = mean(s.map((x) => x.t));
        const yMean = mean(s.map((x) => x.mb));
        const num = s.reduce((a, x) => a + (x.t - tMean) * (x.mb - yMean), 0);
        const den = s.reduce((a, x) => a + (x.t - tMean) ** 2, 0);
        return {
          players: opts.rssN,
          windowS: round(m.windowS, 1),
          framesSent: m.videoSent,
          startMb: round(s[0].mb, 1),
          endMb: round(s[s.length - 1].mb, 1),
          minMb: round(Math.min(...s.map((x) => x.mb)), 1),
          maxMb: round(Math.max(...s.map((x) => x.mb)), 1),
          growthMb: round(s[s.length - 1].mb - s[0].mb, 1),
          firstHalfMaxMb: round(Math.max(...s.filter((x) => x.t <= m.windowS / 2).map((x) => x.mb)), 1),
          secondHalfMaxMb: round(Math.max(...s.filter((x) => x.t > m.windowS / 2).map((x) => x.mb)), 1),
          slopeMbPerMin: round(den ? (num / den) * 60 : 0, 2),
          samples: s.map((x) => ({ t: round(x.t, 1), mb: round(x.mb, 1) })),
        };
      } finally {
        await closePlayers(workers);
      }
    });
  } catch (error) {
    return { ...blank, error: error instanceof Error ? error.message : String(error) };
  }
}

function round(x: number, digits: number): number {
  if (!Number.isFinite(x)) return NaN;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const LABEL: Record<ServerName, string> = { m7s: 'm7s-nest', nginx: 'nginx-rtmp', nms: 'Node-Media-Server' };

function fmt(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

function table(results: CellResult[]): string {
  const head = [
    'server', 'proto', 'N', 'recv', 'CPU ms/player-s', 'vs nginx', 'CPU core', 'kernel %', 'writes/player-s', 'RSS idle MB', 'RSS max MB',
    'lat p50 ms', 'lat p99 ms', 'lat max ms', 'TTFF p50 ms', 'TTFF p99 ms', 'stalled', 'missed %', 'players CPU core', 'other CPU core',
  ];
  const rows = results.map((r) => {
    if (r.status === 'n/a') return [LABEL[r.server], r.protocol, String(r.n), 'n/a', ...head.slice(4).map(() => 'n/a')];
    if (r.status === 'error') return [LABEL[r.server], r.protocol, String(r.n), 'error', `${r.error ?? ''}`.slice(0, 160), ...head.slice(5).map(() => '')];
    return [
      LABEL[r.server], r.protocol, String(r.n), `${r.receiving}/${r.n}`, fmt(r.cpuPerPlayerS, 4), fmt(r.cpuVsNginx, 2), fmt(r.cpuCore, 2), fmt((r.sysShare ?? NaN) * 100, 0), fmt(r.writesPerPlayerS, 1), fmt(r.rssIdleMb, 1), fmt(r.rssMaxMb, 1),
      fmt(r.latP50Ms), fmt(r.latP99Ms), fmt(r.latMaxMs, 1), fmt(r.ttffP50Ms, 0), fmt(r.ttffP99Ms, 0), String(r.stalled), fmt(r.framesMissedPct, 2), fmt(r.clientCpuCore, 2), fmt(r.otherCpuCore, 2),
    ];
  });
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function targets(results: CellResult[], rss: RssGrowth | undefined): string[] {
  const lines: string[] = [];
  const ok = (b: boolean): string => (b ? 'met' : 'NOT met');
  for (const r of results.filter((x) => x.server === 'm7s' && x.status === 'ok')) {
    const parts: string[] = [];
    if (r.cpuVsNginx !== undefined) parts.push(`CPU/player-s <= nginx-rtmp: ${ok(r.cpuVsNginx <= 1)} (${fmt(r.cpuVsNginx)}x)`);
    if (r.n >= 1000) parts.push(`p99 < 20 ms at ${r.n}: ${ok((r.latP99Ms ?? Infinity) < 20)} (${fmt(r.latP99Ms)} ms)`);
    parts.push(`zero stalls: ${ok(r.stalled === 0)} (${r.stalled})`);
    lines.push(`- m7s ${r.protocol} N=${r.n}: ${parts.join('; ')}`);
  }
  if (rss && !rss.error) {
    const grows = rss.secondHalfMaxMb > rss.firstHalfMaxMb * 1.1 && rss.slopeMbPerMin > 1;
    lines.push(
      `- m7s RSS not growing with frames sent: ${ok(!grows)} (end - start ${rss.growthMb} MB over ${rss.framesSent} video frames in ${rss.windowS} s; ` +
        `peak ${rss.firstHalfMaxMb} MB in the first half, ${rss.secondHalfMaxMb} MB in the second; slope ${rss.slopeMbPerMin} MB/min)`,
    );
  }
  return lines;
}

function report(results: CellResult[], rss: RssGrowth | undefined, meta: Record<string, unknown>): string {
  const out: string[] = [];
  out.push(`# m7s-nest fan-out benchmark, ${meta.date}`);
  out.push('');
  out.push(
    `Machine: ${meta.cpus} x ${meta.cpuModel}, Node ${process.version}. Clip: ${meta.clip}. Window ${meta.window} s per row after ` +
      `${meta.warmup} s warm-up (after every player receives and the ramp's GOP bursts have drained); ${meta.workers} player processes on the same machine. ` +
      `m7s runs as: ${meta.m7s}. nginx-rtmp: one process (master_process off), chunk_size 4096, wait_key on. NMS: v${meta.nmsVersion}, API/admin/recording off.`,
  );
  out.push('');
  out.push(table(results));
  out.push('');
  out.push(
    'CPU ms/player-s: server process utime+stime over the window / (N x window); vs nginx: that ratio divided by the nginx-rtmp RTMP row of the same N ' +
      '(also for HTTP-FLV and RTSP rows; nginx-rtmp has neither, NMS has no RTSP). CPU core: the server\'s share of one core; kernel %: the part of it in system time (socket writes; on loopback the kernel also does the receiving side\'s TCP work there); writes/player-s: the server\'s write system calls (write, writev, sendmsg) per player-second, from /proc/<pid>/io (the clip has 25 video + ~43 audio messages/s; nginx uses sendto(), not counted there: strace showed ~119 sendto/player-s, one per 4 KiB chunk). RSS idle: VmRSS with the publisher only, before the players; RSS max: max VmRSS in the window. lat: publisher send -> ' +
      'player receive of each video frame (probe SEI in the frame; RTSP: when the access unit\'s last RTP packet is depacketized). TTFF: player start (TCP connect / HTTP request) -> first key frame ' +
      '(RTSP: first complete key-frame access unit after DESCRIBE, SETUP per track, PLAY over RTP/AVP/TCP interleaved). stalled: players ' +
      'that received nothing for > 2 s in the window, or never received, or were disconnected. missed %: video frames skipped by the server (sequence gaps). ' +
      'players CPU core: the player processes\' CPU in the window (they compete with the server for the same cores). other CPU core: everything else on the machine in the window (other jobs, kernel), a noise indicator.',
  );
  if (rss) {
    out.push('');
    out.push('## m7s RSS over a longer window');
    out.push('');
    if (rss.error) out.push(`error: ${rss.error}`);
    else {
      out.push(
        `${rss.players} RTMP players, ${rss.windowS} s, ${rss.framesSent} video frames sent: RSS start ${rss.startMb} MB, end ${rss.endMb} MB ` +
          `(growth ${rss.growthMb} MB), min ${rss.minMb}, max ${rss.maxMb}; peak in the first half ${rss.firstHalfMaxMb} MB, in the second half ` +
          `${rss.secondHalfMaxMb} MB; least-squares slope ${rss.slopeMbPerMin} MB/min.`,
      );
      const step = Math.max(1, Math.floor(rss.samples.length / 12));
      out.push('');
      out.push(`samples (s: MB): ${rss.samples.filter((_, i) => i % step === 0 || i === rss.samples.length - 1).map((x) => `${x.t}: ${x.mb}`).join(', ')}`);
    }
  }
  out.push('');
  out.push('## Targets (reported, not asserted)');
  out.push('');
  out.push(...targets(results, rss));
  const errs = results.filter((r) => r.errors && r.errors.length);
  if (errs.length) {
    out.push('');
    out.push('## Player errors');
    out.push('');
    for (const r of errs) out.push(`- ${LABEL[r.server]} ${r.protocol} N=${r.n}: ${r.errors!.join('; ')}`);
  }
  return out.join('\n') + '\n';
}

function nmsVersion(): string {
  try {
    return (JSON.parse(readFileSync(require.resolve('node-media-server/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  const opts = parseOptions(process.argv.slice(2));
  try {
    setClockTicks(Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()));
  } catch {
    // 100 is the Linux default
  }
  const tmpDir = mkdtempSync(join(tmpdir(), 'm7s-bench-'));
  const mediaDir = join(tmpdir(), 'm7s-bench-media');
  mkdirSync(mediaDir, { recursive: true });
  if (opts.cpuProf) mkdirSync(opts.cpuProf, { recursive: true });
  const file = await ensureMedia(mediaDir);
  const media = loadMedia(file);
  const started = Date.now();
  const log = (s: string): void => void process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${s}\n`);
  log(`clip ${file}: ${media.bitrateKbps} kbit/s, loop ${media.loopMs} ms; tmp ${tmpDir}`);

  if (opts.servers.includes('m7s') && opts.m7sMode === 'build') opts.m7sMain ??= await buildM7s(tmpDir);
  const workers = Array.from({ length: opts.workers }, () => new Worker());
  const results: CellResult[] = [];
  let rss: RssGrowth | undefined;
  let hlsRows: HlsCostRow[] = [];
  let hlsLatency: LlHlsLatency | undefined;
  let whepRows: WhepRow[] = [];
  const cleanup = (): void => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    for (const n of opts.n) {
      for (const server of opts.servers) {
        for (const protocol of opts.protocols) {
          if (!SERVES[server].includes(protocol)) {
            results.push({ server, protocol, n, status: 'n/a' });
            continue;
          }
          log(`${LABEL[server]} ${protocol} N=${n} ...`);
          const r = await runCell(server, protocol, n, tmpDir, opts, media, workers);
          results.push(r);
          log(
            r.status === 'ok'
              ? `  lat mean/max per 0.5 s: ${(r.timeline ?? []).map((x) => `${x.mean}/${x.max}`).join(' ')}\n  recv ${r.receiving}/${n}, cpu ${r.cpuPerPlayerS} ms/player-s (${r.cpuCore} core, ${Math.round((r.sysShare ?? 0) * 100)}% kernel, ${r.writesPerPlayerS} writes/player-s), rss ${r.rssIdleMb} -> ${r.rssMaxMb} MB, lat p50 ${r.latP50Ms} p99 ${r.latP99Ms} ms, ttff p50 ${r.ttffP50Ms} ms, stalled ${r.stalled}, missed ${r.framesMissedPct}%, players cpu ${r.clientCpuCore} core, others ${r.otherCpuCore} core`
              : `  ${r.status}: ${r.error}`,
          );
        }
      }
    }
    for (const r of results) {
      const ref = results.find((x) => x.server === 'nginx' && x.protocol === 'rtmp' && x.n === r.n && x.status === 'ok');
      if (r.status === 'ok' && r.server !== 'nginx' && ref?.cpuPerPlayerS) r.cpuVsNginx = round(r.cpuPerPlayerS! / ref.cpuPerPlayerS, 3);
      if (r.status === 'ok' && r.server === 'nginx' && ref?.cpuPerPlayerS) r.cpuVsNginx = 1;
    }
    if (opts.rssWindow > 0 && opts.servers.includes('m7s')) {
      log(`m7s RSS growth: ${opts.rssN} RTMP players for ${opts.rssWindow} s ...`);
      rss = await rssGrowth(tmpDir, opts, media, workers);
      log(rss.error ? `  error: ${rss.error}` : `  RSS ${rss.startMb} -> ${rss.endMb} MB (slope ${rss.slopeMbPerMin} MB/min)`);
    }
    if (opts.hls.streams > 0) {
      opts.hls.startOptions = { tmpDir, m7sMode: opts.m7sMode, m7sMain: opts.m7sMain, cpuProfDir: opts.cpuProf };
      hlsRows = await hlsCost(opts.hls, media, log);
      if (opts.servers.includes('m7s') && opts.hls.variants.includes('llhls')) {
        log('LL-HLS latency ...');
        hlsLatency = await llHlsLatency(opts.hls, media);
        log(hlsLatency.status === 'ok' ? `  newest p50 ${hlsLatency.newestP50Ms} ms, p99 ${hlsLatency.newestP99Ms} ms` : `  error: ${hlsLatency.error}`);
      }
    }
    if (opts.webrtc.viewers.length > 0) {
      opts.webrtc.startOptions = { tmpDir, m7sMode: opts.m7sMode, m7sMain: opts.m7sMain, cpuProfDir: opts.cpuProf };
      whepRows = await whepFanout(opts.webrtc, media, log);
    }
  } finally {
    cleanup();
    rmSync(tmpDir, { recursive: true, force: true });
  }

  const date = new Date();
  const meta = {
    date: date.toISOString(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    node: process.version,
    clip: `${DEFAULT_MEDIA.width}x${DEFAULT_MEDIA.height} ${DEFAULT_MEDIA.fps} fps H.264 GOP ${DEFAULT_MEDIA.gop} + AAC, ${media.bitrateKbps} kbit/s, looped`,
    window: opts.window,
    warmup: opts.warmup,
    workers: opts.workers,
    m7s: { build: 'sources compiled by swc into the temp dir', register: 'node -r @swc-node/register', dist: 'nest build output' }[opts.m7sMode],
    nmsVersion: nmsVersion(),
    options: opts,
  };
  const rtmpN = Math.min(...results.filter((r) => r.protocol === 'rtmp' && r.status === 'ok').map((r) => r.n));
  const rtmpRef = (server: ServerName): number | undefined => results.find((r) => r.server === server && r.protocol === 'rtmp' && r.n === rtmpN && r.status === 'ok')?.cpuPerPlayerS;
  const md =
    report(results, rss, meta) +
    (opts.hls.streams > 0 ? '\n' + hlsReport(hlsRows, hlsLatency, opts.hls) : '') +
    (whepRows.length > 0 ? '\n' + webRtcReport(whepRows, opts.webrtc, { m7s: rtmpRef('m7s'), nginx: rtmpRef('nginx'), n: Number.isFinite(rtmpN) ? rtmpN : undefined }) : '');
  process.stdout.write('\n' + md);
  if (opts.write) {
    const dir = join(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    const stamp = date.toISOString().replace(/[:.]/g, '-');
    writeFileSync(join(dir, `${stamp}.md`), md);
    writeFileSync(join(dir, `${stamp}.json`), JSON.stringify({ meta, results, rssGrowth: rss, hls: hlsRows, llHlsLatency: hlsLatency, whep: whepRows }, null, 2) + '\n');
    log(`wrote bench/results/${stamp}.md and .json`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
