import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin, type Rollup } from 'vite';

// Multi-page app: `/` → index.html (home), `/r/:room` → room.html (the server maps it).
// Workspace packages resolve to their TypeScript sources (the `source` export condition).
// One inline script, room.html's boot (roomBoot below): the platform's CSP is `script-src 'self'`
// plus the hash of each inline script of room.html (packages/server/src/platform.ts).
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
        // Effect workers (one carries a 1.3 MB face model runtime) load on first use only; so
        // do the console and the dial pad (SIP.js), whether from dial.html or a call's Phone button.
        .filter(
          (f) =>
            f !== 'sw.js' &&
            !f.endsWith('.map') &&
            !/(^|\/)(admin|dial|dialpad|room-boot)[-.]/.test(f) &&
            !/\.worker-/.test(f),
        )
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

/**
 * The video effects' model files, copied from their npm packages to dist/effects/ (served from
 * TFX's own origin; never from a CDN). Outside the bundle, so not in the service worker's
 * precache list: they load when someone first turns an effect on (docs/effects.md).
 */
function effectAssets(): Plugin {
  const req = createRequire(import.meta.url);
  const pkg = (name: string): string => dirname(req.resolve(`${name}/package.json`));
  const files: Array<[string, string, string]> = [
    ...[
      'tflite-simd-1-0-0.js',
      'tflite-simd-1-0-0.wasm',
      'tflite-1-0-0.js',
      'tflite-1-0-0.wasm',
      'selfie_segmentation_landscape.tflite',
    ].map((f): [string, string, string] => [
      join(pkg('@twilio/video-processors'), 'dist/build', f),
      'segmentation',
      f,
    ]),
    ...['tiny_face_detector_model-weights_manifest.json', 'tiny_face_detector_model.bin'].map(
      (f): [string, string, string] => [join(pkg('@vladmandic/face-api'), 'model', f), 'face', f],
    ),
  ];
  return {
    name: 'tfx-effect-assets',
    apply: 'build',
    writeBundle(options) {
      const out = options.dir ?? join(here, 'dist');
      for (const [from, folder, name] of files) {
        mkdirSync(join(out, 'effects', folder), { recursive: true });
        copyFileSync(from, join(out, 'effects', folder, name));
      }
    },
  };
}

/**
 * The call page's first requests: its boot script (src/room/boot.ts: the camera request, before
 * the page's own script has loaded) inline in room.html right after the title, a classic script
 * run as the parser reaches it — no request of its own, so the camera is asked for as soon as
 * the document arrives (built as an entry of its own, with no imports, and copied in; its file
 * is dropped; the server allows it by hash, packages/server/src/platform.ts); and preload links for the call UI chunk (room/call-ui.ts, its chunks and its CSS), which the join
 * waits for, so that it loads beside the page's script instead of after it has run: at low
 * priority, after the page's own script and styles (Chromium holds low-priority requests back
 * while those load), since on HTTP/1.1 each request in parallel is one more TLS connection.
 */
function roomBoot(): Plugin {
  return {
    name: 'tfx-room-boot',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(html, ctx) {
        if (!ctx.filename.endsWith('room.html')) return html;
        const chunks = Object.values(ctx.bundle ?? {}).filter(
          (c): c is Rollup.OutputChunk => c.type === 'chunk',
        );
        const boot = chunks.find((c) => c.isEntry && c.name === 'room-boot');
        const ui = chunks.find((c) => !c.isEntry && c.name === 'call-ui');
        if (!boot || !ui) throw new Error('room.html: no room-boot entry or call-ui chunk');
        // Right after the title, before the stylesheets (a classic script waits for style sheets
        // above it) and the page's script. In a function: no globals of its own.
        if (boot.imports.length > 0 || boot.dynamicImports.length > 0 || boot.exports.length > 0)
          throw new Error('room-boot must be self-contained (no imports, no exports)');
        if (/<\/script|<!--/i.test(boot.code)) throw new Error('room-boot: cannot be inlined');
        const tag = `<script>(()=>{${boot.code.trim()}})()</script>`;
        delete ctx.bundle?.[boot.fileName];
        if (!/<\/title>/.test(html)) throw new Error('room.html: no <title> to put the boot after');
        const js = new Set<string>();
        const todo = [ui.fileName];
        while (todo.length > 0) {
          const f = todo.pop() as string;
          if (js.has(f) || html.includes(`/${f}"`)) continue;
          js.add(f);
          todo.push(...(chunks.find((c) => c.fileName === f)?.imports ?? []));
        }
        const css = [...js].flatMap((f) => [
          ...(chunks.find((c) => c.fileName === f)?.viteMetadata?.importedCss ?? []),
        ]);
        const links = [
          ...[...js].map(
            (f) => `<link rel="modulepreload" fetchpriority="low" crossorigin href="/${f}">`,
          ),
          ...css
            .filter((f) => !html.includes(`/${f}"`))
            .map(
              (f) => `<link rel="preload" as="style" fetchpriority="low" crossorigin href="/${f}">`,
            ),
        ];
        return html
          .replace(/<\/title>/, `$&\n    ${tag}`)
          .replace(/<\/head>/, `  ${links.join('\n    ')}\n  </head>`);
      },
    },
  };
}

export default defineConfig({
  plugins: [precacheList(), effectAssets(), roomBoot()],
  // Effect workers are classic scripts (the TFLite loader uses importScripts).
  worker: { format: 'iife' },
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
        // Asks for the camera before room.html's own script has loaded (roomBoot above).
        'room-boot': resolve(here, 'src/room/boot.ts'),
        // The SIP admin console, served at /admin/ by the sip module.
        admin: resolve(here, 'admin.html'),
        // The "Call a phone" dial pad: its own page, so SIP.js loads only there (docs/sdk.md).
        dial: resolve(here, 'dial.html'),
        // /embed.js (host pages load it; it must stay self-contained) and /sw.js (scope /).
        embed: resolve(here, 'src/embed/embed.ts'),
        sw: resolve(here, 'src/sw/sw.ts'),
      },
      output: {
        // The call page's entry cannot run before every chunk it imports has arrived, and over
        // HTTP/1.1 a browser opens 6 connections to a host: the SDK's emitter (0.4 kB) goes in
        // the `dom` chunk, which every page that uses it loads anyway, so room.html's critical
        // requests fit in those connections and its low-priority preloads cannot queue in front
        // of them (docs/benchmarks.md, "## Call"). The chunk's own modules are listed so it keeps
        // its name.
        manualChunks: (id) =>
          /[\\/]packages[\\/](sdk[\\/]src[\\/]emitter|web[\\/]src[\\/](dom|icons))\.ts$/.test(id)
            ? 'dom'
            : undefined,
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
