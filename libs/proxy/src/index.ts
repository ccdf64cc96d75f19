export * from './proxy.config';
export * from './relay-runner';
export * from './source-probe';
export * from './proxy-state-writer';
export * from './proxy-manager.base';
export * from './pull-proxy.manager';
export * from './push-proxy.manager';
export * from './proxy.module';
