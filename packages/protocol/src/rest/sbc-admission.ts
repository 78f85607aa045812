/**
 * `GET /api/v1/sbc/admission` (docs/sbc.md, "Admission control and QoS"): what admission control
 * counts now per scope, the limits in force, and its refusals.
 */
import { z } from 'zod';

export const sbcAdmissionScopeSchema = z.strictObject({
  scope: z.enum(['sbc', 'zone', 'trunk', 'account']),
  /** The zone, trunk or account ('' for the whole SBC). */
  name: z.string(),
  calls: z.number().int().min(0),
  kbps: z.number().min(0),
  /** The limits of this scope in force (0: none). */
  maxCalls: z.number().int().min(0),
  callsPerSecond: z.number().int().min(0),
  bandwidthKbps: z.number().int().min(0),
});

export const sbcAdmissionSchema = z.strictObject({
  /** Calls admission control counts now (each released once when it ends). */
  calls: z.number().int().min(0),
  /** Calls of the SBC's and zones' maxCalls kept for emergency calls. */
  reserved: z.number().int().min(0),
  scopes: z.array(sbcAdmissionScopeSchema),
  rejected: z.array(
    z.strictObject({
      scope: z.string(),
      limit: z.string(),
      count: z.number().int().min(0),
    }),
  ),
  emergency: z.number().int().min(0),
  preempted: z.number().int().min(0),
  /** The built-in engine's free media ports at the last poll (with minFreeMediaPorts set). */
  freeMediaPorts: z.number().int().min(0).optional(),
});

export type SbcAdmissionScope = z.infer<typeof sbcAdmissionScopeSchema>;
export type SbcAdmission = z.infer<typeof sbcAdmissionSchema>;
