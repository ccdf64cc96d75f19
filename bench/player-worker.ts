/**
 * A player process: holds many lightweight RTMP players (our RtmpClient), HTTP-FLV readers (http.get +
 * FlvTagReader) or RTSP players (our RtspClient, RTP over TCP interleaved, H264Depacketizer), measures
 * forwarding latency from the probe in each video frame, time to first key frame and stalls, and reports
 * them to the orchestrator (run.ts) over the fork IPC channel.
 */
import { ClientRequest, get as httpGet, IncomingMessage } from 'node:http';
import { Logger } from '@nestjs/common';
import { FlvTagReader, H264Depacketizer, H264NalType, parseRtpPacket, parseSdp, resolveControlUrl, rtpFormatOfSdpMedia, sdpAttribute } from '@m7s/media';
import { MessageType, RtmpClient, RtmpMessage } from '@m7s/rtmp';
import { parseTransportHeader, RtspClient } from '@m7s/rtsp';
import { newHistogram, nowUs, probe, readProbe, readProbeNals, record } from './probe';

export type Protocol = 'rtmp' | 'flv' | 'rtsp';

export type WorkerCommand =
  | { type: 'connect'; protocol: Protocol; url: string; count: number; batch: number; intervalMs: number; nalLengthSize: number }
  | { type: 'window'; on: boolean }
  | { type: 'stats' }
  | { type: 'close' };

export interface WorkerProgress {
  type: 'progress';
  started: number;
  connected: number;
  receiving: number;
  failed: number;
  closed: number;
  /** video frames received since the previous progress report, and their mean latency, ms */
  recentFrames: number;
  recentMeanMs: number;
  errors: string[];
}

export interface WorkerStats {
  type: 'stats';
  players: number;
  receiving: number;
  failed: number;
  /** closed by the server or the network after connecting */
  closed: number;
  /** players with a gap > STALL_US during the window (closed players included) */
  stalled: number;
  /** sum over players of the longest gap in the window, for the worst one */
  maxGapMs: number;
  /** video frames received in the window, and frames missing by sequence number */
  framesReceived: number;
  framesMissed: number;
  /** latency histogram (see probe.ts) */
  latency: number[];
  /** time to first key frame per player, ms */
  ttff: number[];
  /** per 500 ms slot of the window: [samples, sum of latencies ms, max latency ms] */
  timeline: number[][];
  /** the player process's own CPU time so far, ms */
  cpuMs: number;
  errors: string[];
}

const STALL_US = 2_000_000;

interface Player {
  startUs: number;
  firstKeyUs: number;
  lastUs: number;
  lastSeq: number;
  maxGapUs: number;
  stalled: boolean;
  connected: boolean;
  failed: boolean;
  closed: boolean;
  stop: () => void;
}

let players: Player[] = [];
let windowOn = false;
let windowStartUs = 0;
let hist = newHistogram();
let framesReceived = 0;
let framesMissed = 0;
let timeline: number[][] = [];
let recentFrames = 0;
let recentSumUs = 0;
let errors: string[] = [];
let generation = 0;

function note(error: unknown): void {
  if (errors.length < 5) errors.push(error instanceof Error ? error.message : String(error));
}

function newPlayer(): Player {
  return { startUs: nowUs(), firstKeyUs: 0, lastUs: 0, lastSeq: 0, maxGapUs: 0, stalled: false, connected: false, failed: false, closed: false, stop: () => undefined };
}

/** Any media bytes arrived for this player. */
function touched(p: Player, now: number): void {
  if (windowOn) {
    const gap = now - Math.max(p.lastUs, windowStartUs);
    if (gap > p.maxGapUs) p.maxGapUs = gap;
    if (gap > STALL_US) p.stalled = true;
  }
  p.lastUs = now;
}

/** A video body arrived (RTMP message payload or FLV tag body). */
function video(p: Player, body: Buffer, now: number, lengthSize: number): void {
  if (!readProbe(body, lengthSize)) return;
  probedFrame(p, body[0] >> 4 === 1, true, now);
}

/** An H.264 access unit came out of the RTP depacketizer (RTSP). */
function accessUnit(p: Player, nals: readonly Buffer[], complete: boolean, now: number): void {
  if (!readProbeNals(nals)) return;
  probedFrame(p, nals.some((n) => (n[0] & 0x1f) === H264NalType.IDR), complete, now);
}

