/**
 * The three servers under test, each started as its own process on 127.0.0.1 with free ports, plus
 * /proc readers for their CPU time and resident memory.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { transformFile } from '@swc/core';

export type ServerName = 'm7s' | 'nginx' | 'nms';

export interface ServerHandle {
  name: ServerName;
  pid: number;
  rtmpUrl: string;
  /** null when the server has no HTTP-FLV */
  flvUrl: string | null;
  /** null when the server has no RTSP */
  rtspUrl: string | null;
  /** base of the server's HTTP listener (HLS), null when it has none */
  httpUrl: string | null;
  /** last lines of the server's output, for error reports */
  output: () => string;
  stop: () => Promise<void>;
}

export interface StartOptions {
  tmpDir: string;
  streamPath: string;
  /** m7s only: write a V8 CPU profile of the server process into this directory */
  cpuProfDir?: string;
  /**
   * m7s only: 'build' = the sources compiled once by the bench (build()), 'register' = the TypeScript
   * sources through @swc-node/register (also loads TypeScript and swc into the server: ~+90 MB RSS),
   * 'dist' = the output of `npx nest build server`.
   */
  m7sMode?: M7sMode;
  /** m7s only, mode 'build': the main.js from buildM7s() */
  m7sMain?: string;
  /** m7s only: more environment (config) for the server process */
  env?: Record<string, string>;
  /** nginx only: nginx-rtmp's HLS on (segments written under the prefix, served by an http block of the same process) */
  nginxHls?: { fragmentS: number; playlistS: number };
}

export type M7sMode = 'build' | 'register' | 'dist';

const ROOT = resolve(__dirname, '..');

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });
}

