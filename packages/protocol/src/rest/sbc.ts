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
});

export const sbcCallListSchema = z.strictObject({ calls: z.array(sbcCallSchema) });

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
