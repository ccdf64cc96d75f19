/**
 * Regenerates the RTMP fixtures of this folder from a real FFmpeg, and checks FFmpeg can play
 * from our encoder. Not part of the test run; run by hand:
 *
 *   node -r @swc-node/register libs/rtmp/test-fixtures/capture-ffmpeg.ts capture   # writes *.bin
 *   node -r @swc-node/register libs/rtmp/test-fixtures/capture-ffmpeg.ts play [FILE] # ffmpeg plays a fixture from us
 *   (env CHUNK_SIZE: our outgoing chunk size, default 4096)
 *
 * capture: a throwaway RTMP server on 127.0.0.1 (built on src/protocol) accepts one publish and
 * writes every byte FFmpeg sent (handshake included) to ffmpeg-publish*.bin.
 * play: serves the messages of ffmpeg-publish.bin to `ffmpeg -i rtmp://...` (digest handshake,
 * type 0 + shared continuation chunks, chunk size 4096) and reports what FFmpeg decoded.
 */
import { spawn } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import {
  ChunkDecoder,
  RtmpServerHandshake,
  MessageType,
  RtmpMessage,
  buildSetChunkSize,
  buildWindowAckSize,
  buildSetPeerBandwidth,
  buildStreamBegin,
  buildStreamEof,
  chunkBodyWithContinuations,
  chunkFirstHeader,
  commandMessage,
  dataMessage,
  decodeCommand,
  decodeData,
  encodeConnectResult,
  encodeMessage,
  encodeOnMetaData,
  encodeOnStatus,
  encodeResult,
  encodeSampleAccess,
  metadataOf,
  NetStatus,
  statusInfo,
} from '../src/protocol';

const FFMPEG = process.env.FFMPEG ?? 'ffmpeg';
const OUT_CHUNK = Number(process.env.CHUNK_SIZE ?? 4096);

function runServer(onMessage: (sock: Socket, m: RtmpMessage, send: (m: RtmpMessage) => void) => void, record?: Buffer[]): Promise<{ port: number; close: () => void }> {
  return new Promise((resolve) => {
    const server = createServer((sock) => {
      const hs = new RtmpServerHandshake();
      const dec = new ChunkDecoder();
      const send = (m: RtmpMessage) => sock.write(encodeMessage(m, OUT_CHUNK));
      let handshaking = true;
      sock.on('data', (d: Buffer) => {
        record?.push(Buffer.from(d));
        let input = d;
        if (handshaking) {
          const r = hs.push(d);
          if (r.send) sock.write(r.send);
          if (!r.done) return;
          handshaking = false;
          sock.write(encodeMessage(buildSetChunkSize(OUT_CHUNK), 128));
          console.error(`handshake: ${hs.scheme}, client version ${hs.clientFlashVersion}`);
          input = r.rest ?? Buffer.alloc(0);
        }
        for (const m of dec.push(input)) onMessage(sock, m, send);
      });
      sock.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({ port, close: () => server.close() });
    });
  });
}

function answerCommands(m: RtmpMessage, send: (m: RtmpMessage) => void, onPlay?: (streamId: number) => void): void {
  if (m.type !== MessageType.CommandAmf0 && m.type !== MessageType.CommandAmf3) return;
  const c = decodeCommand(m);
  console.error('command', c.name, c.transactionId, JSON.stringify(c.args));
  switch (c.name) {
    case 'connect':
      send(buildWindowAckSize(2_500_000));
      send(buildSetPeerBandwidth(2_500_000, 2));
      send(commandMessage(encodeConnectResult(c.transactionId)));
      break;
    case 'createStream':
      send(commandMessage(encodeResult(c.transactionId, null, 1)));
      break;
    case 'publish':
      send(commandMessage(encodeOnStatus(statusInfo(NetStatus.PublishStart)), m.streamId));
      break;
    case 'play':
      onPlay?.(m.streamId);
      break;
    default:
      if (c.transactionId) send(commandMessage(encodeResult(c.transactionId, null, undefined)));
  }
}

function ffmpeg(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(FFMPEG, ['-hide_banner', '-nostdin', '-y', ...args]);
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

async function capture(name: string, extra: string[]): Promise<void> {
  const record: Buffer[] = [];
  const srv = await runServer((_s, m, send) => answerCommands(m, send), record);
  const r = await ffmpeg([
    '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
    '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-b:a', '64k', ...extra,
    '-f', 'flv', `rtmp://127.0.0.1:${srv.port}/live/x`,
  ]);
  srv.close();
  const file = join(__dirname, name);
  writeFileSync(file, Buffer.concat(record));
  console.error(`ffmpeg exit ${r.code}; wrote ${file} (${Buffer.concat(record).length} bytes)`);
  if (r.code !== 0) console.error(r.stderr.slice(-2000));
}

async function play(): Promise<void> {
  // messages of the recorded publish
  const bytes = readFileSync(join(__dirname, process.argv[3] ?? 'ffmpeg-publish.bin'));
  const hs = new RtmpServerHandshake();
  const r = hs.push(bytes);
  const msgs = new ChunkDecoder().push(r.rest!);
  const media = msgs.filter((m) => m.type === MessageType.Audio || m.type === MessageType.Video);
  const meta = msgs.filter((m) => m.type === MessageType.DataAmf0).map((m) => metadataOf(decodeData(m))).find(Boolean);
  const srv = await runServer((sock, m, send) =>
    answerCommands(m, send, (sid) => {
      send(buildStreamBegin(sid));
      send(commandMessage(encodeOnStatus(statusInfo(NetStatus.PlayReset)), sid));
      send(commandMessage(encodeOnStatus(statusInfo(NetStatus.PlayStart)), sid));
      send(dataMessage(encodeSampleAccess(), sid));
      if (meta) send(dataMessage(encodeOnMetaData(meta), sid));
      for (const f of media) {
        const csid = f.type === MessageType.Audio ? 6 : 7;
        sock.write(chunkFirstHeader(csid, f.type, sid, f.timestamp, f.payload.length));
        sock.write(chunkBodyWithContinuations(f.payload, csid, OUT_CHUNK, f.timestamp));
      }
      send(buildStreamEof(sid));
      send(commandMessage(encodeOnStatus(statusInfo(NetStatus.PlayStop)), sid));
      sock.end();
    }),
  );
  const res = await ffmpeg(['-i', `rtmp://127.0.0.1:${srv.port}/live/x`, '-f', 'null', '-']);
  srv.close();
  console.error(`ffmpeg play exit ${res.code}`);
  console.error(res.stderr.split('\n').filter((l) => /Stream #|frame=|error|Error|Invalid/i.test(l)).join('\n'));
}

async function main(): Promise<void> {
  if (process.argv[2] === 'play') return play();
  await capture('ffmpeg-publish.bin', []);
  // timestamps past 0xFFFFFF ms: extended timestamps in type 0 and continuation headers
  await capture('ffmpeg-publish-extended-ts.bin', ['-output_ts_offset', '20000']);
}

void main();
