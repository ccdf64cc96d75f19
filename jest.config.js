// Two projects: fast unit/property specs beside the source, and e2e suites that start the whole server
// and drive it with real clients (ffmpeg, ffprobe, nginx-rtmp...).
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022', keepClassNames: true } }];
const moduleNameMapper = {
  '^@m7s/test-kit$': '<rootDir>/test/kit',
  '^@m7s/test-kit/(.*)$': '<rootDir>/test/kit/$1',
  '^@m7s/(.*)$': '<rootDir>/libs/$1/src',
};
module.exports = {
  testTimeout: 120000,
  projects: [
    { displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/src/**/*.spec.ts'], transform: { '^.+\\.ts$': swc }, moduleNameMapper, testEnvironment: 'node' },
    { displayName: 'e2e', testMatch: ['<rootDir>/apps/server/test/**/*.e2e-spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'], transform: { '^.+\\.ts$': swc }, moduleNameMapper, testEnvironment: 'node' },
  ],
};
