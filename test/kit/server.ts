import type { INestApplication } from '@nestjs/common';
import { PlainConfig, StreamRegistry, deepMerge } from '@m7s/core';
import { createServer } from '../../apps/server/src/bootstrap';
import { freePort } from './wait';

export interface TestServer {
  app: INestApplication;
  registry: StreamRegistry;
  httpPort: number;
  rtmpPort: number;
  rtmpUrl: (path: string) => string;
  flvUrl: (path: string) => string;
  wsFlvUrl: (path: string) => string;
  close: () => Promise<void>;
}

/** The whole server in this process on free 127.0.0.1 ports, quiet logs unless M7S_TEST_LOG is set. */
export async function startTestServer(overrides: PlainConfig = {}): Promise<TestServer> {
  const httpPort = await freePort();
  const rtmpPort = await freePort();
  const base: PlainConfig = {
    http: { listen: `127.0.0.1:${httpPort}` },
    log: { level: process.env.M7S_TEST_LOG ?? 'error', format: 'pretty' },
    rtmp: { listen: `127.0.0.1:${rtmpPort}`, tls: { listen: '' } },
  };
  const app = await createServer({ env: {}, overrides: deepMerge(base, overrides), configFile: undefined });
  const registry = app.get(StreamRegistry);
  return {
    app,
    registry,
    httpPort,
    rtmpPort,
    rtmpUrl: (path) => `rtmp://127.0.0.1:${rtmpPort}/${path}`,
    flvUrl: (path) => `http://127.0.0.1:${httpPort}/flv/${path}.flv`,
    wsFlvUrl: (path) => `ws://127.0.0.1:${httpPort}/flv/${path}.flv`,
    close: () => app.close(),
  };
}
