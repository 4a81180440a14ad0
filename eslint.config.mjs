// ESLint flat config: typescript-eslint's type-checked rules over everything tsc compiles (src/, test/, otel/),
// with eslint-config-prettier last so no stylistic rule fights Prettier (formatting is Prettier's alone).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'bpf/include/vmlinux.h'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // tsconfig.json's files with noUncheckedIndexedAccess on (see tsconfig.eslint.json).
      parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // As tsc's noUnusedLocals/noUnusedParameters: a leading underscore marks a binding left out on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // An async function without await still says it returns a promise and turns a throw into a rejection (interfaces ask for one).
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test runs a top-level test()/describe()/it() whether or not its promise is awaited (subtests still must be).
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
    },
  },
  {
    // Factories require() their receiver or processor on first use, so reading the component list loads no probe,
    // kernel binding or SDK (a unit test holds them to it).
    files: ['src/receivers/*/index.ts', 'src/pipeline/processors/factories.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests read parsed JSON (OTLP payloads, HTTP bodies, Nomad API doubles): a wrong shape fails an assertion anyway.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Assertion messages print whatever a test holds, and the redaction tests check what String() of a settings object shows.
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  {
    // This config file itself is plain JavaScript outside tsconfig.json: lint it without types.
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  prettier,
);
