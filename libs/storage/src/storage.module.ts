import { Global, Module } from '@nestjs/common';
import { StorageService } from './storage.service';

/** Local and S3-compatible storage of recordings (global: formats and the record lib inject StorageService). */
@Global()
@Module({ providers: [StorageService], exports: [StorageService] })
export class StorageModule {}
