/**
 * REST API of the SIP server under `/api/v1/sip/…` (admin token), with the schemas of
 * `@tfx/protocol` (rest/sip.ts): request validation, response validation, OpenAPI.
 */
import { z } from 'zod';
import {
  TfxError,
  createSipUserBodySchema,
  errorResponseSchema,
  setSipPasswordBodySchema,
  sipBanListSchema,
  sipBanParamsSchema,
  sipCallListSchema,
  sipContactParamsSchema,
  sipMessageListSchema,
  sipMessageQuerySchema,
  sipRegistrationListSchema,
  sipRegistrationParamsSchema,
  sipSettingsResultSchema,
  sipSettingsSchema,
  sipSettingsUpdateSchema,
  sipStatusSchema,
  sipUserListSchema,
  sipUserParamsSchema,
  type SipStatus,
} from '@tfx/protocol';
import type { PlatformContext } from '../module.js';
import { writeSipOverrides } from './overrides.js';
import type { SipService } from './service.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const errors = {
  400: errorResponseSchema.describe('The request failed its schema (bad-request).'),
  401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
  503: errorResponseSchema.describe('The SIP service is not running (unavailable).'),
};
const notFound = { 404: errorResponseSchema.describe('No such item (not-found).') };
const security = [{ admin: [] }];
const tags = ['sip'];
const noContent = z.null().describe('Done.');

