// Lint: typescript-eslint recommended, plus the layer rules of docs/architecture.md:
// lower layers never import upper ones (checked fully by test/layers.test.ts; here the
// SIP stack's inner layers are guarded so an editor shows a violation at once).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'coverage/**',
      'test-results/**',
      'playwright-report/**',
      'packages/sip/test/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'error',
    },
  },
  {
    files: [
      'packages/sdk/src/**',
      'packages/web/src/**',
      'packages/web/public/**',
      'packages/server/widgets/**',
      'packages/widget-sdk/src/**',
      'packages/widgets/src/**',
      'examples/widgets/**',
      'test/e2e/fixtures/widgets/**',
      'bench/widgets/widgets/**',
    ],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // The call page ships without zod: runtime values come from the protocol's zod-free entries
    // (test/layers.test.ts checks it too; a lazy `import('@tfx/protocol')` is fine).
    files: ['packages/sdk/src/**', 'packages/web/src/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@tfx/protocol',
              allowTypeImports: true,
              message:
                'Import values from @tfx/protocol/core or /widgets (zod-free); types are fine.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/protocol/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['node:*', '@tfx/*', 'socket.io*', 'fastify*', 'ws'] },
      ],
    },
  },
  {
    files: [
      'packages/sip/src/syntax/**',
      'packages/sip/src/auth/**',
      'packages/sip/src/framing/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            'node:dgram',
            'node:net',
            'node:tls',
            'node:http*',
            'ws',
            '**/transport/**',
            '**/transaction/**',
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**', 'bench/**', 'packages/cli/src/**', '**/test/**', '.ci/**'],
    rules: { 'no-console': 'off' },
  },
);
