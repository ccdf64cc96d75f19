/**
 * The HLS part of `npm run bench`: the CPU cost of HLS for many streams (m7s-nest MPEG-TS, fMP4 and LL-HLS
 * variants beside nginx-rtmp's HLS), and LL-HLS latency from publish to the part being served.
 *
 * Cost: S streams published over RTMP (the bench clip, looped), first with no HLS reader (ingest only),
 * then with one HLS client per stream (classic: polls the playlist, fetches each new segment; LL-HLS: a
 * preload-hinted part request and a blocking playlist reload in turn, as hls.js does). The server's CPU
 * over the window, per stream-second; HLS cost = that minus the ingest-only figure of the same server.
 * nginx-rtmp cuts HLS whether or not anyone reads it, so its ingest-only run has `hls off`.
 *
 * Latency: one LL-HLS client; for each part served, the time from the publisher sending a frame (the probe
 * in each video frame, probe.ts) to the part holding it arriving at the client, for the part's newest and
 * oldest frame.
 */
import { BenchMedia, BenchPublisher } from './media';
import { newHistogram, nowUs, probesIn, quantileMs, record, histogramCount } from './probe';
import { procCpuTimes, ServerHandle, ServerName, startServer, StartOptions } from './servers';

export type HlsVariant = 'ts' | 'fmp4' | 'llhls' | 'none';

export interface HlsCostRow {
  server: ServerName;
  variant: HlsVariant;
  streams: number;
  status: 'ok' | 'error';
  error?: string;
  windowS?: number;
  /** server CPU ms per stream-second */
  cpuPerStreamS?: number;
  /** the same minus the ingest-only row of this server: what HLS adds */
  hlsCpuPerStreamS?: number;
  /** that, over nginx-rtmp's */
  vsNginx?: number;
  /** share of that CPU in the kernel (system time) */
  sysShare?: number;
  /** segments (or parts) the clients fetched in the window, and their bytes */
  fetched?: number;
  mbFetched?: number;
  clientErrors?: number;
}

export interface LlHlsLatency {
  status: 'ok' | 'error';
  error?: string;
  parts?: number;
  /** publish of the part's newest frame -> part received, ms */
  newestP50Ms?: number;
  newestP99Ms?: number;
  /** publish of the part's oldest frame -> part received, ms (adds the part's own duration) */
  oldestP50Ms?: number;
  oldestP99Ms?: number;
}

export interface HlsBenchOptions {
  streams: number;
  windowS: number;
  warmupS: number;
  variants: HlsVariant[];
  servers: ServerName[];
  /** HLS segment length asked of both servers, seconds */
  segmentS: number;
  startOptions: Omit<StartOptions, 'streamPath'>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Playlist {
  mediaSequence: number;
  targetDuration: number;
  segments: string[];
  /** parts after the last full segment (the segment being cut) */
  openParts: number;
  preloadHint: string | undefined;
}

function parsePlaylist(text: string): Playlist {
  const p: Playlist = { mediaSequence: 0, targetDuration: 2, segments: [], openParts: 0, preloadHint: undefined };
  let afterInf = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) p.mediaSequence = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) p.targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXTINF:')) afterInf = true;
    else if (line.startsWith('#EXT-X-PART:')) p.openParts++;
    else if (line.startsWith('#EXT-X-PRELOAD-HINT:')) p.preloadHint = /URI="([^"]+)"/.exec(line)?.[1];
    else if (line && !line.startsWith('#') && afterInf) {
      p.segments.push(line);
      p.openParts = 0;
      afterInf = false;
    }
  }
  return p;
}

/** One HLS reader of one stream, in this process. */
class HlsClient {
  fetched = 0;
  bytes = 0;
  errors = 0;
  private stopped = false;
  private readonly seen = new Set<string>();
  private readonly abort = new AbortController();

  constructor(
    private readonly playlistUrl: string,
    private readonly lowLatency: boolean,
    private readonly onPart?: (part: Buffer, receivedUs: number) => void,
  ) {}

