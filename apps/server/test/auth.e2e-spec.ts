import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { credentials, loadPackageDefinition, Metadata, ServiceError, status as GrpcStatus } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createTestDatabase, startTestServer, TEST_DB_KINDS, TestDatabase, TestServer, waitFor } from '@m7s/test-kit';

interface Reply<T = any> {
  status: number;
  body: T;
}

interface Tokens {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
  user: { id: number; username: string; role: string; disabled: boolean };
}

/** A JSON request to the server's API. */
async function call<T = any>(server: TestServer, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.httpUrl}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function login(server: TestServer, username: string, password: string): Promise<Tokens> {
  const reply = await call<Tokens>(server, 'POST', '/api/auth/login', { body: { username, password } });
  expect(reply.status).toBe(200);
  return reply.body;
}

/** Starts a server on `db`, returning what it printed on stdout while starting. */
async function startCapturing(db: TestDatabase, overrides: Record<string, unknown>): Promise<{ server: TestServer; stdout: string }> {
  let stdout = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write);
  try {
    return { server: await startTestServer(overrides, { db }), stdout };
  } finally {
    spy.mockRestore();
  }
}

function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, claims] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
  return { header, claims };
}

/** An HS256 JWT with these claims signed with `secret`. */
function forgeJwt(claims: Record<string, unknown>, secret: string, alg = 'HS256'): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg, typ: 'JWT' })}.${encode(claims)}`;
  return alg === 'none' ? `${unsigned}.` : `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

type GrpcClient = Record<string, (request: object, metadata: Metadata, callback: (error: ServiceError | null, response: any) => void) => void> & { close(): void };

