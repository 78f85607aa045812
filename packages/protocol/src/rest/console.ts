/**
 * REST contract of the operator console's own routes (`/api/v1/console/…` and `/api/v1/audit`),
 * admin token. The console also uses `/api/v1/sessions…` (schemas.ts), `/api/v1/sip/…` (sip.ts)
 * and `/api/v1/widgets` (the manifest).
 */
import { z } from 'zod';
import { isoTimeSchema } from './schemas.js';

const count = z.number().int().min(0);

// --- processes ---------------------------------------------------------------------------------

export const consoleLoadPointSchema = z.strictObject({
  at: isoTimeSchema,
  cpuPercent: z.number().min(0).describe('CPU time used over the last interval, % of one core.'),
  rssBytes: count,
});
export type ConsoleLoadPoint = z.infer<typeof consoleLoadPointSchema>;

export const consoleProcessSchema = z.strictObject({
  id: z.string().describe('The cluster node id (with Redis), else "local".'),
  pid: z.number().int().min(0),
  host: z.string().describe('Host name of the machine.'),
  version: z.string(),
  startedAt: isoTimeSchema,
  uptimeMs: count,
  state: z
    .enum(['running', 'draining'])
    .describe('draining: stopping (SIGTERM), takes no new work (a rolling restart in progress).'),
  cpuPercent: z.number().min(0),
  rssBytes: count,
  heapUsedBytes: count,
  rooms: count.describe('Rooms with a live session in this process.'),
  participants: count.describe('Peers in this process.'),
  connections: count.describe('Open signalling connections.'),
  lastSeenAt: isoTimeSchema.describe('When this process last wrote its record.'),
  self: z.boolean().describe('The process that answered this request.'),
  load: z.array(consoleLoadPointSchema).describe('Recent samples, oldest first.'),
});
export type ConsoleProcess = z.infer<typeof consoleProcessSchema>;

export const consoleRedisSchema = z.strictObject({
  url: z.string().describe('redis.url without its password.'),
  up: z.boolean().describe('Whether this process reached Redis at its last heartbeat.'),
  version: z.string().optional(),
  usedMemoryBytes: count.optional(),
  connectedClients: count.optional(),
  error: z.string().optional(),
});
export type ConsoleRedis = z.infer<typeof consoleRedisSchema>;

export const consoleClusterSchema = z.strictObject({
  redis: consoleRedisSchema.nullable().describe('null: no Redis (one process, state in memory).'),
  processes: z.array(consoleProcessSchema),
  rollingRestart: z.strictObject({
    inProgress: z.boolean().describe('Some process is draining.'),
    running: count,
    draining: count,
  }),
});
export type ConsoleCluster = z.infer<typeof consoleClusterSchema>;

// --- TURN -----------------------------------------------------------------------------------------

export const consoleTurnSchema = z.strictObject({
  servers: z.array(
    z.strictObject({
      url: z.string(),
      kind: z.enum(['stun', 'turn']),
      transport: z.enum(['udp', 'tcp', 'tls']),
      testable: z.boolean().describe('The allocation test runs on turn: URLs over UDP.'),
    }),
  ),
  secretConfigured: z.boolean().describe('turn.secret is set: credentials are minted per peer.'),
  credentialTtlSeconds: z.number().int().min(0).describe('turn.ttl.'),
  stunResponder: z.strictObject({ enabled: z.boolean(), port: z.number().int().min(0) }),
});
export type ConsoleTurn = z.infer<typeof consoleTurnSchema>;

export const turnTestBodySchema = z.strictObject({
  url: z.string().max(512).optional().describe('One of the configured turn: URLs; default all.'),
});
export const turnTestResultSchema = z.strictObject({
  url: z.string(),
  ok: z.boolean(),
  status: z
    .number()
    .int()
    .describe('200 on success, else the TURN ERROR-CODE (401: credentials refused), 0: no answer.'),
  message: z.string(),
  username: z.string().optional().describe('The minted TURN REST username used.'),
  relayed: z.string().optional().describe('XOR-RELAYED-ADDRESS of the allocation.'),
  realm: z.string().optional(),
  durationMs: count,
});
export type TurnTestResult = z.infer<typeof turnTestResultSchema>;
export const turnTestResponseSchema = z.strictObject({
  at: isoTimeSchema,
  results: z.array(turnTestResultSchema),
});
export type TurnTestResponse = z.infer<typeof turnTestResponseSchema>;

