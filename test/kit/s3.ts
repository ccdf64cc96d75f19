import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './wait';

// s3rver ships no types; the part used here.
interface S3rverInstance {
  run(): Promise<unknown>;
  close(): Promise<void>;
  httpServer?: { closeAllConnections(): void };
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

/** s3rver's fixed credentials. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  port: number;
  bucket: string;
  /** http://127.0.0.1:port */
  endpoint: string;
  /** The `record.s3` config section pointing at it. */
  config: Record<string, unknown>;
  readonly running: boolean;
  /** Stops answering (the port is closed; objects stay in its directory). */
  stop(): Promise<void>;
  /** Starts again on the same port with the same objects. */
  start(): Promise<void>;
  /** An object's bytes, or undefined when there is none. */
  getObject(key: string): Promise<Buffer | undefined>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/** A real S3-compatible server (s3rver) on a free 127.0.0.1 port, storing in a temp directory, with one bucket. */
export async function startS3(bucket = 'recordings'): Promise<TestS3> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const S3rver = require('s3rver') as S3rverClass;
  const directory = await mkdtemp(join(tmpdir(), 'm7s-s3-'));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let server: S3rverInstance | undefined;
  const start = async () => {
    if (server) return;
    const instance = new S3rver({ address: '127.0.0.1', port, directory, silent: true, configureBuckets: [{ name: bucket }] });
    await instance.run();
    server = instance;
  };
  const stop = async () => {
    const instance = server;
    server = undefined;
    if (!instance) return;
    const closing = instance.close();
    // Clients keep connections alive; drop them so the port closes now.
    instance.httpServer?.closeAllConnections();
    await closing;
  };
  await start();
  return {
    port,
    bucket,
    endpoint,
    config: { endpoint, region: 'us-east-1', bucket, forcePathStyle: true, ...S3RVER_CREDENTIALS },
    get running() {
      return server !== undefined;
    },
    stop,
    start,
    async getObject(key: string) {
      const response = await fetch(`${endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`);
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`GET ${key} from s3rver: ${response.status} ${await response.text()}`);
      return Buffer.from(await response.arrayBuffer());
    },
    async close() {
      await stop().catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
