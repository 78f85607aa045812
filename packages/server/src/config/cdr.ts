/**
 * `sbc.cdr`: the call detail records of the SBC and the SIP server's proxy (docs/sbc.md, "CDRs").
 * Kept out of sbc.ts; sbc.ts mounts it as `cdr`.
 */
import { z } from 'zod';

export const cdrSchema = z
  .object({
    syncMs: z
      .number()
      .int()
      .min(10)
      .max(60_000)
      .default(200)
      .describe(
        'Milliseconds between two fdatasync of the CDR file (a line is written, not only buffered, before the call’s last message; a power loss may lose this much).',
      ),
    redisKey: z
      .string()
      .regex(/^[A-Za-z0-9:_-]{1,64}$/, '1–64 of A–Z a–z 0–9 : _ -')
      .default('cdr')
      .describe(
        'With redis.url: every record is also XADDed to this stream (after redis.keyPrefix; field cdr = the JSON line). A Redis failure is counted and logged, never fails a call.',
      ),
    redisMaxLen: z
      .number()
      .int()
      .min(1000)
      .max(100_000_000)
      .default(1_000_000)
      .describe('Approximate cap of the Redis stream (XADD MAXLEN ~): older entries are trimmed.'),
  })
  .strict()
  .prefault({})
  .describe(
    'CDRs: a JSON line a call in <dataDir>/cdr/cdr-YYYY-MM-DD.jsonl (the durable record), and a Redis stream when redis.url is set.',
  );
