import { credentials, loadPackageDefinition, Metadata, status as GrpcStatus, ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';
import { killAllTracked, publishTestPattern, startTestServer, TEST_ADMIN, TestServer, waitFor } from '@m7s/test-kit';

const PROTO = join(__dirname, '../../../libs/api/proto/m7s.proto');

type Unary = (request: object, metadata: Metadata, callback: (error: ServiceError | null, response: any) => void) => void;
type ApiClient = Record<string, Unary> & { close(): void };

/** A client built from the committed proto only, as an integrator would (grpc-js + proto-loader). */
function apiClient(port: number): ApiClient {
  const definition = loadSync(PROTO, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
  const m7s = loadPackageDefinition(definition).m7s as any;
  return new m7s.Api(`127.0.0.1:${port}`, credentials.createInsecure());
}

function call<T = any>(client: ApiClient, method: string, request: object = {}, token?: string): Promise<T> {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => client[method].call(client, request, metadata, (error, response) => (error ? reject(error) : resolve(response))));
}

async function callError(client: ApiClient, method: string, request: object = {}, token?: string): Promise<ServiceError> {
  try {
    await call(client, method, request, token);
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error(`${method} succeeded`);
}

describe('gRPC API (grpc-js client from the committed .proto)', () => {
  let server: TestServer;
  let client: ApiClient;
  let adminToken: string;

  beforeAll(async () => {
    server = await startTestServer();
    client = apiClient(server.grpcPort);
    adminToken = (await call(client, 'Login', TEST_ADMIN)).accessToken;
  });

  afterAll(async () => {
    client?.close();
    await killAllTracked();
    await server?.close();
  });

  it('lists a stream that ffmpeg publishes over RTMP, with its tracks', async () => {
    const publisher = publishTestPattern({ url: server.rtmpUrl('live/grpc') });
    try {
      const list = await waitFor(async () => {
        const response = await call(client, 'StreamList', { pageNum: 1, pageSize: 10 }, adminToken);
        return response.list.find((s: any) => s.path === 'live/grpc' && s.videoTrack?.codec) ? response : undefined;
      }, 'the stream in StreamList');
      const stream = list.list.find((s: any) => s.path === 'live/grpc');
      expect(stream).toMatchObject({ state: 'publishing', type: 'rtmp', videoTrack: { codec: 'h264' } });
      expect(stream.videoTrack.width).toBeGreaterThan(0);
      expect(stream.audioTrack.codec).toBe('aac');
      expect(list.total).toBeGreaterThanOrEqual(1);

      const info = await call(client, 'StreamInfo', { streamPath: 'live/grpc' }, adminToken);
      expect(info.path).toBe('live/grpc');
      const summary = await call(client, 'Summary', {}, adminToken);
      expect(summary.streamCount).toBeGreaterThanOrEqual(1);
      const sysInfo = await call(client, 'SysInfo', {}, adminToken);
      expect(sysInfo.plugins.map((p: any) => p.name)).toEqual(expect.arrayContaining(['rtmp', 'flv']));

      await call(client, 'StopPublish', { streamPath: 'live/grpc' }, adminToken);
      await waitFor(() => !server.registry.get('live/grpc')?.publisher, 'the publisher to be stopped');
    } finally {
      publisher.child.kill('SIGKILL');
    }
  });

  it('refuses every protected method without a token (UNAUTHENTICATED) and with a bad one', async () => {
    const definition = loadSync(PROTO, { keepCase: true });
    const methods = Object.keys(definition['m7s.Api']).filter((name) => !['Login', 'Refresh'].includes(name));
    expect(methods.length).toBeGreaterThan(20);
    for (const method of methods) {
      const error = await callError(client, method);
      expect({ method, code: error.code }).toEqual({ method, code: GrpcStatus.UNAUTHENTICATED });
    }
    expect((await callError(client, 'StreamList', {}, 'not-a-jwt')).code).toBe(GrpcStatus.UNAUTHENTICATED);
  });

  it('applies the same permissions as REST: a viewer reads but cannot stop a stream or manage users', async () => {
    await call(client, 'AddUser', { username: 'grpc-viewer', password: 'viewer-password-1', role: 'viewer' }, adminToken);
    const viewer = (await call(client, 'Login', { username: 'grpc-viewer', password: 'viewer-password-1' })).accessToken;
    await expect(call(client, 'StreamList', {}, viewer)).resolves.toHaveProperty('total');
    const stop = await callError(client, 'StopPublish', { streamPath: 'live/any' }, viewer);
    expect(stop.code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect((await callError(client, 'GetUsers', {}, viewer)).code).toBe(GrpcStatus.PERMISSION_DENIED);
    expect((await callError(client, 'Login', { username: 'grpc-viewer', password: 'wrong-password' })).code).toBe(GrpcStatus.UNAUTHENTICATED);
  });

  it('maps typed errors to gRPC status codes and validates requests like REST', async () => {
    expect((await callError(client, 'StreamInfo', { streamPath: 'live/none' }, adminToken)).code).toBe(GrpcStatus.NOT_FOUND);
    expect((await callError(client, 'StreamInfo', { streamPath: '../etc' }, adminToken)).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    const badUrl = await callError(client, 'AddPullProxy', { name: 'cam', streamPath: 'live/cam', url: 'ftp://x' }, adminToken);
    expect(badUrl.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(badUrl.details).toMatch(/url/);
    expect((await callError(client, 'ModifyConfig', { name: 'publish', json: '{not json' }, adminToken)).code).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it('manages proxies, aliases and config', async () => {
    const added = await call(client, 'AddPullProxy', { name: 'cam1', streamPath: 'live/cam1', url: 'rtsp://127.0.0.1:8554/cam1', pullOnStart: false }, adminToken);
    expect(added).toMatchObject({ name: 'cam1', streamPath: 'live/cam1', status: 'offline' });
    const updated = await call(client, 'UpdatePullProxy', { id: added.id, description: 'lobby' }, adminToken);
    expect(updated).toMatchObject({ id: added.id, description: 'lobby', url: 'rtsp://127.0.0.1:8554/cam1' });
    expect((await callError(client, 'AddPullProxy', { name: 'cam1', streamPath: 'live/cam2', url: 'rtmp://h/a/b' }, adminToken)).code).toBe(GrpcStatus.ALREADY_EXISTS);
    expect((await call(client, 'GetPullProxyList', {}, adminToken)).list.map((p: any) => p.name)).toContain('cam1');
    await call(client, 'RemovePullProxy', { id: added.id }, adminToken);
    expect((await callError(client, 'RemovePullProxy', { id: added.id }, adminToken)).code).toBe(GrpcStatus.NOT_FOUND);

    await call(client, 'SetStreamAlias', { alias: 'lobby', streamPath: 'live/cam1' }, adminToken);
    expect((await call(client, 'GetStreamAlias', {}, adminToken)).list).toEqual([expect.objectContaining({ alias: 'lobby', streamPath: 'live/cam1' })]);

    const modified = await call(client, 'ModifyConfig', { name: 'subscribe', json: JSON.stringify({ waitTimeout: '3s' }) }, adminToken);
    expect(modified.applied).toContain('subscribe.waitTimeout');
    expect(JSON.parse((await call(client, 'GetConfig', { name: 'subscribe' }, adminToken)).json)).toMatchObject({ waitTimeout: '3s' });
  });
});
