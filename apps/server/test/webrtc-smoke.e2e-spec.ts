import { killAllTracked, playWithWerift, publishTestPattern, startTestServer, TestServer, waitFor, loginApi } from '@m7s/test-kit';

const describeHandles = () => {
  const m = new Map<string, number>();
  for (const h of (process as any)._getActiveHandles()) {
    let k = h.constructor?.name ?? typeof h;
    try { if (h.address) { const a = h.address(); k += ' ' + (a?.address ?? '') + ':' + (a?.port ?? ''); } } catch {}
    if (typeof h.remoteAddress === 'string') k += ' -> ' + h.remoteAddress + ':' + h.remotePort;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
};

describe('smoke', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    publishTestPattern({ url: server.rtmpUrl('live/smoke'), fps: 25, gop: 25 });
    await waitFor(() => server.registry.get('live/smoke')?.isReady, 'stream', 20_000);
  });
  afterAll(async () => {
    await killAllTracked();
    await server?.close();
  });
  it('cycles', async () => {
    const api = await loginApi(server);
    const cycle = async (remove: boolean) => {
      const player = await playWithWerift(server.whepUrl('live/smoke'));
      await waitFor(() => player.packets.video > 0, 'video packets', 15_000);
      for (const m of player.body.matchAll(/a=candidate:\S+ 1 udp \d+ (\S+) (\d+)/g)) serverPorts.add(Number(m[2]));
      await player.close(remove);
    };
    const serverPorts = new Set<number>();
    await cycle(true);
    await waitFor(async () => (await api.get('/api/webrtc/sessions')).body.total === 0, 'no session');
    await new Promise((r) => setTimeout(r, 2000));
    const before = describeHandles();
    for (let i = 0; i < 10; i++) await cycle(process.env.NODELETE ? false : true);
    await waitFor(async () => (await api.get('/api/webrtc/sessions')).body.total === 0, 'no session', 60_000);
    await new Promise((r) => setTimeout(r, 3000));
    const after = describeHandles();
    const diff: string[] = [];
    for (const [k, v] of after) if ((before.get(k) ?? 0) !== v) diff.push(`${k}: ${before.get(k) ?? 0} -> ${v}`);
    for (const [k, v] of before) if (!after.has(k)) diff.push(`${k}: ${v} -> 0`);
    console.log(diff.join('\n'));
    console.log('server ports', [...serverPorts].join(' '));
  });
});
