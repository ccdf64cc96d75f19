import { CanActivate, createParamDecorator, ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppError } from '@m7s/core';
import { ANY_ROLE, Permission, PERMISSION_KEY, PUBLIC_KEY, roleHas } from './permissions';
import { AuthService } from './auth.service';
import type { AuthUser } from './session.service';

type Access = { kind: 'public' } | { kind: 'permission'; permission: Permission | typeof ANY_ROLE } | { kind: 'undeclared' };

/** gRPC calls have no request object: their user is kept beside the call's metadata. */
const rpcUsers = new WeakMap<object, AuthUser>();

/** The signed-in user of a REST request or gRPC call the guard let through (undefined on public routes). */
export function authUserOf(context: ExecutionContext): AuthUser | undefined {
  if (context.getType() === 'rpc') {
    const metadata = context.switchToRpc().getContext<object | undefined>();
    return metadata ? rpcUsers.get(metadata) : undefined;
  }
  return context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
}

/** Handler parameter: the signed-in user ({id, username, role, sid}). */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext) => authUserOf(context));

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The one guard of every REST route and gRPC method (APP_GUARD). What a handler needs is read from its own
 * decorators, then its class's: Public() passes, RequirePermission(p) needs a live access token whose user's
 * role has p, Authenticated() needs any live access token. A handler with none of them is refused, so nothing
 * is open by accident. Paths play no part: controllers outside the admin API that check access their own
 * way (the media routes, /flv/..., with stream auth) are marked Public() on their class.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger('AuthGuard');
  private readonly warned = new WeakSet<object>();

  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.accessOf(context);
    if (access.kind === 'public') return true;
    if (access.kind === 'undeclared') {
      const handler = context.getHandler();
      if (!this.warned.has(handler)) {
        this.warned.add(handler);
        this.logger.error({ msg: 'handler declares no permission: refused', handler: `${context.getClass().name}.${handler.name}` });
      }
      throw new AppError('PERMISSION_DENIED', 'this endpoint declares no permission and is closed');
    }
    const user = await this.auth.authenticate(this.bearerToken(context));
    if (access.permission !== ANY_ROLE && !roleHas(user.role, access.permission)) {
      throw new AppError('PERMISSION_DENIED', `role ${user.role} lacks the ${access.permission} permission`, { permission: access.permission });
    }
    this.attach(context, user);
    return true;
  }

  private accessOf(context: ExecutionContext): Access {
    for (const target of [context.getHandler(), context.getClass()]) {
      if (this.reflector.get<boolean | undefined>(PUBLIC_KEY, target)) return { kind: 'public' };
      const permission = this.reflector.get<Permission | typeof ANY_ROLE | undefined>(PERMISSION_KEY, target);
      if (permission) return { kind: 'permission', permission };
    }
    return { kind: 'undeclared' };
  }

  private bearerToken(context: ExecutionContext): string | undefined {
    let header: unknown;
    if (context.getType() === 'rpc') {
      const metadata = context.switchToRpc().getContext<{ get?: (key: string) => unknown[] } | undefined>();
      header = typeof metadata?.get === 'function' ? metadata.get('authorization')[0] : undefined;
      if (Buffer.isBuffer(header)) header = header.toString('latin1');
    } else if (context.getType() === 'http') {
      header = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers.authorization;
    }
    return typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
  }

  private attach(context: ExecutionContext, user: AuthUser): void {
    if (context.getType() === 'rpc') {
      const metadata = context.switchToRpc().getContext<object | undefined>();
      if (metadata && typeof metadata === 'object') rpcUsers.set(metadata, user);
    } else {
      context.switchToHttp().getRequest<{ user?: AuthUser }>().user = user;
    }
  }
}
