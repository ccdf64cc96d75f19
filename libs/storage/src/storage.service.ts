import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppError, ConfigService } from '@m7s/core';
import { LocalStorageDriver } from './local-storage.driver';
import type { StorageSettings } from './s3.config';
import { S3StorageDriver } from './s3-storage.driver';
import type { StorageDriver, StoredFile } from './storage.types';

/**
 * The storages recordings live in: `local` (the recording directory) always, `s3` when record.s3 names a
 * bucket. `target` is where newly finished files go (record.storage).
 */
@Injectable()
export class StorageService implements OnApplicationShutdown {
  private readonly drivers = new Map<string, StorageDriver>();
  readonly target: string;
  readonly local: LocalStorageDriver;

  constructor(config: ConfigService) {
    const settings = config.section<StorageSettings>('record');
    this.local = new LocalStorageDriver(settings.dir);
    this.drivers.set('local', this.local);
    if (settings.s3.bucket) this.drivers.set('s3', new S3StorageDriver(settings.s3));
    this.target = settings.storage;
  }

  driver(name: string): StorageDriver {
    const driver = this.drivers.get(name);
    if (!driver) throw new AppError('FAILED_PRECONDITION', `storage ${name} is not configured${name === 's3' ? ' (record.s3.bucket)' : ''}`);
    return driver;
  }

  /** Opens a recording wherever it is: local path when storage='local', object key otherwise. */
  open(recording: { storage: string; filePath: string }): Promise<StoredFile> {
    return this.driver(recording.storage).open(recording.filePath);
  }

  onApplicationShutdown(): void {
    for (const driver of this.drivers.values()) if (driver instanceof S3StorageDriver) driver.close();
  }
}
