import { api, fillPath, login, openApiOperations, startTestServer, TestServer, validateOpenApi } from '@m7s/test-kit';

/** Values for the path parameters of every operation. */
const PATH_VALUES = { streamPath: 'live/openapi', id: '1', name: 'publish' };

describe('OpenAPI document and Swagger UI', () => {
  let server: TestServer;
  let document: { openapi: string; paths: Record<string, Record<string, unknown>>; components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> } };

  beforeAll(async () => {
    server = await startTestServer();
    const response = await fetch(`${server.httpUrl}/api/docs-json`);
    expect(response.status).toBe(200);
    document = (await response.json()) as typeof document;
  });

  afterAll(async () => {
    await server?.close();
  });

  it('validates against the OpenAPI schema', async () => {
    expect(document.openapi).toMatch(/^3\./);
    const result = await validateOpenApi(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('documents the API routes, with Monibuca paths where it has them', () => {
    const routes = openApiOperations(document).map((o) => `${o.method} ${o.path}`);
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /api/sysinfo',
        'GET /api/summary',
        'GET /api/stream/list',
        'GET /api/stream/info/{streamPath}',
        'POST /api/stream/stop/{streamPath}',
        'GET /api/subscribers/{streamPath}',
        'POST /api/subscribe/stop/{id}',
        'GET /api/stream/alias/list',
        'POST /api/stream/alias',
        'GET /api/config/get/{name}',
        'POST /api/config/modify',
        'GET /api/proxy/pull/list',
        'POST /api/proxy/pull/add',
        'POST /api/proxy/pull/update',
        'POST /api/proxy/pull/remove/{id}',
        'GET /api/proxy/push/list',
        'POST /api/proxy/push/add',
        'POST /api/proxy/push/update',
        'POST /api/proxy/push/remove/{id}',
      ]),
    );
  });

  it('names the security of every route: a bearer token, or none for a route that truly answers without one', async () => {
    expect(document.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const open: string[] = [];
    for (const { method, path, operation } of openApiOperations(document)) {
      expect(path.startsWith('/api/')).toBe(true);
      if (operation.security?.length) {
        for (const requirement of operation.security) for (const scheme of Object.keys(requirement)) expect(document.components?.securitySchemes?.[scheme]).toBeDefined();
        continue;
      }
      // Not declared secured: it must really be public (no 401 without a token).
      const response = await api(server).request(method, fillPath(path, PATH_VALUES), method === 'GET' ? undefined : {});
      expect({ route: `${method} ${path}`, status: response.status }).not.toMatchObject({ status: 401 });
      open.push(`${method} ${path}`);
    }
    // The public routes are few and known: sign-in, health and the metrics scrape.
    for (const route of open) expect(route).toMatch(/^(POST \/api\/auth\/(login|refresh)|GET \/api\/health|GET \/api\/metrics)/);
  });

  it('declares every path parameter of every operation', () => {
    for (const { path, operation } of openApiOperations(document)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      expect({ path, params: declared.sort() }).toEqual({ path, params: names.sort() });
    }
  });

  it('serves Swagger UI at /api/docs', async () => {
    const response = await fetch(`${server.httpUrl}/api/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(await response.text()).toMatch(/swagger-ui/i);
    // The UI's assets load too.
    const init = await fetch(`${server.httpUrl}/api/docs/swagger-ui-init.js`);
    expect(init.status).toBe(200);
    // And a token from the login works with the routes it documents.
    const token = await login(server);
    expect((await api(server, token).get('/api/sysinfo')).status).toBe(200);
  });
});
