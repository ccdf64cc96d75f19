import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ffmpegPath, ffprobePath, killAllTracked, run, spawnTracked, waitFor } from '@m7s/test-kit';

const ROOT = join(__dirname, '../../..');

/**
 * UDP multicast play must not leave the machine: the server, the publisher and the players run in a network
 * namespace of their own whose loopback carries 224.0.0.0/4.
 */
describe('RTSP multicast play (in a private network namespace)', () => {
  const ns = `m7s-mc-${process.pid}`;
  const inNs = (command: string, ...args: string[]) => ['netns', 'exec', ns, command, ...args];
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'm7s-mc-'));
    for (const args of [['netns', 'add', ns], inNs('ip', 'link', 'set', 'lo', 'up'), inNs('ip', 'link', 'set', 'lo', 'multicast', 'on'), inNs('ip', 'route', 'add', '224.0.0.0/4', 'dev', 'lo')]) {
      const r = await run('ip', args);
      if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.code}): ${r.stderr} (the test needs root for network namespaces)`);
    }
    const server = spawnTracked('ip', inNs(process.execPath, '-r', '@swc-node/register', 'apps/server/src/main.ts'), {
      cwd: ROOT,
      env: {
        ...process.env,
        M7S_LOG__LEVEL: 'log',
        M7S_RTSP__MULTICAST__ENABLE: 'true',
        M7S_RTSP__MULTICAST__INTERFACE: '127.0.0.1',
        M7S_DB__PATH: join(dataDir, 'm7s.db'),
        M7S_AUTH__ADMINPASSWORD: 'multicast-test-password',
      },
    });
    await waitFor(() => server.stdout().includes('rtsp listening'), 'the server in the namespace', 60_000);
    spawnTracked('ip', inNs(ffmpegPath(), '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-f', 'rtsp', '-rtsp_transport', 'tcp', 'rtsp://127.0.0.1:8554/live/mc'));
  });

  afterAll(async () => {
    await killAllTracked();
    // Anything still in the namespace (children of the processes above) goes with it.
    const pids = await run('ip', ['netns', 'pids', ns]);
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
    await run('ip', ['netns', 'del', ns]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('two players read the same multicast group; ffprobe decodes the stream from it', async () => {
    const probe = () => run('ip', inNs(ffprobePath(), '-v', 'error', '-rtsp_transport', 'udp_multicast', '-show_streams', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', 'rtsp://127.0.0.1:8554/live/mc'), 60_000);
    const first = await waitFor(async () => {
      const r = await probe();
      return r.code === 0 ? r : undefined;
    }, 'a multicast play', 30_000);
    const [a, b] = await Promise.all([probe(), probe()]);
    for (const r of [first, a, b]) {
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).streams[0]).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
    }
  });
});
