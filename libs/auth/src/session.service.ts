import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { AppError, ConfigService } from '@m7s/core';
import { AuthSessionEntity, InjectRepository, IsNull, LessThan, Repository, Role, UserEntity } from '@m7s/persistence';
import type { AuthConfig } from './auth.config';

/** The signed-in user a request or gRPC call acts as (`req.user`). */
export interface AuthUser {
  id: number;
  username: string;
  role: Role;
  /** The session (login) the access token belongs to. */
  sid: string;
}

interface CachedSession {
  user: AuthUser;
  checkedAt: number;
}

/** How long a session found live is trusted without asking the database (revocations on another node take this long). */
const SESSION_CACHE_MS = 5_000;
const SESSION_CACHE_MAX = 10_000;
/** Expired and revoked sessions are purged this often. */
const PURGE_INTERVAL_MS = 3_600_000;
const REFRESH_TOKEN_PATTERN = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Logins: one auth_sessions row each, holding the sha256 of its refresh token. The refresh token is
 * `<sid>.<32 random bytes base64url>`, so it is found by primary key and checked in constant time. Access
 * tokens carry the sid; they are accepted only while the session is live and its user exists and is enabled.
 */
@Injectable()
export class SessionService implements OnModuleInit, OnApplicationShutdown {
  private readonly config: AuthConfig;
  private readonly cache = new Map<string, CachedSession>();
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(
    configService: ConfigService,
    @InjectRepository(AuthSessionEntity) private readonly sessions: Repository<AuthSessionEntity>,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
  ) {
    this.config = configService.section<AuthConfig>('auth');
  }

  async onModuleInit(): Promise<void> {
    await this.purge();
    this.purgeTimer = setInterval(() => void this.purge().catch(() => undefined), PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.purgeTimer);
  }

  /** Opens a session for the user; returns its id and refresh token (the only time the token exists in clear). */
  async create(userId: number): Promise<{ sid: string; refreshToken: string }> {
    const sid = randomUUID();
    const refreshToken = `${sid}.${randomBytes(32).toString('base64url')}`;
    await this.sessions.insert({ id: sid, userId, refreshTokenHash: sha256Hex(refreshToken), expiresAt: Date.now() + this.config.refreshTokenTtl, revokedAt: null });
    return { sid, refreshToken };
  }

  /**
   * Swaps a live refresh token for a new one (the old one stops working) and extends the session.
   * Returns the session's user; UNAUTHENTICATED when the token is unknown, used, revoked or expired.
   */
  async rotate(refreshToken: string): Promise<{ user: UserEntity; sid: string; refreshToken: string }> {
    const session = await this.findByRefreshToken(refreshToken);
    const user = session && (await this.users.findOneBy({ id: session.userId }));
    if (!session || !user || user.disabled) throw new AppError('UNAUTHENTICATED', 'invalid or expired refresh token');
    const next = `${session.id}.${randomBytes(32).toString('base64url')}`;
    // Conditional on the old hash, so two concurrent refreshes with the same token cannot both win.
    const result = await this.sessions.update(
      { id: session.id, refreshTokenHash: session.refreshTokenHash, revokedAt: IsNull() },
      { refreshTokenHash: sha256Hex(next), expiresAt: Date.now() + this.config.refreshTokenTtl },
    );
    if (result.affected !== 1) throw new AppError('UNAUTHENTICATED', 'invalid or expired refresh token');
    return { user, sid: session.id, refreshToken: next };
  }

  /** Revokes a session: its refresh token and every access token carrying its sid stop working at once. */
  async revoke(sid: string): Promise<void> {
    this.cache.delete(sid);
    await this.sessions.update({ id: sid, revokedAt: IsNull() }, { revokedAt: Date.now() });
  }

  /** Revokes the session of a refresh token; false when the token was not a live one. */
  async revokeByRefreshToken(refreshToken: string): Promise<boolean> {
    const session = await this.findByRefreshToken(refreshToken);
    if (!session) return false;
    await this.revoke(session.id);
    return true;
  }

  /** Revokes every session of a user (password changed, user deleted). */
  async revokeUser(userId: number): Promise<void> {
    this.forgetUser(userId);
    await this.sessions.update({ userId, revokedAt: IsNull() }, { revokedAt: Date.now() });
  }

  /** Drops what the cache knows of a user's sessions, so a change of role or a disable applies at once. */
  forgetUser(userId: number): void {
    for (const [sid, entry] of this.cache) if (entry.user.id === userId) this.cache.delete(sid);
  }

  /** The user of a live session (not revoked, not expired, user present and enabled), else undefined. */
  async liveUser(sid: string, userId: number): Promise<AuthUser | undefined> {
    const now = Date.now();
    const cached = this.cache.get(sid);
    if (cached && now - cached.checkedAt < SESSION_CACHE_MS) return cached.user.id === userId ? cached.user : undefined;
    this.cache.delete(sid);
    const session = await this.sessions.findOneBy({ id: sid });
    if (!session || session.userId !== userId || session.revokedAt !== null || session.expiresAt <= now) return undefined;
    const user = await this.users.findOneBy({ id: userId });
    if (!user || user.disabled) return undefined;
    const authUser: AuthUser = { id: user.id, username: user.username, role: user.role, sid };
    if (this.cache.size >= SESSION_CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(sid, { user: authUser, checkedAt: now });
    return authUser;
  }

  private async findByRefreshToken(refreshToken: string): Promise<AuthSessionEntity | undefined> {
    const match = REFRESH_TOKEN_PATTERN.exec(refreshToken);
    if (!match) return undefined;
    const session = await this.sessions.findOneBy({ id: match[1] });
    if (!session || session.revokedAt !== null || session.expiresAt <= Date.now()) return undefined;
    const given = Buffer.from(sha256Hex(refreshToken), 'hex');
    const stored = Buffer.from(session.refreshTokenHash, 'hex');
    return stored.length === given.length && timingSafeEqual(stored, given) ? session : undefined;
  }

  /** Deletes sessions that expired, and revoked ones once no access token of theirs can still be valid. */
  private async purge(): Promise<void> {
    const now = Date.now();
    await this.sessions.delete({ expiresAt: LessThan(now) });
    await this.sessions.delete({ revokedAt: LessThan(now - this.config.accessTokenTtl) });
  }
}
