import fc from 'fast-check';
import {
  api,
  ApiClient,
  ApiResponse,
  fillPath,
  login,
  OpenApiOperation,
  openApiOperations,
  startTestServer,
  TEST_ADMIN,
  TEST_DB_KINDS,
  TestServer,
} from '@m7s/test-kit';

type FieldKind = 'string' | 'path' | 'url' | 'name' | 'boolean' | 'int' | 'object';

interface RouteSample {
  /** A valid body (except for ids that do not exist, so nothing changes). */
  body: Record<string, unknown>;
  fields: Record<string, FieldKind>;
  required: string[];
}

/** Path parameters that name nothing: actions on them change nothing. */
const NOWHERE = { streamPath: 'live/nowhere', id: '999999', name: 'publish' };

/** A valid body of each POST route that takes one, with the type of each field. */
const SAMPLES: Record<string, RouteSample> = {
  '/api/stream/alias': { body: { alias: 'live/fz', streamPath: 'live/fz-target', autoRemove: false }, fields: { alias: 'path', streamPath: 'path', autoRemove: 'boolean' }, required: ['alias'] },
  '/api/config/modify': { body: { name: 'subscribe', values: { waitTimeout: '3s' } }, fields: { name: 'string', values: 'object' }, required: ['values'] },
  '/api/proxy/pull/add': {
    body: { name: 'fz-pull', streamPath: 'live/fz-pull', url: 'rtsp://192.0.2.1/x', enabled: true, audio: true, description: 'd', pullOnStart: false, stopOnIdleMs: 5000, record: false },
    fields: { name: 'name', streamPath: 'path', url: 'url', enabled: 'boolean', audio: 'boolean', description: 'string', pullOnStart: 'boolean', stopOnIdleMs: 'int', record: 'boolean' },
    required: ['name', 'streamPath', 'url'],
  },
  '/api/proxy/pull/update': {
    body: { id: 999999, name: 'fz-pull-2', url: 'rtmp://192.0.2.1/live/x', stopOnIdleMs: 1000 },
    fields: { id: 'int', name: 'name', url: 'url', stopOnIdleMs: 'int' },
    required: ['id'],
  },
  '/api/proxy/push/add': {
    body: { name: 'fz-push', streamPath: 'live/fz-push', url: 'rtmp://192.0.2.2/live/k', enabled: true, audio: true, pushOnStart: true },
    fields: { name: 'name', streamPath: 'path', url: 'url', enabled: 'boolean', audio: 'boolean', pushOnStart: 'boolean' },
    required: ['name', 'streamPath', 'url'],
  },
  '/api/proxy/push/update': { body: { id: 999999, description: 'x' }, fields: { id: 'int', description: 'string' }, required: ['id'] },
  '/api/users': { body: { username: 'fzuser', password: 'fz-password-1', role: 'viewer' }, fields: { username: 'string', password: 'string', role: 'string' }, required: ['username', 'password', 'role'] },
  '/api/auth/refresh': { body: { refreshToken: 'not-a-refresh-token' }, fields: { refreshToken: 'string' }, required: ['refreshToken'] },
};

/**
 * Routes left out of the random bodies: login counts attempts per address (a flood would lock the suite out)
 * and a valid logout body revokes the suite's own session. Both still get the malformed and oversized bodies.
 */
const NOT_FUZZED = new Set(['/api/auth/login', '/api/auth/logout']);

const anyJson = fc.jsonValue({ maxDepth: 2 });
const notString = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(anyJson, { maxLength: 3 }), fc.dictionary(fc.string(), anyJson, { maxKeys: 3 }));

/** Keys no route knows, including the names every object has (a DTO transform drops those silently unless refused). */
const unknownKey = fc.oneof(
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'toLocaleString'),
);

/** Values that are wrong for a field of that kind. */
function wrongValue(kind: FieldKind): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'boolean':
      return fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(anyJson, { maxLength: 3 }), fc.dictionary(fc.string(), anyJson, { maxKeys: 3 }));
    case 'int':
      return fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.double().filter((d) => !Number.isInteger(d)), fc.integer({ min: -1e9, max: -1 }), fc.array(anyJson, { maxLength: 3 }));
    case 'object':
      return fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(anyJson, { maxLength: 3 }));
    case 'path':
      return fc.oneof(notString, fc.string().map((s) => `../${s}`), fc.string({ minLength: 1 }).map((s) => `live/${s} x`));
    case 'url':
      return fc.oneof(notString, fc.string().map((s) => `ftp://h/${s}`), fc.string().map((s) => `x${s.replace(/:/g, '')}`));
    case 'name':
      return fc.oneof(notString, fc.constant(''), fc.string({ minLength: 65, maxLength: 100 }), fc.string().map((s) => `${s}\u0000`));
    default:
      return notString;
  }
}