// --- widgets ----------------------------------------------------------------------------------------

export const consoleWidgetsSchema = z.strictObject({
  manifestPath: z.string(),
  file: z.strictObject({
    ok: z.boolean().describe('The file on disk is a valid manifest.'),
    error: z.string().optional().describe('Why the file was refused (the entry and the field).'),
    checkedAt: isoTimeSchema,
  }),
  widgets: z.array(
    z.strictObject({
      id: z.string(),
      title: z.string(),
      type: z.string(),
      url: z.string(),
      rooms: z
        .array(
          z.strictObject({
            room: z.string(),
            sessionId: z.string(),
            participants: z
              .array(z.string())
              .describe('The names of the participants whose call page has the widget open.'),
          }),
        )
        .describe('The live rooms where the widget is open now (from the participants’ state).'),
    }),
  ),
});
export type ConsoleWidgets = z.infer<typeof consoleWidgetsSchema>;

// --- history (charts) ----------------------------------------------------------------------------

export const consoleSampleSchema = z.strictObject({
  at: isoTimeSchema,
  rooms: count.describe('Live sessions (the whole deployment with Redis).'),
  participants: count,
  cpuPercent: z.number().min(0),
  rssBytes: count,
  sipRequests: z
    .record(z.string(), count)
    .describe('SIP requests received in the interval, by method.'),
  sipResponses: z
    .record(z.string(), count)
    .describe('SIP responses received in the interval, by class (1xx…6xx).'),
});
export type ConsoleSample = z.infer<typeof consoleSampleSchema>;
export const consoleHistorySchema = z.strictObject({
  intervalMs: z.number().int().min(1),
  samples: z.array(consoleSampleSchema).describe('Oldest first.'),
});
export type ConsoleHistory = z.infer<typeof consoleHistorySchema>;

// --- overview ---------------------------------------------------------------------------------------

export const consoleOverviewSchema = z.strictObject({
  process: consoleProcessSchema,
  processes: count,
  rooms: z.strictObject({ live: count, participants: count }),
  sip: z
    .strictObject({
      running: z.boolean(),
      domain: z.string(),
      registrations: count,
      calls: count,
      users: count,
      bans: count,
    })
    .nullable()
    .describe('null: the SIP server is off.'),
  turn: z.strictObject({
    turnUrls: count,
    stunUrls: count,
    secretConfigured: z.boolean(),
    credentialTtlSeconds: count,
    stunResponder: z.boolean(),
  }),
  redis: consoleRedisSchema.nullable(),
});
export type ConsoleOverview = z.infer<typeof consoleOverviewSchema>;

// --- audit ------------------------------------------------------------------------------------------

export const auditEntrySchema = z.strictObject({
  id: z.string().describe('Sortable: time then a random part.'),
  at: isoTimeSchema,
  actor: z.string().describe('Who: "admin token …<last 4>" (the only admin credential).'),
  via: z.enum(['console', 'api']).describe('The console (signed in) or another API client.'),
  from: z.string().describe('The client address (behind a trusted proxy: the forwarded one).'),
  userAgent: z.string().optional(),
  action: z.string().describe('e.g. session.close, participant.kick, sip.ban.lift, sip.user.add.'),
  target: z.string().optional().describe('What it acted on (session id, user, ban…).'),
  method: z.string(),
  path: z.string(),
  status: z.number().int().describe('The HTTP status of the answer (>= 400: refused).'),
  node: z.string().describe('The process that did it.'),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const auditQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.string().max(64).optional().describe('The id of the last entry of the previous page.'),
  action: z.string().max(64).optional().describe('Only entries of this action.'),
});
export const auditPageSchema = z.strictObject({
  items: z.array(auditEntrySchema).describe('Newest first.'),
  nextBefore: z.string().optional(),
});
export type AuditPage = z.infer<typeof auditPageSchema>;
