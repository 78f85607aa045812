/**
 * The platform: one HTTPS server (Fastify; HTTP/2 with HTTP/1.1 for clients that do not offer h2
 * and for WebSocket upgrades) that carries the web app, signalling, the REST API,
 * metrics and SIP over WebSocket, plus the listeners feature modules open (SIP UDP/TCP/TLS, STUN).
 *
 * Request pipeline, in order (Fastify hooks): security headers (helmet) → admin auth where a
 * route asks for it (`ctx.requireAdmin`) → schema validation (zod) → handler → error mapping to
 * the error catalogue (`{ error: { code, message } }` with the catalogue's HTTP status).
 */
import { mkdir } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Http2Session, ServerHttp2Stream } from 'node:http2';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import {
  serializerCompiler,
  validatorCompiler,
  jsonSchemaTransform,
  hasZodFastifySchemaValidationErrors,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { ERROR_CATALOGUE, TfxError, type ErrorBody } from '@tfx/protocol';
import type { Config } from './config/index.js';
import { isLoopbackHost } from './config/index.js';
import type { Logger } from './log.js';
import { loadOrCreateTls, type TlsIdentity } from './tls.js';
import { loadOrCreateAdminToken, tokenMatches, bearer } from './admin-token.js';
import type { App, ListenerInfo, PlatformContext, PlatformModule } from './module.js';

/** How long an HTTP/2 stream under way at close may take to finish before its session is cut. */
const H2_CLOSE_GRACE_MS = 5000;

export interface PlatformOptions {
  readonly logger: Logger;
  readonly modules?: readonly PlatformModule[];
  /** Folder of the built web app (index.html, room.html, assets/). */
  readonly webRoot?: string | undefined;
  /** Version string reported by /healthz and the banner. */
  readonly version: string;
}

export interface Platform {
  readonly context: PlatformContext;
  readonly listeners: readonly ListenerInfo[];
  readonly adminTokenGenerated: boolean;
  readonly tls: TlsIdentity;
  /** Drain (no new work), then close every module and the HTTPS server. Idempotent. */
  close(reason?: string): Promise<void>;
}

/**
 * The CSP source expressions (`'sha256-…'`) of a page's inline classic scripts, so that
 * `script-src 'self'` lets exactly those run (CSP Level 3, "hash-source"): room.html carries its
 * boot script inline (packages/web/vite.config.ts, `roomBoot`), which asks for the camera while the
 * page's own script is still on its way. The hash is over the element's text as served.
 */
export function inlineScriptHashes(html: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    const attrs = m[1] ?? '';
    const body = m[2] ?? '';
    if (/\ssrc\s*=/i.test(attrs) || body.length === 0) continue;
    out.push(`'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
  }
  return out;
}

function errorReply(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ error: body });
}

function hostForUrl(host: string, port: number, scheme: string): string {
  const h =
    host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${h}:${port}`;
}

export async function startPlatform(config: Config, options: PlatformOptions): Promise<Platform> {
  const logger = options.logger;
  const modules = options.modules ?? [];
  const dataDir = resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });

  const tls = await loadOrCreateTls({
    dataDir,
    certFile: config.tls.cert,
    keyFile: config.tls.key,
    host: config.server.host,
    publicHost: config.server.publicUrl ? new URL(config.server.publicUrl).hostname : undefined,
  });
  if (tls.warnings.length > 0)
    logger.warn({ cert: tls.certPath, warnings: tls.warnings }, 'TLS certificate: check it');
  const admin = await loadOrCreateAdminToken(dataDir, config.admin.token);
  const secure = !config.server.insecureHttp;
  if (!secure && !isLoopbackHost(config.server.host) && config.server.trustProxy.length === 0) {
    throw new TfxError('insecure-http-refused');
  }

  // HTTP/2 over TLS: a page's requests share the connection its document came on. Over HTTP/1.1
  // each request in parallel was a new TLS connection (the call page's first requests waited
  // 100–170 ms for theirs; docs/benchmarks.md, "Call"). HTTP/1.1 stays for clients that do not
  // offer h2 (ALPN) and for WebSocket upgrades (socket.io, SIP over WSS), which arrive on HTTP/1.1
  // connections: Node does not enable RFC 8441's extended CONNECT, so browsers open one for them.
  // Fastify's types pick the server from a literal `http2: true`; the options are spread.
  const app = Fastify({
    ...((secure
      ? { http2: true, https: { allowHTTP1: true, cert: tls.cert, key: tls.key } }
      : {}) as object),
    loggerInstance: logger.child({ component: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.server.trustProxy.length > 0 ? [...config.server.trustProxy] : false,
    bodyLimit: 1_048_576,
    // An HTTP/2 server cannot close only idle connections: at close, its HTTP/1.1 keep-alive
    // connections are ended, and its HTTP/2 sessions below (Fastify's own tracking of them
    // misses server sessions on Node 20: close waited for the browser to hang up).
    forceCloseConnections: secure ? true : 'idle',
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;
  if (secure) {
    // At close, as HTTP/1.1's idle connections: an idle HTTP/2 session is ended at once; one
    // with streams under way gets a GOAWAY (RFC 9113 §6.8: no new streams) and ends when they
    // have (a graceful close() alone left idle browser sessions open until they hung up), or
    // after H2_CLOSE_GRACE_MS.
    const open = new Map<Http2Session, number>();
    let closingSessions = false;
    const settle = (session: Http2Session): void => {
      if (closingSessions && (open.get(session) ?? 0) === 0) session.destroy();
    };
    app.server.on('session', (session: Http2Session) => {
      open.set(session, 0);
      session.once('close', () => open.delete(session));
      // A connection whose TLS handshake completes while the server closes.
      if (closingSessions) {
        session.close();
        settle(session);
      }
    });
    app.server.on('stream', (stream: ServerHttp2Stream) => {
      const session = stream.session;
      if (!session || !open.has(session)) return;
      open.set(session, (open.get(session) ?? 0) + 1);
      stream.once('close', () => {
        if (open.has(session)) open.set(session, (open.get(session) ?? 1) - 1);
        settle(session);
      });
    });
    app.addHook('preClose', (done) => {
      closingSessions = true;
      for (const session of open.keys()) {
        session.close();
        settle(session);
      }
      if (open.size > 0) {
        const cut = setTimeout(() => {
          for (const session of open.keys()) session.destroy();
        }, H2_CLOSE_GRACE_MS);
        cut.unref();
      }
      done();
    });
  }
  // Over HTTP/2 a request's socket is gone once it has been answered, and `req.ip` with it: the
  // address is fixed when the request arrives, for hooks that run after the response (the
  // console's audit log records who changed what from where).
  app.addHook('onRequest', (req, _reply, done) => {
    Object.defineProperty(req, 'ip', { value: req.ip, enumerable: true });
    done();
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'tfx_' });

  let draining = false;
  let publicUrl = config.server.publicUrl?.replace(/\/$/, '') ?? '';

  const requireAdmin = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!tokenMatches(bearer(req.headers.authorization), admin.token)) {
      await errorReply(reply, 401, {
        code: 'unauthorized',
        message: 'send Authorization: Bearer <admin token>',
      });
    }
  };

  const context: PlatformContext = {
    config,
    logger,
    app,
    dataDir,
    adminToken: admin.token,
    tls,
    metrics,
    requireAdmin,
    publicUrl: () => publicUrl,
    isDraining: () => draining,
  };

  const webRoot =
    options.webRoot && existsSync(join(options.webRoot, 'index.html'))
      ? options.webRoot
      : undefined;
  const roomPage = webRoot && existsSync(join(webRoot, 'room.html')) ? 'room.html' : 'index.html';
  const inlineScripts = webRoot
    ? inlineScriptHashes(readFileSync(join(webRoot, roomPage), 'utf8'))
    : [];

  // --- security headers ---------------------------------------------------------------------
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // 'wasm-unsafe-eval' compiles WebAssembly only (the video effects' TFLite model,
        // docs/effects.md); it allows no eval of strings.
        // The call page's inline boot script, by hash (inlineScriptHashes).
        scriptSrc: ["'self'", "'wasm-unsafe-eval'", ...inlineScripts],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
        frameSrc: ["'self'"],
        workerSrc: ["'self'"],
        manifestSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // Camera and microphone are used by the call page itself; the Permissions-Policy is set below.
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-site' },
    frameguard: false,
    hsts: secure ? { maxAge: 15_552_000, includeSubDomains: false } : false,
  });
  const frameAncestors =
    config.embed.allowedOrigins.length > 0
      ? `'self' ${config.embed.allowedOrigins.join(' ')}`
      : "'self'";
  app.addHook('onSend', async (req, reply, payload) => {
    // The call page may be embedded by the origins embed.allowedOrigins lists; nothing else may.
    if (req.url.startsWith('/r/')) {
      const csp = reply.getHeader('content-security-policy');
      if (typeof csp === 'string')
        reply.header(
          'content-security-policy',
          csp.replace("frame-ancestors 'none'", `frame-ancestors ${frameAncestors}`),
        );
    } else if (req.url.split('?')[0] === '/embed.js') {
      // The embed script is loaded by host pages of any site (docs/embed.md).
      reply.header('cross-origin-resource-policy', 'cross-origin');
      reply.header('x-frame-options', 'DENY');
    } else if (!req.url.startsWith('/widgets/')) {
      // Widget pages (/widgets/*) are framed by the call page: the widgets module sends their
      // own CSP (frame-ancestors like the call page's, and a sandbox); everything else: DENY.
      reply.header('x-frame-options', 'DENY');
    }
    return payload;
  });

  // --- OpenAPI --------------------------------------------------------------------------------
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'TFX REST API',
        version: options.version,
        description: 'Admin and session API of a TFX deployment.',
      },
      components: { securitySchemes: { admin: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });

  // --- errors: one mapping from the catalogue -----------------------------------------------------
  app.setErrorHandler((err: FastifyError | TfxError | Error, req, reply) => {
    if (err instanceof TfxError) return errorReply(reply, err.spec.http, err.toBody());
    if (hasZodFastifySchemaValidationErrors(err)) {
      return errorReply(reply, 400, {
        code: 'bad-request',
        message: `invalid ${err.validationContext ?? 'request'}: ${err.validation.map((v) => `${v.instancePath || '/'} ${v.message}`).join('; ')}`,
      });
    }
    const status = (err as FastifyError).statusCode;
    if (status === 413)
      return errorReply(reply, 413, { code: 'payload-too-large', message: err.message });
    if (status && status >= 400 && status < 500)
      return errorReply(reply, status, { code: 'bad-request', message: err.message });
    req.log.error({ err }, 'unhandled error in request');
    return errorReply(reply, 500, { code: 'internal', message: ERROR_CATALOGUE.internal.summary });
  });

  // --- health, readiness, metrics, OpenAPI document --------------------------------------------
  app.get('/healthz', { schema: { hide: true } }, async () => ({
    status: 'ok',
    version: options.version,
  }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) =>
    draining ? reply.code(503).send({ status: 'draining' }) : { status: 'ready' },
  );
  app.get(
    '/metrics',
    { schema: { hide: true }, preHandler: config.metrics.public ? [] : [requireAdmin] },
    async (_req, reply) => {
      reply.type(metrics.contentType);
      return metrics.metrics();
    },
  );
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // Public: the call page reads which host pages may command it over postMessage (docs/embed.md).
  app.get('/api/v1/embed', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('cache-control', 'no-cache');
    return { allowedOrigins: config.embed.allowedOrigins };
  });

  for (const m of modules) await m.setup?.(context);

  // --- the web app (last: it owns the fallback) ------------------------------------------------
  if (webRoot) {
    await app.register(fastifyStatic, {
      root: webRoot,
      prefix: '/',
      wildcard: true,
      index: ['index.html'],
      setHeaders(res, path) {
        // Hashed build assets never change; pages are revalidated on every load.
        res.setHeader(
          'cache-control',
          /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });
    app.get('/r/:room', { schema: { hide: true } }, (_req, reply) =>
      reply.header('cache-control', 'no-cache').sendFile(roomPage),
    );
  } else {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><meta charset="utf-8"><title>TFX</title><h1>TFX is running</h1><p>The web app is not built: run <code>npm run build</code>.</p>',
        ),
    );
  }
  app.setNotFoundHandler((req, reply) =>
    errorReply(reply, 404, {
      code: 'not-found',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
    }),
  );

  // --- listen ------------------------------------------------------------------------------------
  try {
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    throw new TfxError(
      'listen-failed',
      `cannot listen on ${config.server.host}:${config.server.port}: ${(err as Error).message}`,
      {
        key: 'server.port',
      },
      { cause: err },
    );
  }
  const addr = app.server.address() as AddressInfo;
  const scheme = secure ? 'https' : 'http';
  if (!publicUrl) publicUrl = hostForUrl(config.server.host, addr.port, scheme);
  const listeners: ListenerInfo[] = [
    {
      name: scheme,
      protocol: scheme,
      address: addr.address,
      port: addr.port,
      url: `${hostForUrl(config.server.host, addr.port, scheme)}/`,
    },
  ];

  const started: PlatformModule[] = [];
  try {
    for (const m of modules) {
      const more = (await m.start?.(context)) ?? [];
      listeners.push(...more);
      started.push(m);
    }
  } catch (err) {
    for (const m of started.reverse()) await Promise.resolve(m.close()).catch(() => undefined);
    await app.close();
    throw err;
  }

  let closing: Promise<void> | undefined;
  const close = (reason = 'close'): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      logger.info({ reason }, 'draining');
      for (const m of modules)
        await Promise.resolve(m.drain?.()).catch((err: unknown) =>
          logger.warn({ err, module: m.name }, 'drain failed'),
        );
      for (const m of [...modules].reverse())
        await Promise.resolve(m.close()).catch((err: unknown) =>
          logger.warn({ err, module: m.name }, 'close failed'),
        );
      await app.close();
      logger.info('closed');
    })();
    return closing;
  };

  return { context, listeners, adminTokenGenerated: admin.generated, tls, close };
}