export function registerSipRoutes(ctx: PlatformContext, svc: () => SipService): void {
  const { app } = ctx;
  const pre = { preHandler: ctx.requireAdmin };

  app.get(
    '/api/v1/sip/status',
    {
      ...pre,
      schema: {
        summary: 'SIP server status: uptime, listeners, message and transaction counters',
        operationId: 'getSipStatus',
        tags,
        security,
        response: { 200: sipStatusSchema, ...errors },
      },
    },
    async (): Promise<SipStatus> => {
      const s = svc();
      const now = s.clock.now();
      const t = s.transport?.counters;
      const c = s.layer.counters;
      const sum = (r: Record<string, number>): number =>
        Object.values(r).reduce((a, b) => a + b, 0);
      return {
        running: s.running,
        startedAt: iso(s.startedAt),
        uptimeMs: Math.max(0, now - s.startedAt),
        domain: s.domain,
        listeners: s
          .listeners()
          .map((l) => ({ transport: l.transport, address: l.address, port: l.port })),
        messages: {
          received: t?.received ?? 0,
          sent: t?.sent ?? 0,
          parseErrors: t?.parseErrors ?? 0,
          dropped: t ? sum(t.drops) : 0,
        },
        transactions: { live: s.layer.size, created: sum(c.created), timeouts: sum(c.timeouts) },
        requests: { ...s.requestCounts },
        registrations: await s.registrationCount(),
        calls: s.dialogs.list(now).length,
        bans: s.guard.list(now).length,
        users: s.users.size,
      };
    },
  );

  app.get(
    '/api/v1/sip/registrations',
    {
      ...pre,
      schema: {
        summary: 'Registered users and their contacts',
        operationId: 'listSipRegistrations',
        tags,
        security,
        response: { 200: sipRegistrationListSchema, ...errors },
      },
    },
    async () => {
      const s = svc();
      const list = await s.location.list(s.clock.now());
      return {
        items: list.map(({ aor, bindings }) => ({
          aor,
          username: aor.slice(4, aor.lastIndexOf('@')),
          contacts: bindings.map((b) => ({
            id: b.id,
            uri: b.uri,
            q: b.q,
            expiresAt: iso(b.expiresAt),
            registeredAt: iso(b.registeredAt),
            transport: b.transport,
            source: `${b.source.address}:${b.source.port}`,
            ...(b.userAgent !== undefined ? { userAgent: b.userAgent } : {}),
          })),
        })),
      };
    },
  );

  app.delete(
    '/api/v1/sip/registrations/:username',
    {
      ...pre,
      schema: {
        summary: 'Remove every contact of a user',
        operationId: 'deleteSipRegistration',
        tags,
        security,
        params: sipRegistrationParamsSchema,
        response: { 204: noContent, ...errors, ...notFound },
      },
    },
    async (req, reply) => {
      const s = svc();
      const n = await s.location.removeAll(`sip:${req.params.username}@${s.domain}`);
      if (n === 0) throw new TfxError('not-found', `${req.params.username} is not registered`);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/api/v1/sip/registrations/:username/contacts/:id',
    {
      ...pre,
      schema: {
        summary: 'Remove one contact of a user',
        operationId: 'deleteSipContact',
        tags,
        security,
        params: sipContactParamsSchema,
        response: { 204: noContent, ...errors, ...notFound },
      },
    },
    async (req, reply) => {
      const s = svc();
      const ok = await s.location.removeById(
        `sip:${req.params.username}@${s.domain}`,
        req.params.id,
      );
      if (!ok) throw new TfxError('not-found', `no contact ${req.params.id}`);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/sip/users',
    {
      ...pre,
      schema: {
        summary: 'SIP users (no passwords: only HA1 values are stored)',
        operationId: 'listSipUsers',
        tags,
        security,
        response: { 200: sipUserListSchema, ...errors },
      },
    },
    async () => ({ items: svc().users.list() }),
  );

  app.post(
    '/api/v1/sip/users',
    {
      ...pre,
      schema: {
        summary: 'Add a SIP user',
        operationId: 'createSipUser',
        tags,
        security,
        body: createSipUserBodySchema,
        response: {
          201: noContent,
          ...errors,
          409: errorResponseSchema.describe('The user exists (conflict).'),
        },
      },
    },
    async (req, reply) => {
      const s = svc();
      if (s.users.has(req.body.username)) {
        throw new TfxError('conflict', `user ${req.body.username} exists`);
      }
      await s.users.set(req.body.username, req.body.password);
      return reply.code(201).send(null);
    },
  );

  app.put(
    '/api/v1/sip/users/:username/password',
    {
      ...pre,
      schema: {
        summary: "Change a SIP user's password",
        operationId: 'setSipPassword',
        tags,
        security,
        params: sipUserParamsSchema,
        body: setSipPasswordBodySchema,
        response: { 204: noContent, ...errors, ...notFound },
      },
    },
    async (req, reply) => {
      const s = svc();
      if (!s.users.has(req.params.username)) {
        throw new TfxError('not-found', `no user ${req.params.username}`);
      }
      await s.users.set(req.params.username, req.body.password);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/api/v1/sip/users/:username',
    {
      ...pre,
      schema: {
        summary: 'Delete a SIP user (and its registrations)',
        operationId: 'deleteSipUser',
        tags,
        security,
        params: sipUserParamsSchema,
        response: { 204: noContent, ...errors, ...notFound },
      },
    },
    async (req, reply) => {
      const s = svc();
      if (!(await s.users.delete(req.params.username))) {
        throw new TfxError('not-found', `no user ${req.params.username}`);
      }
      await s.location.removeAll(`sip:${req.params.username}@${s.domain}`);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/sip/calls',
    {
      ...pre,
      schema: {
        summary: 'Active calls (dialogs through the proxy)',
        operationId: 'listSipCalls',
        tags,
        security,
        response: { 200: sipCallListSchema, ...errors },
      },
    },
    async () => ({
      items: svc()
        .dialogs.list(svc().clock.now())
        .map((d) => ({
          id: d.id,
          callId: d.callId,
          state: d.state === 'confirmed' ? ('confirmed' as const) : ('early' as const),
          from: d.from,
          to: d.to,
          startedAt: iso(d.startedAt),
          ...(d.answeredAt !== undefined ? { answeredAt: iso(d.answeredAt) } : {}),
        })),
    }),
  );

  app.get(
    '/api/v1/sip/messages',
    {
      ...pre,
      schema: {
        summary: 'Recent SIP messages (poll with `after` for a live view)',
        operationId: 'listSipMessages',
        tags,
        security,
        querystring: sipMessageQuerySchema,
        response: { 200: sipMessageListSchema, ...errors },
      },
    },
    async (req) => ({
      items: svc().trace.query(req.query.after, req.query.limit, req.query.callId),
    }),
  );

  app.get(
    '/api/v1/sip/bans',
    {
      ...pre,
      schema: {
        summary: 'Bans in force (failed authentications)',
        operationId: 'listSipBans',
        tags,
        security,
        response: { 200: sipBanListSchema, ...errors },
      },
    },
    async () => ({
      items: svc()
        .guard.list(svc().clock.now())
        .map((b) => ({
          kind: b.kind,
          value: b.value,
          reason: b.reason,
          since: iso(b.since),
          until: iso(b.until),
        })),
    }),
  );

  app.delete(
    '/api/v1/sip/bans/:kind/:value',
    {
      ...pre,
      schema: {
        summary: 'Lift a ban',
        operationId: 'liftSipBan',
        tags,
        security,
        params: sipBanParamsSchema,
        response: { 204: noContent, ...errors, ...notFound },
      },
    },
    async (req, reply) => {
      if (!svc().guard.lift(req.params.kind, req.params.value)) {
        throw new TfxError('not-found', `no ban on ${req.params.kind} ${req.params.value}`);
      }
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/sip/settings',
    {
      ...pre,
      schema: {
        summary: 'SIP listening ports',
        operationId: 'getSipSettings',
        tags,
        security,
        response: { 200: sipSettingsSchema, ...errors },
      },
    },
    async () => ({ ...svc().ports }),
  );

  app.put(
    '/api/v1/sip/settings',
    {
      ...pre,
      schema: {
        summary:
          'Change the SIP ports and restart the SIP listeners atomically (saved in <dataDir>/overrides.yaml)',
        operationId: 'setSipSettings',
        tags,
        security,
        body: sipSettingsUpdateSchema,
        response: {
          200: sipSettingsResultSchema,
          ...errors,
          409: errorResponseSchema.describe(
            'A port is in use: nothing changed, the old listeners keep answering (conflict).',
          ),
        },
      },
    },
    async (req) => {
      const s = svc();
      const next = { ...s.ports, ...req.body };
      const listeners = await s.restart(next);
      const file = await writeSipOverrides(ctx.dataDir, next);
      return {
        settings: next,
        listeners: listeners.map((l) => ({
          transport: l.transport,
          address: l.address,
          port: l.port,
        })),
        overridesFile: file,
      };
    },
  );
}
