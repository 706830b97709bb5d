// Lint: typescript-eslint's recommended rules, plus the layering rule of STYLE A.3:
// src/domain is pure (no I/O, no framework, no process), so it stays testable and portable.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', '.bench-tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', Buffer: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', performance: 'readonly', structuredClone: 'readonly', NodeJS: 'readonly', AbortController: 'readonly', Response: 'readonly', Request: 'readonly', Headers: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['koa', '@koa/*', 'lowdb', 'lowdb/*', '@segment/*', 'pino', 'prom-client', 'commander', 'cli-progress', 'raw-body'], message: 'src/domain is pure: no frameworks or I/O libraries.' },
          { group: ['node:fs', 'node:fs/*', 'node:http', 'node:https', 'node:net', 'node:child_process', 'fs', 'http'], message: 'src/domain is pure: no I/O.' },
          { group: ['../adapters/*', '../http/*', '../cli/*', '../services/*', '../main.ts'], allowTypeImports: true, message: 'src/domain depends on nothing outside it.' },
        ],
      }],
      'no-restricted-globals': ['error', { name: 'process', message: 'src/domain is pure: configuration is passed in.' }, { name: 'fetch', message: 'src/domain is pure: no I/O.' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'src/domain is pure: take nowMs from the caller (Clock).' }],
    },
  },
);