/** A body that is invalid by construction: a valid one with one field wrong, a field unknown or a required one missing, or not an object. */
function invalidBody(sample: RouteSample | undefined): fc.Arbitrary<{ raw?: string; body?: unknown }> {
  const base = sample?.body ?? {};
  const mutations: fc.Arbitrary<{ raw?: string; body?: unknown }>[] = [
    unknownKey.filter((k) => !Object.prototype.hasOwnProperty.call(base, k)).chain((key) => anyJson.map((value) => ({ body: { ...base, [key]: value } }))),
    fc.oneof(fc.array(anyJson, { maxLength: 4 }), fc.string(), fc.integer(), fc.boolean(), fc.constant(null)).map((value) => ({ raw: JSON.stringify(value) })),
  ];
  if (sample) {
    const fields = Object.entries(sample.fields);
    mutations.push(fc.constantFrom(...fields).chain(([field, kind]) => wrongValue(kind).map((value) => ({ body: { ...base, [field]: value } }))));
    // An unknown key inside an object field (a config section's values).
    for (const [field, kind] of fields) {
      if (kind !== 'object') continue;
      const inner = (base[field] ?? {}) as Record<string, unknown>;
      mutations.push(unknownKey.filter((k) => !Object.prototype.hasOwnProperty.call(inner, k)).chain((key) => anyJson.map((value) => ({ body: { ...base, [field]: { ...inner, [key]: value } } }))));
    }
    mutations.push(
      fc.constantFrom(...sample.required).map((field) => {
        const body: Record<string, unknown> = { ...base };
        delete body[field];
        return { body };
      }),
    );
  }
  return fc.oneof(...mutations);
}

function expectRefusal(response: ApiResponse, what: string): void {
  const seen = { what, status: response.status, code: typeof response.body?.code, message: typeof response.body?.message };
  expect(seen).toEqual({ what, status: seen.status, code: 'string', message: 'string' });
  expect(response.status >= 400 && response.status < 500 ? 'refused' : `status ${response.status}: ${response.text.slice(0, 300)}`).toBe('refused');
}

