import { execPath } from 'node:process';
import { spawnTracked } from './process';
import { TEST_ADMIN } from './server';

/** Anything with the base URL of a test server (a TestServer). */
export interface HasHttpUrl {
  httpUrl: string;
}

export interface ApiResponse<T = any> {
  status: number;
  /** Parsed JSON, or the text when the body is not JSON. */
  body: T;
  text: string;
  headers: Headers;
}

export interface ApiRequestOptions {
  /** Sent as is (malformed JSON, huge bodies); `body` is JSON-encoded otherwise. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export interface ApiClient {
  token: string | undefined;
  request<T = any>(method: string, path: string, body?: unknown, options?: ApiRequestOptions): Promise<ApiResponse<T>>;
  get<T = any>(path: string): Promise<ApiResponse<T>>;
  post<T = any>(path: string, body?: unknown, options?: ApiRequestOptions): Promise<ApiResponse<T>>;
}

/** fetch against a test server's REST API, with a bearer token when given. */
export function api(server: HasHttpUrl, token?: string): ApiClient {
  const client: ApiClient = {
    token,
    async request(method, path, body, options = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (client.token) headers.authorization = `Bearer ${client.token}`;
      let payload: string | Buffer | undefined = options.rawBody;
      if (payload === undefined && body !== undefined) payload = JSON.stringify(body);
      if (payload !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      const response = await fetch(server.httpUrl + path, { method, headers, body: payload });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body: parsed as never, text, headers: response.headers };
    },
    get: (path) => client.request('GET', path),
    post: (path, body, options) => client.request('POST', path, body ?? {}, options),
  };
  return client;
}

/** POST /api/auth/login; returns the access token (the test server's admin by default). */
export async function login(server: HasHttpUrl, user: { username: string; password: string } = TEST_ADMIN): Promise<string> {
  const response = await api(server).post<{ accessToken?: string }>('/api/auth/login', user);
  if (response.status !== 200 || !response.body?.accessToken) throw new Error(`login as ${user.username} failed: ${response.status} ${response.text}`);
  return response.body.accessToken;
}

/** An API client signed in as `user` (the admin by default). */
export async function loginApi(server: HasHttpUrl, user?: { username: string; password: string }): Promise<ApiClient> {
  return api(server, await login(server, user));
}

/** Creates a user through the API (as `admin`) and returns a client signed in as it. */
export async function apiAs(server: HasHttpUrl, admin: ApiClient, role: 'admin' | 'operator' | 'viewer', username = `${role}${Date.now().toString(36)}`): Promise<ApiClient> {
  const password = `${role}-password-${username}`;
  const created = await admin.post('/api/users', { username, password, role });
  if (created.status >= 300) throw new Error(`creating ${role} ${username} failed: ${created.status} ${created.text}`);
  return loginApi(server, { username, password });
}

export interface OpenApiOperation {
  method: string;
  /** The OpenAPI path, e.g. /api/stream/info/{streamPath}. */
  path: string;
  operation: { security?: Record<string, string[]>[]; parameters?: { name: string; in: string }[]; requestBody?: unknown; operationId?: string };
}

/** Every operation of an OpenAPI document. */
export function openApiOperations(document: { paths: Record<string, Record<string, unknown>> }): OpenApiOperation[] {
  const methods = ['get', 'post', 'put', 'patch', 'delete'];
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => methods.includes(method))
      .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation: operation as OpenApiOperation['operation'] })),
  );
}

/** A concrete URL path for an OpenAPI path: each {param} replaced by `values[param]` (default "1"). */
export function fillPath(path: string, values: Record<string, string> = {}): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => values[name] ?? '1');
}

/**
 * Validates an OpenAPI document with @seriousme/openapi-schema-validator. The package is ESM-only, so it
 * runs in a node child process (jest's module system cannot load it).
 */
export async function validateOpenApi(document: unknown): Promise<{ valid: boolean; errors?: unknown }> {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const result = await new Validator().validate(JSON.parse(input));
    process.stdout.write(JSON.stringify(result));
  `;
  const child = spawnTracked(execPath, ['--input-type=module', '-e', script], { cwd: process.cwd() });
  child.child.stdin?.end(JSON.stringify(document));
  const code = await child.exited;
  if (code !== 0) throw new Error(`the OpenAPI validator failed (${code}): ${child.stderr()}`);
  return JSON.parse(child.stdout()) as { valid: boolean; errors?: unknown };
}
