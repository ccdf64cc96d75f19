import { Logger } from '@nestjs/common';
import type { ProxyChange, ProxyState } from '@m7s/api';
import { ConfigService, EngineEvents, loadConfig, RelayDriver, RelayDrivers, RelayOptions, RelaySession, StreamRegistry, SubscriberSink } from '@m7s/core';
import type { VideoConfig } from '@m7s/media';
import type { PullProxyEntity, PushProxyEntity } from '@m7s/persistence';
import { ProxyConfig } from './proxy.config';
import { PROXY_TICK_MS } from './proxy-manager.base';
import { PullProxyManager } from './pull-proxy.manager';
import { PushProxyManager } from './push-proxy.manager';

const video: VideoConfig = { kind: 'video', codec: 'h264', record: Buffer.from([1]), parameterSets: [], width: 320, height: 240 };
const client = (protocol = 'test', query = '') => ({ protocol, remoteAddress: '127.0.0.1:9', query: new URLSearchParams(query) });

function sink(): SubscriberSink & { started: boolean } {
  const s = {
    started: false,
    backlog: () => 0,
    start: () => void (s.started = true),
    track: () => undefined,
    frame: () => undefined,
    publisherLeft: () => true,
    end: () => undefined,
  };
  return s;
}

/** The proxy store in memory: rows, change listeners, and every state written. */
class FakeStore<E extends { id: number }> {
  readonly writes: Array<{ id: number } & ProxyState> = [];
  private readonly listeners = new Set<(change: ProxyChange<E>) => void>();
  constructor(public rows: E[] = []) {}
  entities = async () => this.rows;
  onChange = (listener: (change: ProxyChange<E>) => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  setState = async (id: number, state: ProxyState) => void this.writes.push({ id, ...state });
  emit(change: ProxyChange<E>): void {
    for (const l of this.listeners) l(change);
  }
  /** The last state written for a proxy. */
  state(id: number): ProxyState | undefined {
    const last = [...this.writes].reverse().find((w) => w.id === id);
    if (!last) return undefined;
    const { id: _id, ...state } = last;
    return state;
  }
  statuses(id: number): string[] {
    return this.writes.filter((w) => w.id === id).map((w) => w.status);
  }
}

interface FakeSession extends RelaySession {
  /** The remote went away. */
  kill(reason: string): void;
  stopped: boolean;
  rttValue: number;
}

/**
 * A pull/push driver for the test: pull publishes the stream path in the registry (a key frame, so readers
 * start), push only records the call. `failWith` makes the next attempts fail.
 */
class FakeDriver implements RelayDriver {
  readonly schemes = ['rtmp', 'rtsp'];
  failWith: string | undefined;
  readonly calls: Array<{ kind: 'pull' | 'push'; url: string; streamPath: string; options: RelayOptions; at: number }> = [];
  readonly sessions: FakeSession[] = [];
  constructor(private readonly registry: StreamRegistry) {}

  async pull(url: string, streamPath: string, options: RelayOptions): Promise<RelaySession> {
    this.calls.push({ kind: 'pull', url, streamPath, options, at: Date.now() });
    if (this.failWith) throw new Error(this.failWith);
    const publisher = this.registry.publish(streamPath, client('fake-pull'));
    publisher.setTrack(video);
    publisher.writeVideo(0, 0, true, [Buffer.alloc(4)]);
    return this.session(url, streamPath, () => publisher.close('pull ended'));
  }

  async push(streamPath: string, url: string, options: RelayOptions): Promise<RelaySession> {
    this.calls.push({ kind: 'push', url, streamPath, options, at: Date.now() });
    if (this.failWith) throw new Error(this.failWith);
    return this.session(url, streamPath, () => undefined);
  }

  live(): FakeSession[] {
    return this.sessions.filter((s) => !s.stopped);
  }

