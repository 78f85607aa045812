/**
 * REST contract of the Session Border Controller under `/api/v1/sbc/…` (admin token), declared
 * once: the server validates with these schemas and the OpenAPI document is generated from them.
 */
import { z } from 'zod';
import { isoTimeSchema } from './schemas.js';

export const sbcCallSchema = z.strictObject({
  id: z
    .string()
    .describe('The SBC call id (also the media session id: GET /api/v1/media/sessions).'),
  state: z.enum(['offering', 'early', 'confirmed', 'ended']),
  startedAt: isoTimeSchema,
  a: z
    .strictObject({
      zone: z.string(),
      callId: z.string().optional().describe("The caller leg's Call-ID (the caller's own)."),
    })
    .describe('Leg A: the caller, in the zone the call came in through.'),
  b: z
    .strictObject({
      zone: z.string(),
      callId: z.string().optional().describe("The callee leg's Call-ID (the SBC's own)."),
      trunk: z.string(),
    })
    .describe('Leg B: toward the trunk the route chose.'),
  emergency: z
    .boolean()
    .describe('A call to an emergency number (sbc.emergency): past limits, auth and fraud.'),
});

export const sbcCallListSchema = z.strictObject({ calls: z.array(sbcCallSchema) });

/** `GET /api/v1/sbc/calls/{id}/pcap`: an SBC call id as `GET /api/v1/sbc/calls` lists it. */
export const sbcCallParamsSchema = z.strictObject({
  id: z
    .string()
    .regex(/^sbc-[0-9a-f]{16}$/, 'an SBC call id: sbc-<16 hex digits>')
    .describe('The call id from GET /api/v1/sbc/calls (sbc-<16 hex digits>).'),
});

export type SbcCall = z.infer<typeof sbcCallSchema>;
export type SbcCallList = z.infer<typeof sbcCallListSchema>;

export const sbcZoneSchema = z.strictObject({
  name: z.string(),
  trusted: z.boolean().describe('Trusted zones skip digest (no 407).'),
  webrtc: z.boolean(),
  mediaAddress: z.string().describe("The address the zone's media legs bind."),
  maxCalls: z.number().int().nonnegative().describe('The zone limit (0: none).'),
  calls: z.number().int().nonnegative().describe('Live calls with a leg in this zone.'),
  listeners: z.array(
    z.strictObject({
      transport: z.enum(['udp', 'tcp', 'tls', 'ws', 'wss']),
      address: z.string(),
      port: z.number().int().min(0).max(65535),
    }),
  ),
});

export const sbcZoneListSchema = z.strictObject({ zones: z.array(sbcZoneSchema) });

export type SbcZone = z.infer<typeof sbcZoneSchema>;
export type SbcZoneList = z.infer<typeof sbcZoneListSchema>;

/**
 * A reload of the SBC's rules (`POST /api/v1/sbc/reload`, `tfx sbc reload`, SIGHUP): the
 * configuration file is read again and normalization rules, trunks and routes are swapped
 * atomically; a refused file changes nothing (docs/sbc.md, "Reload").
 */
export const sbcReloadSchema = z.strictObject({
  at: isoTimeSchema,
  ok: z.boolean().describe('true: the new rules serve new calls; false: refused, the old ones do.'),
  source: z
    .enum(['rest', 'signal'])
    .describe('POST /api/v1/sbc/reload (also tfx sbc reload) or SIGHUP.'),
  message: z
    .string()
    .describe(
      'What changed, or why the file was refused (naming the key: sbc.zones[1].normalize[3].match: …).',
    ),
  generation: z
    .number()
    .int()
    .positive()
    .describe('The rules serving new calls after this reload (1: those the SBC started with).'),
  restartNeeded: z
    .array(z.string())
    .describe(
      'Settings that differ in the file but only a restart applies (zones, other sections).',
    ),
});

export const sbcReloadStateSchema = z.strictObject({
  generation: z.number().int().positive().describe('The rules serving new calls now.'),
  last: sbcReloadSchema.nullable().describe('The last reload and its result (null: none yet).'),
});

export type SbcReload = z.infer<typeof sbcReloadSchema>;
export type SbcReloadState = z.infer<typeof sbcReloadStateSchema>;

// --- blacklist and bans (issue #17 items 4 and 7) ---------------------------------------------

const blacklistAddress = z
  .union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()])
  .describe(
    'An IPv4 or IPv6 address (a host) or a CIDR prefix: 192.0.2.7, 10.0.0.0/8, 2001:db8::/32.',
  );

