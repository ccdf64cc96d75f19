import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/**
 * A port free on 127.0.0.1 for both TCP and UDP. Ports come from below the kernel's ephemeral range, so no
 * outgoing connection can take one between this check and the server's listen (port 0 would hand out an
 * ephemeral port, which a client socket of another test may grab first); each jest worker draws from its own
 * block, so parallel workers never pick the same one.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = nextCandidatePort();
    if ((await tcpPortFree(port)) && (await udpPortFree(port))) return port;
  }
  throw new Error('no free port below the ephemeral range');
}

const PORTS_LOW = 10_000;
const BLOCK_SIZE = 2_000;
let portCursor = Math.floor(Math.random() * BLOCK_SIZE);

function nextCandidatePort(): number {
  const ephemeralLow = ephemeralRangeLow();
  const blocks = Math.max(1, Math.floor((ephemeralLow - PORTS_LOW) / BLOCK_SIZE));
  const worker = Number(process.env.JEST_WORKER_ID ?? 0);
  const block = worker % blocks;
  portCursor = (portCursor + 1) % BLOCK_SIZE;
  return PORTS_LOW + block * BLOCK_SIZE + portCursor;
}

function ephemeralRangeLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isFinite(low) && low > PORTS_LOW + BLOCK_SIZE ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** Whether a TCP connection to 127.0.0.1:port is accepted right now. */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
