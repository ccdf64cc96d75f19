import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SettingEntity } from './entities';

/** Key under which the config changes made through the API are kept (a partial config tree). */
export const CONFIG_OVERRIDES_KEY = 'config.overrides';

/** Small JSON values kept across restarts (generated secrets, config changes made through the API). */
@Injectable()
export class SettingsService {
  constructor(private readonly dataSource: DataSource) {}

  static async read<T>(dataSource: DataSource, key: string): Promise<T | undefined> {
    const row = await dataSource.getRepository(SettingEntity).findOneBy({ key });
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  get<T>(key: string): Promise<T | undefined> {
    return SettingsService.read<T>(this.dataSource, key);
  }

  async set<T>(key: string, value: T): Promise<void> {
    await this.dataSource.getRepository(SettingEntity).save({ key, value: JSON.stringify(value) });
  }

  /** Stores `value` unless the key already has one; returns the value that won (safe when two nodes start at once). */
  async getOrCreate<T>(key: string, create: () => T): Promise<T> {
    const existing = await this.get<T>(key);
    if (existing !== undefined) return existing;
    try {
      await this.dataSource.getRepository(SettingEntity).insert({ key, value: JSON.stringify(create()) });
    } catch {
      // another node inserted it first
    }
    return (await this.get<T>(key)) as T;
  }
}
