import { join } from 'node:path';
/**
 * The SBC as a platform module (`name: 'sbc'`): when `sbc.zones` is configured, starts the B2BUA
 * of @tfx/sbc on the zones' own listeners, anchoring media in the media module's engine (handed
 * over by the composition root: features never import each other). Without zones it does nothing.
 * The registrar/proxy of the SIP module keeps its own ports beside it.
 */
import {
  TfxError,
  errorResponseSchema,
  sbcCallListSchema,
  sbcZoneListSchema,
  type SbcCallList,
  type SbcReload,
  type SbcZoneList,
} from '@tfx/protocol';
import type { MediaEngine } from '@tfx/media';
import {
  Sbc,
  type LocalRegistrar,
  type SbcConfig,
  type UpstreamSpec,
  type ZoneSpec,
} from '@tfx/sbc';
import { computeHa1, nodeDigestHash, type DigestAlgorithm } from '@tfx/sip';
import { parseListenUrl, type Config } from '../config/index.js';
import type { ListenerInfo, PlatformContext, PlatformModule } from '../module.js';
import { registerSbcMetrics } from './metrics.js';
import { SbcReloader, registerReloadRoutes, type ReloadSource } from './reload.js';
import { registerBlacklistRoutes } from './blacklist.js';
import { openCallStore } from './call-store.js';
import { registerSbcRegistrarMetrics } from './registrar-metrics.js';
import { openCdrStore, registerCdrMetrics, sharedCdrStore, type CdrStore } from './cdr.js';
import { registerCdrRoutes } from './cdr-routes.js';
import { registerPcapRoutes } from './pcap-routes.js';
import { registerTrunkMetrics, registerTrunkRoutes } from './trunks.js';
import { registerLadderRoutes } from './ladder-routes.js';
import { SbcStatsSampler, registerStatsRoutes } from './stats.js';
import { CallRecordings, registerRecordRoutes } from './recording.js';
import { LiServices } from './intercept-module.js';
import { watchMediaPorts, type MediaPortWatch } from './media-ports.js';
import { registerAdmissionRoutes } from './admission-routes.js';
import { admissionSpecOf } from '../config/sbc-admission.js';

/** The users digest checks against: the SIP server's (`sip.users` and the admin API's). */
export interface SbcUsers {
  readonly realm: string;
  ha1(username: string, algorithm: DigestAlgorithm): string | undefined;
}

export interface SbcModuleOptions {
  /** The running media engine (the media module's), read at start. */
  readonly engine: () => MediaEngine | undefined;
  /**
   * The SIP server's users (the composition root hands them over; features do not import each
   * other). Without them (`sip.enabled` false) the SBC uses `sip.users` of the config in the realm
   * `sip.domain` (default: the public host).
   */
  readonly users?: () => SbcUsers | undefined;
  /**
   * Reads the configuration again, from the sources the process started with (the composition
   * root knows them), for `POST /api/v1/sbc/reload` and SIGHUP. Without it reloads are refused.
   */
  readonly readConfig?: () => Config;
  /**
   * TFX's own registrar (the SIP server's policy and location store, handed over by the
   * composition root): zones serve REGISTERs from it and calls reach its users before routes.
   * Without it (`sip.enabled` false) REGISTER in a zone gets 405.
   */
  readonly registrar?: () =>
    { readonly domain: string; readonly registrar: LocalRegistrar } | undefined;
  /**
   * Room dial-out credentials (`gateway.roomDialOut`, the gateway module's): their HA1 for the
   * digest, and the account they bill for the fraud limits (docs/sdk.md, "Calling phones").
   */
  readonly dialOut?: () =>
    | {
        ha1(username: string, realm: string, algorithm: DigestAlgorithm): string | undefined;
        accountOf(username: string): string;
      }
    | undefined;
}

/** `sip.users` of the config as digest users (when the SIP server does not run). */
function configUsers(config: Config, fallbackRealm: string): SbcUsers {
  const realm = config.sip.domain ?? fallbackRealm;
  const table = new Map(config.sip.users.map((u) => [u.username, u.password]));
  return {
    realm,
    ha1: (username, algorithm) => {
      const pw = table.get(username);
      return pw === undefined
        ? undefined
        : computeHa1(nodeDigestHash, algorithm, username, realm, pw);
    },
  };
}

