import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'coverage/**', '*.js', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // TypeORM stays inside libs/persistence (ARCHITECTURE.md); others use its re-exports.
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    ignores: ['libs/persistence/**'],
    rules: { 'no-restricted-imports': ['error', { paths: ['typeorm', '@nestjs/typeorm'] }] },
  },
  {
    // Pure code: no Nest, no sockets, no timers (ARCHITECTURE.md).
    files: ['libs/media/**/*.ts', 'libs/*/src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@nestjs/*', 'node:net', 'net', 'node:dgram', 'dgram', 'node:tls', 'tls', 'node:http', 'http', 'ws'] }],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'setImmediate'],
    },
  },
);
