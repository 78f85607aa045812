import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The widget SDK as one small ES module (`dist/v1.js`), served by the platform at
// /widget-sdk/v1.js so a widget can `import { connect } from '/widget-sdk/v1.js'`.
// `@tfx/protocol/widgets` is bundled in; it has no zod.
const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    minify: true,
    sourcemap: false,
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: () => 'v1.js' },
  },
});
