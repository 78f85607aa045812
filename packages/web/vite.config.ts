import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

// Multi-page app: `/` → index.html (home), `/r/:room` → room.html (the server maps it).
// Workspace packages resolve to their TypeScript sources (the `source` export condition).
// No inline scripts: the platform's CSP is `script-src 'self'`.
const here = fileURLToPath(new URL('.', import.meta.url));

/** Script entries served under fixed names at the root: the embed script and the service worker. */
const FIXED = new Set(['embed', 'sw']);

/**
 * Fills the service worker's precache list with the built files (see src/sw/sw.ts), and wraps
 * /embed.js in a function so that, loaded as a classic script by any page, it declares no globals
 * but `TfxEmbed`.
 */
function precacheList(): Plugin {
  return {
    name: 'tfx-precache',
    apply: 'build',
    generateBundle(_options, bundle) {
      const embed = bundle['embed.js'];
      if (embed?.type === 'chunk') {
        if (embed.imports.length > 0 || embed.exports.length > 0)
          this.error('embed.js must be self-contained (no imports shared with the app)');
        embed.code = `(() => {\n${embed.code}\n})();\n`;
      }
      const files = Object.keys(bundle)
        .filter((f) => f !== 'sw.js' && !f.endsWith('.map') && !/(^|\/)admin[-.]/.test(f))
        .map((f) => `/${f}`)
        .sort();
      const sw = bundle['sw.js'];
      if (sw?.type !== 'chunk') return;
      const list = JSON.stringify(JSON.stringify(files));
      const before = sw.code;
      sw.code = sw.code.replace(/(["'`])"__TFX_PRECACHE__"\1/, list);
      if (sw.code === before) this.error('sw.js: precache placeholder not found');
    },
  };
}

export default defineConfig({
  plugins: [precacheList()],
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
        // /embed.js (host pages load it; it must stay self-contained) and /sw.js (scope /).
        embed: resolve(here, 'src/embed/embed.ts'),
        sw: resolve(here, 'src/sw/sw.ts'),
      },
      output: {
        entryFileNames: (chunk) =>
          FIXED.has(chunk.name) ? '[name].js' : 'assets/[name]-[hash].js',
        // The contracts with their zod schemas, loaded lazily (the widget host's manifest check);
        // named for what they are rather than for the folder of their index.ts.
        chunkFileNames: (chunk) =>
          /[\\/]packages[\\/]protocol[\\/]src[\\/]index\.ts$/.test(chunk.facadeModuleId ?? '')
            ? 'assets/protocol-[hash].js'
            : 'assets/[name]-[hash].js',
      },
    },
  },
});
