import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { framesOf, freePort, killAllTracked, playHttpFlv, portAccepts, publishTestPattern, spawnTracked, Tracked, waitFor } from '@m7s/test-kit';

const ROOT = join(__dirname, '../../..');
const dataDirs: string[] = [];

/** The server as its own process, from source (the same entry point `npm start` builds), with its own SQLite file and gRPC port. */
async function startServerProcess(env: Record<string, string>): Promise<Tracked> {
  const dataDir = mkdtempSync(join(tmpdir(), 'm7s-proc-'));
  dataDirs.push(dataDir);
  return spawnTracked(process.execPath, ['-r', '@swc-node/register', 'apps/server/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      M7S_LOG__LEVEL: 'log',
      M7S_RTMP__TLS__LISTEN: '',
      M7S_RTSP__LISTEN: `127.0.0.1:${await freePort()}`,
      M7S_RTSP__TLS__LISTEN: '',
      M7S_DB__PATH: join(dataDir, 'm7s.db'),
      M7S_GRPC__LISTEN: `127.0.0.1:${await freePort()}`,
      M7S_AUTH__ADMINPASSWORD: 'process-test-password',
      ...env,
    },
  });
}

describe('the server process', () => {
  afterAll(async () => {
    await killAllTracked();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to start on a bad setting, naming the key, the value and why', async () => {
    const server = await startServerProcess({ M7S_PUBLISH__PUBLISHTIMEOUT: 'soon', M7S_HTTP__LISTEN: '127.0.0.1:1' });
    const code = await server.exited;
    expect(code).toBe(1);
    expect(server.stderr()).toContain('publish.publishTimeout = "soon": must be a duration');
  });

  it('leaves out a plugin whose section says enable: false', async () => {
    const [http, rtmp] = [await freePort(), await freePort()];
    const server = await startServerProcess({ M7S_HTTP__LISTEN: `127.0.0.1:${http}`, M7S_RTMP__LISTEN: `127.0.0.1:${rtmp}`, M7S_RTMP__ENABLE: 'false' });
    await waitFor(() => portAccepts(http), 'the server to listen', 30_000);
    expect(await portAccepts(rtmp)).toBe(false);
    const flv = await fetch(`http://127.0.0.1:${http}/flv/live/x.flv?waitTimeout=0`);
    expect(flv.status).toBe(404); // the FLV plugin answers: no publisher
    expect(await flv.json()).toMatchObject({ code: 'WAIT_TIMEOUT' });
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it('shuts down gracefully on SIGTERM with a publisher and a player connected', async () => {
    const [http, rtmp] = [await freePort(), await freePort()];
    const server = await startServerProcess({ M7S_HTTP__LISTEN: `127.0.0.1:${http}`, M7S_RTMP__LISTEN: `127.0.0.1:${rtmp}` });
    await waitFor(async () => (await portAccepts(http)) && (await portAccepts(rtmp)), 'the server to listen', 30_000);
    const publisher = publishTestPattern({ url: `rtmp://127.0.0.1:${rtmp}/live/bye` });
    const player = playHttpFlv(`http://127.0.0.1:${http}/flv/live/bye.flv`);
    await waitFor(() => framesOf(player).length > 5, 'the player to play', 20_000);

    server.child.kill('SIGTERM');
    await waitFor(() => server.child.exitCode !== null || server.child.signalCode !== null, 'the server to exit', 10_000);
    await waitFor(() => player.ended, 'the player to be ended');
    await waitFor(() => publisher.child.exitCode !== null, 'ffmpeg to see the end of its connection', 10_000);
    expect(await portAccepts(rtmp)).toBe(false);
    expect(await portAccepts(http)).toBe(false);
    expect(server.stderr()).not.toMatch(/Error|unhandled/i);
  });
});
