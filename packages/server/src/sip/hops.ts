/**
 * Display helpers of the SIP server. The element helpers (Via, Record-Route, branches, loop
 * detection, next hops) are in @tfx/sip (`element/`).
 */
import type { NameAddr } from '@tfx/sip';

/** Display form of a From/To for the console: `user@host`. */
export function addressOf(na: NameAddr | undefined): string {
  if (!na) return '';
  const u = na.uri;
  if (u.kind !== 'sip') return u.raw;
  return u.user !== undefined ? `${u.user}@${u.host}` : u.host;
}
