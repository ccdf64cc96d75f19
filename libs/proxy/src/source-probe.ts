import { connect } from 'node:net';

/** Default ports of the schemes proxies speak. */
const DEFAULT_PORTS: Record<string, number> = { rtsp: 554, rtsps: 322, rtmp: 1935, rtmps: 443, http: 80, https: 443 };

/** host and port a URL connects to (the scheme's default port when none is given). */
export function remoteEndpoint(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
  const port = parsed.port ? Number(parsed.port) : DEFAULT_PORTS[scheme];
  if (!port) throw new Error(`no default port for ${scheme}:// URLs`);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
}

/**
 * Whether a proxy's remote answers: a plain TCP connect to its host and port (no protocol, no TLS), closed
 * at once. Resolves with the connect time in ms; rejects with the reason (refused, unreachable, timeout, aborted).
 */
export function probeRemote(url: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('check aborted'));
      return;
    }
    let target: { host: string; port: number };
    try {
      target = remoteEndpoint(url);
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    const started = Date.now();
    const socket = connect(target, () => {
      socket.destroy();
      resolve(Date.now() - started);
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`connect to ${target.host}:${target.port} timed out after ${timeoutMs} ms`)));
    const abort = () => socket.destroy(new Error('check aborted'));
    signal?.addEventListener('abort', abort, { once: true });
    socket.once('close', () => signal?.removeEventListener('abort', abort));
    socket.once('error', (error) => {
      socket.destroy();
      reject(error);
    });
  });
}
