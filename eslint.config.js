// Lint config: the recommended TypeScript rules, plus the architecture the code map
// (docs/code-map.md) describes, checked on every import so that it stays true:
//   core/       the pure domain: no Node I/O, no clock, imports nothing outside core/;
//   edge/       the I/O both sides share: imports core/ only;
//   supernode/, peer/  never import each other (they talk over HTTP, as across machines);
//   nothing of the product imports bench/ or test/ (bin/ wires the bench commands).
// test/unit/layout/import-boundaries.test.ts proves each rule fires.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const forbid = (names, message) => ({ regex: `^(\\.\\.?/)+(.*/)?(${names.join('|')})/`, message });
const noHarness = forbid(['bench', 'test'], 'the product never imports the benchmarks or the tests (bin/ wires the bench commands)');

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
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:fs*', 'node:net', 'node:http*', 'fs', 'pg', 'kafkajs', 'undici'], message: 'core/ is pure: no I/O' },
          forbid(['supernode', 'peer', 'edge', 'bin'], 'core/ imports nothing outside core/'),
          noHarness,
        ],
      }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'core/ is pure: time comes in the command' },
        { object: 'Math', property: 'random', message: 'core/ is pure: randomness comes in the command' }],
    },
  },
  {
    files: ['edge/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [forbid(['supernode', 'peer', 'bin'], 'edge/ is shared by both sides: it imports core/ only'), noHarness] }] },
  },
  {
    files: ['supernode/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [forbid(['peer', 'bin'], 'supernode/ and peer/ never import each other: they talk over HTTP'), noHarness] }] },
  },
  {
    files: ['peer/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [forbid(['supernode', 'bin'], 'supernode/ and peer/ never import each other: they talk over HTTP'), noHarness] }] },
  },
);
