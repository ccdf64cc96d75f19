import { Injectable } from '@nestjs/common';
import { AppError } from '../errors/app-error';

/** A running pull or push; `done` settles when it ends, with the reason. */
export interface RelaySession {
  readonly url: string;
  readonly streamPath: string;
  readonly done: Promise<string>;
  /** Last measured round-trip time to the remote, ms (RTCP, RTMP ping, or the connect time). */
  rtt(): number | undefined;
  stop(): void;
}

export interface RelayOptions {
  /** Carry audio (false: video only). */
  audio?: boolean;
  /** RTSP only: RTP over the RTSP connection ('tcp') or over UDP ('udp'); 'auto' tries UDP, then TCP. */
  transport?: 'tcp' | 'udp' | 'auto';
  /** Connect and handshake deadline, ms. */
  timeout?: number;
}

/**
 * What a protocol module offers the proxy layer: pull a remote URL into a local stream path, and/or push a
 * local stream path to a remote URL. Both resolve once media can flow, and reject with the reason otherwise.
 * Reconnection is the proxy layer's job.
 */
export interface RelayDriver {
  /** URL schemes handled, lowercase without ':' (e.g. 'rtsp', 'rtsps'). */
  readonly schemes: readonly string[];
  pull?(url: string, streamPath: string, options: RelayOptions): Promise<RelaySession>;
  push?(streamPath: string, url: string, options: RelayOptions): Promise<RelaySession>;
}

/** Protocol modules register their drivers at init; the proxy layer looks them up by URL scheme. */
@Injectable()
export class RelayDrivers {
  private readonly drivers = new Map<string, RelayDriver>();

  register(driver: RelayDriver): void {
    for (const scheme of driver.schemes) this.drivers.set(scheme, driver);
  }

  /** The driver for a URL's scheme and direction; throws AppError('INVALID_ARGUMENT') when none. */
  forUrl(url: string, direction: 'pull' | 'push'): RelayDriver {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase() ?? '';
    const driver = this.drivers.get(scheme);
    if (!driver || !driver[direction]) throw new AppError('INVALID_ARGUMENT', `no ${direction} support for '${scheme || url}' URLs`);
    return driver;
  }

  schemes(direction: 'pull' | 'push'): string[] {
    return [...this.drivers.entries()].filter(([, d]) => d[direction]).map(([s]) => s);
  }
}
