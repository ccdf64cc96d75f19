/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof DIR`): the functions with the most self
 * time, and the same totalled by source file. Usage:
 *   node -r @swc-node/register bench/profile-top.ts FILE.cpuprofile [--top 30] [--from SECONDS] [--to SECONDS] [--mono FROM_US,TO_US]
 * --from/--to keep only the samples in that part of the profile (seconds from its start); --mono keeps the
 * samples between two monotonic-clock times in us, e.g. a row's windowMonoUs from bench/results/*.json
 * (V8 profile timestamps are on the same clock as process.hrtime).
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function main(): void {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile-top.ts FILE.cpuprofile [--top N] [--from S] [--to S]');
  const top = Number(arg('top') ?? 30);
  let from = Number(arg('from') ?? 0) * 1e6;
  let to = Number(arg('to') ?? Infinity) * 1e6;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const mono = arg('mono');
  if (mono) {
    const [a, b] = mono.split(',').map(Number);
    from = a - profile.startTime;
    to = b - profile.startTime;
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = 0;
  let total = 0;
  if (mono) process.stdout.write(`window: ${(from / 1e6).toFixed(1)}..${(to / 1e6).toFixed(1)} s of the profile\n`);
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < from || t > to) return;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const fnTotals = new Map<string, number>();
  const fileTotals = new Map<string, number>();
  for (const [id, us] of self) {
    const cf = byId.get(id)!.callFrame;
    const where = cf.url ? cf.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '') : '';
    const fn = `${cf.functionName || '(anonymous)'} ${where ? `${where}:${cf.lineNumber + 1}` : ''}`.trim();
    fnTotals.set(fn, (fnTotals.get(fn) ?? 0) + us);
    const f = where ? where.replace(/^.*node_modules\/(@[^/]+\/[^/]+|[^/]+)\/.*$/, 'node_modules/$1') : `(${cf.functionName})`;
    fileTotals.set(f, (fileTotals.get(f) ?? 0) + us);
  }
  const print = (title: string, m: Map<string, number>): void => {
    process.stdout.write(`\n${title}\n`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(6)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}\n`);
    }
  };
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s of samples (profile ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s)\n`);
  print('self time by function', fnTotals);
  print('self time by file', fileTotals);
}

main();