export interface SbcModule extends PlatformModule {
  /** The running SBC (after start, when zones are configured). */
  readonly sbc: Sbc | undefined;
  /** Re-reads the configuration and swaps the SBC's rules (docs/sbc.md, "Reload"). */
  reload(source: ReloadSource): SbcReload;
}

/** The zones of the configuration as the SBC takes them. */
export function zonesOf(config: Config): ZoneSpec[] {
  return config.sbc.zones.map((z) => ({
    name: z.name,
    listen: z.listen.map(parseListenUrl),
    media: {
      address: z.media.address,
      ...(z.media.advertisedAddress !== undefined && {
        advertisedAddress: z.media.advertisedAddress,
      }),
    },
    trusted: z.trusted,
    webrtc: z.webrtc,
    anchorMedia: z.anchorMedia,
    limits: { maxCalls: z.limits.maxCalls },
    security: {
      floodRequests: z.security.floodRequests,
      floodWindowMs: Math.round(z.security.floodWindowSeconds * 1000),
      banMs: z.security.banSeconds * 1000,
      maxBytes: z.security.maxBytes,
      authBanAfter: z.security.authFailures,
    },
    normalize: z.normalize,
    allowHeaders: z.allowHeaders,
    ...(z.optionTags !== undefined && { optionTags: z.optionTags }),
    refer: z.refer,
    sessionTimer: z.sessionTimer,
    tones: {
      ringback: z.tones.ringback,
      busySeconds: z.tones.busySeconds,
      congestionSeconds: z.tones.congestionSeconds,
      announcements: {
        ...(z.tones.announcements.unknownNumber !== undefined && {
          unknownNumber: z.tones.announcements.unknownNumber,
        }),
        ...(z.tones.announcements.unreachable !== undefined && {
          unreachable: z.tones.announcements.unreachable,
        }),
      },
    },
    ...(z.acl && { acl: z.acl }),
    ...(z.fraud && {
      fraud: {
        maxConcurrent: z.fraud.maxConcurrent,
        callsPerMinute: z.fraud.callsPerMinute,
        deniedDestinations: z.fraud.deniedDestinations,
        maxDurationMs: z.fraud.maxDurationSeconds * 1000,
      },
    }),
    ...(z.registrar !== undefined && {
      registrar: {
        target: z.registrar,
        expires: z.registration.expires,
        minExpires: z.registration.minExpires,
        keepAlive: {
          method: z.registration.keepAlive.method,
          intervalMs: z.registration.keepAlive.intervalSeconds * 1000,
        },
        timeoutMs: Math.round(z.registration.timeoutSeconds * 1000),
      },
    }),
  }));
}

/** Zones, trunks and routes of the configuration as the SBC takes them (at start and reload). */
export function sbcConfigOf(config: Config): SbcConfig {
  return {
    zones: zonesOf(config),
    trunks: config.sbc.trunks.map((t) => ({
      name: t.name,
      zone: t.zone,
      uri: t.uri,
      normalize: t.normalize,
      ...(t.optionTags !== undefined && { optionTags: t.optionTags }),
      probe: t.probe,
      timeoutSeconds: t.timeoutSeconds,
      ...(t.priority !== undefined && { priority: t.priority }),
      ...(t.weight !== undefined && { weight: t.weight }),
      ...(t.register && { register: upstreamOf(t.name, t.register) }),
      ...(t.codecs && { codecs: t.codecs }),
      dtmf: t.dtmf,
    })),
    routes: config.sbc.routes.map((r) => ({
      match: { zone: r.match.zone, ...(r.match.user !== undefined && { user: r.match.user }) },
      to: r.to,
      ...(r.policy !== undefined && { policy: r.policy }),
      ...(r.rates !== undefined && { rates: r.rates }),
      ...(r.timezone !== undefined && { timezone: r.timezone }),
      ...(r.quality !== undefined && { quality: r.quality }),
    })),
    emergency: config.sbc.emergency,
    quality: config.sbc.quality,
    admission: admissionSpecOf(config.sbc.admission),
  };
}

/** `trunks[].register` as the SBC takes it: `passwordEnv` read from the environment now. */
function upstreamOf(
  trunk: string,
  r: NonNullable<Config['sbc']['trunks'][number]['register']>,
): UpstreamSpec {
  const password = r.password ?? (r.passwordEnv !== undefined ? process.env[r.passwordEnv] : '');
  if (!password)
    throw new TfxError(
      'config-invalid',
      `sbc.trunks.${trunk}.register.passwordEnv: the environment variable ${r.passwordEnv ?? ''} is not set`,
      { key: `sbc.trunks.${trunk}.register.passwordEnv` },
    );
  return {
    user: r.user,
    password,
    ...(r.realm !== undefined && { realm: r.realm }),
    expiresSeconds: r.expiresSeconds,
    ...(r.contactUser !== undefined && { contactUser: r.contactUser }),
    retrySeconds: r.retrySeconds,
  };
}