export const sbcBlacklistEntrySchema = z.strictObject({
  cidr: z.string().describe('The entry as a canonical CIDR (a host is /32 or /128).'),
  zone: z.string().optional().describe('The zone it applies to; absent: every zone.'),
  origin: z
    .enum(['manual', 'flood', 'auth'])
    .describe('By hand (REST, console), a flood ban, or a ban after failed authentications.'),
  reason: z.string(),
  since: isoTimeSchema,
  until: isoTimeSchema.optional().describe('When it expires; absent: until lifted.'),
});

export const sbcUserBanSchema = z
  .strictObject({
    zone: z.string(),
    user: z.string(),
    source: z.string().describe('The address the user is banned from (others behind NAT go on).'),
    reason: z.string(),
    since: isoTimeSchema,
    until: isoTimeSchema,
  })
  .describe('A user banned from one source after failed authentications (expires by itself).');

export const sbcBlacklistSchema = z.strictObject({
  items: z.array(sbcBlacklistEntrySchema),
  userBans: z.array(sbcUserBanSchema),
});

export const sbcBlacklistAddSchema = z.strictObject({
  address: blacklistAddress,
  zone: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/)
    .optional()
    .describe('Only this zone; default every zone.'),
  reason: z.string().max(256).default('added by hand'),
  expiresInSeconds: z
    .number()
    .int()
    .min(1)
    .max(365 * 86_400)
    .optional()
    .describe('How long it lasts (1 s to 365 days); absent: until lifted.'),
});

export const sbcBlacklistParamsSchema = z.strictObject({
  address: z
    .string()
    .min(1)
    .max(64)
    .describe('The address or CIDR as added, URL-encoded (10.0.0.0%2F8).'),
});

export const sbcBlacklistLiftQuerySchema = z.strictObject({
  zone: z.string().max(32).optional().describe("Only this zone's entry."),
});

export type SbcBlacklistEntry = z.infer<typeof sbcBlacklistEntrySchema>;
export type SbcUserBan = z.infer<typeof sbcUserBanSchema>;
export type SbcBlacklist = z.infer<typeof sbcBlacklistSchema>;
export type SbcBlacklistAdd = z.input<typeof sbcBlacklistAddSchema>;

