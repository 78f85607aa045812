/**
 * Lawful intercept over REST (docs/sbc.md, "Lawful intercept"), the admin token only; EVERY
 * request — allowed, refused (no or wrong token: 401), invalid (400), unknown (404) — is
 * written to the audit log before it is answered:
 *
 *   GET    /api/v1/sbc/intercept/targets       the targets (user, number, source CIDR)
 *   POST   /api/v1/sbc/intercept/targets       add one (201)
 *   DELETE /api/v1/sbc/intercept/targets/:id   remove one (204; 404)
 *   GET    /api/v1/sbc/intercept/audit         the last audit entries
 *   GET    /api/v1/sbc/intercept/status        delivery and the LI-only counters
 *
 * The token is checked before the body is read (onRequest), so a refused request is refused
 * whatever it carries. Bodies are validated here (not by the router) so that an invalid change
 * is audited too. Schemas: packages/protocol/src/rest/intercept.ts.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  MAX_INTERCEPT_TARGETS,
  TfxError,
  errorResponseSchema,
  sbcInterceptAuditQuerySchema,
  sbcInterceptAuditSchema,
  sbcInterceptParamsSchema,
  sbcInterceptStatusSchema,
  sbcInterceptTargetAddSchema,
  sbcInterceptTargetListSchema,
  sbcInterceptTargetSchema,
  type SbcInterceptAuditEntry,
  type SbcInterceptStatus,
  type SbcInterceptTarget,
} from '@tfx/protocol';
import { canonicalCidr, canonicalNumber } from '@tfx/sbc';
import { z } from 'zod';
import { bearer } from '../admin-token.js';
import type { PlatformContext } from '../module.js';
import type { InterceptStore } from './intercept-store.js';

type Outcome = SbcInterceptAuditEntry['outcome'];

/** The SIP user characters of RFC 3261 §25.1 (unreserved, escaped, user-unreserved). */
const USER = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,64}$/;
const NUMBER = /^\+?[0-9*#]{1,32}$/;

/** Who made a request: the token's fingerprint (never the token), or anonymous. */
export function whoOf(req: FastifyRequest): string {
  const t = bearer(req.headers.authorization);
  return t ? `token:${createHash('sha256').update(t).digest('hex').slice(0, 12)}` : 'anonymous';
}

/** A target's value in its canonical form, or a reason it is not one. */
export function canonicalTarget(
  kind: SbcInterceptTarget['kind'],
  value: string,
): { value: string } | { problem: string } {
  if (kind === 'source') {
    const c = canonicalCidr(value.trim());
    return c ? { value: c } : { problem: `${value} is not an IPv4/IPv6 address or CIDR` };
  }
  if (kind === 'number') {
    const n = canonicalNumber(value);
    return NUMBER.test(n) ? { value: n } : { problem: 'a number is 1–32 of 0-9 * # (+ first)' };
  }
  return USER.test(value) ? { value } : { problem: 'a user is 1–64 SIP user characters' };
}

export function registerInterceptRoutes(
  ctx: PlatformContext,
  store: () => InterceptStore | undefined,
  status: () => Omit<SbcInterceptStatus, 'targets'>,
): void {
  const common = { tags: ['sbc', 'lawful-intercept'], security: [{ admin: [] }] };
  const refused = {
    401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized); audited.'),
  };

  const audit = (
    req: FastifyRequest,
    action: string,
    outcome: Outcome,
    status: number,
    extra: Partial<Pick<SbcInterceptAuditEntry, 'target' | 'detail'>> = {},
  ): void => {
    const s = store();
    if (!s) throw new TfxError('unavailable', 'lawful intercept is not running');
    const who = whoOf(req);
    s.audit({
      at: new Date().toISOString(),
      who: outcome === 'refused' ? `${who} (refused)` : `admin ${who}`,
      remote: req.ip,
      action,
      outcome,
      status,
      ...extra,
    });
  };

  /** The admin token, checked before the body is parsed; a refusal is audited. */
  const guard =
    (action: string) =>
    async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
      await ctx.requireAdmin(req, reply);
      if (!reply.sent) return undefined;
      audit(req, action, 'refused', 401);
      return reply;
    };

  const invalid = (req: FastifyRequest, action: string, err: Error): never => {
    const detail = err.message.slice(0, 500);
    audit(req, action, 'invalid', 400, { detail });
    throw new TfxError('bad-request', detail);
  };

  const running = (): InterceptStore => {
    const s = store();
    if (!s) throw new TfxError('unavailable', 'lawful intercept is not running');
    return s;
  };

  ctx.app.get(
    '/api/v1/sbc/intercept/targets',
    {
      onRequest: guard('list'),
      schema: {
        ...common,
        summary: 'Lawful intercept targets (audited)',
        operationId: 'listSbcInterceptTargets',
        response: { 200: sbcInterceptTargetListSchema, ...refused },
      },
    },
    async (req) => {
      const s = running();
      audit(req, 'list', 'ok', 200);
      return { targets: [...s.list()] };
    },
  );

  ctx.app.post(
    '/api/v1/sbc/intercept/targets',
    {
      onRequest: guard('create'),
      attachValidation: true,
      schema: {
        ...common,
        summary: 'Add a lawful intercept target: a user, a number or a source address/CIDR',
        description:
          'Calls that match (caller or callee user, calling or called number, the source address ' +
          'of the INVITE) from now on are copied to sbc.intercept’s delivery point. Audited.',
        operationId: 'addSbcInterceptTarget',
        body: sbcInterceptTargetAddSchema,
        response: {
          201: sbcInterceptTargetSchema,
          400: errorResponseSchema.describe('A bad body or value (bad-request); audited.'),
          409: errorResponseSchema.describe('The same target exists, or the list is full.'),
          ...refused,
        },
      },
    },
    async (req, reply) => {
      const s = running();
      if (req.validationError) invalid(req, 'create', req.validationError);
      const body = req.body as z.infer<typeof sbcInterceptTargetAddSchema>;
      const c = canonicalTarget(body.kind, body.value);
      if ('problem' in c) invalid(req, 'create', new Error(c.problem));
      const value = (c as { value: string }).value;
      const what = { kind: body.kind, value, ...(body.note !== undefined && { note: body.note }) };
      if (s.list().some((t) => t.kind === body.kind && t.value === value)) {
        audit(req, 'create', 'invalid', 409, { target: { id: '', ...what }, detail: 'duplicate' });
        throw new TfxError('conflict', `a ${body.kind} target ${value} exists`);
      }
      if (s.full) {
        audit(req, 'create', 'full', 409, { target: { id: '', ...what } });
        throw new TfxError('conflict', `at most ${MAX_INTERCEPT_TARGETS} targets`);
      }
      const t = s.add({ ...what, createdBy: `${whoOf(req)} from ${req.ip}` }, Date.now());
      try {
        audit(req, 'create', 'ok', 201, { target: { id: t.id, ...what } });
      } catch (err) {
        s.remove(t.id); // no change without its audit entry
        throw err;
      }
      return reply.code(201).send(t);
    },
  );

  ctx.app.delete(
    '/api/v1/sbc/intercept/targets/:id',
    {
      onRequest: guard('delete'),
      attachValidation: true,
      schema: {
        ...common,
        summary: 'Remove a lawful intercept target (calls in progress stay copied)',
        operationId: 'deleteSbcInterceptTarget',
        params: sbcInterceptParamsSchema,
        response: {
          204: z.null().describe('Removed.'),
          400: errorResponseSchema.describe('Not a target id; audited.'),
          404: errorResponseSchema.describe('No such target (not-found); audited.'),
          ...refused,
        },
      },
    },
    async (req, reply) => {
      const s = running();
      if (req.validationError) invalid(req, 'delete', req.validationError);
      const { id } = req.params as { id: string };
      const t = s.list().find((x) => x.id === id);
      if (!t) {
        audit(req, 'delete', 'not-found', 404, { detail: id });
        throw new TfxError('not-found', `no intercept target ${id}`);
      }
      // The audit entry first: no change without it.
      audit(req, 'delete', 'ok', 204, {
        target: {
          id: t.id,
          kind: t.kind,
          value: t.value,
          ...(t.note !== undefined && { note: t.note }),
        },
      });
      s.remove(id);
      return reply.code(204).send(null);
    },
  );

  ctx.app.get(
    '/api/v1/sbc/intercept/audit',
    {
      onRequest: guard('audit'),
      attachValidation: true,
      schema: {
        ...common,
        summary: 'The lawful intercept audit log (last entries, oldest first)',
        operationId: 'getSbcInterceptAudit',
        querystring: sbcInterceptAuditQuerySchema,
        response: {
          200: sbcInterceptAuditSchema,
          400: errorResponseSchema.describe('A bad limit; audited.'),
          ...refused,
        },
      },
    },
    async (req) => {
      const s = running();
      if (req.validationError) invalid(req, 'audit', req.validationError);
      const { limit } = req.query as { limit: number };
      audit(req, 'audit', 'ok', 200);
      return { entries: s.readAudit(limit) };
    },
  );

  ctx.app.get(
    '/api/v1/sbc/intercept/status',
    {
      onRequest: guard('status'),
      schema: {
        ...common,
        summary: 'Lawful intercept delivery and counters (shown nowhere else)',
        operationId: 'getSbcInterceptStatus',
        response: { 200: sbcInterceptStatusSchema, ...refused },
      },
    },
    async (req): Promise<SbcInterceptStatus> => {
      const s = running();
      audit(req, 'status', 'ok', 200);
      return { targets: s.list().length, ...status() };
    },
  );
}
