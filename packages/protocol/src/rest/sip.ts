/**
 * REST contract of the SIP server under `/api/v1/sip/…` (admin token), declared once: the server
 * validates with these schemas, the OpenAPI document is generated from them, the admin console
 * and the tests import their types.
 */
import { z } from 'zod';
import { isoTimeSchema } from './schemas.js';

export const sipUsernameSchema = z
  .string()
  .regex(/^[A-Za-z0-9._~+-]{1,64}$/, 'usernames are 1–64 of A–Z a–z 0–9 . _ ~ + -')
  .describe('SIP username (the user part of the address of record).');

const transportSchema = z.enum(['udp', 'tcp', 'tls', 'ws', 'wss']);

// --- status ------------------------------------------------------------------------------------

export const sipListenerSchema = z.strictObject({
  transport: transportSchema,
  address: z.string(),
  port: z.number().int(),
});

export const sipStatusSchema = z.strictObject({
  running: z.boolean().describe('Whether the SIP service has listeners open.'),
  startedAt: isoTimeSchema.describe('When the SIP service (last) started.'),
  uptimeMs: z.number().int().min(0),
  domain: z.string().describe('The SIP domain served (also the digest realm).'),
  listeners: z.array(sipListenerSchema),
  messages: z.strictObject({
    received: z.number().int().min(0),
    sent: z.number().int().min(0),
    parseErrors: z.number().int().min(0),
    dropped: z.number().int().min(0).describe('Dropped by the transport ingress, any reason.'),
  }),
  transactions: z.strictObject({
    live: z.number().int().min(0),
    created: z.number().int().min(0),
    timeouts: z.number().int().min(0),
  }),
  requests: z.record(z.string(), z.number().int().min(0)).describe('Requests received by method.'),
  registrations: z.number().int().min(0).describe('Contacts bound now.'),
  calls: z.number().int().min(0).describe('Dialogs (early or confirmed) now.'),
  bans: z.number().int().min(0),
  users: z.number().int().min(0),
});
export type SipStatus = z.infer<typeof sipStatusSchema>;

// --- registrations -------------------------------------------------------------------------------

export const sipContactSchema = z.strictObject({
  id: z.string().describe('Binding id (for removal).'),
  uri: z.string().describe('The Contact URI.'),
  q: z.number().min(0).max(1),
  expiresAt: isoTimeSchema,
  registeredAt: isoTimeSchema,
  transport: transportSchema,
  source: z.string().describe('Address:port the REGISTER came from.'),
  userAgent: z.string().optional(),
});
export const sipRegistrationSchema = z.strictObject({
  aor: z.string().describe('Address of record, sip:user@domain.'),
  username: sipUsernameSchema,
  contacts: z.array(sipContactSchema),
});
export type SipRegistration = z.infer<typeof sipRegistrationSchema>;
export const sipRegistrationListSchema = z.strictObject({ items: z.array(sipRegistrationSchema) });
export const sipRegistrationParamsSchema = z.strictObject({ username: sipUsernameSchema });
export const sipContactParamsSchema = z.strictObject({
  username: sipUsernameSchema,
  id: z.string().min(1).max(64),
});

// --- users -----------------------------------------------------------------------------------------

export const sipUserSchema = z.strictObject({
  username: sipUsernameSchema,
  source: z
    .enum(['config', 'api'])
    .describe('config: from sip.users; api: added or changed through this API (persisted).'),
});
export type SipUser = z.infer<typeof sipUserSchema>;
export const sipUserListSchema = z.strictObject({ items: z.array(sipUserSchema) });
export const sipPasswordSchema = z
  .string()
  .min(8, 'SIP passwords must be at least 8 characters')
  .max(128)
  .describe('Stored only as digest HA1 values (MD5 and SHA-256), never in clear.');
export const createSipUserBodySchema = z.strictObject({
  username: sipUsernameSchema,
  password: sipPasswordSchema,
});
export const setSipPasswordBodySchema = z.strictObject({ password: sipPasswordSchema });
export const sipUserParamsSchema = z.strictObject({ username: sipUsernameSchema });

// --- calls -----------------------------------------------------------------------------------------

export const sipCallSchema = z.strictObject({
  id: z.string(),
  callId: z.string(),
  state: z.enum(['early', 'confirmed']),
  from: z.string(),
  to: z.string(),
  startedAt: isoTimeSchema,
  answeredAt: isoTimeSchema.optional(),
});
export type SipCall = z.infer<typeof sipCallSchema>;
export const sipCallListSchema = z.strictObject({ items: z.array(sipCallSchema) });

// --- message trace -----------------------------------------------------------------------------------

export const sipMessageSchema = z.strictObject({
  seq: z.number().int().min(0).describe('Increasing sequence number (poll with `after`).'),
  at: isoTimeSchema,
  direction: z.enum(['in', 'out']),
  transport: transportSchema,
  local: z.string().describe('Our address:port.'),
  remote: z.string().describe("The peer's address:port."),
  callId: z.string(),
  summary: z.string().describe('Method, or status and reason.'),
  cseq: z.string(),
  text: z.string().describe('The message as sent or received (truncated to 4 KiB).'),
});
export type SipTracedMessage = z.infer<typeof sipMessageSchema>;
export const sipMessageQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(-1).default(-1).describe('Only messages with seq > after.'),
  callId: z.string().max(256).optional().describe('Only this Call-ID.'),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export const sipMessageListSchema = z.strictObject({ items: z.array(sipMessageSchema) });

// --- bans ------------------------------------------------------------------------------------------

export const sipBanSchema = z.strictObject({
  kind: z.enum(['ip', 'user']),
  value: z.string(),
  reason: z.string(),
  since: isoTimeSchema,
  until: isoTimeSchema,
});
export type SipBan = z.infer<typeof sipBanSchema>;
export const sipBanListSchema = z.strictObject({ items: z.array(sipBanSchema) });
export const sipBanParamsSchema = z.strictObject({
  kind: z.enum(['ip', 'user']),
  value: z.string().min(1).max(128),
});

// --- settings --------------------------------------------------------------------------------------

const portSchema = z.number().int().min(0).max(65535);
export const sipSettingsSchema = z.strictObject({
  port: portSchema.describe('UDP and TCP port (0: one free number for both).'),
  tlsPort: portSchema.describe('TLS port (0: a free one).'),
});
export type SipSettings = z.infer<typeof sipSettingsSchema>;
export const sipSettingsUpdateSchema = sipSettingsSchema.partial();
export const sipSettingsResultSchema = z.strictObject({
  settings: sipSettingsSchema,
  listeners: z.array(sipListenerSchema),
  overridesFile: z.string().describe('Where the change was saved.'),
});
