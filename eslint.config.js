// Lint config: the recommended TypeScript rules, plus the one architectural rule we can check
// mechanically: core/ stays pure (no Node I/O modules), so replay can never do I/O.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  { languageOptions: { globals: globals.node } },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:fs*', 'node:net', 'node:http*', 'fs', 'pg', 'kafkajs', 'undici', '../supernode/*', '../peer/*'] }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'core/ is pure: time comes in the command' },
        { object: 'Math', property: 'random', message: 'core/ is pure: randomness comes in the command' }],
    },
  },
);
