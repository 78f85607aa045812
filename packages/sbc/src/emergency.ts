/**
 * Emergency calls (issue #18 item 4): an INVITE whose normalized Request-URI user is one of
 * `sbc.emergency.numbers` is never refused by the zone's call limit, the fraud limits or the
 * digest of an untrusted zone (regulators require an emergency call to be placed even from an
 * unauthenticated caller), and goes to `sbc.emergency.trunks` in their own order instead of the
 * routes. When `resourcePriority` is set, leg B's INVITE carries it in a Resource-Priority header
 * (RFC 4412 §3.1: `namespace.priority`, e.g. `esnet.1`, RFC 7134 §2). Off when `numbers` is empty.
 */
import { NEXT, type Verdict } from '@tfx/sip';
import type { TrunkSpec } from './types.js';

export interface EmergencySpec {
  /** Numbers matched exactly on the normalized Request-URI user (`112`, `911`, …). */
  readonly numbers: readonly string[];
  /** The emergency trunks' names, tried in this order (failover as routes). */
  readonly trunks: readonly string[];
  /** RFC 4412 Resource-Priority value added to leg B's INVITE (`esnet.1`); unset: none. */
  readonly resourcePriority?: string;
  /** Calls of the SBC's and each zone's maxCalls kept for emergency calls (admission.ts). */
  readonly reserved?: number;
}

/** RFC 4412 §3.1: r-value = namespace "." r-priority (tokens); one value only here. */
export const RESOURCE_PRIORITY = /^[A-Za-z0-9!%'*+\-_`~]+\.[A-Za-z0-9!%'*+\-_`~]+$/;

/** Whether a called user (normalized by the zone's rules) is an emergency number. Pure. */
export function isEmergency(spec: EmergencySpec | undefined, user: string | undefined): boolean {
  if (!spec || spec.numbers.length === 0 || user === undefined) return false;
  return spec.numbers.includes(user);
}

/** The emergency trunks in their configured order (unknown names skipped). Pure. */
export function emergencyTrunks(spec: EmergencySpec, trunks: readonly TrunkSpec[]): TrunkSpec[] {
  return spec.trunks.flatMap((n) => trunks.filter((t) => t.name === n));
}

/** Leg B's header fields with the Resource-Priority of an emergency call (replacing any). */
export function withResourcePriority(
  headers: ReadonlyArray<readonly [string, string]>,
  value: string | undefined,
): Array<[string, string]> {
  const out = headers
    .filter(([n]) => value === undefined || n.toLowerCase() !== 'resource-priority')
    .map(([n, v]) => [n, v] as [string, string]);
  if (value !== undefined) out.push(['Resource-Priority', value]);
  return out;
}

/** What the emergency stage marks on an INVITE's context. */
export interface EmergencyMark {
  readonly user: string | undefined;
  emergency?: boolean;
  trunks: TrunkSpec[];
}

/**
 * The INVITE route's `emergency` stage (first in the route): marks an emergency call and gives it
 * the emergency trunks; the limits, auth and fraud stages then let it pass, routing keeps them.
 */
export function emergencyStage(
  spec: () => EmergencySpec | undefined,
  trunks: () => readonly TrunkSpec[],
  onEmergency: (c: EmergencyMark) => void,
): (c: EmergencyMark) => Verdict {
  return (c) => {
    const s = spec();
    if (!s || !isEmergency(s, c.user)) return NEXT;
    c.emergency = true;
    c.trunks = emergencyTrunks(s, trunks());
    onEmergency(c);
    return NEXT;
  };
}
