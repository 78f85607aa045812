/**
 * The console's REST routes (admin token, zod schemas from `@tfx/protocol` rest/console.ts, so
 * they are in the OpenAPI document), and the audit hook that writes every admin action.
 *
 *   GET  /api/v1/console/overview        processes, rooms, SIP, TURN, Redis at a glance
 *   GET  /api/v1/console/history         samples for the charts
 *   GET  /api/v1/console/cluster         processes sharing Redis, their load, rolling restart
 *   GET  /api/v1/console/turn            configured STUN/TURN servers, credential lifetime
 *   POST /api/v1/console/turn/test       a live Allocate against each configured turn: URL
 *   GET  /api/v1/console/widgets         the manifest in force and the file's validity
 *   POST /api/v1/console/widgets/reload  re-reads the manifest file now
 *   GET  /api/v1/audit                   the audit log, newest first, paged
 *   GET  /api/v1/audit/export            the whole audit log as JSON lines (oldest first)
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  auditPageSchema,
  auditQuerySchema,
  consoleClusterSchema,
  consoleHistorySchema,
  consoleOverviewSchema,
  consoleTurnSchema,
  consoleWidgetsSchema,
  errorResponseSchema,
  turnTestBodySchema,
  turnTestResponseSchema,
  type AuditEntry,
  type ConsoleOverview,
  type SipStatus,
  type TurnTestResult,
} from '@tfx/protocol';
import { bearer } from '../admin-token.js';
import type { PlatformContext } from '../module.js';
import { turnRestCredential } from '../turn/credentials.js';
import { parseTurnUrl, probeTurn } from '../turn/probe.js';
import { readManifestFile } from '../widgets/index.js';
import type { WidgetManifest } from '@tfx/protocol';
import { auditId, type AuditLog } from './audit.js';
import type { ConsoleMonitor } from './monitor.js';

export interface ConsoleRouteDeps {
  readonly monitor: ConsoleMonitor;
  readonly audit: AuditLog;
  /** The manifest in force and its file, when the widgets module runs. */
  readonly widgets?: {
    manifest(): WidgetManifest;
    readonly manifestPath: string;
    reload(): Promise<void>;
  };
  /**
   * Where widgets are open now: every live room's participants with the widget ids in their
   * state (with Redis, the whole deployment's).
   */
  readonly widgetUse?: () => Promise<
    ReadonlyArray<{ room: string; sessionId: string; name: string; widgets: readonly string[] }>
  >;
  readonly nodeId: () => string;
  readonly now: () => number;
  /** A session's room and participants, to name an action's target (live or ended). */
  readonly session?: (
    id: string,
  ) => Promise<
    { room: string; participants: ReadonlyArray<{ id: string; name: string }> } | undefined
  >;
}

const errors = {
  400: errorResponseSchema.describe('The request failed its schema (bad-request).'),
  401: errorResponseSchema.describe('Missing or wrong admin token (unauthorized).'),
};
const security = [{ admin: [] }];
const tags = ['console'];

/** Admin actions by `METHOD route`: the audit log's `action` and where its target is. */
export const AUDITED: Record<
  string,
  { action: string; target?: (p: Record<string, string>) => string }
> = {
  'DELETE /api/v1/sessions/:id': { action: 'session.close', target: (p) => `session ${p.id}` },
  'DELETE /api/v1/sessions/:id/participants/:peerId': {
    action: 'participant.kick',
    target: (p) => `peer ${p.peerId} in session ${p.id}`,
  },
  'POST /api/v1/rooms': { action: 'room.create' },
  'DELETE /api/v1/sip/registrations/:username': {
    action: 'sip.registration.remove',
    target: (p) => `user ${p.username}`,
  },
  'DELETE /api/v1/sip/registrations/:username/contacts/:id': {
    action: 'sip.contact.remove',
    target: (p) => `user ${p.username} contact ${p.id}`,
  },
  'POST /api/v1/sip/users': { action: 'sip.user.add' },
  'PUT /api/v1/sip/users/:username/password': {
    action: 'sip.user.password',
    target: (p) => `user ${p.username}`,
  },
  'DELETE /api/v1/sip/users/:username': {
    action: 'sip.user.delete',
    target: (p) => `user ${p.username}`,
  },
  'DELETE /api/v1/sip/bans/:kind/:value': {
    action: 'sip.ban.lift',
    target: (p) => `${p.kind} ${p.value}`,
  },
  'PUT /api/v1/sip/settings': { action: 'sip.settings.change' },
  'POST /api/v1/sbc/blacklist': { action: 'sbc.blacklist.add' },
  'DELETE /api/v1/sbc/blacklist/:address': {
    action: 'sbc.blacklist.lift',
    target: (p) => `address ${p.address}`,
  },
  'POST /api/v1/console/widgets/reload': { action: 'widgets.reload' },
  'POST /api/v1/console/turn/test': { action: 'turn.test' },
};

