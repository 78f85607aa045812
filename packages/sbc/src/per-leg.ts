/**
 * What each leg keeps to itself (docs/sbc.md, "Session timers per leg"): RFC 4028 session
 * timers are negotiated by each leg's dialog layer with its own peer, from its zone's policy, and
 * never pass to the other leg. The SBC builds every request of a leg from scratch, so
 * Session-Expires, Min-SE and the `timer` option tag of one leg cannot reach the other; the
 * helpers here say which header fields are per leg (for any code that copies headers across,
 * such as a header allow-list) and recognise a refresh that only repeats the last SDP, which the
 * leg's own dialog answers without bothering the other leg. Pure.
 */
import type { SessionTimerOptions } from '@tfx/sip';
import type { ZoneSpec } from './types.js';

/** RFC 4028 defaults of a zone's legs: §4's recommended 1800 s, §5's 90 s floor, UPDATE (§10). */
export const ZONE_SESSION_TIMER = { expires: 1800, minSE: 90, refresh: 'UPDATE' } as const;

/** The dialog layer's session-timer options of a zone's legs, or undefined when it is off. */
export function sessionTimerOf(spec: ZoneSpec): SessionTimerOptions | undefined {
  const t = spec.sessionTimer;
  if (t?.enabled === false) return undefined;
  return {
    expires: t?.expires ?? ZONE_SESSION_TIMER.expires,
    minSE: t?.minSE ?? ZONE_SESSION_TIMER.minSE,
    method: t?.refresh ?? ZONE_SESSION_TIMER.refresh,
  };
}

/**
 * Header fields that belong to one leg's negotiation and never cross to the other: RFC 4028's
 * Session-Expires (compact `x`) and Min-SE; RFC 3262's RSeq/RAck. Supported and Require are
 * built per leg from the zone's option tags (`timer`, `100rel`).
 */
export const PER_LEG_HEADERS: ReadonlySet<string> = new Set([
  'session-expires',
  'x',
  'min-se',
  'rseq',
  'rack',
  'supported',
  'k',
  'require',
]);

/** Option tags negotiated per leg: stripped from any option-tag list that crosses legs. */
export const PER_LEG_OPTION_TAGS: ReadonlySet<string> = new Set(['timer', '100rel']);

/** An option-tag list (Supported, Require) without the per-leg tags. */
export function stripPerLegTags(value: string): string {
  return value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '' && !PER_LEG_OPTION_TAGS.has(t.toLowerCase()))
    .join(', ');
}

const lines = (sdp: string): string[] =>
  sdp
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');

/**
 * A re-INVITE (or UPDATE) whose SDP is the one its sender sent last changes nothing: RFC 4028 §10
 * session refreshes repeat the session description (RFC 3264 §8: "If the session description is
 * unchanged, the version MUST be the same"). Compared line by line, ignoring line endings.
 */
export function sameSdp(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = lines(a);
  const y = lines(b);
  return x.length === y.length && x.every((l, i) => l === y[i]);
}

/**
 * RFC 3264 §8: "When issuing an offer that modifies the session, the "o=" line of the new SDP
 * MUST be identical to that in the previous SDP, except that the version in the origin field
 * MUST increment by one". When a transfer hands a leg the SDP of another media session, its o=
 * line becomes the previous one's with the version plus one.
 */
export function continueOrigin(previous: string | undefined, next: string): string {
  const prev = previous === undefined ? undefined : /^o=(\S+) (\S+) (\d+) (.*)$/m.exec(previous);
  if (!prev) return next;
  const version = (BigInt(prev[3] as string) + 1n).toString();
  return next.replace(
    /^o=.*$/m,
    `o=${prev[1]} ${prev[2]} ${version} ${(prev[4] as string).trimEnd()}`,
  );
}

/** The media target of an SDP (its session c= address and first m= port), to see a move. */
export function mediaTargetOf(sdp: string | undefined): string | undefined {
  if (sdp === undefined) return undefined;
  const c = /^c=IN IP[46] (\S+)/m.exec(sdp)?.[1];
  const m = /^m=\w+ (\d+)/m.exec(sdp)?.[1];
  return c !== undefined && m !== undefined ? `${c}:${m}` : undefined;
}
