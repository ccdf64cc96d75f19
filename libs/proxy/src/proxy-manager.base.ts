import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { ProxyChange, ProxyState } from '@m7s/api';
import { EngineEvents, RelayDrivers, RelaySession, StreamRegistry } from '@m7s/core';
import type { ProxyStatus, PullProxyEntity, PushProxyEntity } from '@m7s/persistence';
import type { ProxyConfig } from './proxy.config';
import { ProxyStateWriter } from './proxy-state-writer';
import { RelayRunner } from './relay-runner';
import { probeRemote } from './source-probe';

/** How often the managers look at their proxies (idle pulls, rtt samples, checks of idle remotes). */
export const PROXY_TICK_MS = 1000;

/** What a manager needs of the proxy store (PullProxyService / PushProxyService). */
export interface ProxyStorePort<E> {
  entities(): Promise<E[]>;
  onChange(listener: (change: ProxyChange<E>) => void): () => void;
  setState(id: number, state: ProxyState): Promise<void>;
}

/** Checks that a remote answers (a TCP connect); resolves with the connect time in ms. */
export type RemoteProbe = (url: string, timeoutMs: number, signal?: AbortSignal) => Promise<number>;

/** One proxy as the manager runs it. */
export interface ProxyEntry<E> {
  proxy: E;
  runner: RelayRunner;
  /** The remote answered the last time it was tried (a pull/push came up, or the TCP check connected). */
  answered: boolean;
  /** Why the last attempt or check failed; cleared when a pull/push comes up. */
  lastError: string | null;
  /** Last measured round-trip time, ms. */
  rtt: number | null;
  nextRttAt: number;
  nextCheckAt: number;
  checking: boolean;
  /** Pull proxies on demand: since when the stream has had no reader while pulling. */
  idleSince?: number;
  /** Set once the entry is replaced or removed: its late callbacks do nothing. */
  dropped: boolean;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * What pull and push proxies share: load the stored proxies at bootstrap and follow the store's changes
 * live, keep each wanted relay up with a RelayRunner (retries forever with backoff), report status, last
 * error and rtt through the store, check the remote of idle proxies, and stop everything at shutdown.
 *
 * Status of an enabled proxy: `pulling`/`pushing` while its relay is up; `offline` while it retries (lastError
 * says why); when nothing is to be relayed (an on-demand pull without readers, a push whose stream is not
 * live), `online` if its remote answered the last time it was tried (relay or TCP check) and `offline`
 * otherwise (also before the first try). A disabled proxy is `disabled` and does nothing.
 */
export abstract class ProxyManager<E extends PullProxyEntity | PushProxyEntity> implements OnApplicationBootstrap, BeforeApplicationShutdown {
  protected readonly logger: Logger;
  protected readonly entries = new Map<number, ProxyEntry<E>>();
  protected readonly offs: Array<() => void> = [];
  private readonly writer: ProxyStateWriter;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Aborts the checks under way at shutdown. */
  private readonly checks = new AbortController();
  /** How idle remotes are checked (replaceable in tests). */
  probe: RemoteProbe = probeRemote;

  protected constructor(
    name: string,
    private readonly store: ProxyStorePort<E>,
    protected readonly registry: StreamRegistry,
    protected readonly events: EngineEvents,
    protected readonly drivers: RelayDrivers,
    protected readonly config: ProxyConfig,
  ) {
    this.logger = new Logger(name);
    this.writer = new ProxyStateWriter((id, state) => this.store.setState(id, state), this.logger);
  }

  /** The status while the relay is up. */
  protected abstract readonly activeStatus: ProxyStatus;
  /** Fields whose change restarts the proxy's relay. */
  protected abstract readonly restartFields: readonly (keyof E)[];
  /** One attempt of the proxy's relay. */
  protected abstract connect(proxy: E): Promise<RelaySession>;
  /** Starts or stops the relay of an enabled proxy according to its mode and the streams (at load and on change). */
  protected abstract reconcile(entry: ProxyEntry<E>, now: number): void;
  /** Listens to the engine events the manager acts on; returns the unsubscribers. */
  protected abstract listen(): Array<() => void>;
  /** Per-tick work of one enabled proxy (idle stop of on-demand pulls). */
  protected tickEntry(_entry: ProxyEntry<E>, _now: number): void {}

