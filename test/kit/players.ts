import { request } from 'node:http';
import { connect } from 'node:net';
import { FlvTagReader, parseVideoBody } from '@m7s/media';
import { MessageType, RtmpClient, RtmpMessage } from '@m7s/rtmp';

export interface ReceivedVideo {
  at: number;
  timestamp: number;
  type: 'config' | 'frame' | 'end' | 'ignored';
  keyFrame: boolean;
}

/** A test player: what it received, when. */
export interface TestPlayer {
  /** when the play request was sent */
  askedAt: number;
  video: ReceivedVideo[];
  audioCount: number;
  bytes: number;
  statuses: string[];
  ended: boolean;
  close(): void;
}

function videoOf(payload: Buffer, timestamp: number): ReceivedVideo {
  const result = parseVideoBody(payload);
  return { at: Date.now(), timestamp, type: result.type, keyFrame: result.type === 'frame' && result.keyFrame };
}

/** Plays an RTMP url with the project's client and records what arrives. */
export async function playRtmp(url: string): Promise<TestPlayer & { client: RtmpClient }> {
  const client = await RtmpClient.connect(url);
  const player = {
    client,
    askedAt: Date.now(),
    video: [] as ReceivedVideo[],
    audioCount: 0,
    bytes: 0,
    statuses: [] as string[],
    ended: false,
    close: () => client.close(),
  };
  client.on('status', (info: Record<string, unknown>) => player.statuses.push(String(info.code)));
  client.on('close', () => (player.ended = true));
  client.on('media', (msg: RtmpMessage) => {
    player.bytes += msg.payload.length;
    if (msg.type === MessageType.Video) player.video.push(videoOf(msg.payload, msg.timestamp));
    else if (msg.type === MessageType.Audio) player.audioCount++;
  });
  await client.play();
  return player;
}

/** Plays an HTTP-FLV url and records the video tags. */
export function playHttpFlv(url: string): TestPlayer {
  const reader = new FlvTagReader();
  const player: TestPlayer = { askedAt: Date.now(), video: [], audioCount: 0, bytes: 0, statuses: [], ended: false, close: () => req.destroy() };
  const req = request(url, (res) => {
    player.statuses.push(String(res.statusCode));
    res.on('data', (chunk: Buffer) => {
      player.bytes += chunk.length;
      for (const tag of reader.push(chunk)) {
        if (tag.type === 9) player.video.push(videoOf(tag.body, tag.timestamp));
        else if (tag.type === 8) player.audioCount++;
      }
    });
    res.on('end', () => (player.ended = true));
    res.on('close', () => (player.ended = true));
  });
  req.on('error', () => (player.ended = true));
  req.end();
  return player;
}

/** Video frames (not configs) a player got. */
export function framesOf(player: TestPlayer): ReceivedVideo[] {
  return player.video.filter((v) => v.type === 'frame');
}

/**
 * A player that asks for an HTTP-FLV url and then never reads a byte: its TCP window closes at once,
 * so the server sees its backlog grow. Returns a function that closes it.
 */
export function stallHttpFlv(url: string): () => void {
  const target = new URL(url);
  const socket = connect({ host: target.hostname, port: Number(target.port) }, () => {
    socket.write(`GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n\r\n`);
    socket.pause();
  });
  socket.on('error', () => undefined);
  return () => socket.destroy();
}