describe.each(TEST_DB_KINDS)('API input on %s: bad bodies get a 4xx with {code, message} and store nothing', (kind) => {
  let server: TestServer;
  let admin: ApiClient;
  let postRoutes: OpenApiOperation[];
  const bodyLimit = 100 * 1024;

  /** Everything the POST routes could store. */
  async function stored(): Promise<unknown> {
    const [aliases, pulls, pushes, users, config] = await Promise.all(
      ['/api/stream/alias/list', '/api/proxy/pull/list', '/api/proxy/push/list', '/api/users', '/api/config/get'].map((p) => admin.get(p)),
    );
    for (const r of [aliases, pulls, pushes, users, config]) expect(r.status).toBe(200);
    return { aliases: aliases.body, pulls: pulls.body, pushes: pushes.body, users: users.body, config: config.body.modified };
  }

  beforeAll(async () => {
    server = await startTestServer({ api: { bodyLimit: '100kb' } }, { db: kind });
    admin = api(server, await login(server));
    const doc = (await fetch(`${server.httpUrl}/api/docs-json`).then((r) => r.json())) as Parameters<typeof openApiOperations>[0];
    postRoutes = openApiOperations(doc).filter((o) => o.method === 'POST');
    expect(postRoutes.length).toBeGreaterThan(10);
    // Something to change, so a change that should not happen would show.
    expect((await admin.post('/api/proxy/pull/add', { name: 'seed', streamPath: 'live/seed', url: 'rtsp://192.0.2.1/seed' })).status).toBe(200);
    expect((await admin.post('/api/proxy/push/add', { name: 'seed', streamPath: 'live/seed', url: 'rtmp://192.0.2.1/seed' })).status).toBe(200);
    expect((await admin.post('/api/stream/alias', { alias: 'live/seed-alias', streamPath: 'live/seed' })).status).toBe(200);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('refuses malformed JSON, JSON that is not an object, and bodies over api.bodyLimit on every POST route', async () => {
    const before = await stored();
    const huge = JSON.stringify({ name: 'x'.repeat(bodyLimit + 1) });
    for (const { path } of postRoutes) {
      const url = fillPath(path, NOWHERE);
      for (const raw of ['{"name": "x",', '{name: 1}', "{'a': 1}", '{"a":1}}', '\u0000', '"just a string"', '42', 'null', 'true']) {
        const response = await admin.post(url, undefined, { rawBody: raw });
        expectRefusal(response, `${path} <- ${JSON.stringify(raw)}`);
        expect(response.status).toBe(400);
        expect(response.body.code).toBe('INVALID_ARGUMENT');
        expect(response.body.message).toMatch(/JSON/);
      }
      const tooLarge = await admin.post(url, undefined, { rawBody: huge });
      expect({ path, status: tooLarge.status, code: tooLarge.body?.code }).toEqual({ path, status: 413, code: 'PAYLOAD_TOO_LARGE' });
      expect(tooLarge.body.message).toMatch(/bodyLimit/);
    }
    expect(await stored()).toEqual(before);
  });

  it('refuses unknown fields and wrong types with the field named in the message', async () => {
    const before = await stored();
    for (const [path, sample] of Object.entries(SAMPLES)) {
      const unknown = await admin.post(path, { ...sample.body, unknownField: 1 });
      expectRefusal(unknown, `${path} + unknownField`);
      expect(unknown.status).toBe(400);
      expect(unknown.body.message).toContain('unknownField');
    }
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['/api/stream/alias', { alias: 5, streamPath: 'live/x' }, /alias must be a string/],
      ['/api/stream/alias', { alias: 'live/a', streamPath: 'live/x', autoRemove: 'yes' }, /autoRemove must be a boolean/],
      ['/api/proxy/pull/add', { name: 'n', streamPath: 'live/n', url: 'rtsp://h/x', stopOnIdleMs: '10' }, /stopOnIdleMs must be an integer/],
      ['/api/proxy/pull/add', { name: 'n', streamPath: 'live/n', url: 'rtsp://h/x', enabled: null }, /enabled must be a boolean/],
      ['/api/proxy/pull/add', { name: ['n'], streamPath: 'live/n', url: 'rtsp://h/x' }, /name must be a string/],
      ['/api/proxy/push/update', { id: '1', description: 'x' }, /id must be an integer/],
      ['/api/config/modify', { name: 'subscribe', values: 'waitTimeout=1s' }, /values must be an object/],
      ['/api/config/modify', { name: 'subscribe', values: { waitTimeout: [1] } }, /waitTimeout/],
      ['/api/config/modify', { name: 'sub scribe', values: {} }, /name must be a config section name/],
    ];
    for (const [path, body, message] of cases) {
      const response = await admin.post(path, body);
      expectRefusal(response, `${path} ${JSON.stringify(body)}`);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('INVALID_ARGUMENT');
      expect(response.body.message).toMatch(message);
    }
    expect(await stored()).toEqual(before);
  });

  it('stores SQL-like strings literally where they are allowed and refuses them in stream paths; tables stay intact', async () => {
    const sql = "x'; DROP TABLE users; --";
    const added = await admin.post('/api/proxy/pull/add', { name: sql, streamPath: 'live/sql', url: 'rtsp://192.0.2.1/x?a=1;DROP%20TABLE%20pull_proxies', description: `"); DELETE FROM settings; --` });
    expect(added.status).toBe(200);
    const found = await admin.get(`/api/proxy/pull/get/${added.body.id}`);
    expect(found.body).toMatchObject({ name: sql, description: `"); DELETE FROM settings; --` });
    const alias = await admin.post('/api/stream/alias', { alias: "live/x'; DROP TABLE stream_aliases; --", streamPath: 'live/seed' });
    expect(alias.status).toBe(400);
    expect(alias.body.code).toBe('BAD_STREAM_PATH');
    const section = await admin.get(`/api/config/get/${encodeURIComponent("publish'; DROP TABLE settings; --")}`);
    expect(section.status).toBe(404);
    // Every table still answers; the admin still signs in.
    expect((await admin.get('/api/users')).body).toEqual(expect.arrayContaining([expect.objectContaining({ username: TEST_ADMIN.username })]));
    expect((await admin.get('/api/stream/alias/list')).body.list).toHaveLength(1);
    expect((await admin.get('/api/proxy/pull/list')).body.list.map((p: { name: string }) => p.name).sort()).toEqual(['seed', sql].sort());
    await login(server);
    expect((await admin.post(`/api/proxy/pull/remove/${added.body.id}`)).status).toBe(200);
  });

  it('refuses __proto__, constructor and the other names every object has, at any depth', async () => {
    const before = await stored();
    for (const raw of [
      '{"__proto__": {"polluted": true}, "alias": "live/p"}',
      '{"name": "subscribe", "values": {"__proto__": {"polluted": true}}}',
      '{"values": {"constructor": {"prototype": {"polluted": true}}}}',
      '{"name": "subscribe", "values": {"waitTimeout": "3s"}, "prototype": []}',
      '{"name": "subscribe", "values": {"waitTimeout": "3s", "hasOwnProperty": 1}}',
      '{"alias": "live/p", "streamPath": "live/q", "toString": 1}',
    ]) {
      for (const path of ['/api/stream/alias', '/api/config/modify']) {
        const response = await admin.post(path, undefined, { rawBody: raw });
        expectRefusal(response, `${path} <- ${raw}`);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await stored()).toEqual(before);
  });

  it('answers random invalid bodies on every POST route with a 4xx and stores nothing', async () => {
    const before = await stored();
    const fuzzed = postRoutes.filter((o) => !NOT_FUZZED.has(o.path));
    for (const { path } of fuzzed) {
      const url = fillPath(path, NOWHERE);
      await fc.assert(
        fc.asyncProperty(invalidBody(SAMPLES[path]), async ({ raw, body }) => {
          const response = await admin.post(url, body, raw === undefined ? undefined : { rawBody: raw });
          expectRefusal(response, `${path} <- ${raw ?? JSON.stringify(body)}`);
        }),
        { numRuns: 40 },
      );
    }
    expect(await stored()).toEqual(before);
  });
});
