import { Injectable, Logger } from '@nestjs/common';
import { AppError, normalizeStreamPath } from '@m7s/core';
import { FindOptionsWhere, InjectRepository, ProxyStatus, PullProxyEntity, PushProxyEntity, Repository } from '@m7s/persistence';
import { parseId } from '../common/id.pipe';
import type { CreatePullProxyDto, CreatePushProxyDto, PullProxyDto, PushProxyDto, UpdatePullProxyDto, UpdatePushProxyDto } from './proxy.dto';

type ProxyEntity = PullProxyEntity | PushProxyEntity;
type UniqueField = 'name' | 'streamPath';

export type ProxyChange<E> = { action: 'add' | 'update'; proxy: E } | { action: 'remove'; proxy: E };

/** The state a relay reports about its proxy (read-only through the API). */
export interface ProxyState {
  status: ProxyStatus;
  lastError?: string | null;
  rtt?: number | null;
}

/** A unique index refused the row (SQLite, PostgreSQL, MySQL/MariaDB). */
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown; driverError?: { code?: unknown; errno?: unknown } };
  const codes = [e?.code, e?.driverError?.code];
  return codes.includes('23505') || codes.includes('ER_DUP_ENTRY') || codes.some((c) => typeof c === 'string' && c.startsWith('SQLITE_CONSTRAINT')) || e?.driverError?.errno === 1062;
}

/**
 * CRUD of pull or push proxies. The relay that acts on them (the proxy issue) listens with onChange and
 * reports its state with setState; the API never writes status, lastError or rtt.
 */
abstract class ProxyStore<E extends ProxyEntity, D> {
  protected readonly logger: Logger;
  private readonly listeners = new Set<(change: ProxyChange<E>) => void>();

  constructor(
    protected readonly repo: Repository<E>,
    readonly kind: 'pull' | 'push',
    private readonly uniqueFields: readonly UniqueField[],
  ) {
    this.logger = new Logger(`${kind === 'pull' ? 'Pull' : 'Push'}Proxy`);
  }

  protected abstract describe(entity: E): D;

  async list(): Promise<D[]> {
    const rows = await this.repo.find({ order: { id: 'ASC' } as never });
    return rows.map((row) => this.describe(row));
  }

  async get(id: number | string): Promise<D> {
    return this.describe(await this.entity(id));
  }

  /** Every stored proxy as an entity (for the relay). */
  entities(): Promise<E[]> {
    return this.repo.find();
  }

  async add(input: Partial<E> & { name: string; streamPath: string; url: string }): Promise<D> {
    const values = { ...input, streamPath: normalizeStreamPath(input.streamPath) } as Partial<E>;
    if (values.enabled === false) values.status = 'disabled';
    await this.checkUnique(values);
    const saved = await this.write(() => this.repo.save(this.repo.create(values as E)));
    this.emit({ action: 'add', proxy: saved });
    return this.describe(saved);
  }

  async update(input: Partial<E> & { id: number }): Promise<D> {
    const entity = await this.entity(input.id);
    const changes = Object.fromEntries(Object.entries(input).filter(([key, value]) => key !== 'id' && value !== undefined)) as Partial<E>;
    if (changes.streamPath !== undefined) changes.streamPath = normalizeStreamPath(changes.streamPath);
    if (changes.enabled === false) changes.status = 'disabled';
    else if (changes.enabled === true && entity.status === 'disabled') changes.status = 'offline';
    await this.checkUnique(changes, entity.id);
    Object.assign(entity, changes);
    const saved = await this.write(() => this.repo.save(entity));
    this.emit({ action: 'update', proxy: saved });
    return this.describe(saved);
  }

  async remove(id: number | string): Promise<void> {
    const entity = await this.entity(id);
    await this.repo.delete({ id: entity.id } as FindOptionsWhere<E>);
    this.emit({ action: 'remove', proxy: entity });
  }

  /** The relay reports its state. */
  async setState(id: number, state: ProxyState): Promise<void> {
    await this.repo.update({ id } as FindOptionsWhere<E>, state as never);
  }

  onChange(listener: (change: ProxyChange<E>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async entity(idValue: number | string): Promise<E> {
    const id = parseId(idValue);
    const entity = await this.repo.findOneBy({ id } as FindOptionsWhere<E>);
    if (!entity) throw new AppError('NOT_FOUND', `no ${this.kind} proxy with id ${id}`);
    return entity;
  }

  /** A clear 409 before the insert; the unique index still decides when two requests race. */
  private async checkUnique(values: Partial<E>, exceptId?: number): Promise<void> {
    for (const field of this.uniqueFields) {
      const value = values[field];
      if (value === undefined) continue;
      const other = await this.repo.findOneBy({ [field]: value } as FindOptionsWhere<E>);
      if (other && other.id !== exceptId) throw new AppError('ALREADY_EXISTS', `a ${this.kind} proxy with ${field} ${JSON.stringify(value)} already exists (id ${other.id})`, { field, id: other.id });
    }
  }

  private async write(save: () => Promise<E>): Promise<E> {
    try {
      return await save();
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('ALREADY_EXISTS', `a ${this.kind} proxy with that ${this.uniqueFields.join(' or ')} already exists`);
      throw error;
    }
  }

  private emit(change: ProxyChange<E>): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error({ msg: 'proxy change listener failed', error: String(error) });
      }
    }
  }
}

function describeCommon(entity: ProxyEntity) {
  return {
    id: entity.id,
    name: entity.name,
    streamPath: entity.streamPath,
    url: entity.url,
    enabled: entity.enabled,
    audio: entity.audio,
    description: entity.description,
    status: entity.status,
    lastError: entity.lastError ?? null,
    rtt: entity.rtt ?? null,
    createdAt: new Date(entity.createdAt).getTime(),
    updatedAt: new Date(entity.updatedAt).getTime(),
  };
}

/** Pull proxies: a remote source pulled into a local stream path (name and stream path unique). */
@Injectable()
export class PullProxyService extends ProxyStore<PullProxyEntity, PullProxyDto> {
  constructor(@InjectRepository(PullProxyEntity) repo: Repository<PullProxyEntity>) {
    super(repo, 'pull', ['name', 'streamPath']);
  }

  override add(input: CreatePullProxyDto): Promise<PullProxyDto> {
    return super.add(input);
  }

  override update(input: UpdatePullProxyDto): Promise<PullProxyDto> {
    return super.update(input);
  }

  protected describe(entity: PullProxyEntity): PullProxyDto {
    return { ...describeCommon(entity), pullOnStart: entity.pullOnStart, stopOnIdleMs: entity.stopOnIdleMs, record: entity.record, rtspTransport: entity.rtspTransport };
  }
}

/** Push proxies: a local stream pushed to a remote server (name unique; a stream may go to several targets). */
@Injectable()
export class PushProxyService extends ProxyStore<PushProxyEntity, PushProxyDto> {
  constructor(@InjectRepository(PushProxyEntity) repo: Repository<PushProxyEntity>) {
    super(repo, 'push', ['name']);
  }

  override add(input: CreatePushProxyDto): Promise<PushProxyDto> {
    return super.add(input);
  }

  override update(input: UpdatePushProxyDto): Promise<PushProxyDto> {
    return super.update(input);
  }

  protected describe(entity: PushProxyEntity): PushProxyDto {
    return { ...describeCommon(entity), pushOnStart: entity.pushOnStart };
  }
}
