/**
 * `sbc.admission` and `sbc.qos` (docs/sbc.md, "Admission control and QoS"): the SBC's call
 * admission limits (every one off until configured) and the DSCP classes of its traffic. Mounted
 * by sbc.ts; `admissionProblems` checks the zone and trunk names once the whole `sbc` is known.
 */
import { z } from 'zod';
import type { AdmissionSpec } from '@tfx/sbc';

const count = (max: number, what: string) =>
  z.number().int(`${what} is a whole number`).min(0, `${what} is 0 (off) or more`).max(max);

const rate = z
  .object({
    maxCalls: count(1_000_000, 'maxCalls')
      .default(0)
      .describe('Concurrent calls; beyond it 503 + Retry-After (accounts: 486). 0 = no limit.'),
    callsPerSecond: count(100_000, 'callsPerSecond')
      .default(0)
      .describe('Calls started in any 1 s; beyond it 503 + Retry-After. 0 = no limit.'),
  })
  .strict();

const zoneLimits = rate
  .extend({
    bandwidthKbps: count(100_000_000, 'bandwidthKbps')
      .default(0)
      .describe(
        'kb/s of media of the zone’s live calls (each call’s SDP offer: b=TIAS/b=AS, else its codecs, with IP/UDP/RTP overhead); the call that would exceed it gets 503 + Retry-After. 0 = no limit.',
      ),
  })
  .strict();

/** DSCP class names (RFC 2474, 2597, 3246, 4594) and their code points. */
export const DSCP_CLASSES: Readonly<Record<string, number>> = {
  CS0: 0,
  CS1: 8,
  CS2: 16,
  CS3: 24,
  CS4: 32,
  CS5: 40,
  CS6: 48,
  CS7: 56,
  AF11: 10,
  AF12: 12,
  AF13: 14,
  AF21: 18,
  AF22: 20,
  AF23: 22,
  AF31: 26,
  AF32: 28,
  AF33: 30,
  AF41: 34,
  AF42: 36,
  AF43: 38,
  EF: 46,
};

/** The TOS byte of a DSCP class (DSCP << 2, RFC 2474 §3): EF → 184. */
export function dscpTos(cls: string): number {
  const d = DSCP_CLASSES[cls];
  if (d === undefined) throw new TypeError(`not a DSCP class: ${cls}`);
  return d << 2;
}

const dscpClass = z
  .string()
  .refine((s) => s in DSCP_CLASSES, { message: 'a DSCP class: EF, CS0–CS7, AF11–AF43' });

export const admissionSchema = z
  .object({
    maxCalls: count(1_000_000, 'maxCalls')
      .default(0)
      .describe('Concurrent calls through the whole SBC; beyond it 503. 0 = no limit.'),
    callsPerSecond: count(100_000, 'callsPerSecond')
      .default(0)
      .describe('New calls per second through the whole SBC; beyond it 503. 0 = no limit.'),
    zones: z
      .array(zoneLimits.extend({ name: z.string().max(32) }).strict())
      .max(64)
      .default([])
      .describe(
        'Per zone: [{ name, maxCalls, callsPerSecond, bandwidthKbps }] (a call counts in both its zones).',
      ),
    trunks: z
      .array(rate.extend({ name: z.string().max(32) }).strict())
      .max(1024)
      .default([])
      .describe('Per trunk: [{ name, maxCalls, callsPerSecond }] of the calls sent to it.'),
    accounts: rate
      .prefault({})
      .describe(
        'Each account’s own limits (the authenticated user, else the From user), SBC-wide: maxCalls → 486 Busy Here, callsPerSecond → 503 + Retry-After.',
      ),
    minFreeMediaPorts: count(1_000_000, 'minFreeMediaPorts')
      .default(0)
      .describe(
        'Refuse a call (503) that would leave the built-in media engine fewer free ports than this. 0 = off.',
      ),
    retryAfterSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(5)
      .describe(
        'Retry-After of a 503 for calls, bandwidth and ports (a rate limit: when the 1 s window frees).',
      ),
  })
  .strict()
  .prefault({})
  .describe(
    'Admission control (docs/sbc.md, "Admission control and QoS"): { maxCalls, callsPerSecond, zones: [{ name, maxCalls, callsPerSecond, bandwidthKbps }], trunks: [{ name, maxCalls, callsPerSecond }], accounts: { maxCalls (486), callsPerSecond }, minFreeMediaPorts, retryAfterSeconds 5 }. Every limit 0 = off (the default). Emergency calls are never refused; sbc.emergency.reserved keeps calls of the SBC’s and zones’ maxCalls for them.',
  );

