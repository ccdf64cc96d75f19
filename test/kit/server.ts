import type { INestApplication } from '@nestjs/common';
import { PlainConfig, StreamRegistry, deepMerge } from '@m7s/core';
import { createServer } from '../../apps/server/src/bootstrap';
import { freePort } from './wait';
import { createTestDatabase, TestDatabase, TestDbKind } from './database';

/** The first admin of every test server (config auth.adminPassword). */
export const TEST_ADMIN = { username: 'admin', password: 'test-admin-password' };

export interface TestServer {
  app: INestApplication;
  registry: StreamRegistry;
  httpPort: number;
  rtmpPort: number;
  rtmpUrl: (path: string) => string;
  rtspPort: number;
  rtspUrl: (path: string) => string;
  flvUrl: (path: string) => string;
  wsFlvUrl: (path: string) => string;
  /** WHIP (push) and WHEP (play) endpoints of a stream path. */
  whipUrl: (path: string) => string;
  whepUrl: (path: string) => string;
  /** http://127.0.0.1:port (prefix of /api/...). */
  httpUrl: string;
  grpcPort: number;
  db: TestDatabase;
  /** Closes the server and drops its database (unless it was passed in). */
  close: () => Promise<void>;
}

export interface TestServerOptions {
  /** Database kind for a fresh database (default sqlite), or an existing one to reuse (kept on close). */
  db?: TestDbKind | TestDatabase;
}

/** The whole server in this process on free 127.0.0.1 ports, quiet logs unless M7S_TEST_LOG is set. */
export async function startTestServer(overrides: PlainConfig = {}, options: TestServerOptions = {}): Promise<TestServer> {
  const httpPort = await freePort();
  const rtmpPort = await freePort();
  const grpcPort = await freePort();
  const rtspPort = await freePort();
  const ownDb = typeof options.db !== 'object';
  const db = typeof options.db === 'object' ? options.db : await createTestDatabase(options.db ?? 'sqlite');
  const base: PlainConfig = {
    http: { listen: `127.0.0.1:${httpPort}` },
    log: { level: process.env.M7S_TEST_LOG ?? 'error', format: 'pretty' },
    rtmp: { listen: `127.0.0.1:${rtmpPort}`, tls: { listen: '' } },
    rtsp: { listen: `127.0.0.1:${rtspPort}`, tls: { listen: '' } },
    grpc: { listen: `127.0.0.1:${grpcPort}` },
    db: db.config,
    auth: { adminUsername: TEST_ADMIN.username, adminPassword: TEST_ADMIN.password },
    webhook: { keepAliveInterval: 0 },
    // ICE on OS-chosen ports (parallel workers), with loopback host candidates: the browsers and werift clients of the tests are local.
    webrtc: { icePortRange: '', iceHostAddresses: ['127.0.0.1'], iceUseIpv6: false },
  };
  let app: INestApplication;
  try {
    app = await createServer({ env: {}, overrides: deepMerge(base, overrides), configFile: undefined });
  } catch (error) {
    if (ownDb) await db.drop();
    throw error;
  }
  const registry = app.get(StreamRegistry);
  return {
    app,
    registry,
    httpPort,
    rtmpPort,
    rtmpUrl: (path) => `rtmp://127.0.0.1:${rtmpPort}/${path}`,
    rtspPort,
    rtspUrl: (path) => `rtsp://127.0.0.1:${rtspPort}/${path}`,
    flvUrl: (path) => `http://127.0.0.1:${httpPort}/flv/${path}.flv`,
    wsFlvUrl: (path) => `ws://127.0.0.1:${httpPort}/flv/${path}.flv`,
    whipUrl: (path) => `http://127.0.0.1:${httpPort}/webrtc/push/${path}`,
    whepUrl: (path) => `http://127.0.0.1:${httpPort}/webrtc/play/${path}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    grpcPort,
    db,
    close: async () => {
      await app.close();
      if (ownDb) await db.drop();
    },
  };
}
