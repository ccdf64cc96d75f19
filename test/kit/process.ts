import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';

export interface Tracked {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();

/** Spawns a process that the test kit kills (by PID) at cleanup if it is still running. */
export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): Tracked {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    if (out.length < 1_000_000) out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    if (err.length < 1_000_000) err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      live.delete(child);
      resolve(code);
    });
    child.on('error', () => {
      live.delete(child);
      resolve(-1);
    });
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Kills one tracked process and waits for it to exit. */
export async function stopTracked(t: Tracked, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (t.child.exitCode === null && t.child.signalCode === null) t.child.kill(signal);
  await t.exited;
}

/** Kills every process the kit started and that still runs. */
export async function killAllTracked(): Promise<void> {
  const waits: Promise<void>[] = [];
  for (const child of live) {
    waits.push(new Promise((resolve) => child.once('exit', () => resolve())));
    child.kill('SIGKILL');
  }
  await Promise.all(waits);
}

/** Runs a command to completion and returns its output. */
export async function run(command: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const t = spawnTracked(command, args);
  t.child.stdin?.end();
  const timer = setTimeout(() => t.child.kill('SIGKILL'), timeoutMs);
  const code = await t.exited;
  clearTimeout(timer);
  return { code, stdout: t.stdout(), stderr: t.stderr() };
}
