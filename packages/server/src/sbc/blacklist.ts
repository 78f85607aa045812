/**
 * The SBC's blacklist over REST (issue #17 items 4 and 7), admin token, in the OpenAPI document:
 *
 *   GET    /api/v1/sbc/blacklist            entries in force (by hand, flood and auth bans) and
 *                                           the users banned from one source
 *   POST   /api/v1/sbc/blacklist            add an address or CIDR, optionally for one zone and
 *                                           for a while (201 with the entry)
 *   DELETE /api/v1/sbc/blacklist/:address   lift it (URL-encoded: 10.0.0.0%2F8), with the zone's
 *                                           flood and source bans of that address (204; 404)
 *
 * Schemas in packages/protocol/src/rest/sbc.ts. 503 when the SBC is not running.
 */
import {
  TfxError,
  errorResponseSchema,
  sbcBlacklistAddSchema,
  sbcBlacklistEntrySchema,
  sbcBlacklistLiftQuerySchema,
  sbcBlacklistParamsSchema,
  sbcBlacklistSchema,
  type SbcBlacklist,
  type SbcBlacklistEntry,
} from '@tfx/protocol';
import { canonicalCidr, type BlacklistEntry, type Sbc } from '@tfx/sbc';
import { z } from 'zod';
import type { PlatformContext } from '../module.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** The clock of the SBC is `realClock` in the platform: its ms are epoch ms. */
function entryView(e: BlacklistEntry): SbcBlacklistEntry {
  return {
    cidr: e.cidr,
    ...(e.zone !== undefined && { zone: e.zone }),
    origin: e.origin,
    reason: e.reason,
    since: iso(e.since),
    ...(e.until !== undefined && { until: iso(e.until) }),
  };
}

const errors = {
  401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
  503: errorResponseSchema.describe('The SBC is not running: no sbc.zones (unavailable).'),
};

export function registerBlacklistRoutes(ctx: PlatformContext, sbc: () => Sbc | undefined): void {
  const running = (): Sbc => {
    const s = sbc();
    if (!s) throw new TfxError('unavailable', 'the SBC is not running (no sbc.zones)');
    return s;
  };
  const common = { tags: ['sbc'], security: [{ admin: [] }] };

  ctx.app.get(
    '/api/v1/sbc/blacklist',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        ...common,
        summary: 'The SBC blacklist (by hand, flood bans, auth bans) and users banned per source',
        operationId: 'listSbcBlacklist',
        response: { 200: sbcBlacklistSchema, ...errors },
      },
    },
    async (): Promise<SbcBlacklist> => {
      const s = running();
      return {
        items: s.blacklist.list().slice(0, 5000).map(entryView),
        userBans: s
          .userBans()
          .slice(0, 5000)
          .map((b) => ({ ...b, since: iso(b.since), until: iso(b.until) })),
      };
    },
  );

  ctx.app.post(
    '/api/v1/sbc/blacklist',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        ...common,
        summary: 'Blacklist an address or CIDR (every zone, or one), until lifted or for a while',
        operationId: 'addSbcBlacklist',
        body: sbcBlacklistAddSchema,
        response: {
          201: sbcBlacklistEntrySchema,
          400: errorResponseSchema.describe('Not an address or CIDR, a bad expiry, no such zone.'),
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const s = running();
      const b = req.body;
      let entry: BlacklistEntry;
      try {
        entry = s.addToBlacklist({
          address: b.address,
          ...(b.zone !== undefined && { zone: b.zone }),
          reason: b.reason,
          ...(b.expiresInSeconds !== undefined && { durationMs: b.expiresInSeconds * 1000 }),
        });
      } catch (err) {
        if (err instanceof TypeError) throw new TfxError('bad-request', err.message);
        throw err;
      }
      return reply.code(201).send(entryView(entry));
    },
  );

  ctx.app.delete(
    '/api/v1/sbc/blacklist/:address',
    {
      preHandler: ctx.requireAdmin,
      schema: {
        ...common,
        summary: "Lift a blacklist entry (and the zones' flood and source bans of that address)",
        operationId: 'liftSbcBlacklist',
        params: sbcBlacklistParamsSchema,
        querystring: sbcBlacklistLiftQuerySchema,
        response: {
          204: z.null().describe('Lifted.'),
          400: errorResponseSchema.describe('Not an address or CIDR.'),
          404: errorResponseSchema.describe('No such entry in force (not-found).'),
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const s = running();
      const { address } = req.params;
      if (canonicalCidr(address) === undefined)
        throw new TfxError('bad-request', `${address} is not an address or CIDR`);
      const lifted = s.liftFromBlacklist(address, req.query.zone);
      if (lifted === 0) throw new TfxError('not-found', `no blacklist entry for ${address}`);
      return reply.code(204).send(null);
    },
  );
}
