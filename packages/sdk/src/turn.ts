/**
 * When to fetch fresh TURN credentials. The server mints them by the TURN REST scheme (username
 * `<unix expiry>:<peer id>`), so the expiry is readable from the username. Pure.
 */

/** The part of an ICE server (`RTCIceServer`, the protocol's `IceServer`) this module reads. */
export interface IceServerLike {
  readonly urls?: string | readonly string[];
  readonly username?: string | undefined;
}

/** Earliest expiry (ms since the epoch) among the ICE servers' REST usernames, if any. */
export function credentialExpiry(iceServers: readonly IceServerLike[]): number | undefined {
  let min: number | undefined;
  for (const s of iceServers) {
    const m = /^(\d{9,12}):/.exec(s.username ?? '');
    if (!m?.[1]) continue;
    const ms = Number(m[1]) * 1000;
    if (min === undefined || ms < min) min = ms;
  }
  return min;
}

/**
 * Delay until a refresh, ms, or `null` when the credentials do not expire: when 80% of the
 * remaining lifetime has passed (a 24 h credential is renewed after ~19 h, a 60 s one after 48 s),
 * never sooner than `minDelayMs` (default 5 s) so a clock skew cannot cause a refresh storm.
 */
export function turnRefreshDelay(
  iceServers: readonly IceServerLike[],
  nowMs: number,
  minDelayMs = 5_000,
): number | null {
  const expiry = credentialExpiry(iceServers);
  if (expiry === undefined) return null;
  return Math.max(minDelayMs, Math.round((expiry - nowMs) * 0.8));
}
