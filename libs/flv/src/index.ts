export * from './flv.config';
export * from './flv-tags';
export * from './flv-sink';
export * from './flv-path';
export * from './flv-pull';
export * from './flv.module';
