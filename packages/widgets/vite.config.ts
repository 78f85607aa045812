import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

// Every folder of src/ with an index.html is one built-in widget, built to dist/<id>/ and served
// by the platform at /widgets/<id>/ under a strict CSP (script-src 'self', no inline script).
// Shared chunks land in dist/assets/ (served at /widgets/assets/). Each widget bundles the widget
// SDK from its sources, exactly as a third party bundling `@tfx/widget-sdk` would.
const here = fileURLToPath(new URL('.', import.meta.url));
const src = join(here, 'src');
const input = Object.fromEntries(
  readdirSync(src)
    .filter((d) => existsSync(join(src, d, 'index.html')))
    .map((d) => [d, resolve(src, d, 'index.html')]),
);

/** Copies each widget's icon.svg next to its page (the manifest points at /widgets/<id>/icon.svg). */
const icons: Plugin = {
  name: 'tfx-widget-icons',
  generateBundle() {
    for (const id of Object.keys(input)) {
      const file = join(src, id, 'icon.svg');
      if (existsSync(file))
        this.emitFile({ type: 'asset', fileName: `${id}/icon.svg`, source: readFileSync(file) });
    }
  },
};

export default defineConfig({
  plugins: [icons],
  root: src,
  base: '/widgets/',
  logLevel: 'warn',
  resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
  build: {
    outDir: join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rollupOptions: { input },
  },
});
