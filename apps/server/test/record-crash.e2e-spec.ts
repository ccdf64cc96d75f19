import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FlvTagReader, parseScriptData } from '@m7s/media';
import { decodeErrors, freePort, killAllTracked, loginApi, makeTempDir, portAccepts, publishTestPattern, spawnTracked, stopTracked, topLevelBoxes, Tracked, waitFor } from '@m7s/test-kit';

const ROOT = join(__dirname, '../../..');
const ADMIN = { username: 'admin', password: 'record-crash-password' };

describe('crash recovery of recordings (server killed with SIGKILL mid-recording, MP4 and FLV at once)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let httpUrl: string;
  let rtmpPort: number;

  const startServer = (): Tracked =>
    spawnTracked(process.execPath, ['-r', '@swc-node/register', 'apps/server/src/main.ts'], { cwd: ROOT, env: { ...process.env, ...env } });

  beforeAll(async () => {
    dataDir = await makeTempDir('m7s-record-crash-');
    const [http, rtmp, rtsp, grpc] = [await freePort(), await freePort(), await freePort(), await freePort()];
    rtmpPort = rtmp;
    httpUrl = `http://127.0.0.1:${http}`;
    env = {
      M7S_LOG__LEVEL: 'warn',
      M7S_HTTP__LISTEN: `127.0.0.1:${http}`,
      M7S_RTMP__LISTEN: `127.0.0.1:${rtmp}`,
      M7S_RTMP__TLS__LISTEN: '',
      M7S_RTSP__LISTEN: `127.0.0.1:${rtsp}`,
      M7S_RTSP__TLS__LISTEN: '',
      M7S_GRPC__LISTEN: `127.0.0.1:${grpc}`,
      M7S_DB__PATH: join(dataDir, 'm7s.db'),
      M7S_AUTH__ADMINPASSWORD: ADMIN.password,
      M7S_RECORD__DIR: join(dataDir, 'record'),
      M7S_RECORD__RULES: '[{ match: "^live/", formats: [mp4, flv], fragment: 0 }]',
    };
  });

  afterAll(async () => {
    await killAllTracked();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('recovers the partial MP4 (fragmented) and FLV after a restart: finalized, indexed, listed, decoding silently', async () => {
    const first = startServer();
    await waitFor(async () => (await portAccepts(rtmpPort)) && (await portAccepts(Number(new URL(httpUrl).port))), 'the server to listen', 30_000);
    let admin = await loginApi({ httpUrl }, ADMIN);
    const publisher = publishTestPattern({ url: `rtmp://127.0.0.1:${rtmpPort}/live/crash`, fps: 25, gop: 25 });
    const rows = await waitFor(async () => {
      const { list } = (await admin.get('/api/record/list?streamPath=live/crash')).body;
      return list.length === 2 ? (list as { id: number; format: string; filePath: string; status: string }[]) : undefined;
    }, 'the recording rows', 20_000);
    const byFormat = Object.fromEntries(rows.map((r) => [r.format, r]));
    for (const row of rows) expect(row.status).toBe('recording');
    // A few seconds of media on disk (several MP4 fragments), then the power goes.
    await waitFor(() => rows.every((r) => existsSync(r.filePath) && statSync(r.filePath).size > 250_000), 'media in the files', 20_000, 200);
    await stopTracked(first, 'SIGKILL');
    const crashAt = Date.now();
    await stopTracked(publisher, 'SIGKILL');
    const flvSizeAtCrash = statSync(byFormat.flv.filePath).size;
    expect(topLevelBoxes(byFormat.mp4.filePath)).toContain('moof');

    const second = startServer();
    await waitFor(() => portAccepts(Number(new URL(httpUrl).port)), 'the server to listen again', 30_000);
    admin = await loginApi({ httpUrl }, ADMIN);
    for (const row of rows) {
      const recovered = await waitFor(async () => {
        const got = (await admin.get(`/api/record/get/${row.id}`)).body;
        return got.status === 'complete' && got;
      }, `the recovered ${row.format} recording`, 30_000);
      expect(recovered).toMatchObject({ streamPath: 'live/crash', filePath: row.filePath, storage: 'local', videoCodec: 'h264', audioCodec: 'aac' });
      // What reached the disk: all but the last moments before the kill (MP4: at most the last 1 s fragment).
      expect(Math.abs(recovered.duration - (crashAt - recovered.startTime))).toBeLessThan(2000);
      expect(recovered.endTime).toBe(recovered.startTime + recovered.duration);
      expect(recovered.size).toBe(statSync(row.filePath).size);
      expect(existsSync(row.filePath + '.tmp')).toBe(false);
      expect(await decodeErrors(row.filePath)).toBe('');
      if (row.format === 'mp4') {
        const boxes = topLevelBoxes(row.filePath);
        expect(boxes).not.toContain('moof');
        expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
      } else {
        expect(recovered.size).toBeGreaterThan(flvSizeAtCrash * 0.9);
        const tag = new FlvTagReader().push(readFileSync(row.filePath)).find((t) => t.type === 18)!;
        const meta = parseScriptData(tag.body).value as Record<string, any>;
        expect(meta.keyframes.times.length).toBeGreaterThanOrEqual(2);
        expect(meta.duration).toBeCloseTo(recovered.duration / 1000, 1);
      }
    }
    expect((await admin.get('/api/record/list?streamPath=live/*&status=complete')).body.total).toBe(2);
    second.child.kill('SIGTERM');
    await second.exited;
  });
});
