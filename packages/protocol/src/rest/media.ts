/**
 * REST contract of the media plane under `/api/v1/media/…` (admin token), declared once: the
 * server validates with these schemas and the OpenAPI document is generated from them.
 */
import { z } from 'zod';
import { isoTimeSchema } from './schemas.js';

const addressSchema = z.strictObject({ address: z.string(), port: z.number().int() });

export const mediaLegSchema = z.strictObject({
  tag: z.string().describe('SIP tag of the party (From-tag or To-tag).'),
  zone: z.string().optional(),
  local: addressSchema.describe("The engine's socket facing this party."),
  remote: addressSchema.optional().describe('Where media to this party goes (latched or SDP).'),
  latched: z.boolean(),
  direction: z.enum(['sendrecv', 'sendonly', 'recvonly', 'inactive']),
  codec: z.string().optional(),
  packetsIn: z.number().int(),
  bytesIn: z.number().int(),
  packetsOut: z.number().int(),
  bytesOut: z.number().int(),
  dropped: z.number().int(),
  packetsLost: z.number().int(),
  jitterMs: z.number(),
  rttMs: z.number().optional(),
  mos: z.number().optional().describe('E-model MOS (ITU-T G.107 as rtpengine computes it).'),
});

export const mediaSessionSchema = z.strictObject({
  callId: z.string(),
  createdAt: isoTimeSchema,
  legs: z.array(mediaLegSchema),
});

export const mediaSessionListSchema = z.strictObject({
  engine: z.enum(['builtin', 'rtpengine']),
  sessions: z.array(mediaSessionSchema),
});

export type MediaLeg = z.infer<typeof mediaLegSchema>;
export type MediaSession = z.infer<typeof mediaSessionSchema>;
export type MediaSessionList = z.infer<typeof mediaSessionListSchema>;
