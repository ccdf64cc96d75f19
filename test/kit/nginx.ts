import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from './fixtures';
import { spawnTracked, stopTracked, Tracked } from './process';
import { freePort, portAccepts, waitFor } from './wait';

export const NGINX_RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

/** Debian's nginx binary (apt-get install nginx libnginx-mod-rtmp). */
export function nginxPath(): string {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (existsSync(p)) return p;
  throw new Error('nginx not found: apt-get install nginx libnginx-mod-rtmp');
}

export interface NginxRtmpOptions {
  /** RTMP applications with `live on` (default ['live']) */
  applications?: string[];
  /** also an HTTP server on a free port with the module's statistics at /stat */
  http?: boolean;
}

/** A private nginx-rtmp: its own prefix dir, config and logs, one tracked process, 127.0.0.1 only. */
export interface NginxRtmp {
  rtmpPort: number;
  httpPort?: number;
  /** the prefix dir (nginx.conf, logs, pid) */
  dir: string;
  process: Tracked;
  /** rtmp://127.0.0.1:PORT/<app/name> */
  rtmpUrl: (path: string) => string;
  errorLog: () => Promise<string>;
  /** Kills nginx and removes its dir. */
  stop: () => Promise<void>;
}

function config(dir: string, rtmpPort: number, httpPort: number | undefined, applications: string[]): string {
  const lines = [
    `load_module ${NGINX_RTMP_MODULE};`,
    'daemon off;',
    'master_process off;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} info;`,
    'events { worker_connections 1024; }',
    'rtmp {',
    '  server {',
    `    listen 127.0.0.1:${rtmpPort};`,
    '    chunk_size 4096;',
    ...applications.map((app) => `    application ${app} { live on; }`),
    '  }',
    '}',
  ];
  if (httpPort !== undefined) {
    lines.push(
      'http {',
      `  access_log ${join(dir, 'access.log')};`,
      `  client_body_temp_path ${join(dir, 'client_body')};`,
      `  proxy_temp_path ${join(dir, 'proxy')};`,
      `  fastcgi_temp_path ${join(dir, 'fastcgi')};`,
      `  uwsgi_temp_path ${join(dir, 'uwsgi')};`,
      `  scgi_temp_path ${join(dir, 'scgi')};`,
      '  server {',
      `    listen 127.0.0.1:${httpPort};`,
      '    location /stat { rtmp_stat all; }',
      '  }',
      '}',
    );
  }
  return lines.join('\n') + '\n';
}

/** Starts a private nginx with the RTMP module and resolves once its RTMP port accepts connections. */
export async function startNginxRtmp(options: NginxRtmpOptions = {}): Promise<NginxRtmp> {
  if (!existsSync(NGINX_RTMP_MODULE)) throw new Error(`${NGINX_RTMP_MODULE} not found: apt-get install libnginx-mod-rtmp`);
  const dir = await makeTempDir('m7s-nginx-');
  const rtmpPort = await freePort();
  const httpPort = options.http ? await freePort() : undefined;
  const confFile = join(dir, 'nginx.conf');
  await writeFile(confFile, config(dir, rtmpPort, httpPort, options.applications ?? ['live']));
  // -e: the error log before the config is read (else /var/log/nginx/error.log)
  const process = spawnTracked(nginxPath(), ['-p', dir + '/', '-c', confFile, '-e', join(dir, 'startup-error.log')]);
  const errorLog = async () => {
    const parts = await Promise.all(['startup-error.log', 'error.log'].map((f) => readFile(join(dir, f), 'utf8').catch(() => '')));
    return parts.join('') + process.stderr();
  };
  const stop = async () => {
    await stopTracked(process);
    await removeTempDir(dir);
  };
  const state = await waitFor(
    async () => {
      if (process.child.exitCode !== null || process.child.signalCode !== null) return 'exited';
      return (await portAccepts(rtmpPort)) && (httpPort === undefined || (await portAccepts(httpPort))) ? 'up' : undefined;
    },
    'nginx-rtmp to accept connections',
    10_000,
  ).catch((error: Error) => error);
  if (state !== 'up') {
    const log = await errorLog();
    await stop();
    throw new Error(`nginx-rtmp did not start (${state === 'exited' ? `exited with ${process.child.exitCode}` : state.message}): ${log}`);
  }
  return { rtmpPort, httpPort, dir, process, rtmpUrl: (path) => `rtmp://127.0.0.1:${rtmpPort}/${path}`, errorLog, stop };
}
