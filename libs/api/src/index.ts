export * from './api.config';
export * from './api.module';
export * from './api.setup';
