import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsInt, IsString, Max, Min, MinLength, ValidateIf, ValidateNested } from 'class-validator';
import { Duration } from '@m7s/core';

/** `auth` section: the admin API's users and tokens. */
export class AuthConfig {
  /** HMAC secret for access tokens; empty = generated on first start and kept in the database. */
  @ValidateIf((o: AuthConfig) => o.jwtSecret !== '') @IsString() @MinLength(32) jwtSecret = '';
  /** The first admin, created when there is no user yet. */
  @IsString() @MinLength(1) adminUsername = 'admin';
  /** Its password; empty = generated and printed once on first start. */
  @ValidateIf((o: AuthConfig) => o.adminPassword !== '') @IsString() @MinLength(8) adminPassword = '';
  @Duration() accessTokenTtl = 15 * 60_000;
  @Duration() refreshTokenTtl = 7 * 24 * 3600_000;
  /** Failed login attempts allowed per client address per window (a successful login does not count). */
  @IsInt() @Min(1) @Max(10_000) loginRateLimit = 10;
  @Duration() loginRateWindow = 60_000;
}

/** `streamAuth` section: the external HTTP hook asked before each publish and play (URL signing keys are publish.key / subscribe.key). */
export class StreamAuthConfig {
  /** POSTed {action, protocol, streamPath, query, remoteAddress}; 2xx allows, anything else denies. Empty = no hook. */
  @IsString() hookUrl = '';
  @Duration() hookTimeout = 3000;
  /** Allow when the hook cannot be reached or times out (fail-open) instead of denying (fail-closed). */
  @IsBoolean() failOpen = false;
  /** Ask the hook for publishes / plays. */
  @IsBoolean() publish = true;
  @IsBoolean() play = true;
  /** Credentials RTSP clients give with Basic or Digest authentication; when any allows an action, that action requires them. */
  @IsArray() @ValidateNested({ each: true }) @Type(() => StreamUserConfig) users: StreamUserConfig[] = [];
}

/** One streamAuth.users entry. */
export class StreamUserConfig {
  @IsString() @MinLength(1) username = '';
  @IsString() @MinLength(1) password = '';
  @IsBoolean() publish = true;
  @IsBoolean() play = true;
}
