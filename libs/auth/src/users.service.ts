import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppError, ConfigService } from '@m7s/core';
import { InjectRepository, Repository, Role, UserEntity } from '@m7s/persistence';
import type { AuthConfig } from './auth.config';
import { ROLES } from './permissions';
import { generatePassword, hashPassword, PasswordCheckLimiter, verifyPassword } from './password';
import { SessionService } from './session.service';

/** A user as the API shows it: never the password hash. Times are ms since the epoch. */
export interface UserView {
  id: number;
  username: string;
  role: Role;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface CreateUserInput {
  username: string;
  password: string;
  role: Role;
}

/** Absent fields stay as they are. */
export interface UpdateUserInput {
  password?: string;
  role?: Role;
  disabled?: boolean;
}

/** Usernames are case-insensitive (stored lower-case), so every database treats them alike. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9_.@-]{0,63}$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

export function toUserView(user: UserEntity): UserView {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    disabled: user.disabled,
    createdAt: new Date(user.createdAt).getTime(),
    updatedAt: new Date(user.updatedAt).getTime(),
  };
}

function checkPassword(password: string): void {
  if (typeof password !== 'string' || password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    throw new AppError('INVALID_ARGUMENT', `password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`, { field: 'password' });
  }
}

function checkRole(role: string): asserts role is Role {
  if (!ROLES.includes(role as Role)) throw new AppError('INVALID_ARGUMENT', `role must be one of ${ROLES.join(', ')}`, { field: 'role' });
}

function normalizeUsername(username: string): string {
  const name = typeof username === 'string' ? username.trim().toLowerCase() : '';
  if (!USERNAME_PATTERN.test(name)) {
    throw new AppError('INVALID_ARGUMENT', 'username must be 1 to 64 letters, digits or _ . @ - (starting with a letter or digit)', { field: 'username' });
  }
  return name;
}

/**
 * Users of the admin API. Keeps at least one enabled admin; creates the first admin on the first start
 * (with auth.adminPassword, or a generated password printed once on stdout).
 */
@Injectable()
export class UsersService implements OnModuleInit {
  private readonly logger = new Logger('Users');
  private readonly config: AuthConfig;
  /** Changes run one at a time in this process, so the last-admin check cannot be raced from here. */
  private serial: Promise<unknown> = Promise.resolve();
  private dummyHash: Promise<string> | undefined;
  private readonly checks = new PasswordCheckLimiter();

  constructor(
    configService: ConfigService,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly sessions: SessionService,
  ) {
    this.config = configService.section<AuthConfig>('auth');
  }

  async onModuleInit(): Promise<void> {
    await this.ensureFirstAdmin();
  }

  async list(): Promise<UserView[]> {
    return (await this.users.find({ order: { id: 'ASC' } })).map(toUserView);
  }

  async get(id: number): Promise<UserView> {
    return toUserView(await this.find(id));
  }

  create(input: CreateUserInput): Promise<UserView> {
    return this.exclusive(async () => {
      const username = normalizeUsername(input.username);
      checkPassword(input.password);
      checkRole(input.role);
      if (await this.users.existsBy({ username })) throw new AppError('ALREADY_EXISTS', `user ${username} already exists`, { field: 'username' });
      const passwordHash = await hashPassword(input.password);
      try {
        const saved = await this.users.save(this.users.create({ username, passwordHash, role: input.role, disabled: false }));
        return toUserView(saved);
      } catch (error) {
        // Another node created the same name between our check and the insert.
        if (await this.users.existsBy({ username })) throw new AppError('ALREADY_EXISTS', `user ${username} already exists`, { field: 'username' });
        throw error;
      }
    });
  }

  update(id: number, input: UpdateUserInput): Promise<UserView> {
    return this.exclusive(async () => {
      const user = await this.find(id);
      if (input.password !== undefined) checkPassword(input.password);
      if (input.role !== undefined) checkRole(input.role);
      const losesAdmin = user.role === 'admin' && !user.disabled && ((input.role !== undefined && input.role !== 'admin') || input.disabled === true);
      if (losesAdmin) await this.refuseIfLastAdmin(user, 'demote or disable');
      const changes: Partial<UserEntity> = {};
      if (input.role !== undefined) changes.role = input.role;
      if (input.disabled !== undefined) changes.disabled = input.disabled;
      if (input.password !== undefined) changes.passwordHash = await hashPassword(input.password);
      if (Object.keys(changes).length) await this.users.update({ id }, changes);
      // A new password signs the user out everywhere; a new role or a disable applies to live tokens at once.
      if (input.password !== undefined) await this.sessions.revokeUser(id);
      else this.sessions.forgetUser(id);
      return toUserView(await this.find(id));
    });
  }

  remove(id: number): Promise<void> {
    return this.exclusive(async () => {
      const user = await this.find(id);
      if (user.role === 'admin' && !user.disabled) await this.refuseIfLastAdmin(user, 'delete');
      await this.sessions.revokeUser(id);
      await this.users.delete({ id });
    });
  }

  /** The enabled user with these credentials, else undefined (a missing user costs as much time as a wrong password). */
  async verifyCredentials(username: string, password: string): Promise<UserEntity | undefined> {
    const name = typeof username === 'string' ? username.trim().toLowerCase() : '';
    const user = USERNAME_PATTERN.test(name) ? await this.users.findOneBy({ username: name }) : null;
    if (typeof password !== 'string' || password.length > PASSWORD_MAX) return undefined;
    this.dummyHash ??= hashPassword(generatePassword());
    const encoded = user?.passwordHash ?? (await this.dummyHash);
    const ok = await this.checks.run(() => verifyPassword(encoded, password));
    return ok && user && !user.disabled ? user : undefined;
  }

  private async find(id: number): Promise<UserEntity> {
    const user = Number.isSafeInteger(id) && id > 0 ? await this.users.findOneBy({ id }) : null;
    if (!user) throw new AppError('NOT_FOUND', `no user with id ${id}`);
    return user;
  }

  private async refuseIfLastAdmin(user: UserEntity, action: string): Promise<void> {
    const admins = await this.users.countBy({ role: 'admin', disabled: false });
    if (admins <= 1) throw new AppError('FAILED_PRECONDITION', `cannot ${action} ${user.username}: it is the last enabled admin`);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.serial.then(work, work);
    this.serial = run.catch(() => undefined);
    return run;
  }

  /** First start: no user at all, so create the admin (safe when two nodes start on one database at once). */
  private async ensureFirstAdmin(): Promise<void> {
    if ((await this.users.count()) > 0) return;
    const username = normalizeUsername(this.config.adminUsername);
    const generated = this.config.adminPassword === '';
    const password = generated ? generatePassword() : this.config.adminPassword;
    try {
      await this.users.insert({ username, passwordHash: await hashPassword(password), role: 'admin', disabled: false });
    } catch (error) {
      if (await this.users.existsBy({ username })) return; // another node won the race and printed its own password
      throw error;
    }
    if (!generated) {
      this.logger.log({ msg: 'created the first admin user', username });
      return;
    }
    this.logger.warn({ msg: 'created the first admin user with a generated password, printed once on stdout', username });
    const line = '='.repeat(72);
    process.stdout.write(
      [
        line,
        'm7s-nest: first start, created the admin user',
        `  username: ${username}`,
        `  password: ${password}`,
        'This password is shown only this once. Sign in and change it (PATCH /api/users/:id),',
        'or set auth.adminPassword (M7S_AUTH__ADMINPASSWORD) before the first start.',
        line,
        '',
      ].join('\n'),
    );
  }
}