/** `GET /api/v1/sbc/cdrs`: the range (ISO times, at most 31 days), filters and format. */
export const sbcCdrQuerySchema = z.strictObject({
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Calls started at or after (ISO). Default: 24 h ago.'),
  to: z.iso
    .datetime({ offset: true })
    .optional()
    .describe('Calls started before (ISO). Default: now.'),
  zone: z.string().max(64).optional().describe('Only calls with a leg in this zone.'),
  trunk: z.string().max(128).optional().describe('Only calls that tried this trunk.'),
  status: z.coerce
    .number()
    .int()
    .min(100)
    .max(699)
    .optional()
    .describe('Only calls with this final SIP status (200: answered).'),
  caller: z
    .string()
    .max(128)
    .optional()
    .describe(
      "Only calls from this user (the caller's From user as received or after normalization).",
    ),
  callee: z
    .string()
    .max(128)
    .optional()
    .describe(
      'Only calls to this user (To or Request-URI user, as received or after normalization).',
    ),
  emergency: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('true: only emergency calls; false: only the others.'),
  kind: z
    .enum(['sbc', 'proxy'])
    .optional()
    .describe("sbc: the SBC's B2BUA calls; proxy: calls the SIP server proxied between its users."),
  format: z.enum(['json', 'csv']).default('json'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(10000)
    .describe('Most records returned (they are streamed: a large limit costs no memory).'),
});
export type SbcCdrQuery = z.infer<typeof sbcCdrQuerySchema>;

const cdrParties = z.strictObject({
  from: z.string().optional(),
  to: z.string().optional(),
  ruri: z.string().optional(),
});

/** One CDR (one line of `<dataDir>/cdr/cdr-YYYY-MM-DD.jsonl`): docs/sbc.md, "CDRs". */
export const sbcCdrSchema = z.object({
  kind: z
    .enum(['sbc', 'proxy'])
    .optional()
    .describe("sbc (absent in older lines): the SBC's call; proxy: the SIP server's proxied call."),
  id: z.string(),
  callId: z.string().optional(),
  bCallId: z.string().optional(),
  aZone: z.string(),
  bZone: z.string(),
  trunk: z.string(),
  tries: z
    .array(
      z.strictObject({
        trunk: z.string(),
        status: z.number().int(),
        at: isoTimeSchema.optional(),
      }),
    )
    .describe('Every trunk tried, in order: its final status (0: none) and when the INVITE left.'),
  caller: cdrParties.describe("The caller's users as received (From, To, Request-URI)."),
  callee: cdrParties.describe("Leg B's users after normalization (From, To, Request-URI)."),
  start: isoTimeSchema,
  ring: isoTimeSchema.optional(),
  answer: isoTimeSchema.optional(),
  end: isoTimeSchema,
  duration: z.number().nonnegative().describe('Seconds from answer to end (0: not answered).'),
  final: z.number().int(),
  reason: z.string().describe('Who or what ended the call (caller-bye, callee-bye, rejected…).'),
  emergency: z.literal(true).optional().describe('A call to an emergency number.'),
  media: z
    .array(
      z.object({
        leg: z.string(),
        zone: z.string().optional(),
        codec: z.string().optional(),
        packetsIn: z.number(),
        packetsOut: z.number(),
        packetsLost: z.number(),
        jitterMs: z.number(),
        mos: z.number().optional(),
      }),
    )
    .optional()
    .describe("Per leg: the engine's last periodic stats of the call (absent when none came)."),
});
export type SbcCdr = z.infer<typeof sbcCdrSchema>;
export const sbcCdrListSchema = z.strictObject({ cdrs: z.array(sbcCdrSchema) });

/** A trunk and its OPTIONS-probe state (`GET /api/v1/sbc/trunks`; docs/sbc.md, "Trunks"). */
/** A trunk's live quality over its window (`sbc.quality`; docs/sbc.md, "Routing on cost and quality"). */
export const sbcTrunkQualitySchema = z
  .strictObject({
    calls: z.number().int().nonnegative().describe('Attempts in the window.'),
    asr: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe('Answer-seizure ratio (0–1); null: no attempt.'),
    pddMs: z
      .number()
      .nonnegative()
      .nullable()
      .describe('Mean post-dial delay, INVITE → first 18x or 2xx (ms); null: none measured.'),
    acdSeconds: z
      .number()
      .nonnegative()
      .nullable()
      .describe('Average duration of the answered calls (s); null: none answered.'),
    mos: z
      .number()
      .min(1)
      .max(5)
      .nullable()
      .describe('Mean MOS of the stream the trunk sent (media engine stats); null: none reported.'),
  })
  .describe('Live quality over the window (last sbc.quality.windowCalls of windowMinutes).');

export const sbcTrunkSchema = z.strictObject({
  name: z.string(),
  zone: z.string(),
  uri: z.string(),
  state: z
    .enum(['up', 'down'])
    .describe('down: its probes failed `failures` times in a row; routes skip it.'),
  probing: z.boolean().describe('false: probe.intervalSeconds is 0 (always up).'),
  lastStatus: z
    .number()
    .int()
    .optional()
    .describe('The last probe’s final status; 0 = timeout or transport error; absent: none yet.'),
  since: isoTimeSchema.describe('When the trunk entered its state (or the probes started).'),
  probesSent: z.number().int().nonnegative(),
  probesFailed: z.number().int().nonnegative(),
  quality: sbcTrunkQualitySchema,
  registration: z
    .strictObject({
      state: z
        .enum(['registering', 'registered', 'failed', 'unregistered'])
        .describe('failed: the last REGISTER failed (lastStatus, reason); retried with backoff.'),
      aor: z.string().describe('The address of record TFX registers (sip:user@realm).'),
      expiresAt: isoTimeSchema.optional().describe('When the granted binding lapses (registered).'),
      lastStatus: z
        .number()
        .int()
        .optional()
        .describe('Final status of the last REGISTER; 0 = timeout or transport error.'),
      reason: z.enum(['auth', 'timeout', 'status']).optional(),
      since: isoTimeSchema.describe('When the registration entered its state.'),
      sent: z.number().int().nonnegative().describe('REGISTERs sent (challenges answered too).'),
      refreshes: z.number().int().nonnegative(),
      failures: z.number().int().nonnegative(),
    })
    .optional()
    .describe('TFX’s registration to the trunk (trunks[].register); absent: none configured.'),
});

export const sbcTrunkListSchema = z.strictObject({ trunks: z.array(sbcTrunkSchema) });

export type SbcTrunk = z.infer<typeof sbcTrunkSchema>;
export type SbcTrunkList = z.infer<typeof sbcTrunkListSchema>;
