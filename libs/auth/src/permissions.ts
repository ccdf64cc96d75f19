import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Role } from '@m7s/persistence';

/** What a route or gRPC method needs. */
export enum Permission {
  /** Read streams, proxies, recordings, server info. */
  Read = 'read',
  /** Stop streams and players, manage aliases, proxies and recordings. */
  ControlStreams = 'control',
  /** Manage users. */
  ManageUsers = 'users',
  /** Read and change the config. */
  ManageConfig = 'config',
  /** Scrape /api/metrics when metrics.public is false. */
  Metrics = 'metrics',
}

/** The permission table: viewer reads; operator also controls; admin also users and config. */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  viewer: [Permission.Read, Permission.Metrics],
  operator: [Permission.Read, Permission.Metrics, Permission.ControlStreams],
  admin: [Permission.Read, Permission.Metrics, Permission.ControlStreams, Permission.ManageUsers, Permission.ManageConfig],
};

export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];

export const PERMISSION_KEY = 'm7s:permission';
export const PUBLIC_KEY = 'm7s:public';
/** PERMISSION_KEY value of Authenticated(): any signed-in user, whatever the role. */
export const ANY_ROLE = 'authenticated';

/** Whether a role grants a permission. */
export function roleHas(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role]?.includes(permission) ?? false;
}

/** The swagger security name (the API's document declares it as an HTTP bearer scheme). */
export const BEARER_SECURITY = 'bearer';

/**
 * The one decorator stating what a REST route or gRPC method needs: enforced by the auth guard and shown
 * in Swagger (bearer security, 401 and 403 responses, the permission in the description).
 */
export function RequirePermission(permission: Permission): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(PERMISSION_KEY, permission),
    ApiBearerAuth(BEARER_SECURITY),
    ApiExtension('x-permission', permission),
    ApiUnauthorizedResponse({ description: 'No token, or an expired or revoked one (UNAUTHENTICATED)' }),
    ApiForbiddenResponse({ description: `The user's role lacks the \`${permission}\` permission (PERMISSION_DENIED)` }),
  );
}

/** A route or gRPC method for any signed-in user, whatever the role (userinfo, logout). */
export function Authenticated(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(PERMISSION_KEY, ANY_ROLE),
    ApiBearerAuth(BEARER_SECURITY),
    ApiUnauthorizedResponse({ description: 'No token, or an expired or revoked one (UNAUTHENTICATED)' }),
  );
}

/** A route anyone may call (login, refresh, health). */
export function Public(): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(PUBLIC_KEY, true));
}
