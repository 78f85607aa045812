/**
 * Routing on cost and quality in the `sbc` section (docs/sbc.md, "Routing on cost and quality"):
 * `trunks[].priority/weight`, `routes[].policy/rates/timezone/quality` and `sbc.quality` (the
 * live-quality window). Kept out of sbc.ts for size; sbc.ts spreads these fields into its trunk
 * and route objects and calls `checkRouting` from its cross-checks.
 */
import { z } from 'zod';
import {
  DEFAULT_QUALITY_WINDOW,
  DEFAULT_THRESHOLDS,
  MAX_RATES,
  MAX_WINDOW_CALLS,
  WEEKDAYS,
  parseHhMm,
  timezoneProblem,
  type RouteRouting,
  type TrunkRouting,
  type Weekday,
} from '@tfx/sbc';

/** `trunks[]` fields: priority (lower first) and weight (share within a priority). */
export const trunkRoutingFields = {
  priority: z
    .number()
    .int()
    .min(0)
    .max(65_535)
    .optional()
    .describe('Lower is tried first (unset: 0), as DNS SRV priorities.'),
  weight: z
    .number()
    .int()
    .min(0)
    .max(65_535)
    .optional()
    .describe(
      'Share among trunks of one priority: weighted random order (Kamailio dispatcher alg 9; unset with others set: 1; 0: only after the others). No trunk of a priority weighted: the route’s order.',
    ),
};

const hhmm = z.string().refine((s) => parseHhMm(s) !== undefined, 'expected HH:MM (00:00–24:00)');

const rate = z
  .object({
    prefix: z
      .string()
      .regex(/^[0-9]{0,32}$/, 'digits only, at most 32 (no +: a number’s leading + is ignored)'),
    costs: z
      .record(
        z.string().max(32),
        z.number().min(0, 'a cost is ≥ 0').max(1e9).describe('e.g. per-minute rate'),
      )
      .refine((c) => Object.keys(c).length > 0, 'a rate prices at least one trunk'),
    when: z
      .object({
        days: z
          .array(z.enum(WEEKDAYS as [Weekday, ...Weekday[]]))
          .min(1)
          .max(7)
          .optional(),
        from: hhmm.optional(),
        to: hhmm.optional(),
      })
      .strict()
      .refine((w) => (w.from ?? '00:00') !== (w.to ?? '24:00'), {
        message: 'from and to are the same time',
        path: ['to'],
      })
      .optional(),
  })
  .strict();

/** `routes[]` fields: the policy, the rate table, its timezone, the quality thresholds. */
export const routeRoutingFields = {
  policy: z
    .enum(['order', 'cost', 'quality', 'cost-quality'])
    .optional()
    .describe(
      'order (the default without rates): priority, weight, then the route’s order; cost (the default with rates): cheapest first; quality: trunks above the thresholds first, best MOS first; cost-quality: trunks above the thresholds first, cheapest first.',
    ),
  rates: z
    .array(rate)
    .max(MAX_RATES)
    .optional()
    .describe(
      'A rate table instead of to: [{ prefix: "4420" (digits; "" prices every number), costs: { trunk: cost, … }, when?: { days?: [mon…sun], from?: "HH:MM", to?: "HH:MM" } }] — the longest prefix of the normalized called number among the rows whose window is open wins (the first such row in table order); the trunks it prices are the candidates. No row: the next route.',
    ),
  timezone: z
    .string()
    .max(64)
    .superRefine((tz, ctx) => {
      const p = timezoneProblem(tz);
      if (p) ctx.addIssue({ code: 'custom', message: p });
    })
    .optional()
    .describe('IANA timezone of the rate windows (default UTC).'),
  quality: z
    .object({
      minMos: z.number().min(0).max(5).default(DEFAULT_THRESHOLDS.minMos),
      minAsr: z.number().min(0).max(1).default(DEFAULT_THRESHOLDS.minAsr),
      minCalls: z.number().int().min(1).max(MAX_WINDOW_CALLS).default(DEFAULT_THRESHOLDS.minCalls),
    })
    .strict()
    .optional()
    .describe(
      `Thresholds of quality and cost-quality routes: a trunk with at least minCalls (${DEFAULT_THRESHOLDS.minCalls}) attempts in the window whose MOS is below minMos (${DEFAULT_THRESHOLDS.minMos}) or whose ASR (0–1) is below minAsr (${DEFAULT_THRESHOLDS.minAsr}: off) is demoted behind the others (still tried last).`,
    ),
};

/** `sbc.quality`: the sliding window of every trunk's live quality. */
export const qualityWindowSchema = z
  .object({
    windowCalls: z
      .number()
      .int()
      .min(1)
      .max(MAX_WINDOW_CALLS)
      .default(DEFAULT_QUALITY_WINDOW.windowCalls)
      .describe('Attempts kept per trunk (the last N), at most 10000.'),
    windowMinutes: z
      .number()
      .min(0)
      .max(7 * 24 * 60)
      .default(DEFAULT_QUALITY_WINDOW.windowMinutes)
      .describe('Attempts older than this many minutes are forgotten (0: no age limit).'),
  })
  .strict()
  .prefault({})
  .describe(
    `Live quality per trunk (ASR, post-dial delay, average call duration, MOS from the media engine’s stats) over its last windowCalls (${DEFAULT_QUALITY_WINDOW.windowCalls}) attempts of the last windowMinutes (${DEFAULT_QUALITY_WINDOW.windowMinutes}; 0: no age limit). Shown on GET /api/v1/sbc/trunks and as tfx_sbc_trunk_asr/mos/pdd_seconds; read by quality and cost-quality routes.`,
  );

interface RouteIn extends RouteRouting {
  readonly to: readonly string[];
}

/** Cross-checks of the routes against the trunks, each issue on its key. */
export function checkRouting(
  routes: readonly RouteIn[],
  trunks: ReadonlySet<string>,
  ctx: z.RefinementCtx,
): void {
  routes.forEach((r, i) => {
    const issue = (path: Array<string | number>, message: string): void =>
      ctx.addIssue({ code: 'custom', path: ['routes', i, ...path], message });
    if (r.rates && r.to.length > 0) issue(['rates'], 'a route has either to or rates, not both');
    if (!r.rates && r.to.length === 0) issue(['to'], 'a route names at least one trunk (or rates)');
    if (!r.rates && (r.policy === 'cost' || r.policy === 'cost-quality'))
      issue(['policy'], `policy ${r.policy} needs a rate table (rates)`);
    if (r.rates && r.timezone === undefined && r.rates.some((x) => x.when))
      ctx.addIssue({
        code: 'custom',
        path: ['routes', i, 'timezone'],
        message: 'rate windows need the timezone they are read in (e.g. UTC, Europe/London)',
      });
    r.rates?.forEach((row, j) => {
      for (const t of Object.keys(row.costs))
        if (!trunks.has(t)) issue(['rates', j, 'costs', t], `no trunk named ${t}`);
    });
  });
}

export type { TrunkRouting };