/** A video frame whose probe was just read (into `probe`); the first one counted is a complete key frame. */
function probedFrame(p: Player, key: boolean, complete: boolean, now: number): void {
  if (p.firstKeyUs === 0) {
    if (!key || !complete) return;
    p.firstKeyUs = now;
  }
  const lat = now - probe.sendUs;
  recentFrames++;
  recentSumUs += lat;
  if (!windowOn) {
    p.lastSeq = probe.seq;
    return;
  }
  record(hist, lat);
  const slot = Math.floor((now - windowStartUs) / 500_000);
  const row = (timeline[slot] ??= [0, 0, 0]);
  row[0]++;
  row[1] += lat / 1000;
  if (lat / 1000 > row[2]) row[2] = lat / 1000;
  framesReceived++;
  if (p.lastSeq !== 0 && probe.seq > p.lastSeq + 1) framesMissed += probe.seq - p.lastSeq - 1;
  p.lastSeq = probe.seq;
}

function startRtmp(url: string, lengthSize: number, gen: number): Player {
  const p = newPlayer();
  let client: RtmpClient | undefined;
  let stopped = false;
  p.stop = () => {
    stopped = true;
    client?.conn.socket.destroy();
  };
  RtmpClient.connect(url, { timeoutMs: 20_000 })
    .then(async (c) => {
      client = c;
      if (stopped || gen !== generation) {
        c.conn.socket.destroy();
        return;
      }
      c.on('media', (msg: RtmpMessage) => {
        const now = nowUs();
        touched(p, now);
        if (msg.type === MessageType.Video) video(p, msg.payload, now, lengthSize);
      });
      c.on('close', () => {
        if (!stopped) p.closed = true;
      });
      await c.play();
      p.connected = true;
    })
    .catch((error: unknown) => {
      if (stopped) return;
      p.failed = true;
      note(error);
      client?.conn.socket.destroy();
    });
  return p;
}

/**
 * An RTSP player over TCP interleaved: DESCRIBE, SETUP of every track we can read (RTP on channel 2i,
 * RTCP on 2i+1), PLAY; the video track's RTP is depacketized into access units whose probe is read. Audio
 * and RTCP only count as activity (audio RTP) or are ignored (RTCP).
 */
function startRtsp(url: string, gen: number): Player {
  const p = newPlayer();
  let client: RtspClient | undefined;
  let stopped = false;
  p.stop = () => {
    stopped = true;
    client?.conn.socket.destroy();
  };
  const play = async (c: RtspClient): Promise<void> => {
    const described = await c.request('DESCRIBE', c.baseUrl, { Accept: 'application/sdp' });
    const sdp = parseSdp(described.body);
    const base = described.headers.get('content-base') ?? described.headers.get('content-location') ?? c.baseUrl;
    const rtpChannels = new Set<number>();
    let videoChannel = -1;
    let videoPayloadType = -1;
    let index = 0;
    for (const media of sdp.media) {
      const format = rtpFormatOfSdpMedia(media);
      if (!format) continue;
      const wanted = [2 * index, 2 * index + 1];
      index++;
      const res = await c.request('SETUP', resolveControlUrl(base, sdpAttribute(media.attributes, 'control')), {
        Transport: `RTP/AVP/TCP;unicast;interleaved=${wanted[0]}-${wanted[1]}`,
      });
      // the server may pick other channels; its answer is what it sends on
      const channel = parseTransportHeader(res.headers.get('transport') ?? '')[0]?.interleaved?.[0] ?? wanted[0];
      rtpChannels.add(channel);
      if (format.encoding === 'H264' && videoChannel < 0) {
        videoChannel = channel;
        videoPayloadType = format.payloadType;
      }
    }
    if (videoChannel < 0) throw new Error('RTSP: no H.264 track in the SDP');
    const depacketizer = new H264Depacketizer();
    c.on('interleaved', (channel: number, data: Buffer) => {
      if (!rtpChannels.has(channel)) return;
      const now = nowUs();
      touched(p, now);
      if (channel !== videoChannel) return;
      try {
        const pkt = parseRtpPacket(data);
        if (pkt.payloadType !== videoPayloadType) return;
        for (const au of depacketizer.push(pkt)) accessUnit(p, au.nals, au.complete, now);
      } catch (error) {
        note(error);
      }
    });
    await c.request('PLAY', resolveControlUrl(base, sdpAttribute(sdp.attributes, 'control')), { Range: 'npt=0.000-' });
  };
  RtspClient.connect(url, { timeout: 20_000 })
    .then(async (c) => {
      client = c;
      if (stopped || gen !== generation) {
        c.conn.socket.destroy();
        return;
      }
      c.on('close', () => {
        if (!stopped) p.closed = true;
      });
      await play(c);
      p.connected = true;
    })
    .catch((error: unknown) => {
      if (stopped) return;
      p.failed = true;
      note(error);
      client?.conn.socket.destroy();
    });
  return p;
}

