/**
 * The platform: one HTTPS server (Fastify) that carries the web app, signalling, the REST API,
 * metrics and SIP over WebSocket, plus the listeners feature modules open (SIP UDP/TCP/TLS, STUN).
 *
 * Request pipeline, in order (Fastify hooks): security headers (helmet) → admin auth where a
 * route asks for it (`ctx.requireAdmin`) → schema validation (zod) → handler → error mapping to
 * the error catalogue (`{ error: { code, message } }` with the catalogue's HTTP status).
 */
import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import type { AddressInfo } from 'node:net';
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

  const app = Fastify({
    ...(secure ? { https: { cert: tls.cert, key: tls.key } } : {}),
    loggerInstance: logger.child({ component: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.server.trustProxy.length > 0 ? [...config.server.trustProxy] : false,
    bodyLimit: 1_048_576,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>() as unknown as App;
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

  // --- security headers ---------------------------------------------------------------------
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        // 'wasm-unsafe-eval' compiles WebAssembly only (the video effects' TFLite model,
        // docs/effects.md); it allows no eval of strings.
        scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
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
  const webRoot =
    options.webRoot && existsSync(join(options.webRoot, 'index.html'))
      ? options.webRoot
      : undefined;
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
    const roomPage = existsSync(join(webRoot, 'room.html')) ? 'room.html' : 'index.html';
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
