import { isMaskedValue, MASK, maskConfig } from './config-mask';

describe('maskConfig', () => {
  it('masks secrets and URL passwords, keeps empty secrets and everything else', () => {
    const tree = {
      auth: { jwtSecret: 'a'.repeat(40), adminPassword: 'pw', adminUsername: 'admin', accessTokenTtl: '15m' },
      publish: { key: 'pk', waitTimeout: '10s' },
      subscribe: { key: '' },
      rtmp: { publish: { key: 'rk' }, tls: { key: '/etc/tls/key.pem' } },
      db: { url: 'postgres://user:secret@127.0.0.1:5432/db', path: 'data/m7s.db' },
      redis: { url: 'redis://127.0.0.1:6379/0' },
      webhook: { urls: ['http://u:p@hooks/a', 'http://hooks/b'] },
      streamAuth: { publish: true },
    };
    expect(maskConfig(tree)).toEqual({
      auth: { jwtSecret: MASK, adminPassword: MASK, adminUsername: 'admin', accessTokenTtl: '15m' },
      publish: { key: MASK, waitTimeout: '10s' },
      subscribe: { key: '' },
      rtmp: { publish: { key: MASK }, tls: { key: '/etc/tls/key.pem' } },
      db: { url: `postgres://user:${MASK}@127.0.0.1:5432/db`, path: 'data/m7s.db' },
      redis: { url: 'redis://127.0.0.1:6379/0' },
      webhook: { urls: [`http://u:${MASK}@hooks/a`, 'http://hooks/b'] },
      streamAuth: { publish: true },
    });
    expect(tree.auth.jwtSecret).toBe('a'.repeat(40)); // a copy
    expect(maskConfig({ key: 'x' }, ['publish'])).toEqual({ key: MASK });
  });

  it('recognizes a masked value sent back', () => {
    expect(isMaskedValue(MASK, ['auth', 'jwtSecret'])).toBe(true);
    expect(isMaskedValue(`redis://:${MASK}@h:6379`, ['redis', 'url'])).toBe(true);
    expect(isMaskedValue('real-secret', ['auth', 'jwtSecret'])).toBe(false);
    expect(isMaskedValue(MASK, ['log', 'level'])).toBe(false);
  });
});
