import { Injectable } from '@nestjs/common';
import { PullProxyService } from '@m7s/api';
import { ConfigService, EngineEvents, RelayDrivers, RelaySession, StreamDemandEvent, StreamRegistry } from '@m7s/core';
import type { PullProxyEntity } from '@m7s/persistence';
import type { ProxyConfig } from './proxy.config';
import { ProxyEntry, ProxyManager } from './proxy-manager.base';

/**
 * Runs the pull proxies: a remote source (rtsp://, rtmp://, http(s)://…flv) published as a local stream path.
 *
 * - `pullOnStart`: pulled from bootstrap (or from when it is added or enabled) and kept up for good.
 * - on demand (the default): the first reader of the stream path (directly or through an alias) finds no
 *   publisher, the engine emits `stream_demand`, and the pull starts; the reader waits meanwhile (its
 *   waitTimeout). Once the stream has had no reader for `stopOnIdleMs` (checked every second) the pull stops.
 *
 * Either way a failed or ended pull is retried with backoff for as long as it is wanted.
 */
@Injectable()
export class PullProxyManager extends ProxyManager<PullProxyEntity> {
  protected readonly activeStatus = 'pulling' as const;
  protected readonly restartFields = ['url', 'streamPath', 'enabled', 'pullOnStart', 'audio', 'rtspTransport'] as const;

  constructor(store: PullProxyService, registry: StreamRegistry, events: EngineEvents, drivers: RelayDrivers, config: ConfigService) {
    super('PullProxy', store, registry, events, drivers, config.section<ProxyConfig>('proxy'));
  }

  protected connect(proxy: PullProxyEntity): Promise<RelaySession> {
    const driver = this.drivers.forUrl(proxy.url, 'pull');
    return driver.pull!(proxy.url, proxy.streamPath, { audio: proxy.audio, transport: proxy.rtspTransport, timeout: this.config.connectTimeout });
  }

  protected listen(): Array<() => void> {
    return [this.events.on('stream_demand', (event) => this.demand(event))];
  }

  protected reconcile(entry: ProxyEntry<PullProxyEntity>): void {
    if (entry.proxy.pullOnStart) this.startRelay(entry, 'pull on start');
    // Readers that came before the proxy was loaded or added wait for it.
    else if (this.readers(entry.proxy.streamPath, true) > 0) this.startRelay(entry, 'readers waiting');
  }

  /** An on-demand pull stops once its stream has had no reader for stopOnIdleMs (at least one tick). */
  protected override tickEntry(entry: ProxyEntry<PullProxyEntity>, now: number): void {
    if (entry.proxy.pullOnStart || !entry.runner.isWanted) return;
    if (this.readers(entry.proxy.streamPath) > 0) {
      entry.idleSince = undefined;
      return;
    }
    if (entry.idleSince === undefined) {
      entry.idleSince = now;
      return;
    }
    if (now - entry.idleSince >= entry.proxy.stopOnIdleMs) this.stopRelay(entry, `no reader for ${now - entry.idleSince} ms`, now);
  }

  private demand(event: StreamDemandEvent): void {
    for (const entry of this.entries.values()) {
      if (entry.proxy.streamPath !== event.streamPath || !entry.proxy.enabled) continue;
      this.startRelay(entry, `${event.protocol} reader ${event.remoteAddress}`);
    }
  }

  /** Readers of a stream path (waiting or playing); `unpublished`: only when nobody publishes it. */
  private readers(streamPath: string, unpublished = false): number {
    const stream = this.registry.get(streamPath);
    if (!stream || (unpublished && stream.publisher)) return 0;
    return stream.subscribers.size;
  }
}
