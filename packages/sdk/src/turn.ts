/**
 * When to fetch fresh TURN credentials. The server mints them by the TURN REST scheme (username
 * `<unix expiry>:<peer id>`), so the expiry is readable from the username. Pure.
 */

/** Earliest expiry (ms since the epoch) among the ICE servers' REST usernames, if any. */
export function credentialExpiry(
  iceServers: readonly { username?: string | undefined }[],
): number | undefined {
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
 * Delay until a refresh, ms, or `null` when the credentials do not expire. Refreshes when 80% of
 * the remaining lifetime has passed, and at least `marginMs` (default 60 s) before the expiry;
 * never sooner than `minDelayMs` (default 5 s) so a clock skew cannot cause a refresh storm.
 */
export function turnRefreshDelay(
  iceServers: readonly { username?: string | undefined }[],
  nowMs: number,
  marginMs = 60_000,
  minDelayMs = 5_000,
): number | null {
  const expiry = credentialExpiry(iceServers);
  if (expiry === undefined) return null;
  const remaining = expiry - nowMs;
  const delay = Math.min(remaining * 0.8, remaining - marginMs);
  return Math.max(minDelayMs, Math.round(delay));
}
