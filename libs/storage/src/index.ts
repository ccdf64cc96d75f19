export * from './storage.types';
export * from './s3.config';
export * from './local-storage.driver';
export * from './s3-storage.driver';
export * from './storage.service';
export * from './storage.module';
