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
      // The project service finds tsconfig.json for each file, so type-aware rules see exactly what tsc sees.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test runs a top-level test()/describe()/it() whether or not its promise is awaited (subtests still must be).
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
    },
  },
  {
    // This config file itself is plain JavaScript outside tsconfig.json: lint it without types.
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  prettier,
);
