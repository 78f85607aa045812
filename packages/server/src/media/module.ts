/**
 * The media plane as a platform module (`name: 'media'`): starts the configured MediaEngine
 * (`media.engine`: the built-in relay on embedded defaults, or rtpengine), its Prometheus metrics
 * and `GET /api/v1/media/sessions`. Other modules (the SBC) get the engine from `engine`; this
 * module imports no other module.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  TfxError,
  errorResponseSchema,
  mediaSessionListSchema,
  type MediaSession,
  type MediaSessionList,
} from '@tfx/protocol';
import {
  BuiltinEngine,
  createBuiltinEngine,
  createRtpengineEngine,
  type MediaEngine,
} from '@tfx/media';
import type { PlatformContext, PlatformModule, ListenerInfo } from '../module.js';
import { registerMediaMetrics } from './metrics.js';
import { dscpTos } from '../config/sbc-admission.js';

export interface MediaModule extends PlatformModule {
  /** The running engine (after start). */
  readonly engine: MediaEngine | undefined;
}

export function createMediaModule(): MediaModule {
  let engine: MediaEngine | undefined;
  let closed = false;
  const unsubscribe: (() => void)[] = [];
  return {
    name: 'media',
    get engine() {
      return engine;
    },
    setup(ctx: PlatformContext): void {
      registerMediaMetrics(
        ctx.metrics,
        () => engine,
        async () => (engine instanceof BuiltinEngine ? engine.counters() : undefined),
      );
      ctx.app.get(
        '/api/v1/media/sessions',
        {
          preHandler: ctx.requireAdmin,
          schema: {
            summary:
              'Live media sessions with their legs and per-leg stats (packets, loss, jitter, MOS)',
            operationId: 'listMediaSessions',
            tags: ['media'],
            security: [{ admin: [] }],
            response: {
              200: mediaSessionListSchema,
              401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
              503: errorResponseSchema.describe('The media engine is not running (unavailable).'),
            },
          },
        },
        async (): Promise<MediaSessionList> => {
          const e = engine;
          if (!e) throw new TfxError('unavailable', 'the media engine is not running');
          const sessions: MediaSession[] = [];
          for (const callId of (await e.list()).slice(0, 1000)) {
            const q = await e.query({ callId }).catch(() => undefined);
            if (!q) continue;
            sessions.push({
              callId: q.callId,
              createdAt: new Date(q.createdAt).toISOString(),
              legs: q.legs.map((l) => ({
                tag: l.tag,
                ...(l.zone ? { zone: l.zone } : {}),
                local: l.local,
                ...(l.remote ? { remote: l.remote } : {}),
                latched: l.latched,
                direction: l.direction,
                ...(l.codec ? { codec: l.codec } : {}),
                packetsIn: l.packetsIn,
                bytesIn: l.bytesIn,
                packetsOut: l.packetsOut,
                bytesOut: l.bytesOut,
                dropped: l.dropped,
                packetsLost: l.packetsLost,
                jitterMs: l.jitterMs,
                ...(l.rttMs !== undefined ? { rttMs: l.rttMs } : {}),
                ...(l.mos !== undefined ? { mos: l.mos } : {}),
              })),
            });
          }
          return { engine: e.kind, sessions };
        },
      );
    },
    async start(ctx: PlatformContext): Promise<readonly ListenerInfo[]> {
      const m = ctx.config.media;
      const log = ctx.logger.child({ component: 'media' });
      if (m.engine === 'rtpengine') {
        engine = await createRtpengineEngine({
          instances: m.rtpengine.urls,
          statsIntervalMs: m.statsInterval * 1000,
          ...(m.rtpengine.dtmfListen ? { dtmfListen: m.rtpengine.dtmfListen } : {}),
          ...(Object.keys(m.rtpengine.interfaces).length > 0
            ? { interfaces: m.rtpengine.interfaces }
            : {}),
          mediaTimeoutMs: m.timeout * 1000,
          // DSCP of media (sbc.qos.mediaDscp, EF by default) as rtpengine's per-call TOS.
          tos: dscpTos(ctx.config.sbc.qos.mediaDscp),
          log: (level, obj, msg) => log[level](obj, msg),
        });
      } else {
        const recordDir = m.recordDir ?? join(ctx.dataDir, 'recordings');
        mkdirSync(recordDir, { recursive: true });
        engine = await createBuiltinEngine({
          portMin: m.portMin,
          portMax: m.portMax,
          ...(m.workers > 0 ? { workers: m.workers } : {}),
          floodPps: m.floodPps,
          mediaTimeoutMs: m.timeout * 1000,
          statsIntervalMs: m.statsInterval * 1000,
          recordDir,
          log: (level, msg, obj) => log[level](obj ?? {}, msg),
        });
      }
      if (closed) {
        await engine.close();
        return [];
      }
      unsubscribe.push(
        engine.on('call-failed', (e) => log.error({ callId: e.callId, code: e.code }, e.message)),
        engine.on('media-timeout', (e) =>
          log.info({ callId: e.callId, tag: e.tag, idleMs: e.idleMs }, 'media timeout'),
        ),
      );
      log.info(
        { engine: engine.kind, zones: m.zones, ports: `${m.portMin}-${m.portMax}` },
        'media engine started',
      );
      return [];
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const u of unsubscribe.splice(0)) u();
      await engine?.close();
    },
  };
}
