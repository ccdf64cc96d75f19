import { Logger } from '@nestjs/common';
import type { ProxyState } from '@m7s/api';

/** Where states go: the proxy store's setState. */
export type SaveProxyState = (id: number, state: ProxyState) => Promise<void>;

/**
 * Writes proxy states to the store one at a time per proxy, in order, skipping a state equal to the last one
 * written (rtt samples every few seconds would otherwise be a write each). A failed write is logged; the next
 * state is written anyway.
 */
export class ProxyStateWriter {
  private readonly last = new Map<number, string>();
  private readonly chains = new Map<number, Promise<void>>();

  constructor(
    private readonly save: SaveProxyState,
    private readonly logger: Logger,
  ) {}

  /** Queues `state` for proxy `id`; `force` writes it even when unchanged (the row may have been overwritten). */
  write(id: number, state: ProxyState, force = false): void {
    const normalized: ProxyState = { status: state.status, lastError: state.lastError ?? null, rtt: state.rtt === undefined || state.rtt === null ? null : Math.round(state.rtt) };
    const key = JSON.stringify(normalized);
    if (!force && this.last.get(id) === key) return;
    this.last.set(id, key);
    const previous = this.chains.get(id) ?? Promise.resolve();
    const next = previous
      .then(() => this.save(id, normalized))
      .catch((error: unknown) => this.logger.warn({ msg: 'proxy state not saved', id, error: String(error) }))
      .finally(() => {
        if (this.chains.get(id) === next) this.chains.delete(id);
      });
    this.chains.set(id, next);
  }

  /** The last state queued for `id`. */
  lastState(id: number): ProxyState | undefined {
    const key = this.last.get(id);
    return key === undefined ? undefined : (JSON.parse(key) as ProxyState);
  }

  /** Drops what is known of a removed proxy. */
  forget(id: number): void {
    this.last.delete(id);
  }

  /** Resolves once every queued write is done. */
  async flush(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }
}
