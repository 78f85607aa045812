/**
 * rtpengine's own figures for the SBC's statistics: the ng `statistics` command (no call named)
 * answered by every instance that is up, summed — `currentstatistics.sessionstotal` and the
 * cumulative `totalstatistics.relayedpackets`, `relayedbytes` and `relayedpacketerrors` (rtpengine
 * 10.5+, userspace and kernel together), from which the sampler makes rates per second. Pure
 * (`rtpengineTotals`); a missing, malformed or negative field counts as 0 and an instance that
 * does not answer is left out by the instance set.
 */
import type { RtpengineEngine } from '@tfx/media';

export interface RtpengineTotals {
  readonly instances: number;
  readonly sessions: number;
  readonly packets: number;
  readonly bytes: number;
  readonly errors: number;
}

type Dict = { readonly [key: string]: unknown };

const dict = (v: unknown): Dict =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
    ? (v as Dict)
    : {};

/** A non-negative finite number out of a bencode integer (or a decimal string some fields use). */
const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : 0;
};

/** Sums the instances' `statistics` replies. Pure. */
export function rtpengineTotals(replies: readonly unknown[]): RtpengineTotals {
  let sessions = 0;
  let packets = 0;
  let bytes = 0;
  let errors = 0;
  for (const r of replies) {
    const stats = dict(dict(r).statistics);
    const current = dict(stats.currentstatistics);
    const total = dict(stats.totalstatistics);
    sessions += num(current.sessionstotal ?? current.sessionsown);
    packets += num(total.relayedpackets);
    bytes += num(total.relayedbytes);
    errors += num(total.relayedpacketerrors);
  }
  return { instances: replies.length, sessions, packets, bytes, errors };
}

/** Asks every rtpengine instance that is up; undefined when none answered. */
export async function readRtpengine(engine: RtpengineEngine): Promise<RtpengineTotals | undefined> {
  const replies = await engine.set.broadcast('statistics').catch(() => []);
  return replies.length === 0 ? undefined : rtpengineTotals(replies);
}