  private session(url: string, streamPath: string, close: () => void): FakeSession {
    let end!: (reason: string) => void;
    const done = new Promise<string>((resolve) => (end = resolve));
    const session: FakeSession = {
      url,
      streamPath,
      done,
      stopped: false,
      rttValue: 7,
      rtt: () => session.rttValue,
      stop: () => session.kill('stopped'),
      kill: (reason) => {
        if (session.stopped) return;
        session.stopped = true;
        close();
        end(reason);
      },
    };
    this.sessions.push(session);
    return session;
  }
}

function pullProxy(fields: Partial<PullProxyEntity> = {}): PullProxyEntity {
  return {
    id: 1,
    name: 'cam',
    streamPath: 'live/cam',
    url: 'rtmp://camera.test/live/cam',
    enabled: true,
    pullOnStart: false,
    stopOnIdleMs: 3000,
    record: false,
    audio: true,
    rtspTransport: 'tcp',
    description: '',
    status: 'offline',
    lastError: null,
    rtt: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...fields,
  };
}

function pushProxy(fields: Partial<PushProxyEntity> = {}): PushProxyEntity {
  return {
    id: 1,
    name: 'out',
    streamPath: 'live/src',
    url: 'rtmp://upstream.test/live/out',
    enabled: true,
    pushOnStart: true,
    audio: true,
    description: '',
    status: 'offline',
    lastError: null,
    rtt: null,
    createdAt: new Date(0),
    updatedAt: new Date(0),
    ...fields,
  };
}

const proxyConfig = Object.assign(new ProxyConfig(), { retryMin: 1000, retryMax: 8000, retryResetAfter: 10_000, connectTimeout: 2000, rttInterval: 5000, checkInterval: 0 });

function setup<E extends { id: number }>(rows: E[], config: Partial<ProxyConfig> = {}) {
  const events = new EngineEvents();
  const registry = new StreamRegistry(new ConfigService(loadConfig({ plugins: [], env: {} })), events);
  const drivers = new RelayDrivers();
  const driver = new FakeDriver(registry);
  drivers.register(driver);
  const store = new FakeStore<E>(rows);
  const configService = { section: () => ({ ...proxyConfig, ...config }) } as unknown as ConfigService;
  return { events, registry, drivers, driver, store, configService };
}

// The managers log every start, stop and failure; the assertions say what matters here.
Logger.overrideLogger(false);

/** Lets promises settle and timers run for `ms` of fake time. */
const advance = (ms = 0) => jest.advanceTimersByTimeAsync(ms);

describe('PullProxyManager', () => {
  let env: ReturnType<typeof setup<PullProxyEntity>>;
  let manager: PullProxyManager;

  async function boot(rows: PullProxyEntity[], config: Partial<ProxyConfig> = {}) {
    env = setup(rows, config);
    manager = new PullProxyManager(env.store as never, env.registry, env.events, env.drivers, env.configService);
    await manager.onApplicationBootstrap();
    await advance();
  }

  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(async () => {
    await manager?.beforeApplicationShutdown();
    env?.registry.shutdown();
    jest.useRealTimers();
  });

  it('on demand: the first reader starts the pull, the reader plays, and the pull stops stopOnIdleMs after the last reader left', async () => {
    await boot([pullProxy({ audio: false, rtspTransport: 'udp' })]);
    expect(env.driver.calls).toEqual([]);
    expect(env.store.state(1)).toEqual({ status: 'offline', lastError: null, rtt: null }); // never tried yet

    const player = sink();
    const subscriber = env.registry.subscribe('live/cam', client('http-flv'), player);
    await advance();
    expect(env.driver.calls).toEqual([{ kind: 'pull', url: 'rtmp://camera.test/live/cam', streamPath: 'live/cam', options: { audio: false, transport: 'udp', timeout: 2000 }, at: 1_000_000 }]);
    expect(player.started).toBe(true);
    expect(env.store.state(1)).toEqual({ status: 'pulling', lastError: null, rtt: 7 });

    // A second reader does not start a second pull; readers coming and going keep it up.
    const second = env.registry.subscribe('live/cam', client(), sink());
    env.registry.unsubscribe(subscriber);
    await advance(10_000);
    expect(env.driver.live()).toHaveLength(1);

    env.registry.unsubscribe(second);
    const leftAt = Date.now();
    await advance(2000);
    expect(env.driver.live()).toHaveLength(1);
    await advance(2 * PROXY_TICK_MS);
    expect(env.driver.live()).toHaveLength(0);
    const stoppedAfter = Date.now() - leftAt;
    expect(stoppedAfter).toBeGreaterThanOrEqual(3000);
    expect(stoppedAfter).toBeLessThanOrEqual(3000 + 2 * PROXY_TICK_MS);
    expect(env.registry.get('live/cam')?.publisher).toBeUndefined();
    // The source answered last time: online, and nothing pulls until the next reader.
    expect(env.store.state(1)).toEqual({ status: 'online', lastError: null, rtt: 7 });
    await advance(60_000);
    expect(env.driver.calls).toHaveLength(1);

    env.registry.subscribe('live/cam', client(), sink());
    await advance();
    expect(env.driver.calls).toHaveLength(2);
    expect(env.store.state(1)?.status).toBe('pulling');
  });

  it('a reader of an alias pointing at the proxy path starts the pull too', async () => {
    await boot([pullProxy()]);
    env.registry.setAlias('front-door', 'live/cam');
    const player = sink();
    env.registry.subscribe('front-door', client('rtsp'), player);
    await advance();
    expect(env.driver.calls.map((c) => c.streamPath)).toEqual(['live/cam']);
    expect(player.started).toBe(true);
  });

  it('a reader of another path, or of a path someone publishes, starts nothing', async () => {
    await boot([pullProxy()]);
    env.registry.subscribe('live/other', client(), sink());
    const publisher = env.registry.publish('live/cam', client('rtmp'));
    env.registry.subscribe('live/cam', client(), sink());
    await advance(5000);
    expect(env.driver.calls).toEqual([]);
    publisher.close();
  });

  it('retries a failing source with backoff while a reader waits, offline with the reason, then pulls when it answers', async () => {
    await boot([pullProxy({ stopOnIdleMs: 60_000 })]);
    env.driver.failWith = 'connect ECONNREFUSED 10.0.0.1:1935';
    const player = sink();
    env.registry.subscribe('live/cam', client('rtmp', 'waitTimeout=10m'), player);
    await advance();
    expect(env.store.state(1)).toEqual({ status: 'offline', lastError: 'connect ECONNREFUSED 10.0.0.1:1935', rtt: null });
    await advance(1000 + 2000 + 4000 + 8000 + 8000);
    expect(env.driver.calls.map((c) => c.at - 1_000_000)).toEqual([0, 1000, 3000, 7000, 15_000, 23_000]);

    env.driver.failWith = undefined;
    await advance(8000);
    expect(env.store.state(1)).toEqual({ status: 'pulling', lastError: null, rtt: 7 });
    expect(player.started).toBe(true);
  });

  it('a source killed mid-pull: offline with the reason, and the pull resumes by itself when it is back (readers still there)', async () => {
    await boot([pullProxy({ stopOnIdleMs: 60_000 })]);
    const player = sink(); // an RTMP-like player that stays through a publisher change
    env.registry.subscribe('live/cam', client('rtmp', 'waitTimeout=10m'), player);
    await advance();
    env.driver.failWith = 'connect ECONNREFUSED';
    env.driver.sessions[0].kill('connection reset');
    await advance();
    expect(env.store.state(1)).toMatchObject({ status: 'offline', lastError: 'connection reset' });
    await advance(1000);
    expect(env.store.state(1)).toMatchObject({ status: 'offline', lastError: 'connect ECONNREFUSED' });
    env.driver.failWith = undefined;
    await advance(2000);
    expect(env.driver.live()).toHaveLength(1);
    expect(env.store.state(1)?.status).toBe('pulling');
    expect(env.registry.get('live/cam')?.publisher?.info.protocol).toBe('fake-pull');
  });

  it('an on-demand pull that keeps failing gives up once its readers are gone', async () => {
    await boot([pullProxy({ stopOnIdleMs: 0 })]);
    env.driver.failWith = 'refused';
    const subscriber = env.registry.subscribe('live/cam', client(), sink());
    await advance(3000);
    const attempts = env.driver.calls.length;
    env.registry.unsubscribe(subscriber);
    await advance(3 * PROXY_TICK_MS);
    await advance(60_000);
    expect(env.driver.calls.length).toBeLessThanOrEqual(attempts + 1);
    expect(env.store.state(1)).toEqual({ status: 'offline', lastError: 'refused', rtt: null });
  });

  it('pullOnStart: pulls at bootstrap, keeps pulling without readers and comes back after the source drops', async () => {
    await boot([pullProxy({ pullOnStart: true, stopOnIdleMs: 0 })]);
    expect(env.driver.live()).toHaveLength(1);
    expect(env.store.state(1)?.status).toBe('pulling');
    await advance(30_000);
    expect(env.driver.live()).toHaveLength(1);
    env.driver.sessions[0].kill('eof');
    await advance();
    expect(env.store.state(1)).toMatchObject({ status: 'offline', lastError: 'eof' });
    await advance(1000);
    expect(env.driver.live()).toHaveLength(1);
    expect(env.store.state(1)).toEqual({ status: 'pulling', lastError: null, rtt: 7 });
  });

  it('samples the rtt of a running pull every rttInterval', async () => {
    await boot([pullProxy({ pullOnStart: true })]);
    env.driver.sessions[0].rttValue = 42.6;
    await advance(5000 + PROXY_TICK_MS);
    expect(env.store.state(1)).toEqual({ status: 'pulling', lastError: null, rtt: 43 });
    // Unchanged samples are not written again.
    const writes = env.store.writes.length;
    await advance(20_000);
    expect(env.store.writes.length).toBe(writes);
  });

  it('a disabled proxy is disabled and pulls for nobody; enabling it through an update makes it work', async () => {
    await boot([pullProxy({ enabled: false, pullOnStart: true })]);
    env.registry.subscribe('live/cam', client(), sink());
    await advance(3000);
    expect(env.driver.calls).toEqual([]);
    expect(env.store.state(1)).toEqual({ status: 'disabled', lastError: null, rtt: null });

    env.store.emit({ action: 'update', proxy: pullProxy({ enabled: true, pullOnStart: false }) });
    await advance();
    // The reader that already waits is served at once.
    expect(env.driver.live()).toHaveLength(1);
    expect(env.store.state(1)?.status).toBe('pulling');

    env.store.emit({ action: 'update', proxy: pullProxy({ enabled: false }) });
    await advance();
    expect(env.driver.live()).toHaveLength(0);
    expect(env.store.state(1)?.status).toBe('disabled');
  });

  it('acts on changes live: add starts, a new url restarts, a new name does not, remove stops', async () => {
    await boot([]);
    env.store.emit({ action: 'add', proxy: pullProxy({ id: 5, pullOnStart: true }) });
    await advance();
    expect(env.driver.live().map((s) => s.url)).toEqual(['rtmp://camera.test/live/cam']);

    env.store.emit({ action: 'update', proxy: pullProxy({ id: 5, pullOnStart: true, name: 'renamed', description: 'x' }) });
    await advance();
    expect(env.driver.calls).toHaveLength(1);

    env.store.emit({ action: 'update', proxy: pullProxy({ id: 5, pullOnStart: true, url: 'rtsp://camera.test/stream1' }) });
    await advance();
    expect(env.driver.sessions[0].stopped).toBe(true);
    expect(env.driver.live().map((s) => s.url)).toEqual(['rtsp://camera.test/stream1']);

    const writes = env.store.writes.length;
    env.store.emit({ action: 'remove', proxy: pullProxy({ id: 5 }) });
    await advance(10_000);
    expect(env.driver.live()).toHaveLength(0);
    expect(env.store.writes.length).toBe(writes);
  });

  it('an update rewrites the state even when unchanged (the store saved the whole row)', async () => {
    await boot([pullProxy({ pullOnStart: true })]);
    const writes = env.store.writes.length;
    env.store.emit({ action: 'update', proxy: pullProxy({ pullOnStart: true, description: 'new' }) });
    await advance();
    expect(env.store.writes.length).toBe(writes + 1);
    expect(env.store.state(1)?.status).toBe('pulling');
  });

  it('readers that waited before the proxy existed are served as soon as it is added', async () => {
    await boot([]);
    const player = sink();
    env.registry.subscribe('live/cam', client(), player);
    env.store.emit({ action: 'add', proxy: pullProxy() });
    await advance();
    expect(player.started).toBe(true);
  });

  it('a URL no driver handles is retried like any failure, with the reason', async () => {
    await boot([pullProxy({ url: 'srt://camera.test:6000', pullOnStart: true })]);
    expect(env.store.state(1)).toEqual({ status: 'offline', lastError: "no pull support for 'srt' URLs", rtt: null });
  });

  it('checks the source of an idle proxy every checkInterval: online with the connect time, or offline with the reason', async () => {
    env = setup([pullProxy()], { checkInterval: 10_000 });
    manager = new PullProxyManager(env.store as never, env.registry, env.events, env.drivers, env.configService);
    let answer: number | Error = 3;
    const probes: string[] = [];
    manager.probe = async (url) => {
      probes.push(url);
      if (answer instanceof Error) throw answer;
      return answer;
    };
    await manager.onApplicationBootstrap();
    await advance();
    expect(probes).toEqual(['rtmp://camera.test/live/cam']);
    expect(env.store.state(1)).toEqual({ status: 'online', lastError: null, rtt: 3 });

    answer = new Error('connect ECONNREFUSED');
    await advance(10_000 + PROXY_TICK_MS);
    expect(probes).toHaveLength(2);
    expect(env.store.state(1)).toEqual({ status: 'offline', lastError: 'connect ECONNREFUSED', rtt: 3 });

    // No checks while it pulls.
    env.registry.subscribe('live/cam', client(), sink());
    await advance(30_000);
    expect(probes).toHaveLength(2);
  });

  it('shutdown stops every pull and writes nothing after', async () => {
    await boot([pullProxy({ pullOnStart: true }), pullProxy({ id: 2, name: 'b', streamPath: 'live/b', pullOnStart: true })]);
    expect(env.driver.live()).toHaveLength(2);
    await manager.beforeApplicationShutdown();
    expect(env.driver.live()).toHaveLength(0);
    const writes = env.store.writes.length;
    env.registry.subscribe('live/cam', client(), sink());
    await advance(60_000);
    expect(env.driver.calls).toHaveLength(2);
    expect(env.store.writes.length).toBe(writes);
  });
});

describe('PushProxyManager', () => {
  let env: ReturnType<typeof setup<PushProxyEntity>>;
  let manager: PushProxyManager;

  async function boot(rows: PushProxyEntity[]) {
    env = setup(rows);
    manager = new PushProxyManager(env.store as never, env.registry, env.events, env.drivers, env.configService);
    await manager.onApplicationBootstrap();
    await advance();
  }

  function publish(path: string) {
    const publisher = env.registry.publish(path, client('rtmp'));
    publisher.setTrack(video);
    publisher.writeVideo(0, 0, true, [Buffer.alloc(4)]);
    return publisher;
  }

  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(async () => {
    await manager?.beforeApplicationShutdown();
    env?.registry.shutdown();
    jest.useRealTimers();
  });

  it('pushes when the stream is published and stops when its publisher leaves', async () => {
    await boot([pushProxy({ audio: false })]);
    expect(env.driver.calls).toEqual([]);
    const publisher = publish('live/src');
    await advance();
    expect(env.driver.calls).toEqual([{ kind: 'push', url: 'rtmp://upstream.test/live/out', streamPath: 'live/src', options: { audio: false, timeout: 2000 }, at: 1_000_000 }]);
    expect(env.store.state(1)).toEqual({ status: 'pushing', lastError: null, rtt: 7 });

    publisher.close('done');
    await advance();
    expect(env.driver.live()).toHaveLength(0);
    expect(env.store.state(1)).toEqual({ status: 'online', lastError: null, rtt: 7 });
    await advance(60_000);
    expect(env.driver.calls).toHaveLength(1);
  });

  it('pushes a stream that is already live when the proxy is loaded or added', async () => {
    await boot([]);
    publish('live/src');
    env.store.emit({ action: 'add', proxy: pushProxy() });
    await advance();
    expect(env.driver.live()).toHaveLength(1);
  });

  it('several proxies push the same stream; a proxy on an alias pushes its target', async () => {
    await boot([pushProxy(), pushProxy({ id: 2, name: 'b', url: 'rtsp://other.test/x' }), pushProxy({ id: 3, name: 'c', streamPath: 'alias-src' })]);
    env.registry.setAlias('alias-src', 'live/src');
    publish('live/src');
    await advance();
    expect(env.driver.live().map((s) => s.url).sort()).toEqual(['rtmp://upstream.test/live/out', 'rtmp://upstream.test/live/out', 'rtsp://other.test/x']);
  });

  it('retries with backoff while the stream is live, and stops retrying once it ends', async () => {
    await boot([pushProxy()]);
    env.driver.failWith = 'NetStream.Publish.BadName';
    const publisher = publish('live/src');
    await advance(1000 + 2000);
    expect(env.driver.calls).toHaveLength(3);
    expect(env.store.state(1)).toMatchObject({ status: 'offline', lastError: 'NetStream.Publish.BadName' });
    publisher.close('done');
    await advance(60_000);
    expect(env.driver.calls).toHaveLength(3);
    expect(env.store.state(1)).toMatchObject({ status: 'offline', lastError: 'NetStream.Publish.BadName' });
  });

  it('a push that drops while the stream is live comes back by itself', async () => {
    await boot([pushProxy()]);
    publish('live/src');
    await advance();
    env.driver.sessions[0].kill('broken pipe');
    await advance();
    expect(env.store.state(1)).toMatchObject({ status: 'offline', lastError: 'broken pipe' });
    await advance(1000);
    expect(env.driver.live()).toHaveLength(1);
    expect(env.store.state(1)?.status).toBe('pushing');
  });

  it('pushOnStart off or disabled: nothing is pushed', async () => {
    await boot([pushProxy({ pushOnStart: false }), pushProxy({ id: 2, name: 'b', enabled: false })]);
    publish('live/src');
    await advance(5000);
    expect(env.driver.calls).toEqual([]);
    expect(env.store.state(2)?.status).toBe('disabled');
  });
});
