import { join } from 'node:path';
import { spawnTracked, stopTracked, Tracked } from './process';
import { waitFor } from './wait';

/** One line gst-webrtc.py printed (JSON): offer, answer, refused, connected, track, sent, frame, audio, deleted, error, exit. */
export interface GstWebrtcEvent {
  event: string;
  [field: string]: unknown;
}

/** h265-main10: a player's H.265 format with profile-id=2 (no publisher encodes it). */
export type GstWebrtcCodec = 'h265' | 'h264' | 'h265-main10';

export interface GstWebrtcOptions {
  /** Publisher: the one codec it encodes (default h265). Player: the codecs its offer lists, in order. */
  codec?: GstWebrtcCodec | GstWebrtcCodec[];
  /** Opus audio beside the video (default true). */
  audio?: boolean;
}

/** A GStreamer webrtcbin client (WHIP publisher or WHEP player) and what it reported so far. */
export interface GstWebrtcClient {
  process: Tracked;
  events: GstWebrtcEvent[];
  /** The HTTP status of the POST (201, or the 4xx/5xx of a refusal) once it is known. */
  status: number | undefined;
  /** The session resource (absolute URL) of a 201. */
  location: string | undefined;
  answerSdp: string | undefined;
  connected: boolean;
  /** Publisher: video frames encoded and sent. Player: video frames decoded. */
  videoFrames: number;
  /** Player: audio buffers decoded. */
  audioFrames: number;
  /** Player: the encoding names (H265, H264, OPUS) of the tracks the server sent. */
  tracks: { kind: string; codec: string }[];
  /** Size of the decoded video (player). */
  size: { width: number; height: number } | undefined;
  /** Messages of error events. */
  errors: string[];
  /** Waits for the 201 (or a refusal: then throws with its status and body). */
  answered(timeoutMs?: number): Promise<void>;
  /** SIGTERM: the script DELETEs the session and exits; resolves with its exit code. */
  close(): Promise<number | null>;
}

const SCRIPT = join(__dirname, 'gst-webrtc.py');

function start(mode: 'publish' | 'play', url: string, options: GstWebrtcOptions): GstWebrtcClient {
  const codecs = Array.isArray(options.codec) ? options.codec : [options.codec ?? 'h265'];
  const args = [SCRIPT, mode, url, codecs.join(',')];
  if (options.audio === false) args.push('--no-audio');
  // Debian's python3 has the GI bindings (python3-gi); a python3 earlier in PATH (pyenv) may not.
  const tracked = spawnTracked('/usr/bin/python3', args, { env: { ...process.env, GST_DEBUG: process.env.GST_DEBUG ?? '1', GST_DEBUG_NO_COLOR: '1' } });
  tracked.child.stdin?.end();
  const client: GstWebrtcClient = {
    process: tracked,
    events: [],
    status: undefined,
    location: undefined,
    answerSdp: undefined,
    connected: false,
    videoFrames: 0,
    audioFrames: 0,
    tracks: [],
    size: undefined,
    errors: [],
    answered: async (timeoutMs = 30_000) => {
      await waitFor(() => client.status !== undefined || tracked.child.exitCode !== null, `the ${mode} POST to ${url} to be answered`, timeoutMs);
      if (client.status !== 201) throw new Error(`gst-webrtc ${mode} ${url}: ${client.status ?? 'no answer'} ${describe(client)}`);
    },
    close: async () => {
      // SIGTERM lets it DELETE its session; SIGKILL if it has not gone in 15 s.
      const timer = setTimeout(() => tracked.child.kill('SIGKILL'), 15_000);
      await stopTracked(tracked, 'SIGTERM');
      clearTimeout(timer);
      return tracked.child.exitCode;
    },
  };
  let pending = '';
  tracked.child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      let event: GstWebrtcEvent;
      try {
        event = JSON.parse(line) as GstWebrtcEvent;
      } catch {
        client.errors.push(`not JSON: ${line}`);
        continue;
      }
      client.events.push(event);
      apply(client, event);
    }
  });
  return client;
}

function apply(client: GstWebrtcClient, e: GstWebrtcEvent): void {
  switch (e.event) {
    case 'answer':
      client.status = Number(e.status);
      client.location = String(e.location);
      client.answerSdp = String(e.sdp);
      break;
    case 'refused':
      client.status = Number(e.status);
      break;
    case 'connected':
      client.connected = true;
      break;
    case 'track':
      client.tracks.push({ kind: String(e.kind), codec: String(e.codec) });
      break;
    case 'sent':
    case 'frame':
      if (e.kind === 'video') client.videoFrames = Math.max(client.videoFrames, Number(e.count));
      if (e.event === 'frame') client.size = { width: Number(e.width), height: Number(e.height) };
      break;
    case 'audio':
      client.audioFrames = Math.max(client.audioFrames, Number(e.count));
      break;
    case 'error':
      client.errors.push(String(e.message));
      break;
  }
}

/** The refusal body, errors and stderr tail of a client, for failure messages. */
function describe(client: GstWebrtcClient): string {
  const refused = client.events.find((e) => e.event === 'refused');
  return [refused ? String(refused.body).trim() : '', ...client.errors, client.process.stderr().slice(-2000)].filter(Boolean).join(' | ');
}

/** GStreamer (webrtcbin) publishes a live test pattern (x265enc or x264enc, plus Opus) to a WHIP url. */
export function publishWithGstreamer(url: string, options: GstWebrtcOptions = {}): GstWebrtcClient {
  return start('publish', url, options);
}

/** GStreamer (webrtcbin) plays a WHEP url, offering `codec` (one or several) and Opus, and decodes what comes. */
export function playWithGstreamer(url: string, options: GstWebrtcOptions = {}): GstWebrtcClient {
  return start('play', url, options);
}

/**
 * The ERROR lines GStreamer logged (GST_DEBUG=1): element errors, and libav's own decode errors (a missing
 * reference, a corrupt slice), which never reach the bus.
 */
export function gstErrorLines(client: GstWebrtcClient): string[] {
  return client.process.stderr().split('\n').filter((line) => / ERROR /.test(line));
}

/** What went wrong with a client, for an assertion message. */
export function gstWebrtcReport(client: GstWebrtcClient): string {
  return `status ${client.status}, connected ${client.connected}, video ${client.videoFrames}, audio ${client.audioFrames}: ${describe(client)}`;
}