export const qosSchema = z
  .object({
    mediaDscp: dscpClass
      .default('EF')
      .describe(
        'DSCP of media (RTP/RTCP): rtpengine’s TOS per call; tfx sbc dscp for the built-in engine.',
      ),
    signallingDscp: dscpClass
      .default('CS3')
      .describe('DSCP of SIP from the zones’ listeners (tfx sbc dscp prints/applies the rules).'),
  })
  .strict()
  .prefault({})
  .describe(
    'QoS marks (docs/sbc.md, "Admission control and QoS"): mediaDscp EF (46), signallingDscp CS3 (24). rtpengine marks media itself (ng TOS); TFX’s own sockets are marked by the iptables mangle rules that `tfx sbc dscp` prints (and applies with --apply).',
  );

/** The emergency reserve: calls of each maxCalls limit kept free of ordinary calls. */
export const emergencyReserved = count(10_000, 'reserved')
  .default(0)
  .describe(
    'Calls of the SBC’s and each zone’s maxCalls kept free of ordinary calls for emergency calls (an ordinary call is refused at maxCalls − reserved). 0 = none.',
  );

type Issue = { path: (string | number)[]; message: string };

/** Names in `sbc.admission` that name no zone or trunk. */
export function admissionProblems(
  a: { zones: ReadonlyArray<{ name: string }>; trunks: ReadonlyArray<{ name: string }> },
  zones: ReadonlySet<string>,
  trunks: ReadonlySet<string>,
): Issue[] {
  const out: Issue[] = [];
  for (const [key, list, known] of [
    ['zones', a.zones, zones],
    ['trunks', a.trunks, trunks],
  ] as const) {
    const seen = new Set<string>();
    const what = key === 'zones' ? 'zone' : 'trunk';
    list.forEach((x, i) => {
      if (!known.has(x.name))
        out.push({ path: ['admission', key, i, 'name'], message: `no ${what} named ${x.name}` });
      if (seen.has(x.name))
        out.push({ path: ['admission', key, i, 'name'], message: `${what} ${x.name} named twice` });
      seen.add(x.name);
    });
  }
  return out;
}

/** An emergency reserve as large as a call limit would refuse every ordinary call. */
export function reserveProblems(
  a: { maxCalls: number; zones: ReadonlyArray<{ name: string; maxCalls: number }> },
  reserved: number,
): Issue[] {
  if (reserved === 0) return [];
  const out: Issue[] = [];
  if (a.maxCalls > 0 && reserved >= a.maxCalls)
    out.push({
      path: ['emergency', 'reserved'],
      message: `reserved ${reserved} leaves no call of admission.maxCalls ${a.maxCalls} to ordinary calls`,
    });
  for (const z of a.zones)
    if (z.maxCalls > 0 && reserved >= z.maxCalls)
      out.push({
        path: ['emergency', 'reserved'],
        message: `reserved ${reserved} leaves no call of zone ${z.name}'s maxCalls ${z.maxCalls} to ordinary calls`,
      });
  return out;
}

/** `sbc.admission` as the SBC takes it (admission.ts): zones and trunks by name. */
export function admissionSpecOf(a: z.infer<typeof admissionSchema>): AdmissionSpec {
  return {
    maxCalls: a.maxCalls,
    callsPerSecond: a.callsPerSecond,
    zones: Object.fromEntries(a.zones.map(({ name, ...l }) => [name, l])),
    trunks: Object.fromEntries(a.trunks.map(({ name, ...l }) => [name, l])),
    accounts: a.accounts,
    minFreeMediaPorts: a.minFreeMediaPorts,
    retryAfterSeconds: a.retryAfterSeconds,
  };
}
