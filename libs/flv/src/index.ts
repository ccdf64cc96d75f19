export * from './flv.config';
export * from './flv-tags';
export * from './flv-sink';
export * from './http-play';
export * from './flv-path';
export * from './flv-pull';
export * from './flv.module';
export * from './flv-record';