export function createSbcModule(options: SbcModuleOptions): SbcModule {
  let sbc: Sbc | undefined;
  let closed = false;
  let callStore: { close(): Promise<void> } | undefined;
  let cdr: { store: CdrStore; release: () => Promise<void> } | undefined;
  let recordings: CallRecordings | undefined;
  const li = new LiServices(() => sbc);
  let mediaPorts: MediaPortWatch | undefined;
  /** The bound listeners by zone name (after start). */
  let bound: Array<{ zone: string; listener: ListenerInfo }> = [];
  let context: PlatformContext | undefined;
  // The console's statistics: a sample every 5 s, the last 30 min (docs/console.md).
  const stats = new SbcStatsSampler({ sbc: () => sbc, engine: options.engine });
  const reloader = new SbcReloader({
    read: options.readConfig,
    sbc: () => (closed ? undefined : sbc),
    running: () => context?.config,
    sbcConfigOf,
    logger: () => context?.logger.child({ component: 'sbc' }),
  });
  return {
    name: 'sbc',
    get sbc() {
      return sbc;
    },
    reload: (source) => reloader.reload(source),
    setup(ctx: PlatformContext): void {
      context = ctx;
      registerSbcMetrics(ctx.metrics, () => sbc);
      registerReloadRoutes(ctx, reloader);
      registerBlacklistRoutes(ctx, () => sbc);
      registerSbcRegistrarMetrics(ctx.metrics, () => sbc);
      registerCdrRoutes(ctx, () => join(ctx.dataDir, 'cdr'));
      registerCdrMetrics(ctx.metrics, () => sharedCdrStore(join(ctx.dataDir, 'cdr')));
      registerTrunkRoutes(ctx, () => sbc);
      registerAdmissionRoutes(
        ctx,
        () => sbc,
        () => mediaPorts?.free(),
      );
      registerTrunkMetrics(ctx.metrics, () => sbc);
      recordings = new CallRecordings(join(ctx.dataDir, 'sbc', 'recordings'));
      registerPcapRoutes(
        ctx,
        () => sbc,
        (id) => recordings?.media(id) ?? Promise.resolve(undefined),
      );
      registerRecordRoutes(ctx, () => sbc, options.engine, recordings);
      registerLadderRoutes(ctx, () => sbc);
      registerStatsRoutes(ctx, () => sbc, stats);
      li.setup(ctx);
      ctx.app.get(
        '/api/v1/sbc/calls',
        {
          preHandler: ctx.requireAdmin,
          schema: {
            summary: 'Live SBC calls with both legs (zone, Call-ID, trunk)',
            operationId: 'listSbcCalls',
            tags: ['sbc'],
            security: [{ admin: [] }],
            response: {
              200: sbcCallListSchema,
              401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
              503: errorResponseSchema.describe(
                'The SBC is not running: no sbc.zones (unavailable).',
              ),
            },
          },
        },
        async (): Promise<SbcCallList> => {
          const s = sbc;
          if (!s) throw new TfxError('unavailable', 'the SBC is not running (no sbc.zones)');
          return {
            calls: s
              .calls()
              .slice(0, 1000)
              .map((c) => ({
                id: c.id,
                state: c.state,
                startedAt: new Date(c.startedAt).toISOString(),
                a: { zone: c.a.zone, ...(c.a.callId !== undefined && { callId: c.a.callId }) },
                b: {
                  zone: c.b.zone,
                  trunk: c.b.trunk,
                  ...(c.b.callId !== undefined && { callId: c.b.callId }),
                },
                emergency: c.emergency,
              })),
          };
        },
      );
      ctx.app.get(
        '/api/v1/sbc/zones',
        {
          preHandler: ctx.requireAdmin,
          schema: {
            summary: 'SBC zones with their bound listeners and live calls',
            operationId: 'listSbcZones',
            tags: ['sbc'],
            security: [{ admin: [] }],
            response: {
              200: sbcZoneListSchema,
              401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
              503: errorResponseSchema.describe(
                'The SBC is not running: no sbc.zones (unavailable).',
              ),
            },
          },
        },
        async (): Promise<SbcZoneList> => {
          const s = sbc;
          if (!s) throw new TfxError('unavailable', 'the SBC is not running (no sbc.zones)');
          const calls = s.calls();
          return {
            zones: ctx.config.sbc.zones.map((z) => ({
              name: z.name,
              trusted: z.trusted,
              webrtc: z.webrtc,
              mediaAddress: z.media.address,
              maxCalls: z.limits.maxCalls,
              calls: calls.filter((c) => c.a.zone === z.name || c.b.zone === z.name).length,
              listeners: bound
                .filter((b) => b.zone === z.name)
                .map(({ listener: l }) => ({
                  transport: l.protocol as 'udp' | 'tcp' | 'tls' | 'ws' | 'wss',
                  address: l.address,
                  port: l.port,
                })),
            })),
          };
        },
      );
    },
    async start(ctx: PlatformContext): Promise<readonly ListenerInfo[]> {
      const cfg = ctx.config.sbc;
      if (cfg.zones.length === 0 || closed) return [];
      const engine = options.engine();
      if (!engine) throw new TfxError('unavailable', 'the SBC needs the media engine');
      const logger = ctx.logger.child({ component: 'sbc' });
      const users = options.users?.() ?? configUsers(ctx.config, new URL(ctx.publicUrl()).hostname);
      // Restart recovery: confirmed calls kept in the data dir (or Redis); the previous
      // process's are ended with BYE once the zones listen (docs/sbc.md).
      const store = await openCallStore(ctx, logger);
      callStore = store;
      const local = options.registrar?.();
      // CDRs: a JSON line a call, written before the call's last message (docs/sbc.md, "CDRs").
      cdr = openCdrStore(ctx.config, ctx.dataDir, logger);
      // Admission's minFreeMediaPorts: the built-in engine's free ports, polled (media-ports.ts).
      if (ctx.config.sbc.admission.minFreeMediaPorts > 0)
        mediaPorts = watchMediaPorts(engine, ctx.config.media);
      const ports = mediaPorts;
      sbc = new Sbc({
        ...sbcConfigOf(ctx.config),
        ...(ports && { freeMediaPorts: () => ports.free() }),
        callStore: store,
        cdr: cdr.store,
        intercept: li.start(ctx, logger),
        engine,
        logger,
        tls: { cert: ctx.tls.cert, key: ctx.tls.key },
        // Digest in every untrusted zone (407), against the SIP server's users.
        auth: {
          realm: users.realm,
          lookupHa1: (username, _realm, algorithm) =>
            users.ha1(username, algorithm) ??
            options.dialOut?.()?.ha1(username, users.realm, algorithm),
          accountOf: (username) => options.dialOut?.()?.accountOf(username) ?? username,
          algorithms: ctx.config.sip.digestAlgorithms,
        },
        ...(local && { local }),
        // The platform's /sip belongs to the webrtc zone (the SIP server then leaves it).
        ...(ctx.app.server.listening && {
          webSocket: {
            server: ctx.app.server,
            path: '/sip',
            secure: !ctx.config.server.insecureHttp,
          },
        }),
      });
      const listeners = await sbc.start();
      stats.start();
      logger.info({ zones: cfg.zones.map((z) => z.name), engine: engine.kind }, 'sbc started');
      const zoneOf = (address: string, port: number): string =>
        cfg.zones.find((z) =>
          z.listen.some((l) => {
            const p = parseListenUrl(l);
            return p.address === address && (p.port === port || p.port === 0);
          }),
        )?.name ?? 'zone';
      const webrtcZone = cfg.zones.find((z) => z.webrtc)?.name;
      bound = listeners.map((l) => {
        const ws = l.transport === 'ws' || l.transport === 'wss';
        const zone = ws && webrtcZone !== undefined ? webrtcZone : zoneOf(l.address, l.port);
        const listener: ListenerInfo = {
          name: `sbc-${zone}-${l.transport}`,
          protocol: l.transport,
          address: l.address,
          port: l.port,
          // SIP over WebSocket rides on the HTTPS server: its URL is the public one with ws(s).
          ...(ws && { url: `${ctx.publicUrl().replace(/^http/, 'ws')}${l.path ?? '/sip'}` }),
        };
        return { zone, listener };
      });
      return bound.map((b) => b.listener);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      stats.close();
      mediaPorts?.close();
      await sbc?.close();
      await callStore?.close();
      await cdr?.release();
      li.close();
    },
  };
}
