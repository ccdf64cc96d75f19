import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTracked, stopTracked } from './process';
import { freePort, waitFor } from './wait';

export interface TurnServerOptions {
  /**
   * Address coturn's relayed sockets (the candidates it hands out) bind to. Default 127.0.0.2: still loopback,
   * but not the address the test's own clients and server use, so a relayed path and a direct one differ.
   */
  relayAddress?: string;
}

export interface TurnServer {
  /** The client port on 127.0.0.1 (UDP and TCP). */
  port: number;
  relayAddress: string;
  username: string;
  credential: string;
  realm: string;
  /** `turn:127.0.0.1:PORT?transport=udp` (or tcp). */
  url: (transport?: 'udp' | 'tcp') => string;
  /** What coturn logged so far (verbose: allocations, permissions, channel binds). */
  log: () => string;
  pid: number;
  close: () => Promise<void>;
}

/**
 * coturn (Debian's turnserver) on a free port of 127.0.0.1 with one long-term-credential user, no TLS/DTLS, no
 * CLI, no config file (-c /dev/null and -n: /etc/turnserver.conf is ignored), loopback peers allowed, its
 * user database and pid file in a temporary directory. Killed and cleaned up by close() (or killAllTracked).
 */
export async function startTurnServer(options: TurnServerOptions = {}): Promise<TurnServer> {
  const port = await freePort();
  const relayAddress = options.relayAddress ?? '127.0.0.2';
  const dir = mkdtempSync(join(tmpdir(), 'm7s-turn-'));
  const username = 'm7s';
  const credential = 'turn-test-password';
  const realm = 'm7s.test';
  const args = [
    '-c', '/dev/null', '-n',
    '--listening-ip', '127.0.0.1', '--listening-port', String(port),
    '--relay-ip', relayAddress,
    '--lt-cred-mech', '--user', `${username}:${credential}`, '--realm', realm,
    '--allow-loopback-peers', '--no-tls', '--no-dtls', '--no-cli', '--no-software-attribute',
    '--userdb', join(dir, 'turndb'), '--pidfile', join(dir, 'turnserver.pid'),
    '--log-file', 'stdout', '--simple-log', '--verbose',
  ];
  const turn = spawnTracked('turnserver', args, { cwd: dir });
  const close = async () => {
    await stopTracked(turn);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => turn.child.exitCode === null && /UDP listener opened on: 127\.0\.0\.1:/.test(turn.stdout()), 'coturn to listen', 10_000);
    // The pid file is written by the process we spawned (it does not fork): a check that this is our coturn.
    await waitFor(() => Number(readFileSync(join(dir, 'turnserver.pid'), 'utf8').trim()) === turn.child.pid, "coturn's pid file", 5_000);
  } catch (error) {
    await close();
    throw new Error(`${String(error)}\n${turn.stdout().slice(-2000)}${turn.stderr().slice(-2000)}`);
  }
  return {
    port,
    relayAddress,
    username,
    credential,
    realm,
    url: (transport = 'udp') => `turn:127.0.0.1:${port}?transport=${transport}`,
    log: () => turn.stdout(),
    pid: turn.child.pid!,
    close,
  };
}