  async onApplicationBootstrap(): Promise<void> {
    // Listen first, then load: a change made meanwhile is applied twice at worst (upsert is idempotent).
    this.offs.push(this.store.onChange((change) => this.apply(change)));
    this.offs.push(...this.listen());
    for (const proxy of await this.store.entities()) this.upsert(proxy, true);
    this.timer = setInterval(() => this.tick(), PROXY_TICK_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.checks.abort();
    for (const off of this.offs.splice(0)) off();
    for (const entry of this.entries.values()) {
      entry.dropped = true;
      entry.runner.stop();
    }
    this.entries.clear();
    await this.writer.flush();
  }

  /** The state the API shows for a proxy right now. */
  stateOf(id: number): ProxyState | undefined {
    const entry = this.entries.get(id);
    return entry && this.state(entry);
  }

  /** Runs the periodic work now (the timer calls it every PROXY_TICK_MS). */
  tick(now = Date.now()): void {
    for (const entry of this.entries.values()) {
      if (!entry.proxy.enabled) continue;
      this.tickEntry(entry, now);
      const session = entry.runner.current;
      if (session) {
        if (now >= entry.nextRttAt) {
          entry.nextRttAt = now + this.config.rttInterval;
          entry.rtt = session.rtt() ?? entry.rtt;
          this.report(entry);
        }
      } else if (!entry.runner.isWanted && this.config.checkInterval > 0 && !entry.checking && now >= entry.nextCheckAt) {
        this.check(entry);
      }
    }
  }

  protected apply(change: ProxyChange<E>): void {
    if (this.stopped) return;
    if (change.action === 'remove') this.drop(change.proxy.id);
    else this.upsert(change.proxy, true);
  }

  /** Adds a proxy or applies an update; `force` writes its state even if unchanged (the store may have overwritten it). */
  protected upsert(proxy: E, force = false): void {
    const now = Date.now();
    const existing = this.entries.get(proxy.id);
    if (existing && !this.restartFields.some((field) => existing.proxy[field] !== proxy[field])) {
      existing.proxy = proxy;
      if (proxy.enabled) this.reconcile(existing, now);
      this.report(existing, force);
      return;
    }
    if (existing) this.drop(proxy.id, false);
    // The hooks read `entry` when they run, after it is built.
    const runner = new RelayRunner(this.config, {
      connect: () => this.connect(entry.proxy),
      up: (session) => this.up(entry, session),
      down: (reason, retryInMs) => this.down(entry, reason, retryInMs),
    });
    const entry: ProxyEntry<E> = {
      proxy,
      runner,
      answered: false,
      lastError: proxy.lastError ?? null,
      rtt: null,
      nextRttAt: 0,
      nextCheckAt: now,
      checking: false,
      dropped: false,
    };
    this.entries.set(proxy.id, entry);
    if (proxy.enabled) this.reconcile(entry, now);
    this.report(entry, force);
    // Checked at once (online/offline) unless it is being relayed already.
    if (proxy.enabled && !entry.runner.isWanted && this.config.checkInterval > 0) this.check(entry);
  }

  protected drop(id: number, forget = true): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.dropped = true;
    entry.runner.stop();
    this.entries.delete(id);
    if (forget) this.writer.forget(id);
  }

  /** Starts the relay (no-op if it runs); `why` is logged. */
  protected startRelay(entry: ProxyEntry<E>, why: string): void {
    if (entry.runner.isWanted || !entry.proxy.enabled) return;
    this.logger.log({ msg: `${this.activeStatus === 'pulling' ? 'pull' : 'push'} start`, id: entry.proxy.id, name: entry.proxy.name, streamPath: entry.proxy.streamPath, url: entry.proxy.url, why });
    entry.idleSince = undefined;
    entry.runner.start();
    this.report(entry);
  }

  /** Stops the relay (no-op if idle); `why` is logged. */
  protected stopRelay(entry: ProxyEntry<E>, why: string, now = Date.now()): void {
    if (!entry.runner.isWanted) return;
    this.logger.log({ msg: `${this.activeStatus === 'pulling' ? 'pull' : 'push'} stop`, id: entry.proxy.id, name: entry.proxy.name, streamPath: entry.proxy.streamPath, why });
    entry.runner.stop();
    entry.idleSince = undefined;
    entry.nextCheckAt = now + this.config.checkInterval;
    this.report(entry);
  }

  protected report(entry: ProxyEntry<E>, force = false): void {
    if (entry.dropped) return;
    this.writer.write(entry.proxy.id, this.state(entry), force);
  }

  private state(entry: ProxyEntry<E>): ProxyState {
    if (!entry.proxy.enabled) return { status: 'disabled', lastError: entry.lastError, rtt: null };
    const runner = entry.runner;
    if (runner.state === 'up') return { status: this.activeStatus, lastError: null, rtt: entry.rtt };
    // Retrying after a failure (waiting, or the next attempt under way).
    if (runner.state === 'waiting' || (runner.state === 'connecting' && runner.failureCount > 0)) return { status: 'offline', lastError: entry.lastError, rtt: entry.rtt };
    return { status: entry.answered ? 'online' : 'offline', lastError: entry.lastError, rtt: entry.rtt };
  }

  private up(entry: ProxyEntry<E>, session: RelaySession): void {
    if (entry.dropped) return;
    entry.answered = true;
    entry.lastError = null;
    entry.rtt = session.rtt() ?? entry.rtt;
    entry.nextRttAt = Date.now() + this.config.rttInterval;
    this.logger.log({ msg: `${this.activeStatus === 'pulling' ? 'pulling' : 'pushing'}`, id: entry.proxy.id, name: entry.proxy.name, streamPath: entry.proxy.streamPath, url: entry.proxy.url, rtt: entry.rtt });
    this.report(entry);
  }

  private down(entry: ProxyEntry<E>, reason: string, retryInMs: number): void {
    if (entry.dropped) return;
    entry.answered = false;
    entry.lastError = reason;
    this.logger.warn({ msg: `${this.activeStatus === 'pulling' ? 'pull' : 'push'} down, retrying`, id: entry.proxy.id, name: entry.proxy.name, url: entry.proxy.url, reason, retryInMs, failures: entry.runner.failureCount });
    this.report(entry);
  }

  /** TCP check of an idle proxy's remote: online (with the connect time as rtt) or offline. */
  private check(entry: ProxyEntry<E>): void {
    entry.checking = true;
    const url = entry.proxy.url;
    this.probe(url, this.config.connectTimeout, this.checks.signal).then(
      (ms) => this.checked(entry, url, true, ms, null),
      (error: unknown) => this.checked(entry, url, false, null, reasonOf(error)),
    );
  }

  private checked(entry: ProxyEntry<E>, url: string, answered: boolean, rtt: number | null, error: string | null): void {
    entry.checking = false;
    entry.nextCheckAt = Date.now() + this.config.checkInterval;
    // Stale: the proxy changed, was removed, or started relaying meanwhile.
    if (entry.dropped || entry.proxy.url !== url || entry.runner.isWanted || this.stopped) return;
    entry.answered = answered;
    if (rtt !== null) entry.rtt = rtt;
    if (error !== null) entry.lastError = error;
    this.report(entry);
  }
}
