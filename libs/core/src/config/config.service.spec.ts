import { Logger } from '@nestjs/common';
import { loadConfig } from './config.loader';
import { ConfigService } from './config.service';
import { PluginSectionConfig } from './config.schema';

describe('ConfigService.replace', () => {
  // The levels of log.level: log (the default).
  beforeEach(() => Logger.overrideLogger(['error', 'warn', 'log']));

  it('swaps the config: policies (cached before) and sections follow at once', () => {
    const options = { plugins: [], env: {} };
    const service = new ConfigService(loadConfig(options));
    expect(service.subscribePolicy().waitTimeout).toBe(10_000);
    expect(service.publishPolicy('rtmp').key).toBe('');
    expect(service.loadedConfig.options).toEqual(options);

    service.replace(loadConfig({ ...options, persisted: { subscribe: { waitTimeout: '2s' }, publish: { key: 'k' } } }));
    expect(service.subscribePolicy().waitTimeout).toBe(2000);
    expect(service.publishPolicy('rtmp').key).toBe('k');
    expect(service.raw.subscribe.waitTimeout).toBe('2s');
  });

  it('applies a new log level to the loggers', () => {
    const service = new ConfigService(loadConfig({ plugins: [], env: {} }));
    expect(Logger.isLevelEnabled('debug')).toBe(false);
    service.replace(loadConfig({ plugins: [], env: {}, persisted: { log: { level: 'debug' } } }));
    expect(Logger.isLevelEnabled('debug')).toBe(true);
    service.replace(loadConfig({ plugins: [], env: {}, persisted: { log: { level: 'warn' } } }));
    expect(Logger.isLevelEnabled('log')).toBe(false);
  });
});

describe('ConfigService policies per protocol', () => {
  const flv = { name: 'flv', version: '1', configSection: 'flv', protocols: ['http-flv', 'ws-flv'], configClass: PluginSectionConfig, module: class {} };

  it("reads a wire protocol's blocks from its plugin's section (http-flv and ws-flv from flv)", () => {
    const service = new ConfigService(loadConfig({ plugins: [flv], env: {}, overrides: { flv: { subscribe: { waitTimeout: '3s' } } } }));
    expect(service.sectionOfProtocol('ws-flv')).toBe('flv');
    expect(service.subscribePolicy('http-flv').waitTimeout).toBe(3000);
    expect(service.subscribePolicy('ws-flv').waitTimeout).toBe(3000);
    expect(service.subscribePolicy('rtmp').waitTimeout).toBe(10_000);
  });
});