/** Targets named in a body: the user added, the room made, the ports asked for. No secrets. */
function bodyTarget(key: string, body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  if (key === 'POST /api/v1/sip/users' && typeof b.username === 'string')
    return `user ${b.username}`;
  if (key === 'POST /api/v1/rooms')
    return typeof b.name === 'string' ? `room ${b.name}` : 'room (generated name)';
  if (key === 'PUT /api/v1/sip/settings') {
    const ports = ['port', 'tlsPort']
      .filter((k) => typeof b[k] === 'number')
      .map((k) => `${k} ${String(b[k])}`);
    return ports.length > 0 ? ports.join(', ') : undefined;
  }
  if (key === 'POST /api/v1/console/turn/test' && typeof b.url === 'string') return b.url;
  if (key === 'POST /api/v1/sbc/blacklist' && typeof b.address === 'string')
    return `address ${b.address}${typeof b.zone === 'string' ? ` in zone ${b.zone}` : ''}`;
  return undefined;
}

/** "admin token …" and the first 8 hex of its SHA-256: who, without the secret. */
export function actorOf(token: string): string {
  return `admin token ${createHash('sha256').update(token).digest('hex').slice(0, 8)}`;
}

export function registerConsoleRoutes(ctx: PlatformContext, deps: ConsoleRouteDeps): void {
  const { app, config } = ctx;
  const pre = { preHandler: ctx.requireAdmin };
  const iso = (ms: number): string => new Date(ms).toISOString();

  // --- audit: every admin request that changes something, once answered ----------------------
  app.addHook('onResponse', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return;
    const route = req.routeOptions.url;
    if (!route?.startsWith('/api/v1/')) return;
    const key = `${req.method} ${route}`;
    const spec = AUDITED[key];
    if (!spec) return;
    // Only the admin's requests: a refused token is not an admin action (and would let anyone
    // fill the log).
    const token = bearer(req.headers.authorization);
    if (!token || reply.statusCode === 401) return;
    const params = (req.params ?? {}) as Record<string, string>;
    let target = spec.target?.(params) ?? bodyTarget(key, req.body);
    if (params.id && route.startsWith('/api/v1/sessions/') && deps.session) {
      // Name the room and the person, not only their ids (the session is kept once ended).
      const s = await deps.session(params.id).catch(() => undefined);
      if (s) {
        const who = params.peerId
          ? s.participants.find((p) => p.id === params.peerId)?.name
          : undefined;
        target = params.peerId
          ? `${who ?? 'peer'} (${params.peerId}) in room ${s.room}`
          : `room ${s.room} (session ${params.id})`;
      }
    }
    const at = deps.now();
    const ua = req.headers['user-agent'];
    const entry: AuditEntry = {
      id: auditId(at),
      at: iso(at),
      actor: actorOf(token),
      via: req.headers['x-tfx-console'] === '1' ? 'console' : 'api',
      from: req.ip,
      ...(typeof ua === 'string' && ua ? { userAgent: ua.slice(0, 200) } : {}),
      action: spec.action,
      ...(target ? { target } : {}),
      method: req.method,
      path: req.url.split('?')[0]!.slice(0, 300),
      status: reply.statusCode,
      node: deps.nodeId(),
    };
    await deps.audit.append(entry);
  });

  app.get(
    '/api/v1/audit',
    {
      ...pre,
      schema: {
        summary: 'The audit log of admin actions, newest first',
        operationId: 'listAudit',
        tags: ['audit'],
        security,
        querystring: auditQuerySchema,
        response: { 200: auditPageSchema, ...errors },
      },
    },
    async (req) => deps.audit.list(req.query),
  );

  app.get(
    '/api/v1/audit/export',
    {
      ...pre,
      schema: {
        summary: 'The whole audit log as JSON lines, oldest first (application/x-ndjson)',
        operationId: 'exportAudit',
        tags: ['audit'],
        security,
        response: { 200: z.string().describe('One audit entry (JSON) a line.'), ...errors },
      },
    },
    async (_req, reply) => {
      const all = (await deps.audit.all()).reverse();
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', 'attachment; filename="tfx-audit.jsonl"')
        .serializer((s: string) => s)
        .send(all.map((e) => JSON.stringify(e)).join('\n') + (all.length > 0 ? '\n' : ''));
    },
  );

  // --- overview, history, cluster --------------------------------------------------------------
  const sipStatus = async (req: FastifyRequest): Promise<SipStatus | null> => {
    // Through the SIP server's own REST route: the console depends on its contract only.
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/sip/status',
      headers: { authorization: req.headers.authorization ?? '' },
    });
    return res.statusCode === 200 ? (res.json() as SipStatus) : null;
  };
  const turnUrls = (): string[] => [...config.turn.urls];

  app.get(
    '/api/v1/console/overview',
    {
      ...pre,
      schema: {
        summary: 'The platform at a glance: processes, rooms, SIP, TURN, Redis',
        operationId: 'getConsoleOverview',
        tags,
        security,
        response: { 200: consoleOverviewSchema, ...errors },
      },
    },
    async (req): Promise<ConsoleOverview> => {
      const [procs, sip, redis] = await Promise.all([
        deps.monitor.processes(),
        sipStatus(req),
        deps.monitor.redisState(),
      ]);
      const last = deps.monitor.history().at(-1);
      return {
        process: procs[0]!,
        processes: procs.length,
        rooms: { live: last?.rooms ?? 0, participants: last?.participants ?? 0 },
        sip: sip
          ? {
              running: sip.running,
              domain: sip.domain,
              registrations: sip.registrations,
              calls: sip.calls,
              users: sip.users,
              bans: sip.bans,
            }
          : null,
        turn: {
          turnUrls: turnUrls().filter((u) => /^turns?:/.test(u)).length,
          stunUrls: turnUrls().filter((u) => /^stuns?:/.test(u)).length,
          secretConfigured: config.turn.secret !== undefined,
          credentialTtlSeconds: config.turn.ttl,
          stunResponder: config.turn.stun.enabled,
        },
        redis,
      };
    },
  );

  app.get(
    '/api/v1/console/history',
    {
      ...pre,
      schema: {
        summary: 'Samples for the charts: rooms, participants, load, SIP requests and responses',
        operationId: 'getConsoleHistory',
        tags,
        security,
        response: { 200: consoleHistorySchema, ...errors },
      },
    },
    async () => ({ intervalMs: deps.monitor.intervalMs, samples: deps.monitor.history() }),
  );

  app.get(
    '/api/v1/console/cluster',
    {
      ...pre,
      schema: {
        summary: 'Processes sharing Redis, their load, and the rolling-restart state',
        operationId: 'getConsoleCluster',
        tags,
        security,
        response: { 200: consoleClusterSchema, ...errors },
      },
    },
    async () => {
      const [processes, redis] = await Promise.all([
        deps.monitor.processes(),
        deps.monitor.redisState(),
      ]);
      const draining = processes.filter((p) => p.state === 'draining').length;
      return {
        redis,
        processes,
        rollingRestart: {
          inProgress: draining > 0,
          running: processes.length - draining,
          draining,
        },
      };
    },
  );

  // --- TURN ----------------------------------------------------------------------------------------
  app.get(
    '/api/v1/console/turn',
    {
      ...pre,
      schema: {
        summary: 'Configured STUN/TURN servers and the TURN credential lifetime',
        operationId: 'getConsoleTurn',
        tags,
        security,
        response: { 200: consoleTurnSchema, ...errors },
      },
    },
    async () => ({
      servers: turnUrls().map((url) => {
        const t = parseTurnUrl(url);
        const kind: 'stun' | 'turn' = /^turns?:/.test(url) ? 'turn' : 'stun';
        const transport = t?.transport ?? 'udp';
        return { url, kind, transport, testable: kind === 'turn' && transport === 'udp' };
      }),
      secretConfigured: config.turn.secret !== undefined,
      credentialTtlSeconds: config.turn.ttl,
      stunResponder: { enabled: config.turn.stun.enabled, port: config.turn.stun.port },
    }),
  );

  app.post(
    '/api/v1/console/turn/test',
    {
      ...pre,
      schema: {
        summary:
          'Allocate on each configured turn: URL (UDP) with freshly minted credentials, then release',
        operationId: 'testTurn',
        tags,
        security,
        body: turnTestBodySchema.optional(),
        response: { 200: turnTestResponseSchema, ...errors },
      },
    },
    async (req) => {
      const wanted = req.body?.url;
      const urls = turnUrls()
        .filter((u) => /^turns?:/.test(u))
        .filter((u) => wanted === undefined || u === wanted);
      const results: TurnTestResult[] = [];
      for (const url of urls) {
        const started = deps.now();
        if (!config.turn.secret) {
          results.push({
            url,
            ok: false,
            status: 0,
            message: 'turn.secret is not set: no credentials to test with',
            durationMs: 0,
          });
          continue;
        }
        const cred = turnRestCredential(
          config.turn.secret,
          'console-test',
          Math.floor(deps.now() / 1000) + config.turn.ttl,
        );
        const out = await probeTurn(url, cred.username, cred.credential);
        results.push({
          url,
          ok: out.ok,
          status: out.status,
          message: out.message,
          username: cred.username,
          ...(out.relayed ? { relayed: out.relayed } : {}),
          ...(out.realm ? { realm: out.realm } : {}),
          durationMs: Math.max(0, deps.now() - started),
        });
      }
      return { at: iso(deps.now()), results };
    },
  );

  // --- widgets --------------------------------------------------------------------------------------
  const widgetsView = async () => {
    const w = deps.widgets;
    const checkedAt = iso(deps.now());
    if (!w) return { manifestPath: '', file: { ok: true, checkedAt }, widgets: [] };
    const [check, use] = await Promise.all([
      readManifestFile(w.manifestPath),
      deps.widgetUse?.() ?? Promise.resolve([]),
    ]);
    const roomsOf = (id: string) => {
      const byRoom = new Map<string, { room: string; sessionId: string; participants: string[] }>();
      for (const u of use) {
        if (!u.widgets.includes(id)) continue;
        let r = byRoom.get(u.sessionId);
        if (!r)
          byRoom.set(u.sessionId, (r = { room: u.room, sessionId: u.sessionId, participants: [] }));
        r.participants.push(u.name);
      }
      return [...byRoom.values()].sort((a, b) => a.room.localeCompare(b.room));
    };
    return {
      manifestPath: w.manifestPath,
      file: check.ok ? { ok: true, checkedAt } : { ok: false, error: check.error, checkedAt },
      widgets: w.manifest().map((e) => ({
        id: e.id,
        title: e.title,
        type: e.type,
        url: e.url,
        rooms: roomsOf(e.id),
      })),
    };
  };
  app.get(
    '/api/v1/console/widgets',
    {
      ...pre,
      schema: {
        summary:
          'The widget manifest in force, whether its file is valid, and the live rooms using each widget',
        operationId: 'getConsoleWidgets',
        tags,
        security,
        response: { 200: consoleWidgetsSchema, ...errors },
      },
    },
    widgetsView,
  );
  app.post(
    '/api/v1/console/widgets/reload',
    {
      ...pre,
      schema: {
        summary:
          'Re-read the widget manifest file now (an invalid file keeps the manifest in force)',
        operationId: 'reloadWidgets',
        tags,
        security,
        response: { 200: consoleWidgetsSchema, ...errors },
      },
    },
    async () => {
      await deps.widgets?.reload();
      return widgetsView();
    },
  );
}
