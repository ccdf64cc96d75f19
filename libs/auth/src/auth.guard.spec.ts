import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { Metadata } from '@grpc/grpc-js';
import { AppError } from '@m7s/core';
import { AuthGuard, authUserOf } from './auth.guard';
import type { AuthService } from './auth.service';
import { Authenticated, Permission, Public, RequirePermission } from './permissions';
import type { AuthUser } from './session.service';

const USERS: Record<string, AuthUser> = {
  'viewer-token': { id: 1, username: 'v', role: 'viewer', sid: 's1' },
  'admin-token': { id: 2, username: 'a', role: 'admin', sid: 's2' },
};

/** Stands in for the token checks (covered by the auth e2e suite); the guard's decisions are what is tested here. */
const auth = {
  authenticate: async (token: string | undefined) => {
    const user = token ? USERS[token] : undefined;
    if (!user) throw new AppError('UNAUTHENTICATED', 'no');
    return user;
  },
} as unknown as AuthService;

class Routes {
  undeclared() {}
  @Public() open() {}
  @RequirePermission(Permission.ControlStreams) control() {}
  @Authenticated() anyone() {}
}

@Public()
class PublicRoutes {
  inherited() {}
  @RequirePermission(Permission.ManageUsers) users() {}
}

@RequirePermission(Permission.Read)
class ReadRoutes {
  read() {}
  @Public() open() {}
}

/** Route, token, what the guard decides. */
const DECISIONS: [new () => object, string, string, string][] = [
  [Routes, 'undeclared', 'admin-token', 'PERMISSION_DENIED'],
  [Routes, 'undeclared', 'none', 'PERMISSION_DENIED'],
  [Routes, 'open', 'none', 'allowed'],
  [Routes, 'control', 'none', 'UNAUTHENTICATED'],
  [Routes, 'control', 'bad-token', 'UNAUTHENTICATED'],
  [Routes, 'control', 'viewer-token', 'PERMISSION_DENIED'],
  [Routes, 'control', 'admin-token', 'allowed'],
  [Routes, 'anyone', 'viewer-token', 'allowed'],
  [Routes, 'anyone', 'none', 'UNAUTHENTICATED'],
  [PublicRoutes, 'inherited', 'none', 'allowed'],
  [PublicRoutes, 'users', 'none', 'UNAUTHENTICATED'],
  [PublicRoutes, 'users', 'viewer-token', 'PERMISSION_DENIED'],
  [ReadRoutes, 'read', 'viewer-token', 'allowed'],
  [ReadRoutes, 'read', 'none', 'UNAUTHENTICATED'],
  [ReadRoutes, 'open', 'none', 'allowed'],
];

function http(cls: new () => object, method: string, token?: string) {
  const req: { headers: Record<string, string>; user?: AuthUser } = { headers: token ? { authorization: `Bearer ${token}` } : {} };
  const context = new ExecutionContextHost([req, {}], cls as never, (cls.prototype as Record<string, () => void>)[method]);
  context.setType('http');
  return { context, req };
}

function rpc(cls: new () => object, method: string, token?: string) {
  const metadata = new Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  const context = new ExecutionContextHost([{}, metadata, {}], cls as never, (cls.prototype as Record<string, () => void>)[method]);
  context.setType('rpc');
  return context;
}

async function outcome(promise: Promise<boolean>): Promise<string> {
  try {
    return (await promise) ? 'allowed' : 'refused';
  } catch (error) {
    return error instanceof AppError ? error.code : String(error);
  }
}

describe('AuthGuard', () => {
  const guard = new AuthGuard(new Reflector(), auth);

  it.each(DECISIONS.map(([cls, method, token, expected]) => ({ route: `${cls.name}.${method}`, cls, method, token, expected })))(
    '$route with $token: $expected (HTTP and gRPC alike)',
    async ({ cls, method, token, expected }) => {
      const withToken = token === 'none' ? undefined : token;
      expect(await outcome(guard.canActivate(http(cls, method, withToken).context))).toBe(expected);
      expect(await outcome(guard.canActivate(rpc(cls, method, withToken)))).toBe(expected);
    },
  );

  it('hands the user to the handler: req.user over HTTP, beside the metadata over gRPC', async () => {
    const { context, req } = http(Routes, 'control', 'admin-token');
    await guard.canActivate(context);
    expect(req.user).toEqual(USERS['admin-token']);
    expect(authUserOf(context)).toEqual(USERS['admin-token']);
    const call = rpc(Routes, 'anyone', 'viewer-token');
    await guard.canActivate(call);
    expect(authUserOf(call)).toEqual(USERS['viewer-token']);
  });

  it('reads only Bearer authorization', async () => {
    const { context, req } = http(Routes, 'anyone');
    req.headers.authorization = 'Basic admin-token';
    expect(await outcome(guard.canActivate(context))).toBe('UNAUTHENTICATED');
    req.headers.authorization = 'bearer   admin-token';
    expect(await outcome(guard.canActivate(context))).toBe('allowed');
  });
});
