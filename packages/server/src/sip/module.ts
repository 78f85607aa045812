/**
 * The SIP server as a platform module (`name: 'sip'`): REST routes and the admin console in
 * `setup`; in `start`, the SIP listeners (UDP and TCP on `sip.port`, TLS on `sip.tlsPort` with
 * the platform certificate, WS/WSS at `/sip` on the HTTPS server).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { TfxError } from '@tfx/protocol';
import type { ListenerInfo, PlatformContext, PlatformModule } from '../module.js';
import { RedisLocationStore, openRedisClient } from '../store/redis/index.js';
import type { LocationStore } from '../store/index.js';
import { openCdrStore, registerCdrMetrics, sharedCdrStore } from '../store/cdr.js';
import { registerSipRoutes } from './routes.js';
import { SipService } from './service.js';

export interface SipModuleOptions {
  /** Folder of the built web app (with admin.html and assets/), for the console at /admin/. */
  readonly webRoot?: string | undefined;
  /** Serve `/assets/*` from the web root too (when the web app itself is not served: `tfx sip`). */
  readonly serveAssets?: boolean;
}

export interface SipModule extends PlatformModule {
  /** The running service (after start). */
  readonly service: SipService | undefined;
}

const NOT_BUILT =
  '<!doctype html><meta charset="utf-8"><title>TFX admin</title><h1>TFX admin console</h1><p>The console is not built: run <code>npm run build</code>. The REST API is at <code>/api/v1/sip/</code>.</p>';

export function createSipModule(options: SipModuleOptions = {}): SipModule {
  let service: SipService | undefined;
  let closed = false;
  let cdr: { release: () => Promise<void> } | undefined;
  const svc = (): SipService => {
    if (!service) throw new TfxError('unavailable', 'the SIP service is not running');
    return service;
  };
  return {
    name: 'sip',
    get service() {
      return service;
    },
    async setup(ctx: PlatformContext): Promise<void> {
      registerSipRoutes(ctx, svc);
      registerCdrMetrics(ctx.metrics, () => sharedCdrStore(join(ctx.dataDir, 'cdr')));
      const root = options.webRoot;
      const page = root ? join(root, 'admin.html') : undefined;
      ctx.app.get('/admin', { schema: { hide: true } }, (_req, reply) => reply.redirect('/admin/'));
      ctx.app.get('/admin/', { schema: { hide: true } }, async (_req, reply) => {
        const html = page && existsSync(page) ? await readFile(page, 'utf8') : NOT_BUILT;
        return reply
          .header('cache-control', 'no-cache')
          .type('text/html; charset=utf-8')
          .send(html);
      });
      if (options.serveAssets && root && existsSync(join(root, 'assets'))) {
        await ctx.app.register(fastifyStatic, {
          root: join(root, 'assets'),
          prefix: '/assets/',
          decorateReply: false,
          setHeaders(res) {
            res.setHeader('cache-control', 'public, max-age=31536000, immutable');
          },
        });
      }
    },
    async start(ctx: PlatformContext): Promise<ListenerInfo[]> {
      if (!ctx.config.sip.enabled) return [];
      const domain = ctx.config.sip.domain ?? defaultDomain(ctx);
      const location = await openLocation(ctx);
      // Proxied calls' CDRs, in the store the SBC shares (docs/sbc.md, "CDRs").
      const cdrs = openCdrStore(ctx.config, ctx.dataDir, ctx.logger.child({ component: 'sip' }));
      cdr = cdrs;
      const s = new SipService({
        ...(location ? { location } : {}),
        config: ctx.config,
        logger: ctx.logger.child({ component: 'sip' }),
        dataDir: ctx.dataDir,
        tls: ctx.tls,
        metrics: ctx.metrics,
        domain,
        httpServer: ctx.app.server,
        cdr: () => cdrs.store,
      });
      const listeners = await s.start();
      service = s;
      return listeners.map((l) => {
        const name = l.transport === 'wss' ? 'sip-ws' : `sip-${l.transport}`;
        return {
          name,
          protocol: l.transport,
          address: l.address,
          port: l.port,
          // SIP over WebSocket shares the HTTPS server: its URL is the public one with ws(s).
          ...(l.transport === 'ws' || l.transport === 'wss'
            ? { url: `${ctx.publicUrl().replace(/^http/, 'ws')}${l.path ?? '/sip'}` }
            : {}),
        };
      });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await service?.close();
      await cdr?.release();
    },
  };
}

/**
 * With `redis.url` (`--redis`), registrations live in Redis: every process finds every phone, and
 * they survive a restart. Otherwise the service keeps them in memory.
 */
async function openLocation(ctx: PlatformContext): Promise<LocationStore | undefined> {
  const url = ctx.config.redis.url;
  if (!url) return undefined;
  const log = ctx.logger.child({ component: 'sip' });
  const client = openRedisClient({
    url,
    kind: 'command',
    commandTimeoutMs: ctx.config.redis.commandTimeoutMs,
    name: 'tfx-sip-location',
    onError: (err) => log.debug({ err: err.message }, 'sip: location store redis error'),
  });
  await client.connect();
  return new RedisLocationStore(client, { prefix: ctx.config.redis.keyPrefix }, true);
}

function defaultDomain(ctx: PlatformContext): string {
  try {
    const host = new URL(ctx.publicUrl()).hostname.replace(/^\[|\]$/g, '');
    return host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  } catch {
    return 'localhost';
  }
}
