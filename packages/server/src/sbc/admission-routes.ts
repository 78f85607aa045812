/**
 * Admission control over REST (docs/sbc.md, "Admission control and QoS"): `GET
 * /api/v1/sbc/admission` (admin token, in the OpenAPI document) lists every scope with live calls
 * (the SBC, each zone, trunk and account) with its limits, and the refusals by scope and limit.
 */
import {
  TfxError,
  errorResponseSchema,
  sbcAdmissionSchema,
  type SbcAdmission,
  type SbcAdmissionScope,
} from '@tfx/protocol';
import type { Sbc } from '@tfx/sbc';
import type { PlatformContext } from '../module.js';

/** The ledger's view (at most 1000 scopes, busiest first). */
export function admissionView(sbc: Sbc, freeMediaPorts?: number): SbcAdmission {
  const ledger = sbc.admission;
  const spec = ledger.spec;
  const scopes: SbcAdmissionScope[] = Object.entries(ledger.snapshot()).map(([id, v]) => {
    const [scope, ...rest] = id.split(':');
    const name = rest.join(':');
    const limits =
      scope === 'sbc'
        ? spec
        : scope === 'zone'
          ? spec.zones?.[name]
          : scope === 'trunk'
            ? spec.trunks?.[name]
            : spec.accounts;
    return {
      scope: scope as SbcAdmissionScope['scope'],
      name,
      calls: v.calls,
      kbps: v.kbps,
      maxCalls: limits?.maxCalls ?? 0,
      callsPerSecond: limits?.callsPerSecond ?? 0,
      bandwidthKbps: (limits as { bandwidthKbps?: number } | undefined)?.bandwidthKbps ?? 0,
    };
  });
  scopes.sort((a, b) => b.calls - a.calls);
  const c = ledger.counters;
  return {
    calls: ledger.size,
    reserved: ledger.reserved,
    scopes: scopes.slice(0, 1000),
    rejected: Object.entries(c.rejected).map(([k, count]) => {
      const [scope = '', limit = ''] = k.split(':');
      return { scope, limit, count };
    }),
    emergency: c.emergency,
    preempted: c.preempted,
    ...(freeMediaPorts !== undefined && { freeMediaPorts }),
  };
}

export function registerAdmissionRoutes(
  ctx: PlatformContext,
  sbc: () => Sbc | undefined,
  freeMediaPorts: () => number | undefined = () => undefined,
): void {
  ctx.app.get(
    '/api/v1/sbc/admission',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        summary: 'SBC admission control: live calls and bandwidth per scope, limits, refusals',
        operationId: 'getSbcAdmission',
        tags: ['sbc'],
        security: [{ admin: [] }],
        response: {
          200: sbcAdmissionSchema,
          401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
          503: errorResponseSchema.describe('The SBC is not running: no sbc.zones (unavailable).'),
        },
      },
    },
    async (): Promise<SbcAdmission> => {
      const s = sbc();
      if (!s) throw new TfxError('unavailable', 'the SBC is not running (no sbc.zones)');
      return admissionView(s, freeMediaPorts());
    },
  );
}