  start(): void {
    void (this.lowLatency ? this.runLowLatency() : this.runClassic()).catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  private async get(url: string): Promise<Buffer> {
    const res = await fetch(url, { signal: this.abort.signal });
    const body = Buffer.from(await res.arrayBuffer());
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return body;
  }

  private async runClassic(): Promise<void> {
    while (!this.stopped) {
      let wait = 1000;
      try {
        const playlist = parsePlaylist((await this.get(this.playlistUrl)).toString());
        wait = (playlist.targetDuration * 1000) / 2;
        for (const uri of playlist.segments) {
          if (this.seen.has(uri)) continue;
          this.seen.add(uri);
          const data = await this.get(new URL(uri, this.playlistUrl).href);
          this.fetched++;
          this.bytes += data.length;
        }
        if (this.seen.size > 200) this.seen.clear();
      } catch {
        if (this.stopped) return;
        this.errors++;
      }
      await sleep(wait);
    }
  }

  /** hls.js-like: fetch the preload-hinted part (the server holds it until the part exists), then a blocking reload for the playlist that lists it. */
  private async runLowLatency(): Promise<void> {
    let playlistUrl = this.playlistUrl;
    while (!this.stopped) {
      try {
        const playlist = parsePlaylist((await this.get(playlistUrl)).toString());
        if (!playlist.preloadHint) throw new Error('no EXT-X-PRELOAD-HINT');
        const part = await this.get(new URL(playlist.preloadHint, playlistUrl).href);
        const receivedUs = nowUs();
        this.fetched++;
        this.bytes += part.length;
        this.onPart?.(part, receivedUs);
        const next = new URL(this.playlistUrl);
        next.searchParams.set('_HLS_msn', String(playlist.mediaSequence + playlist.segments.length));
        next.searchParams.set('_HLS_part', String(playlist.openParts));
        playlistUrl = next.href;
      } catch {
        if (this.stopped) return;
        this.errors++;
        playlistUrl = this.playlistUrl;
        await sleep(200);
      }
    }
  }
}

/** The playlist URL of a stream for a variant. */
function playlistUrl(server: ServerHandle, streamPath: string, variant: HlsVariant): string {
  if (!server.httpUrl) throw new Error(`${server.name} has no HTTP listener`);
  if (server.name === 'nginx') return `${server.httpUrl}/hls/${streamPath.split('/').pop()}.m3u8`;
  return `${server.httpUrl}/hls/${streamPath}.m3u8?format=${variant}`;
}

function serverStartOptions(name: ServerName, variant: HlsVariant, o: HlsBenchOptions): StartOptions {
  const base: StartOptions = { ...o.startOptions, streamPath: 'live/hls0' };
  if (name !== 'm7s') delete base.cpuProfDir;
  if (name === 'nginx') return variant === 'none' ? base : { ...base, nginxHls: { fragmentS: o.segmentS, playlistS: o.segmentS * 5 } };
  return { ...base, env: { ...base.env, M7S_HLS__SEGMENTDURATION: `${o.segmentS}s` } };
}

async function costRow(name: ServerName, variant: HlsVariant, o: HlsBenchOptions, media: BenchMedia): Promise<HlsCostRow> {
  const row: HlsCostRow = { server: name, variant, streams: o.streams, status: 'ok' };
  const server = await startServer(name, serverStartOptions(name, variant, o));
  const publishers: BenchPublisher[] = [];
  const clients: HlsClient[] = [];
  try {
    const rtmpBase = server.rtmpUrl.replace(/live\/hls0$/, '');
    for (let i = 0; i < o.streams; i++) {
      const publisher = new BenchPublisher(media, `${rtmpBase}live/hls${i}`);
      publishers.push(publisher);
      await publisher.start();
    }
    if (variant !== 'none') {
      for (let i = 0; i < o.streams; i++) {
        const client = new HlsClient(playlistUrl(server, `live/hls${i}`, variant), variant === 'llhls');
        clients.push(client);
        client.start();
      }
      // Every client has fetched something before the window.
      const deadline = Date.now() + 30_000 + o.segmentS * 3000;
      while (clients.some((c) => c.fetched === 0) && Date.now() < deadline) await sleep(200);
      if (clients.some((c) => c.fetched === 0)) throw new Error(`${clients.filter((c) => c.fetched === 0).length} HLS clients got nothing`);
    }
    await sleep(o.warmupS * 1000);
    const fetched0 = clients.reduce((n, c) => n + c.fetched, 0);
    const bytes0 = clients.reduce((n, c) => n + c.bytes, 0);
    const errors0 = clients.reduce((n, c) => n + c.errors, 0);
    const cpu0 = procCpuTimes(server.pid);
    const t0 = process.hrtime.bigint();
    await sleep(o.windowS * 1000);
    const cpu1 = procCpuTimes(server.pid);
    const windowS = Number(process.hrtime.bigint() - t0) / 1e9;
    if (publishers.some((p) => p.closed)) throw new Error(`a publisher was disconnected\n${server.output()}`);
    const cpuMs = cpu1.user + cpu1.sys - (cpu0.user + cpu0.sys);
    row.windowS = Math.round(windowS * 100) / 100;
    row.cpuPerStreamS = Math.round((cpuMs / (o.streams * windowS)) * 1000) / 1000;
    row.sysShare = Math.round(((cpu1.sys - cpu0.sys) / Math.max(1, cpuMs)) * 100) / 100;
    row.fetched = clients.reduce((n, c) => n + c.fetched, 0) - fetched0;
    row.mbFetched = Math.round(((clients.reduce((n, c) => n + c.bytes, 0) - bytes0) / 1e6) * 10) / 10;
    row.clientErrors = clients.reduce((n, c) => n + c.errors, 0) - errors0;
  } catch (error) {
    row.status = 'error';
    row.error = error instanceof Error ? error.message.split('\n').slice(0, 4).join(' | ') : String(error);
  } finally {
    for (const c of clients) c.stop();
    for (const p of publishers) p.stop();
    await server.stop();
  }
  return row;
}

export async function hlsCost(o: HlsBenchOptions, media: BenchMedia, log: (s: string) => void): Promise<HlsCostRow[]> {
  const rows: HlsCostRow[] = [];
  for (const server of o.servers) {
    const variants: HlsVariant[] = server === 'nginx' ? ['none', 'ts'] : server === 'm7s' ? ['none', ...o.variants] : [];
    for (const variant of variants) {
      log(`HLS cost: ${server} ${variant === 'none' ? 'ingest only' : variant}, ${o.streams} streams ...`);
      const row = await costRow(server, variant, o, media);
      rows.push(row);
      log(row.status === 'ok' ? `  ${row.cpuPerStreamS} CPU ms/stream-s (${Math.round((row.sysShare ?? 0) * 100)}% kernel), ${row.fetched} fetched (${row.mbFetched} MB), ${row.clientErrors} client errors` : `  error: ${row.error}`);
    }
  }
  for (const row of rows) {
    const ingest = rows.find((r) => r.server === row.server && r.variant === 'none' && r.status === 'ok');
    if (row.status === 'ok' && row.variant !== 'none' && ingest?.cpuPerStreamS !== undefined) {
      row.hlsCpuPerStreamS = Math.round((row.cpuPerStreamS! - ingest.cpuPerStreamS) * 1000) / 1000;
    }
  }
  const nginx = rows.find((r) => r.server === 'nginx' && r.variant === 'ts')?.hlsCpuPerStreamS;
  for (const row of rows) if (row.hlsCpuPerStreamS !== undefined && nginx) row.vsNginx = Math.round((row.hlsCpuPerStreamS / nginx) * 100) / 100;
  return rows;
}

export async function llHlsLatency(o: HlsBenchOptions, media: BenchMedia): Promise<LlHlsLatency> {
  const server = await startServer('m7s', serverStartOptions('m7s', 'llhls', o));
  const publisher = new BenchPublisher(media, server.rtmpUrl);
  const newest = newHistogram();
  const oldest = newHistogram();
  let measuring = false;
  const client = new HlsClient(playlistUrl(server, 'live/hls0', 'llhls'), true, (part, receivedUs) => {
    if (!measuring) return;
    const probes = probesIn(part);
    if (probes.length === 0) return;
    const sent = probes.map((p) => p.sendUs);
    record(newest, receivedUs - Math.max(...sent));
    record(oldest, receivedUs - Math.min(...sent));
  });
  try {
    await publisher.start();
    client.start();
    const deadline = Date.now() + 30_000;
    while (client.fetched === 0 && Date.now() < deadline) await sleep(200);
    if (client.fetched === 0) throw new Error('the LL-HLS client got no part');
    await sleep(o.warmupS * 1000);
    measuring = true;
    await sleep(o.windowS * 1000);
    measuring = false;
    return {
      status: 'ok',
      parts: histogramCount(newest),
      newestP50Ms: quantileMs(newest, 0.5),
      newestP99Ms: quantileMs(newest, 0.99),
      oldestP50Ms: quantileMs(oldest, 0.5),
      oldestP99Ms: quantileMs(oldest, 0.99),
    };
  } catch (error) {
    return { status: 'error', error: error instanceof Error ? error.message : String(error) };
  } finally {
    client.stop();
    publisher.stop();
    await server.stop();
  }
}

const fmt = (x: number | undefined, digits = 2): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

export function hlsReport(rows: HlsCostRow[], latency: LlHlsLatency | undefined, o: HlsBenchOptions): string {
  const out: string[] = ['## HLS', ''];
  out.push(
    `${o.streams} streams published over RTMP (the clip), ${o.segmentS} s segments asked of both servers; one HLS client per stream in the bench process ` +
      `(classic: playlist polled every half target duration, each new segment fetched; LL-HLS: preload-hinted part + blocking reload in turn). Window ${o.windowS} s after ${o.warmupS} s warm-up. ` +
      'CPU ms/stream-s: server utime+stime / (streams x window). HLS cost: minus the same server\'s ingest-only row (nginx-rtmp: `hls off`). vs nginx: HLS cost over nginx-rtmp\'s HLS cost (MPEG-TS, files on disk served by its own http block).',
  );
  out.push('');
  out.push('| server | variant | status | CPU ms/stream-s | kernel % | HLS cost ms/stream-s | vs nginx | fetched | MB | client errors |');
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    out.push(
      `| ${r.server} | ${r.variant === 'none' ? 'ingest only' : r.variant} | ${r.status === 'ok' ? 'ok' : `error: ${r.error ?? ''}`.slice(0, 120)} | ${fmt(r.cpuPerStreamS, 3)} | ${fmt((r.sysShare ?? NaN) * 100, 0)} | ${fmt(r.hlsCpuPerStreamS, 3)} | ${fmt(r.vsNginx)} | ${r.fetched ?? '-'} | ${fmt(r.mbFetched, 1)} | ${r.clientErrors ?? '-'} |`,
    );
  }
  if (latency) {
    out.push('');
    if (latency.status === 'error') out.push(`LL-HLS latency: error: ${latency.error}`);
    else {
      out.push(
        `LL-HLS latency, publish -> part received (${latency.parts} parts): newest frame of the part p50 ${fmt(latency.newestP50Ms, 1)} ms, p99 ${fmt(latency.newestP99Ms, 1)} ms; ` +
          `oldest frame p50 ${fmt(latency.oldestP50Ms, 1)} ms, p99 ${fmt(latency.oldestP99Ms, 1)} ms.`,
      );
    }
  }
  return out.join('\n') + '\n';
}