async function waitPorts(child: ChildProcess, ports: number[], output: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const port of ports) {
    while (!(await canConnect(port))) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before listening on ${port}:\n${output()}`);
      if (Date.now() > deadline) throw new Error(`server did not listen on ${port} within ${timeoutMs} ms:\n${output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Spawns through `sh` only to raise the open-file limit; `exec` keeps the PID the server's. */
function spawnServer(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): { child: ChildProcess; output: () => string } {
  const child = spawn('/bin/sh', ['-c', 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', command, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, output: () => out };
}

function stopper(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    await exited;
    clearTimeout(timer);
  };
}

export async function startM7s(o: StartOptions): Promise<ServerHandle> {
  const [http, rtmp, rtsp, grpc] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    M7S_HTTP__LISTEN: `127.0.0.1:${http}`,
    M7S_RTMP__LISTEN: `127.0.0.1:${rtmp}`,
    M7S_RTSP__LISTEN: `127.0.0.1:${rtsp}`,
    M7S_GRPC__LISTEN: `127.0.0.1:${grpc}`,
    // Its own SQLite file in the run's temp dir, and a known admin password (no first-start banner).
    M7S_DB__PATH: join(o.tmpDir, `m7s-${http}.db`),
    M7S_AUTH__ADMINPASSWORD: 'bench-admin-password',
    // An empty env value reads as YAML null, which the validator refuses; '""' is the empty string.
    M7S_RTMP__TLS__LISTEN: '""',
    M7S_LOG__LEVEL: 'warn',
    ...o.env,
  };
  const nodeArgs: string[] = [];
  if (o.cpuProfDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`);
  const mode = o.m7sMode ?? 'build';
  if (mode === 'register') nodeArgs.push('-r', '@swc-node/register', join(ROOT, 'apps/server/src/main.ts'));
  else if (mode === 'build') nodeArgs.push(o.m7sMain ?? (await buildM7s(o.tmpDir)));
  else {
    // `nest build server` emits under dist/apps/server/ mirroring the repo (tsconfig.app.json includes libs/)
    const candidates = [join(ROOT, 'dist/apps/server/main.js'), join(ROOT, 'dist/apps/server/apps/server/src/main.js')];
    const main = candidates.find((f) => existsSync(f));
    if (!main) throw new Error(`m7s dist: none of ${candidates.join(', ')} exists; run \`npx nest build server\` first`);
    nodeArgs.push(main);
  }
  const { child, output } = spawnServer(process.execPath, nodeArgs, env, ROOT);
  const stop = stopper(child, 'SIGINT');
  try {
    await waitPorts(child, [rtmp, http, rtsp], output);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: 'm7s',
    pid: child.pid!,
    rtmpUrl: `rtmp://127.0.0.1:${rtmp}/${o.streamPath}`,
    flvUrl: `http://127.0.0.1:${http}/flv/${o.streamPath}.flv`,
    rtspUrl: `rtsp://127.0.0.1:${rtsp}/${o.streamPath}`,
    httpUrl: `http://127.0.0.1:${http}`,
    output,
    stop,
  };
}

function tsSources(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) tsSources(path, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') && !e.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/**
 * Compiles apps/server and libs/ to CommonJS in `<tmpDir>/m7s` with swc (what @swc-node/register does at
 * run time, done once ahead), path aliases rewritten from tsconfig.json; config/default.yaml is copied and
 * node_modules linked so the server finds both. Returns the main.js to run.
 */
export async function buildM7s(tmpDir: string): Promise<string> {
  const out = join(tmpDir, 'm7s');
  const main = join(out, 'apps/server/src/main.js');
  if (existsSync(main)) return main;
  const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
  const files = [...tsSources(join(ROOT, 'apps/server/src')), ...tsSources(join(ROOT, 'libs'))];
  await Promise.all(
    files.map(async (file) => {
      const { code } = await transformFile(file, {
        swcrc: false,
        configFile: false,
        sourceMaps: false,
        module: { type: 'commonjs' },
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
          keepClassNames: true,
          baseUrl: ROOT,
          paths: tsconfig.compilerOptions.paths,
        },
      });
      const target = join(out, relative(ROOT, file)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, code);
    }),
  );
  mkdirSync(join(out, 'config'), { recursive: true });
  copyFileSync(join(ROOT, 'config/default.yaml'), join(out, 'config/default.yaml'));
  copyFileSync(join(ROOT, 'package.json'), join(out, 'package.json'));
  mkdirSync(join(out, 'libs/api/proto'), { recursive: true });
  copyFileSync(join(ROOT, 'libs/api/proto/m7s.proto'), join(out, 'libs/api/proto/m7s.proto'));
  if (!existsSync(join(out, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  return main;
}

export async function startNginx(o: StartOptions): Promise<ServerHandle> {
  const rtmp = await freePort();
  const http = o.nginxHls ? await freePort() : undefined;
  const prefix = join(o.tmpDir, `nginx-${rtmp}`);
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  // One process (no master, no workers) so /proc/<pid> is the whole server; wait_key makes a new player
  // start at a key frame (nginx-rtmp has no GOP cache).
  writeFileSync(
    conf,
    [
      'load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;',
      'daemon off;',
      'master_process off;',
      'worker_processes 1;',
      'worker_rlimit_nofile 65536;',
      `pid ${join(prefix, 'nginx.pid')};`,
      `error_log ${join(prefix, 'logs/error.log')} warn;`,
      'events { worker_connections 8192; }',
      'rtmp {',
      '  server {',
      `    listen 127.0.0.1:${rtmp};`,
      '    chunk_size 4096;',
      '    application live {',
      '      live on;',
      '      wait_key on;',
      ...(o.nginxHls ? [`      hls on; hls_path ${join(prefix, 'hls')}; hls_fragment ${o.nginxHls.fragmentS}s; hls_playlist_length ${o.nginxHls.playlistS}s;`] : []),
      '    }',
      '  }',
      '}',
      ...(http
        ? [
            'http {',
            `  access_log off; client_body_temp_path ${join(prefix, 'body')}; proxy_temp_path ${join(prefix, 'proxy')}; fastcgi_temp_path ${join(prefix, 'fcgi')}; uwsgi_temp_path ${join(prefix, 'uwsgi')}; scgi_temp_path ${join(prefix, 'scgi')};`,
            `  server { listen 127.0.0.1:${http}; location /hls { types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; } root ${prefix}; add_header Cache-Control no-cache; } }`,
            '}',
          ]
        : []),
      '',
    ].join('\n'),
  );
  const bin = process.env.NGINX ?? '/usr/sbin/nginx';
  const { child, output } = spawnServer(bin, ['-p', prefix, '-e', join(prefix, 'logs/error.log'), '-c', conf], process.env, prefix);
  const stop = stopper(child, 'SIGTERM');
  const out = (): string => {
    let log = '';
    try {
      log = readFileSync(join(prefix, 'logs/error.log'), 'utf8').slice(-4000);
    } catch {
      // no log yet
    }
    return output() + log;
  };
  try {
    await waitPorts(child, http ? [rtmp, http] : [rtmp], out);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name: 'nginx', pid: child.pid!, rtmpUrl: `rtmp://127.0.0.1:${rtmp}/${o.streamPath}`, flvUrl: null, rtspUrl: null, httpUrl: http ? `http://127.0.0.1:${http}` : null, output: out, stop };
}

/**
 * Node-Media-Server v4 from node_modules, started through a small generated CommonJS launcher (its bin
 * script rewrites its config file and logs every session at debug level): RTMP and HTTP-FLV only, no
 * admin console, no API, no recording, logs at warn.
 */
export async function startNms(o: StartOptions): Promise<ServerHandle> {
  const [http, rtmp] = [await freePort(), await freePort()];
  const dir = join(o.tmpDir, `nms-${rtmp}`);
  mkdirSync(dir, { recursive: true });
  const nmsMain = require.resolve('node-media-server', { paths: [ROOT] });
  const config = {
    bind: '127.0.0.1',
    rtmp: { port: rtmp },
    http: { port: http },
    store: { path: join(dir, 'data') },
    record: { auto: false, path: join(dir, 'record') },
    webadmin: { enable: false },
    auth: { play: false, publish: false, secret: 'bench' },
    notify: { url: '' },
  };
  const launcher = join(dir, 'launch.cjs');
  writeFileSync(
    launcher,
    [
      `const NodeMediaServer = require(${JSON.stringify(nmsMain)});`,
      `const logger = require(${JSON.stringify(join(nmsMain, '..', 'core', 'logger.js'))});`,
      `const nms = new NodeMediaServer(${JSON.stringify(config)}, ${JSON.stringify(join(dir, 'config.json'))});`,
      `logger.level = 'warn';`,
      'nms.run();',
      "process.on('SIGTERM', () => nms.stop().finally(() => process.exit(0)));",
      '',
    ].join('\n'),
  );
  const { child, output } = spawnServer(process.execPath, [launcher], process.env, dir);
  const stop = stopper(child, 'SIGTERM');
  try {
    await waitPorts(child, [rtmp, http], output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name: 'nms', pid: child.pid!, rtmpUrl: `rtmp://127.0.0.1:${rtmp}/${o.streamPath}`, flvUrl: `http://127.0.0.1:${http}/${o.streamPath}.flv`, rtspUrl: null, httpUrl: null, output, stop };
}

export function startServer(name: ServerName, o: StartOptions): Promise<ServerHandle> {
  if (name === 'm7s') return startM7s(o);
  if (name === 'nginx') return startNginx(o);
  return startNms(o);
}

let clockTicks = 100;
export function setClockTicks(n: number): void {
  if (n > 0) clockTicks = n;
}

/** utime + stime of a process, ms (from /proc/<pid>/stat; resolution 1/CLK_TCK s). */
export function procCpuMs(pid: number): number {
  const t = procCpuTimes(pid);
  return t.user + t.sys;
}

/** utime and stime of a process, ms. */
export function procCpuTimes(pid: number): { user: number; sys: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the ")" of the command name: state is field 3, utime 14, stime 15
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(rest[11]) * 1000) / clockTicks, sys: (Number(rest[12]) * 1000) / clockTicks };
}

/** Resident set size of a process, KiB (VmRSS). */
export function procRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+)/.exec(status);
  return m ? Number(m[1]) : NaN;
}

/** CPU time spent busy by the whole machine (all cores), ms, from /proc/stat. */
export function machineBusyMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  return (busy * 1000) / clockTicks;
}

/** Read and write system calls made by a process so far (/proc/<pid>/io). */
export function procSyscalls(pid: number): { reads: number; writes: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { reads: Number(/syscr:\s+(\d+)/.exec(io)?.[1] ?? NaN), writes: Number(/syscw:\s+(\d+)/.exec(io)?.[1] ?? NaN) };
  } catch {
    return { reads: NaN, writes: NaN };
  }
}