function startFlv(url: string, lengthSize: number): Player {
  const p = newPlayer();
  let stopped = false;
  let res: IncomingMessage | undefined;
  const reader = new FlvTagReader({ maxTagSize: 8 * 1024 * 1024 });
  const req: ClientRequest = httpGet(url, { agent: false }, (r) => {
    res = r;
    if (r.statusCode !== 200) {
      p.failed = true;
      note(`HTTP ${r.statusCode}`);
      r.resume();
      return;
    }
    p.connected = true;
    r.on('data', (chunk: Buffer) => {
      const now = nowUs();
      touched(p, now);
      let tags;
      try {
        tags = reader.push(chunk);
      } catch (error) {
        note(error);
        p.closed = true;
        r.destroy();
        return;
      }
      for (const tag of tags) if (tag.type === 9) video(p, tag.body, now, lengthSize);
    });
    r.on('error', () => undefined);
    r.on('close', () => {
      if (!stopped) p.closed = true;
    });
  });
  p.stop = () => {
    stopped = true;
    res?.destroy();
    req.destroy();
  };
  req.setTimeout(20_000, () => {
    if (!p.connected) req.destroy(new Error('HTTP-FLV connect timed out'));
  });
  req.on('error', (error) => {
    if (stopped) return;
    if (!p.connected) p.failed = true;
    else p.closed = true;
    note(error);
  });
  return p;
}

function progress(started: number): WorkerProgress {
  let connected = 0;
  let receiving = 0;
  let failed = 0;
  let closed = 0;
  for (const p of players) {
    if (p.connected) connected++;
    if (p.firstKeyUs) receiving++;
    if (p.failed) failed++;
    if (p.closed) closed++;
  }
  const recentMeanMs = recentFrames ? recentSumUs / recentFrames / 1000 : 0;
  const frames = recentFrames;
  recentFrames = 0;
  recentSumUs = 0;
  return { type: 'progress', started, connected, receiving, failed, closed, recentFrames: frames, recentMeanMs, errors: errors.slice() };
}

function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function stats(): WorkerStats {
  let stalled = 0;
  let maxGapUs = 0;
  let receiving = 0;
  let failed = 0;
  let closed = 0;
  const ttff: number[] = [];
  for (const p of players) {
    if (p.failed) failed++;
    if (p.closed) closed++;
    if (p.firstKeyUs) {
      receiving++;
      ttff.push((p.firstKeyUs - p.startUs) / 1000);
    }
    if (p.closed || p.failed || !p.firstKeyUs) p.stalled = true;
    if (p.stalled) stalled++;
    if (p.maxGapUs > maxGapUs) maxGapUs = p.maxGapUs;
  }
  return {
    type: 'stats',
    players: players.length,
    receiving,
    failed,
    closed,
    stalled,
    maxGapMs: maxGapUs / 1000,
    framesReceived,
    framesMissed,
    latency: Array.from(hist),
    timeline: Array.from(timeline, (r) => r ?? [0, 0, 0]),
    ttff,
    cpuMs: ownCpuMs(),
    errors: errors.slice(),
  };
}

function send(msg: WorkerProgress | WorkerStats | { type: 'closed' }): void {
  process.send?.(msg);
}

function connect(cmd: Extract<WorkerCommand, { type: 'connect' }>): void {
  const gen = ++generation;
  let started = 0;
  const batch = (): void => {
    if (gen !== generation) return;
    for (let i = 0; i < cmd.batch && started < cmd.count; i++, started++) {
      players.push(
        cmd.protocol === 'rtmp' ? startRtmp(cmd.url, cmd.nalLengthSize, gen) : cmd.protocol === 'rtsp' ? startRtsp(cmd.url, gen) : startFlv(cmd.url, cmd.nalLengthSize),
      );
    }
    send(progress(started));
    if (started < cmd.count) setTimeout(batch, cmd.intervalMs);
  };
  batch();
  const report = setInterval(() => {
    if (gen !== generation) return clearInterval(report);
    send(progress(started));
  }, 250);
}

function closeAll(): void {
  generation++;
  for (const p of players) p.stop();
  players = [];
  windowOn = false;
  windowStartUs = 0;
  hist = newHistogram();
  framesReceived = 0;
  framesMissed = 0;
  timeline = [];
  errors = [];
}

Logger.overrideLogger(['error']);
process.on('message', (cmd: WorkerCommand) => {
  switch (cmd.type) {
    case 'connect':
      connect(cmd);
      break;
    case 'window':
      if (cmd.on) {
        windowStartUs = nowUs();
        hist = newHistogram();
        framesReceived = 0;
        framesMissed = 0;
        timeline = [];
        for (const p of players) {
          p.maxGapUs = 0;
          p.stalled = false;
        }
      }
      if (!cmd.on && windowOn) {
        // gaps still open when the window closes count too
        const now = nowUs();
        for (const p of players) touched(p, now);
      }
      windowOn = cmd.on;
      break;
    case 'stats':
      send(stats());
      break;
    case 'close':
      closeAll();
      setTimeout(() => send({ type: 'closed' }), 200);
      break;
  }
});
process.on('disconnect', () => process.exit(0));
