export * from './tools';
export * from './process';
export * from './wait';
export * from './server';
export * from './media';
export * from './players';
export * from './fixtures';
export * from './nginx';
