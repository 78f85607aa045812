import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Multi-page app: `/` → index.html (home), `/r/:room` → room.html (the server maps it).
// Workspace packages resolve to their TypeScript sources (the `source` export condition).
// No inline scripts: the platform's CSP is `script-src 'self'`.
const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        index: resolve(here, 'index.html'),
        room: resolve(here, 'room.html'),
        // The SIP admin console, served at /admin/ by the sip module.
        admin: resolve(here, 'admin.html'),
      },
    },
  },
});
