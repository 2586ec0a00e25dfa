// Lint rules for etcd-ts. Layering and cycles are checked by scripts/check-layers.mjs;
// here we keep the deterministic core free of clocks, randomness, timers and Node I/O.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const deterministicCore = ['src/raft/**/*.ts', 'src/mvcc/**/*.ts', 'src/lease/**/*.ts', 'src/auth/**/*.ts', 'src/v2store/**/*.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/api/gen/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: deterministicCore,
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'the deterministic core does no I/O: take what you need as a parameter' }] }],
      'no-restricted-globals': ['error',
        { name: 'Date', message: 'the deterministic core takes time as a parameter (ticks or a Clock)' },
        { name: 'setTimeout', message: 'no timers in the deterministic core' },
        { name: 'setInterval', message: 'no timers in the deterministic core' },
        { name: 'setImmediate', message: 'no timers in the deterministic core' },
        { name: 'queueMicrotask', message: 'no scheduling in the deterministic core' },
        { name: 'process', message: 'no process access in the deterministic core' },
        { name: 'performance', message: 'no clocks in the deterministic core' },
      ],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'use a seeded Rand passed in' }],
    },
  },
);
