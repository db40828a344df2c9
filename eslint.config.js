// Lint rules the code keeps: the model's purity, readable expressions, a line length.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = ['fs', 'fs/*', 'http', 'https', 'net', 'child_process', 'worker_threads', 'ws', 'n3', 'shacl-engine'];

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'dist/', 'test-output/', 'src/viewer/static/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      'no-nested-ternary': 'error',
      'max-len': ['error', { code: 140, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests and benches hold tables of cases and figures whose rows read best on one line: a wider limit there.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'max-len': ['error', { code: 180, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }],
    },
  },
  {
    // Plain JavaScript here runs on Node (the bin launcher, test hooks): its globals are Node's.
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Request: 'readonly', URL: 'readonly', fetch: 'readonly' } },
  },
  {
    // Rejecting control characters is the point of these patterns (labels, codes and texts from other pods).
    files: ['src/model/**/*.ts', 'src/rdf/**/*.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // src/model is pure: no IO, no pod or RDF library. Everything that touches a pod or a disk lives elsewhere.
    files: ['src/model/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...ioModules.filter((m) => !m.includes('*')), ...ioModules.filter((m) => !m.includes('*')).map((m) => `node:${m}`)].map((name) => ({ name, message: 'src/model is pure: do IO in src/pod, src/sync, src/cli or src/viewer and pass the result in.' })),
        patterns: [{ group: ['@inrupt/*', '@solid/*', 'node:fs/*', 'fs/*', '../pod/*', '../sync/*', '../cli/*', '../viewer/*', '../rdf/*'], message: 'src/model is pure: it imports no IO layer.' }],
      }],
    },
  },
);
