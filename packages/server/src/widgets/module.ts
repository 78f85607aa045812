/**
 * The widgets module (`name: 'widgets'`):
 *   - the manifest (`widgets.manifest`, default `<dataDir>/widgetmanifest.json`, seeded with the
 *     built-ins), validated at start and reloaded when the file changes (an invalid new file is
 *     logged and counted, and the old manifest stays);
 *   - `GET /api/v1/widgets` (public): the manifest and the message limits;
 *   - `/widget-sdk/v1.js`: the widget SDK as one ES module, importable from any origin;
 *   - `/widgets/<id>/…`: built-in and local widgets, each page under a strict, sandboxing CSP;
 *   - the call page's CSP: `frame-src` (and `img-src`) gain the manifest's widget origins.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Counter, Gauge } from 'prom-client';
import { widgetListSchema, WIRE_FRAME_BYTES, type WidgetManifest } from '@tfx/protocol';
import type { PlatformContext, PlatformModule } from '../module.js';
import { BUILTIN_WIDGETS } from './builtins.js';
import { ManifestWatcher, loadOrSeedManifest } from './manifest-store.js';
import { widgetCsp, widgetOrigins, withWidgetOrigins } from './csp.js';
import { fileStream, resolveWidgetFile } from './static.js';

export interface WidgetsModuleOptions {
  /** Folder of the built built-in widgets (`packages/widgets/dist`). */
  readonly builtinRoot?: string | undefined;
  /** The widget SDK bundle (`packages/widget-sdk/dist/v1.js`). */
  readonly sdkBundle?: string | undefined;
  /** Debounce of manifest file changes, ms. Default 200. */
  readonly reloadDebounceMs?: number;
}

export interface WidgetsModule extends PlatformModule {
  /** The manifest in force. */
  manifest(): WidgetManifest;
  /** The manifest file's path (known after setup). */
  readonly manifestPath: string;
  /** Re-reads the manifest file now (tests; the watcher does it on change). */
  reload(): Promise<void>;
}

/** Resolves `widgets.manifest` (default in the data dir). */
export function manifestPathFor(ctx: {
  config: PlatformContext['config'];
  dataDir: string;
}): string {
  return resolve(ctx.config.widgets.manifest ?? join(ctx.dataDir, 'widgetmanifest.json'));
}

export function createWidgetsModule(options: WidgetsModuleOptions = {}): WidgetsModule {
  let manifest: WidgetManifest = BUILTIN_WIDGETS;
  let path = '';
  let watcher: ManifestWatcher | null = null;

  return {
    name: 'widgets',
    manifest: () => manifest,
    get manifestPath() {
      return path;
    },
    reload: () => watcher?.reload() ?? Promise.resolve(),

    async setup(ctx: PlatformContext): Promise<void> {
      const { app, config } = ctx;
      const log = ctx.logger.child({ component: 'widgets' });
      path = manifestPathFor(ctx);
      const loaded = await loadOrSeedManifest(path, BUILTIN_WIDGETS);
      manifest = loaded.manifest;
      log.info(
        { manifest: path, widgets: manifest.length, seeded: loaded.seeded },
        'widget manifest loaded',
      );

      const reloads = new Counter({
        name: 'tfx_widget_manifest_reloads_total',
        help: 'Widget manifest reloads after the file changed, by result (ok, invalid).',
        labelNames: ['result'] as const,
        registers: [ctx.metrics],
      });
      const entries = new Gauge({
        name: 'tfx_widget_manifest_entries',
        help: 'Widgets in the manifest in force.',
        registers: [ctx.metrics],
      });
      entries.set(manifest.length);
      watcher = new ManifestWatcher(path, manifest, {
        debounceMs: options.reloadDebounceMs ?? 200,
        onReload: (m) => {
          manifest = m;
          entries.set(m.length);
          reloads.inc({ result: 'ok' });
          log.info({ manifest: path, widgets: m.length }, 'widget manifest reloaded');
        },
        onInvalid: (error) => {
          reloads.inc({ result: 'invalid' });
          log.warn(
            { manifest: path, error, code: 'manifest-invalid' },
            'widget manifest change rejected: keeping the previous manifest',
          );
        },
      });
      watcher.start();

      app.get(
        '/api/v1/widgets',
        {
          schema: {
            summary: 'The widget manifest and the widget message limits (public)',
            operationId: 'listWidgets',
            tags: ['widgets'],
            response: { 200: widgetListSchema },
          },
        },
        async (_req, reply) => {
          reply.header('cache-control', 'no-cache');
          return {
            widgets: manifest,
            maxMessageBytes: config.widgets.maxMessageBytes,
            chunkBytes: WIRE_FRAME_BYTES,
          };
        },
      );

      // The widget SDK: one ES module any widget may import, from any origin.
      let sdk: Buffer | null = null;
      app.get('/widget-sdk/v1.js', { schema: { hide: true } }, async (_req, reply) => {
        sdk ??= options.sdkBundle ? await readFile(options.sdkBundle).catch(() => null) : null;
        if (!sdk)
          return reply
            .code(404)
            .send({ error: { code: 'not-found', message: 'the widget SDK is not built' } });
        return reply
          .type('text/javascript; charset=utf-8')
          .header('access-control-allow-origin', '*')
          .header('cross-origin-resource-policy', 'cross-origin')
          .header('cache-control', 'no-cache')
          .send(sdk);
      });

      const frameAncestors =
        config.embed.allowedOrigins.length > 0
          ? `'self' ${config.embed.allowedOrigins.join(' ')}`
          : "'self'";
      const roots = { builtin: options.builtinRoot, local: resolve(config.widgets.dir) };
      app.get('/widgets/*', { schema: { hide: true } }, async (req, reply) => {
        const rest = (req.params as { '*': string })['*'];
        // /widgets/<id> → /widgets/<id>/ so the page's relative URLs resolve inside its folder.
        if (/^[A-Za-z0-9_-]+$/.test(rest)) return reply.redirect(`/widgets/${rest}/`, 301);
        const file = await resolveWidgetFile(rest, roots);
        if (!file)
          return reply.code(404).send({
            error: { code: 'widget-not-available', message: `no widget file /widgets/${rest}` },
          });
        const entry = manifest.find((e) => e.id === file.folder);
        return reply
          .type(file.type)
          .header('content-security-policy', widgetCsp(entry, frameAncestors))
          .header('access-control-allow-origin', '*')
          .header('cross-origin-resource-policy', 'cross-origin')
          .header(
            'cache-control',
            file.builtin && file.folder === 'assets'
              ? 'public, max-age=31536000, immutable'
              : 'no-cache',
          )
          .header('content-length', file.size)
          .send(fileStream(file.path));
      });

      // The call page frames cross-origin widgets the manifest lists (and shows their icons).
      app.addHook('onSend', async (req, reply, payload) => {
        if (!req.url.startsWith('/r/')) return payload;
        const csp = reply.getHeader('content-security-policy');
        if (typeof csp === 'string')
          reply.header('content-security-policy', withWidgetOrigins(csp, widgetOrigins(manifest)));
        return payload;
      });
    },

    close(): void {
      watcher?.close();
      watcher = null;
    },
  };
}
