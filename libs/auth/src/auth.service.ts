import { Injectable } from '@nestjs/common';
import { JwtService, TokenExpiredError } from '@nestjs/jwt';
import { AppError, ConfigService } from '@m7s/core';
import type { Role, UserEntity } from '@m7s/persistence';
import type { AuthConfig } from './auth.config';
import { LoginRateLimiter } from './login-rate-limiter';
import { AuthUser, SessionService } from './session.service';
import { toUserView, UsersService, UserView } from './users.service';

/** Claims of an access token. */
export interface AccessTokenClaims {
  /** The user id, as a string (JWT convention). */
  sub: string;
  username: string;
  role: Role;
  sid: string;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Lifetime of the access token in seconds. */
  expiresIn: number;
  user: UserView;
}

/** Settings key of the generated JWT secret. */
export const JWT_SECRET_SETTING = 'auth.jwtSecret';

/** Login, refresh, logout and access-token checks, for REST and gRPC alike. */
@Injectable()
export class AuthService {
  private readonly config: AuthConfig;
  private readonly limiter: LoginRateLimiter;

  constructor(
    configService: ConfigService,
    private readonly jwt: JwtService,
    private readonly users: UsersService,
    private readonly sessions: SessionService,
  ) {
    this.config = configService.section<AuthConfig>('auth');
    this.limiter = new LoginRateLimiter(this.config.loginRateLimit, this.config.loginRateWindow);
  }

  /** Access token lifetime in whole seconds (at least 1). */
  get accessTokenSeconds(): number {
    return Math.max(1, Math.round(this.config.accessTokenTtl / 1000));
  }

  /** Checks the credentials and opens a session. Failed attempts are limited per client address (auth.loginRateLimit per auth.loginRateWindow). */
  async login(username: string, password: string, clientAddress: string): Promise<TokenPair> {
    const retryAfter = this.limiter.hit(clientAddress);
    if (retryAfter > 0) {
      throw new AppError('RESOURCE_EXHAUSTED', `too many login attempts; try again in ${retryAfter} s`, { retryAfterSeconds: retryAfter });
    }
    const user = await this.users.verifyCredentials(username, password);
    if (!user) throw new AppError('UNAUTHENTICATED', 'wrong username or password');
    this.limiter.refund(clientAddress);
    const { sid, refreshToken } = await this.sessions.create(user.id);
    return this.tokens(user, sid, refreshToken);
  }

  /** A new token pair for a live refresh token; the old refresh token stops working. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    if (typeof refreshToken !== 'string' || !refreshToken) throw new AppError('UNAUTHENTICATED', 'a refresh token is required');
    const rotated = await this.sessions.rotate(refreshToken);
    return this.tokens(rotated.user, rotated.sid, rotated.refreshToken);
  }

  /** Revokes the caller's session and, when given, the session of a refresh token. */
  async logout(user: AuthUser, refreshToken?: string): Promise<void> {
    await this.sessions.revoke(user.sid);
    if (refreshToken) await this.sessions.revokeByRefreshToken(refreshToken);
  }

  /** The user behind an access token, or UNAUTHENTICATED (bad, expired or revoked token; user gone or disabled). */
  async authenticate(accessToken: string | undefined): Promise<AuthUser> {
    if (!accessToken) throw new AppError('UNAUTHENTICATED', 'an access token is required (Authorization: Bearer <token>)');
    let claims: AccessTokenClaims;
    try {
      claims = await this.jwt.verifyAsync<AccessTokenClaims>(accessToken, { algorithms: ['HS256'] });
    } catch (error) {
      throw new AppError('UNAUTHENTICATED', error instanceof TokenExpiredError ? 'the access token has expired' : 'invalid access token');
    }
    const userId = Number(claims.sub);
    if (typeof claims.sid !== 'string' || !Number.isSafeInteger(userId)) throw new AppError('UNAUTHENTICATED', 'invalid access token');
    const user = await this.sessions.liveUser(claims.sid, userId);
    if (!user) throw new AppError('UNAUTHENTICATED', 'the session has ended (logged out, revoked, or the user is disabled)');
    return user;
  }

  private async tokens(user: UserEntity, sid: string, refreshToken: string): Promise<TokenPair> {
    const claims: AccessTokenClaims = { sub: String(user.id), username: user.username, role: user.role, sid };
    const accessToken = await this.jwt.signAsync(claims, { algorithm: 'HS256', expiresIn: this.accessTokenSeconds });
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: this.accessTokenSeconds, user: toUserView(user) };
  }
}
