/**
 * REST contract of the console's SBC views (issues #19 items 2 and 4), declared once: a call's
 * ladder of both legs (`GET /api/v1/sbc/calls/{id}/ladder`) and the SBC's statistics over the
 * last minutes (`GET /api/v1/sbc/stats`), with each trunk's live quality (MOS, ASR, PDD).
 */
import { z } from 'zod';
import { isoTimeSchema } from './schemas.js';
import { SBC_STATS_MAX_TRUNKS } from './sbc-limits.js';

const count = z.number().int().nonnegative();
const rate = z.number().nonnegative();

/** One SIP message of a call's leg, as the SBC's zone stack received or sent it. */
export const sbcLadderMessageSchema = z.strictObject({
  seq: count.describe('Order in which the SBC saw the messages (both legs, one sequence).'),
  at: isoTimeSchema,
  leg: z.enum(['a', 'b']).describe('a: the caller leg; b: the callee (trunk) leg.'),
  direction: z.enum(['in', 'out']).describe('Received by the SBC, or sent by it.'),
  transport: z.enum(['udp', 'tcp', 'tls', 'ws', 'wss']),
  local: z.string().describe("The SBC's address:port on this leg (its zone listener)."),
  remote: z.string().describe("The peer's address:port."),
  callId: z.string().describe("The leg's own Call-ID."),
  summary: z.string().describe('Method, or status and reason.'),
  cseq: z.string(),
  text: z.string().describe('The message as received or sent (truncated to 16 KiB).'),
});

export const sbcLadderSchema = z.strictObject({
  id: z.string(),
  live: z.boolean().describe('false: the call has ended (one of the last ones kept).'),
  a: z.strictObject({
    callId: z.string().optional(),
    zone: z.string().optional().describe('Known while the call is live.'),
  }),
  b: z.strictObject({
    callId: z.string().optional(),
    zone: z.string().optional().describe('Known while the call is live.'),
    trunk: z.string().optional().describe('Known while the call is live.'),
  }),
  messages: z.array(sbcLadderMessageSchema).describe('Oldest first, both legs interleaved.'),
});

export type SbcLadderMessage = z.infer<typeof sbcLadderMessageSchema>;
export type SbcLadder = z.infer<typeof sbcLadderSchema>;

export { SBC_STATS_MAX_TRUNKS };

/** One trunk's live quality at a sample (packages/sbc/src/quality.ts); null: not measured yet. */
export const sbcStatsTrunkSchema = z.strictObject({
  name: z.string().describe('The trunk’s name, as configured.'),
  calls: count.describe('Attempts in the trunk’s quality window (sbc.quality).'),
  asr: z.number().min(0).max(1).nullable().describe('Answer-seizure ratio, 0–1.'),
  pddMs: rate.nullable().describe('Mean post-dial delay (INVITE → first 18x or 2xx), ms.'),
  mos: z
    .number()
    .min(1)
    .max(5)
    .nullable()
    .describe('Mean MOS (1–5) of the media the trunk sent (needs media.statsInterval).'),
});

/** One sample of the SBC's statistics (every `intervalMs`). */
export const sbcStatsSampleSchema = z.strictObject({
  at: isoTimeSchema,
  calls: count.describe('Calls bridged now.'),
  callsPerSecond: rate.describe('Calls started per second over the interval.'),
  ended: z
    .record(z.string(), count)
    .describe('Calls ended in the interval, by final class (2xx answered, 4xx, 5xx, 6xx).'),
  cpuPercent: rate.describe('This process (and its media worker threads): % of one core.'),
  rssBytes: count,
  heapUsedBytes: count,
  media: z
    .strictObject({
      engine: z.enum(['builtin', 'rtpengine']),
      sessions: count,
      packetsPerSecond: rate.describe('RTP packets relayed per second (all calls).'),
      bytesPerSecond: rate.describe('RTP bytes relayed per second: the media bandwidth.'),
      busyPercent: rate
        .optional()
        .describe(
          'Built-in engine: the media worker threads’ event-loop utilization (mean, %); ' +
            'absent for rtpengine (its own process: see its exporter).',
        ),
      errorsPerSecond: rate.optional().describe('rtpengine: its error rate (ng statistics).'),
    })
    .optional()
    .describe('Absent when the engine answered nothing this interval.'),
  trunks: z
    .array(sbcStatsTrunkSchema)
    .max(SBC_STATS_MAX_TRUNKS)
    .optional()
    .describe(
      `Each trunk's live quality over its window: the trunks with at least one attempt, ` +
        `in configuration order, at most ${SBC_STATS_MAX_TRUNKS}.`,
    ),
});

export const sbcStatsSchema = z.strictObject({
  intervalMs: z.number().int().positive(),
  samples: z.array(sbcStatsSampleSchema).describe('Oldest first.'),
});

export type SbcStatsTrunk = z.infer<typeof sbcStatsTrunkSchema>;
export type SbcStatsSample = z.infer<typeof sbcStatsSampleSchema>;
export type SbcStats = z.infer<typeof sbcStatsSchema>;
