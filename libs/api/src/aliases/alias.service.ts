import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppError, EngineEvents, normalizeStreamPath, StreamRegistry } from '@m7s/core';
import { InjectRepository, Repository, StreamAliasEntity } from '@m7s/persistence';
import type { AliasDto, SetAliasResultDto } from './alias.dto';

export interface SetAliasInput {
  alias: string;
  /** Empty or absent removes the alias. */
  streamPath?: string;
  autoRemove?: boolean;
}

/**
 * Stream aliases: kept in stream_aliases, loaded into the registry at boot (the registry resolves them when
 * a player subscribes, whatever its protocol). An autoRemove alias goes when its target stream closes.
 */
@Injectable()
export class AliasService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('StreamAlias');
  private readonly detach: () => void;

  constructor(
    @InjectRepository(StreamAliasEntity) private readonly repo: Repository<StreamAliasEntity>,
    private readonly registry: StreamRegistry,
    events: EngineEvents,
  ) {
    this.detach = events.on('stream_close', (e) => {
      this.removeAutoRemoved(e.streamPath).catch((error: unknown) => this.logger.error({ msg: 'auto-remove of aliases failed', streamPath: e.streamPath, error: String(error) }));
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const row of await this.repo.find()) this.registry.setAlias(row.alias, row.streamPath);
  }

  onModuleDestroy(): void {
    this.detach();
  }

  async list(): Promise<AliasDto[]> {
    const rows = await this.repo.find({ order: { alias: 'ASC' } });
    return rows.map((row) => this.describe(row));
  }

  /** Sets (creates or retargets) an alias, or removes it when streamPath is empty. */
  async set(input: SetAliasInput): Promise<SetAliasResultDto> {
    const alias = normalizeStreamPath(input.alias);
    if (!input.streamPath) {
      await this.remove(alias);
      return { success: true, action: 'removed' };
    }
    const streamPath = normalizeStreamPath(input.streamPath);
    if (alias === streamPath) throw new AppError('INVALID_ARGUMENT', 'an alias cannot point at itself', { alias });
    // One level only: an alias never points at another alias, and a target is never itself an alias.
    if (await this.repo.existsBy({ alias: streamPath })) throw new AppError('INVALID_ARGUMENT', `${streamPath} is itself an alias; point at its target instead`, { streamPath });
    if (await this.repo.existsBy({ streamPath: alias })) throw new AppError('INVALID_ARGUMENT', `${alias} is the target of another alias`, { alias });
    await this.repo.save({ alias, streamPath, autoRemove: input.autoRemove ?? false });
    this.registry.setAlias(alias, streamPath);
    const row = await this.repo.findOneByOrFail({ alias });
    return { success: true, action: 'set', alias: this.describe(row) };
  }

  async remove(aliasPath: string): Promise<void> {
    const alias = normalizeStreamPath(aliasPath);
    const { affected } = await this.repo.delete({ alias });
    this.registry.removeAlias(alias);
    if (!affected) throw new AppError('NOT_FOUND', `no alias ${alias}`);
  }

  private async removeAutoRemoved(streamPath: string): Promise<void> {
    const rows = await this.repo.findBy({ streamPath, autoRemove: true });
    for (const row of rows) {
      await this.repo.delete({ alias: row.alias });
      this.registry.removeAlias(row.alias);
      this.logger.log({ msg: 'alias removed with its stream', alias: row.alias, streamPath });
    }
  }

  private describe(row: StreamAliasEntity): AliasDto {
    return {
      alias: row.alias,
      streamPath: row.streamPath,
      autoRemove: row.autoRemove,
      live: this.registry.get(row.streamPath)?.publisher !== undefined,
      createdAt: new Date(row.createdAt).getTime(),
    };
  }
}
