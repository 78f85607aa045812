/**
 * How features plug into the platform. The platform (platform.ts) owns the HTTPS server, the
 * logger, the metrics registry and the admin auth; each feature (signalling, SIP, widgets, the
 * web app) is a `PlatformModule` that registers routes and opens its own listeners. Closing runs
 * in reverse order of starting; `drain` runs first on every module (stop taking new work).
 */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawServerDefault,
} from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import type { Config } from './config/index.js';
import type { Logger } from './log.js';
import type { TlsIdentity } from './tls.js';

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface ListenerInfo {
  /** Stable name, e.g. `https`, `sip-udp`, `sip-tcp`, `sip-tls`, `sip-ws`, `stun`. */
  readonly name: string;
  readonly protocol: 'https' | 'http' | 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';
  readonly address: string;
  readonly port: number;
  /** For listeners a person or a client opens by URL. */
  readonly url?: string;
}

export interface PlatformContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly app: App;
  /** Absolute data directory (exists). */
  readonly dataDir: string;
  readonly adminToken: string;
  /** TLS identity (also when serving plain HTTP, for SIP TLS). */
  readonly tls: TlsIdentity;
  readonly metrics: Registry;
  /** A Fastify preHandler that answers 401 unless the request carries the admin token. */
  readonly requireAdmin: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** The public base URL, known once the HTTPS server listens (before that: from config). */
  publicUrl(): string;
  /** True once SIGTERM (or close) started: modules refuse new work. */
  isDraining(): boolean;
}

export interface PlatformModule {
  readonly name: string;
  /** Before the HTTPS server listens: register routes, attach to `ctx.app.server`. */
  setup?(ctx: PlatformContext): Promise<void> | void;
  /** After the HTTPS server listens: open other listeners; report them for the banner. */
  start?(ctx: PlatformContext): Promise<readonly ListenerInfo[]> | readonly ListenerInfo[];
  /** Stop taking new work (no new joins, tell clients to go elsewhere). */
  drain?(): Promise<void> | void;
  /** Release everything. Idempotent. */
  close(): Promise<void> | void;
}
