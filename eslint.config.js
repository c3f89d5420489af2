// Lint: typescript-eslint's recommended rules with type information, plus the promise rules
// that catch a forgotten await (a rejected promise nobody handles kills a webhook replica, a
// promise passed where a callback is expected never reports its error). Explicit return
// types on exported functions keep a module's surface readable without its body. The
// complexity budget (10, ESLint's default for the rule) warns: it points at functions to
// split, it does not block a change.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'test-artifacts/', 'bench/out/', 'node_modules/'] },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      complexity: ['warn', 10],
      // Raw Kubernetes objects and parsed YAML are `Record<string, any>` on purpose: they are
      // checked against schemas where they enter, and narrowed by the code that reads them.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Reported, to be cleared with `eslint --fix` in the same pass as the formatter (it
      // rewrites lines across every area at once).
      '@typescript-eslint/no-unnecessary-type-assertion': 'warn',
      // String(x) of an unknown value from parsed input: worth a look, not a blocker.
      '@typescript-eslint/no-base-to-string': 'warn',
      // `async` on a function without await is how a throw becomes a rejection.
      '@typescript-eslint/require-await': 'off',
      // `_`-prefixed names and rest siblings say "deliberately unused" (omitting a field by destructuring).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  // The product's modules state what they return; test helpers may let it be inferred.
  { files: ['src/**/*.ts'], rules: { '@typescript-eslint/explicit-module-boundary-types': 'error' } },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
