import { ConfigError, configFromEnv, loadConfig } from './config.loader';
import { ConfigService } from './config.service';
import { parseDuration, parseListen } from './duration';

describe('config', () => {
  it('parses durations, sizes and listen addresses', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration(3)).toBe(3000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(parseDuration('soon')).toBeNaN();
    expect(parseListen(':1935')).toEqual({ host: undefined, port: 1935 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen('x:99999')).toThrow();
  });

  it('maps M7S_SECTION__KEY environment variables onto the tree with YAML-typed values', () => {
    const defaults = { rtmp: { listen: ':1935', chunkSize: 4096, tls: { cert: '' } }, publish: { kickExisting: false } };
    expect(configFromEnv({ M7S_RTMP__LISTEN: ':2935', M7S_RTMP__CHUNKSIZE: '8192', M7S_RTMP__TLS__CERT: '/c.pem', M7S_PUBLISH__KICKEXISTING: 'true', HOME: '/root' }, defaults)).toEqual({
      rtmp: { listen: ':2935', chunkSize: 8192, tls: { cert: '/c.pem' } },
      publish: { kickExisting: true },
    });
  });

  it('loads the defaults with durations in milliseconds', () => {
    const config = loadConfig({ plugins: [], env: {} });
    expect(config.core.publish.publishTimeout).toBe(10_000);
    expect(config.core.subscribe.maxBacklog).toBe(2 * 1024 * 1024);
  });

  it('stops with the key, the value and the reason for a bad value', () => {
    const load = () => loadConfig({ plugins: [], env: { M7S_PUBLISH__PUBLISHTIMEOUT: 'soon', M7S_HTTP__LISTEN: 'nowhere' } });
    expect(load).toThrow(ConfigError);
    try {
      load();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('publish.publishTimeout = "soon": must be a duration');
      expect(message).toContain('http.listen = "nowhere"');
    }
    expect(() => loadConfig({ plugins: [], env: {}, overrides: { publish: { nosuchkey: 1 } } })).toThrow(/publish.nosuchkey/);
    expect(() => loadConfig({ plugins: [], env: {}, overrides: { nosection: {} } })).toThrow(/nosection: unknown section/);
  });

  it('derives per-stream policies from the query, refusing bad values', () => {
    const config = new ConfigService(loadConfig({ plugins: [], env: {} }));
    expect(config.publishPolicy('rtmp', new URLSearchParams('bufferTime=2s&kickExisting=1')).bufferTime).toBe(2000);
    expect(config.subscribePolicy(undefined, new URLSearchParams('audio=0')).audio).toBe(false);
    expect(config.subscribePolicy(undefined, new URLSearchParams('maxBacklog=1gb')).maxBacklog).toBe(2 * 1024 * 1024);
    expect(() => config.subscribePolicy(undefined, new URLSearchParams('audio=maybe'))).toThrow(/audio=maybe/);
    expect(() => config.publishPolicy(undefined, new URLSearchParams('publishTimeout=-1'))).toThrow(/publishTimeout/);
  });
});