function grpcClient(port: number): GrpcClient {
  const definition = loadSync(join(__dirname, '../../../libs/api/proto/m7s.proto'), { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
  const m7s = loadPackageDefinition(definition).m7s as any;
  return new m7s.Api(`127.0.0.1:${port}`, credentials.createInsecure());
}

/** A unary gRPC call: the response, or the error's status code. */
function grpcCall(client: GrpcClient, method: string, request: object, token?: string): Promise<{ code: number; response?: any }> {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => client[method].call(client, request, metadata, (error, response) => resolve(error ? { code: error.code } : { code: GrpcStatus.OK, response })));
}

const BANNER_PASSWORD = /password: (\S+)/g;
// Generous: this suite logs in often from one address; the limit has its own test below.
const AUTH = { adminPassword: '', loginRateLimit: 1000 };

describe.each(TEST_DB_KINDS)('auth on %s', (kind) => {
  let db: TestDatabase;
  let server: TestServer;
  let adminPassword: string;
  let firstStdout: string;
  let admin: Tokens;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    ({ server, stdout: firstStdout } = await startCapturing(db, { auth: AUTH }));
  });

  afterAll(async () => {
    await server?.close();
    await db?.drop();
  });

  it('creates the first admin with a generated password, printed once on stdout', async () => {
    const printed = [...firstStdout.matchAll(BANNER_PASSWORD)].map((m) => m[1]);
    expect(printed).toHaveLength(1);
    adminPassword = printed[0];
    expect(adminPassword.length).toBeGreaterThanOrEqual(16);
    expect(adminPassword).not.toBe('test-admin-password');
    admin = await login(server, 'admin', adminPassword);
  });

  it('logs in: a short-lived HS256 access token with sub, username, role, sid, and a refresh token', async () => {
    expect(admin).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, user: { username: 'admin', role: 'admin', disabled: false } });
    expect(admin.user).not.toHaveProperty('passwordHash');
    expect(admin.refreshToken.length).toBeGreaterThanOrEqual(43);
    const { header, claims } = decodeJwt(admin.accessToken);
    expect(header.alg).toBe('HS256');
    expect(claims).toMatchObject({ sub: String(admin.user.id), username: 'admin', role: 'admin', sid: expect.any(String) });
    expect(Number(claims.exp) - Number(claims.iat)).toBe(900);

    const info = await call(server, 'GET', '/api/auth/userinfo', { token: admin.accessToken });
    expect(info).toMatchObject({ status: 200, body: { id: admin.user.id, username: 'admin', role: 'admin', sid: claims.sid, permissions: expect.arrayContaining(['users', 'config']) } });
    // Usernames are case-insensitive.
    expect((await login(server, 'ADMIN', adminPassword)).user.id).toBe(admin.user.id);
  });

  it('answers a wrong password, an unknown user or a bad body with an error', async () => {
    expect(await call(server, 'POST', '/api/auth/login', { body: { username: 'admin', password: 'wrong-password' } })).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect(await call(server, 'POST', '/api/auth/login', { body: { username: 'nobody', password: 'whatever1' } })).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect((await call(server, 'POST', '/api/auth/login', { body: { username: 'admin' } })).status).toBe(400);
  });

  it('refuses protected routes without a valid token', async () => {
    const { claims } = decodeJwt(admin.accessToken);
    const forged = forgeJwt({ ...claims }, 'not-the-secret-not-the-secret-not-the-secret');
    const unsigned = forgeJwt({ ...claims }, '', 'none');
    for (const token of [undefined, 'garbage', forged, unsigned, admin.refreshToken]) {
      for (const [method, path] of [
        ['GET', '/api/auth/userinfo'],
        ['GET', '/api/users'],
        ['POST', '/api/auth/logout'],
        ['DELETE', `/api/users/${admin.user.id}`],
      ]) {
        const reply = await call(server, method, path, { token });
        expect({ token, method, path, status: reply.status, code: reply.body?.code }).toEqual({ token, method, path, status: 401, code: 'UNAUTHENTICATED' });
      }
    }
    const malformed = await fetch(`${server.httpUrl}/api/users`, { headers: { authorization: `Basic ${Buffer.from('admin:x').toString('base64')}` } });
    expect(malformed.status).toBe(401);
  });

  it('rotates refresh tokens: the new pair works, the old refresh token does not', async () => {
    const session = await login(server, 'admin', adminPassword);
    const refreshed = await call<Tokens>(server, 'POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(session.refreshToken);
    expect(decodeJwt(refreshed.body.accessToken).claims.sid).toBe(decodeJwt(session.accessToken).claims.sid);
    expect((await call(server, 'GET', '/api/auth/userinfo', { token: refreshed.body.accessToken })).status).toBe(200);
    expect(await call(server, 'POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } })).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect((await call(server, 'POST', '/api/auth/refresh', { body: { refreshToken: refreshed.body.refreshToken } })).status).toBe(200);
    expect((await call(server, 'POST', '/api/auth/refresh', { body: { refreshToken: 'not-a-token' } })).status).toBe(401);
  });

  it('logout revokes the access and refresh tokens of that session only', async () => {
    const session = await login(server, 'admin', adminPassword);
    const other = await login(server, 'admin', adminPassword);
    expect((await call(server, 'POST', '/api/auth/logout', { token: session.accessToken })).status).toBe(204);
    expect(await call(server, 'GET', '/api/auth/userinfo', { token: session.accessToken })).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    expect((await call(server, 'POST', '/api/auth/refresh', { body: { refreshToken: session.refreshToken } })).status).toBe(401);
    expect((await call(server, 'GET', '/api/auth/userinfo', { token: other.accessToken })).status).toBe(200);
    // Logout can also revoke the session of a refresh token it is given.
    const third = await login(server, 'admin', adminPassword);
    expect((await call(server, 'POST', '/api/auth/logout', { token: other.accessToken, body: { refreshToken: third.refreshToken } })).status).toBe(204);
    expect((await call(server, 'GET', '/api/auth/userinfo', { token: third.accessToken })).status).toBe(401);
  });

  it('lets only admins manage users: viewer and operator get 403', async () => {
    const created = await call(server, 'POST', '/api/users', { token: admin.accessToken, body: { username: 'Viewer1', password: 'viewer-password', role: 'viewer' } });
    expect(created).toMatchObject({ status: 201, body: { username: 'viewer1', role: 'viewer', disabled: false } });
    expect(created.body).not.toHaveProperty('passwordHash');
    expect((await call(server, 'POST', '/api/users', { token: admin.accessToken, body: { username: 'operator1', password: 'operator-password', role: 'operator' } })).status).toBe(201);
    const viewer = await login(server, 'viewer1', 'viewer-password');
    const operator = await login(server, 'operator1', 'operator-password');

    for (const token of [viewer.accessToken, operator.accessToken]) {
      expect(await call(server, 'GET', '/api/users', { token })).toMatchObject({ status: 403, body: { code: 'PERMISSION_DENIED' } });
      expect((await call(server, 'POST', '/api/users', { token, body: { username: 'x1', password: 'password1', role: 'admin' } })).status).toBe(403);
      expect((await call(server, 'PATCH', `/api/users/${viewer.user.id}`, { token, body: { role: 'admin' } })).status).toBe(403);
      expect((await call(server, 'DELETE', `/api/users/${admin.user.id}`, { token })).status).toBe(403);
      expect((await call(server, 'GET', '/api/auth/userinfo', { token })).status).toBe(200);
    }
    expect((await call(server, 'GET', '/api/auth/userinfo', { token: operator.accessToken })).body.permissions).toEqual(expect.arrayContaining(['read', 'control']));
    expect((await call(server, 'GET', '/api/auth/userinfo', { token: viewer.accessToken })).body.permissions).not.toContain('control');

    const list = await call(server, 'GET', '/api/users', { token: admin.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.map((u: { username: string }) => u.username)).toEqual(['admin', 'viewer1', 'operator1']);
    for (const user of list.body) expect(Object.keys(user).sort()).toEqual(['createdAt', 'disabled', 'id', 'role', 'updatedAt', 'username']);
    expect(await call(server, 'GET', `/api/users/${viewer.user.id}`, { token: admin.accessToken })).toMatchObject({ status: 200, body: { username: 'viewer1' } });
  });

  it('validates users: unique names, known roles, password length; 404 for unknown ids', async () => {
    const token = admin.accessToken;
    expect(await call(server, 'POST', '/api/users', { token, body: { username: 'VIEWER1', password: 'another-password', role: 'viewer' } })).toMatchObject({
      status: 409,
      body: { code: 'ALREADY_EXISTS' },
    });
    expect((await call(server, 'POST', '/api/users', { token, body: { username: 'u2', password: 'short', role: 'viewer' } })).status).toBe(400);
    expect((await call(server, 'POST', '/api/users', { token, body: { username: 'u2', password: 'long-enough', role: 'root' } })).status).toBe(400);
    expect((await call(server, 'POST', '/api/users', { token, body: { username: 'bad name', password: 'long-enough', role: 'viewer' } })).status).toBe(400);
    expect((await call(server, 'POST', '/api/users', { token, body: { username: 'u2', password: 'long-enough', role: 'viewer', passwordHash: 'x' } })).status).toBe(400);
    expect(await call(server, 'GET', '/api/users/99999', { token })).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect((await call(server, 'PATCH', '/api/users/99999', { token, body: { role: 'viewer' } })).status).toBe(404);
    expect((await call(server, 'GET', '/api/users/abc', { token })).status).toBe(400);
  });

  it('applies a role change, a disable and a delete to live tokens at once', async () => {
    const token = admin.accessToken;
    const created = await call(server, 'POST', '/api/users', { token, body: { username: 'temp', password: 'temp-password', role: 'admin' } });
    const temp = await login(server, 'temp', 'temp-password');
    expect((await call(server, 'GET', '/api/users', { token: temp.accessToken })).status).toBe(200);
    expect((await call(server, 'PATCH', `/api/users/${created.body.id}`, { token, body: { role: 'viewer' } })).body.role).toBe('viewer');
    expect((await call(server, 'GET', '/api/users', { token: temp.accessToken })).status).toBe(403);
    expect((await call(server, 'PATCH', `/api/users/${created.body.id}`, { token, body: { disabled: true } })).body.disabled).toBe(true);
    expect((await call(server, 'GET', '/api/auth/userinfo', { token: temp.accessToken })).status).toBe(401);
    expect((await call(server, 'POST', '/api/auth/refresh', { body: { refreshToken: temp.refreshToken } })).status).toBe(401);
    expect((await call(server, 'POST', '/api/auth/login', { body: { username: 'temp', password: 'temp-password' } })).status).toBe(401);
    await call(server, 'PATCH', `/api/users/${created.body.id}`, { token, body: { disabled: false } });
    const again = await login(server, 'temp', 'temp-password');
    expect((await call(server, 'DELETE', `/api/users/${created.body.id}`, { token })).status).toBe(204);
    expect((await call(server, 'GET', '/api/auth/userinfo', { token: again.accessToken })).status).toBe(401);
    expect((await call(server, 'GET', `/api/users/${created.body.id}`, { token })).status).toBe(404);
  });

  it('signs a user out everywhere when its password changes', async () => {
    const token = admin.accessToken;
    const viewer = await login(server, 'viewer1', 'viewer-password');
    expect((await call(server, 'PATCH', `/api/users/${viewer.user.id}`, { token, body: { password: 'new-viewer-password' } })).status).toBe(200);
    expect((await call(server, 'GET', '/api/auth/userinfo', { token: viewer.accessToken })).status).toBe(401);
    expect((await call(server, 'POST', '/api/auth/login', { body: { username: 'viewer1', password: 'viewer-password' } })).status).toBe(401);
    await login(server, 'viewer1', 'new-viewer-password');
  });

  it('keeps at least one enabled admin', async () => {
    const token = admin.accessToken;
    const id = admin.user.id;
    for (const body of [{ role: 'operator' }, { disabled: true }]) {
      expect(await call(server, 'PATCH', `/api/users/${id}`, { token, body })).toMatchObject({ status: 409, body: { code: 'FAILED_PRECONDITION' } });
    }
    expect(await call(server, 'DELETE', `/api/users/${id}`, { token })).toMatchObject({ status: 409, body: { code: 'FAILED_PRECONDITION' } });
    // With a second admin, the first may go.
    const second = await call(server, 'POST', '/api/users', { token, body: { username: 'admin2', password: 'admin2-password', role: 'admin' } });
    const admin2 = await login(server, 'admin2', 'admin2-password');
    expect((await call(server, 'PATCH', `/api/users/${second.body.id}`, { token, body: { role: 'operator' } })).status).toBe(200);
    expect((await call(server, 'PATCH', `/api/users/${id}`, { token: admin2.accessToken, body: { role: 'viewer' } })).status).toBe(403);
    expect((await call(server, 'DELETE', `/api/users/${second.body.id}`, { token })).status).toBe(204);
    expect((await call(server, 'GET', '/api/auth/userinfo', { token })).status).toBe(200);
  });

  it('guards gRPC with the same tokens: the user reaches the method, logout revokes for REST too', async () => {
    const client = grpcClient(server.grpcPort);
    try {
      const loggedIn = await grpcCall(client, 'Login', { username: 'admin', password: adminPassword });
      expect(loggedIn.code).toBe(GrpcStatus.OK);
      const token = loggedIn.response.accessToken as string;
      expect((await grpcCall(client, 'UserInfo', {})).code).toBe(GrpcStatus.UNAUTHENTICATED);
      expect(await grpcCall(client, 'UserInfo', {}, token)).toMatchObject({ code: GrpcStatus.OK, response: { id: admin.user.id, username: 'admin', role: 'admin' } });
      expect((await call(server, 'GET', '/api/auth/userinfo', { token })).status).toBe(200);
      expect((await grpcCall(client, 'Logout', {}, token)).code).toBe(GrpcStatus.OK);
      expect((await call(server, 'GET', '/api/auth/userinfo', { token })).status).toBe(401);
      expect((await grpcCall(client, 'GetUsers', {}, token)).code).toBe(GrpcStatus.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });

  it('keeps the JWT secret and the users across a restart: tokens issued before still work, no new password is printed', async () => {
    const before = await login(server, 'admin', adminPassword);
    await server.app.close();
    const restarted = await startCapturing(db, { auth: AUTH });
    server = restarted.server;
    expect(restarted.stdout).not.toMatch(BANNER_PASSWORD);
    expect(await call(server, 'GET', '/api/auth/userinfo', { token: before.accessToken })).toMatchObject({ status: 200, body: { username: 'admin' } });
    expect((await call(server, 'POST', '/api/auth/refresh', { body: { refreshToken: before.refreshToken } })).status).toBe(200);
    expect((await call(server, 'GET', '/api/users', { token: before.accessToken })).body).toHaveLength(3);
  });
});

describe('auth: token expiry and the login rate limit', () => {
  let server: TestServer;

  beforeAll(async () => {
    // 2 s: JWT times are whole seconds, so a token lives between 1 and 2 s.
    server = await startTestServer({ auth: { accessTokenTtl: '2s', loginRateLimit: 3, loginRateWindow: '1m', jwtSecret: 'a-configured-secret-of-32-characters-or-more' } });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('refuses an access token once it has expired; the refresh token still gets a new one', async () => {
    const tokens = await login(server, 'admin', 'test-admin-password');
    expect(tokens.expiresIn).toBe(2);
    expect((await call(server, 'GET', '/api/auth/userinfo', { token: tokens.accessToken })).status).toBe(200);
    const refused = await waitFor(async () => {
      const reply = await call(server, 'GET', '/api/auth/userinfo', { token: tokens.accessToken });
      return reply.status === 401 ? reply : undefined;
    }, 'the access token to expire', 5_000, 100);
    expect(refused.body).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringContaining('expired') });
    const refreshed = await call<Tokens>(server, 'POST', '/api/auth/refresh', { body: { refreshToken: tokens.refreshToken } });
    expect(refreshed.status).toBe(200);
  });

  it('signs with the configured secret', async () => {
    const tokens = await login(server, 'admin', 'test-admin-password');
    const [header, claims, signature] = tokens.accessToken.split('.');
    expect(createHmac('sha256', 'a-configured-secret-of-32-characters-or-more').update(`${header}.${claims}`).digest('base64url')).toBe(signature);
  });

  it('limits failed logins per client address: then 429, even with the right password', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await call(server, 'POST', '/api/auth/login', { body: { username: 'admin', password: `wrong-${i}` } })).status).toBe(401);
    }
    const limited = await call(server, 'POST', '/api/auth/login', { body: { username: 'admin', password: 'test-admin-password' } });
    expect(limited).toMatchObject({ status: 429, body: { code: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('too many login attempts') } });
  });
});
