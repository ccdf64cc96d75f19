import { Injectable } from '@nestjs/common';
import { PushProxyService } from '@m7s/api';
import { ConfigService, EngineEvents, PublishEvent, RelayDrivers, RelaySession, StreamRegistry } from '@m7s/core';
import type { PushProxyEntity } from '@m7s/persistence';
import type { ProxyConfig } from './proxy.config';
import { ProxyEntry, ProxyManager } from './proxy-manager.base';

/**
 * Runs the push proxies: a local stream path pushed to a remote server (rtmp://, rtsp://). With `pushOnStart`
 * (the default) the push starts when the stream is published (`publish_start`; at once if it is live when the
 * proxy is loaded or added) and stops when its publisher leaves (`publish_end`); while the stream is live a
 * failed or ended push is retried with backoff. A proxy whose streamPath is an alias pushes the alias's target.
 * Without `pushOnStart` the proxy does nothing yet (no API starts it by hand).
 */
@Injectable()
export class PushProxyManager extends ProxyManager<PushProxyEntity> {
  protected readonly activeStatus = 'pushing' as const;
  protected readonly restartFields = ['url', 'streamPath', 'enabled', 'pushOnStart', 'audio'] as const;

  constructor(store: PushProxyService, registry: StreamRegistry, events: EngineEvents, drivers: RelayDrivers, config: ConfigService) {
    super('PushProxy', store, registry, events, drivers, config.section<ProxyConfig>('proxy'));
  }

  protected connect(proxy: PushProxyEntity): Promise<RelaySession> {
    const driver = this.drivers.forUrl(proxy.url, 'push');
    return driver.push!(proxy.streamPath, proxy.url, { audio: proxy.audio, timeout: this.config.connectTimeout });
  }

  protected listen(): Array<() => void> {
    return [
      this.events.on('publish_start', (event) => this.published(event, true)),
      this.events.on('publish_end', (event) => this.published(event, false)),
    ];
  }

  protected reconcile(entry: ProxyEntry<PushProxyEntity>, now: number): void {
    if (!entry.proxy.pushOnStart) this.stopRelay(entry, 'pushOnStart off', now);
    else if (this.registry.get(this.target(entry))?.publisher) this.startRelay(entry, 'stream live');
  }

  private published(event: PublishEvent, live: boolean): void {
    for (const entry of this.entries.values()) {
      if (!entry.proxy.enabled || !entry.proxy.pushOnStart || this.target(entry) !== event.streamPath) continue;
      if (live) this.startRelay(entry, `published by ${event.protocol} ${event.remoteAddress}`);
      else this.stopRelay(entry, 'publisher left');
    }
  }

  /** The stream the proxy pushes: its path, or the target when the path is an alias. */
  private target(entry: ProxyEntry<PushProxyEntity>): string {
    return this.registry.resolveAlias(entry.proxy.streamPath);
  }
}
