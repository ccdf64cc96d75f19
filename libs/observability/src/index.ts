export * from './observability.config';
export * from './observability.module';
