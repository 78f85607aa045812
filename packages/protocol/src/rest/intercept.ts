/**
 * REST contract of lawful intercept (docs/sbc.md, "Lawful intercept"): targets managed only
 * through the admin API, every request audited. `/api/v1/sbc/intercept/*`.
 */
import { z } from 'zod';

/** Most targets kept at once. */
export const MAX_INTERCEPT_TARGETS = 1000;

export const sbcInterceptKindSchema = z
  .enum(['user', 'number', 'source'])
  .describe('user: a SIP user; number: digits (+ first allowed); source: an address or CIDR.');

export const sbcInterceptTargetAddSchema = z.strictObject({
  kind: sbcInterceptKindSchema,
  value: z
    .string()
    .min(1)
    .max(128)
    .describe('The user (1–64 URI user characters), number or address/CIDR to intercept.'),
  note: z
    .string()
    .max(256)
    .optional()
    .describe('A reference for the warrant or case (kept with the target and in the audit log).'),
});

export const sbcInterceptTargetSchema = z.strictObject({
  id: z.string(),
  kind: sbcInterceptKindSchema,
  value: z.string(),
  note: z.string().optional(),
  createdAt: z.string().describe('ISO time.'),
  createdBy: z.string().describe('Who created it (admin token fingerprint, remote address).'),
});

export const sbcInterceptTargetListSchema = z.strictObject({
  targets: z.array(sbcInterceptTargetSchema),
});

export const sbcInterceptParamsSchema = z.strictObject({
  id: z
    .string()
    .regex(/^li-t-[0-9a-f]{16}$/, 'a target id (li-t- and 16 hex digits)')
    .describe('The target id.'),
});

export const sbcInterceptAuditQuerySchema = z.strictObject({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(1000)
    .describe('The last N entries (default 1000).'),
});

export const sbcInterceptAuditEntrySchema = z.object({
  at: z.string().describe('ISO time.'),
  who: z.string().describe('admin:<token fingerprint>, or anonymous; with the remote address.'),
  remote: z.string(),
  action: z.string().describe('list, create, delete, audit, status (the request).'),
  outcome: z
    .enum(['ok', 'refused', 'invalid', 'not-found', 'full'])
    .describe('refused: no or wrong admin token (401).'),
  status: z.number().int(),
  target: z
    .object({ id: z.string(), kind: z.string(), value: z.string(), note: z.string().optional() })
    .optional(),
  detail: z.string().optional(),
});

export const sbcInterceptAuditSchema = z.strictObject({
  entries: z.array(sbcInterceptAuditEntrySchema),
});

export const sbcInterceptStatusSchema = z.strictObject({
  targets: z.number().int(),
  delivery: z.strictObject({ udp: z.string().optional(), files: z.boolean() }),
  intercepted: z.number().int().describe('Calls that matched a target since start.'),
  active: z.number().int().describe('Calls being copied now.'),
  failed: z.number().int().describe('Calls whose delivery or media copy failed.'),
  messages: z.number().int().describe('SIP messages copied.'),
  packets: z.number().int().describe('RTP packets copied.'),
  dropped: z.number().int().describe('Copies the delivery could not send or write.'),
});

export type SbcInterceptTargetAdd = z.input<typeof sbcInterceptTargetAddSchema>;
export type SbcInterceptTarget = z.infer<typeof sbcInterceptTargetSchema>;
export type SbcInterceptAuditEntry = z.infer<typeof sbcInterceptAuditEntrySchema>;
export type SbcInterceptStatus = z.infer<typeof sbcInterceptStatusSchema>;

/** `POST /api/v1/sbc/calls/{id}/record`: start or stop recording a call's media (PCAP). */
export const sbcCallRecordSchema = z.strictObject({
  on: z.boolean().describe('true: start recording its RTP; false: stop.'),
});
