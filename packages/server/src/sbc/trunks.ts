/**
 * The SBC's trunks over REST and metrics (issue #18 item 1: probe state "in the console, REST
 * and metrics"): `GET /api/v1/sbc/trunks` (admin token, in the OpenAPI document) and the gauge
 * `tfx_sbc_trunk_up{trunk}` (1 up, 0 down), read from the SBC's probes (packages/sbc/src/probe.ts);
 * each trunk's live quality (packages/sbc/src/quality.ts): `quality` on the list and the gauges
 * `tfx_sbc_trunk_asr`, `tfx_sbc_trunk_mos`, `tfx_sbc_trunk_pdd_seconds`; each trunk's upstream
 * registration (upstream.ts) as `registration` and the gauge `tfx_sbc_trunk_registered{trunk}`.
 */
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import {
  TfxError,
  errorResponseSchema,
  sbcTrunkListSchema,
  type SbcTrunk,
  type SbcTrunkList,
} from '@tfx/protocol';
import type { Sbc } from '@tfx/sbc';
import type { PlatformContext } from '../module.js';

/** The trunks in force (after the last reload) with their probe state (clock: epoch ms). */
export function trunkList(sbc: Sbc): SbcTrunkList {
  const status = new Map((sbc.probes?.list() ?? []).map((s) => [s.name, s]));
  return {
    trunks: sbc.trunks.map((t) => {
      const s = status.get(t.name);
      return {
        name: t.name,
        zone: t.zone,
        uri: t.uri,
        state: s?.state ?? 'up',
        probing: s?.probing ?? false,
        ...(s?.lastStatus !== undefined && { lastStatus: s.lastStatus }),
        since: new Date(s?.since ?? Date.now()).toISOString(),
        probesSent: s?.probesSent ?? 0,
        probesFailed: s?.probesFailed ?? 0,
        quality: sbc.quality.meter.of(t.name),
        ...registrationOf(sbc, t.name),
      };
    }),
  };
}

/** The trunk's upstream registration (upstream.ts), epoch ms as ISO times. */
function registrationOf(sbc: Sbc, trunk: string): Pick<SbcTrunk, 'registration'> {
  const r = sbc.upstream?.status(trunk);
  if (!r) return {};
  return {
    registration: {
      state: r.state,
      aor: r.aor,
      ...(r.expiresAt !== undefined && { expiresAt: new Date(r.expiresAt).toISOString() }),
      ...(r.lastStatus !== undefined && { lastStatus: r.lastStatus }),
      ...(r.reason !== undefined && { reason: r.reason }),
      since: new Date(r.since).toISOString(),
      sent: r.sent,
      refreshes: r.refreshes,
      failures: r.failures,
    },
  };
}

export function registerTrunkRoutes(ctx: PlatformContext, sbc: () => Sbc | undefined): void {
  ctx.app.get(
    '/api/v1/sbc/trunks',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        summary: 'SBC trunks with their OPTIONS-probe state (up/down)',
        operationId: 'listSbcTrunks',
        tags: ['sbc'],
        security: [{ admin: [] }],
        response: {
          200: sbcTrunkListSchema,
          401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
          503: errorResponseSchema.describe('The SBC is not running: no sbc.zones (unavailable).'),
        },
      },
    },
    async (): Promise<SbcTrunkList> => {
      const s = sbc();
      if (!s) throw new TfxError('unavailable', 'the SBC is not running (no sbc.zones)');
      return trunkList(s);
    },
  );
}

/** A gauge per trunk read from its live quality (quality.ts); no value while none measured. */
function qualityGauge(
  registry: Registry,
  sbc: () => Sbc | undefined,
  name: string,
  help: string,
  value: (q: ReturnType<Sbc['quality']['meter']['of']>) => number | null,
): void {
  new Gauge({
    name,
    help,
    labelNames: ['trunk'],
    registers: [registry],
    collect() {
      this.reset();
      const s = sbc();
      for (const t of s?.trunks ?? []) {
        const v = s && value(s.quality.meter.of(t.name));
        if (v !== null && v !== undefined) this.set({ trunk: t.name }, v);
      }
    },
  });
}

export function registerTrunkMetrics(registry: Registry, sbc: () => Sbc | undefined): void {
  qualityGauge(
    registry,
    sbc,
    'tfx_sbc_trunk_asr',
    'Answer-seizure ratio (0–1) of a trunk over its quality window (sbc.quality).',
    (q) => q.asr,
  );
  qualityGauge(
    registry,
    sbc,
    'tfx_sbc_trunk_mos',
    'Mean MOS (1–5) of the media a trunk sent, from the media engine’s per-call stats, over its window.',
    (q) => q.mos,
  );
  qualityGauge(
    registry,
    sbc,
    'tfx_sbc_trunk_pdd_seconds',
    'Mean post-dial delay (INVITE → first 18x or 2xx) of a trunk over its window, seconds.',
    (q) => (q.pddMs === null ? null : q.pddMs / 1000),
  );
  new Gauge({
    name: 'tfx_sbc_trunk_up',
    help: 'Whether a trunk is up (1) or down (0) by its OPTIONS probes; unprobed trunks are 1.',
    labelNames: ['trunk'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sbc()?.probes?.list() ?? [])
        this.set({ trunk: s.name }, s.state === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tfx_sbc_trunk_registered',
    help: 'Whether TFX holds a registration at the trunk (1) or not (0: registering, failed); only trunks with register.',
    labelNames: ['trunk'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of sbc()?.upstream?.list() ?? [])
        this.set({ trunk: r.trunk }, r.state === 'registered' ? 1 : 0);
    },
  });
}
