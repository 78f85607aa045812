/**
 * The SBC's admission check of a new call (admission.ts), kept out of sbc.ts: the request built
 * from the INVITE (its SDP offer's bandwidth and media ports), the refusal answered (503 with
 * Retry-After, or 486 for an account's channels) and logged, and an emergency call's preemption
 * of the newest ordinary call (RFC 4411 §3.3 / RFC 3326 Reason) handed back to the SBC.
 */
import type { Logger, ServerInvite } from '@tfx/sip';
import type { AdmissionLedger } from './admission.js';
import { sdpBandwidthKbps, sdpStreamCount } from './bandwidth.js';

/**
 * RFC 4411 §3.3 (the Reason header's `preemption` protocol, RFC 3326 §2): cause 3 "Generic
 * Preemption" on the BYE (or final response) of a call ended to make room for an emergency call.
 */
export const PREEMPTION_REASON: [string, string] = [
  'Reason',
  'preemption ;cause=3 ;text="Generic Preemption"',
];

/** Media ports a call takes in the engine: RTP and RTCP on both legs, per live m= line. */
export const PORTS_PER_STREAM = 4;

export interface AdmitInput {
  readonly key: string;
  readonly invite: ServerInvite;
  readonly zones: readonly string[];
  /** The first trunk (a trunk name; `local:` and `registered:` destinations are not trunks). */
  readonly destination: string;
  readonly account: string | undefined;
  readonly emergency: boolean;
  readonly now: number;
  readonly freePorts: number | undefined;
  readonly log: Logger;
  readonly logContext: object;
  /** Ends a live call for an emergency one (the SBC knows its calls). */
  readonly preempt: (key: string) => void;
}

const decoder = new TextDecoder();

/** Admits a call or answers the INVITE's refusal; true when admitted. */
export function admitCall(ledger: AdmissionLedger, a: AdmitInput): boolean {
  const body = a.invite.request.body;
  const sdp = body.length > 0 ? decoder.decode(body) : undefined;
  const trunk = /^(local|registered):/.test(a.destination) ? undefined : a.destination;
  const d = ledger.admit(
    {
      key: a.key,
      zones: a.zones,
      ...(trunk !== undefined && { trunk }),
      ...(a.account !== undefined && a.account !== '' && { account: a.account }),
      kbps: sdpBandwidthKbps(sdp),
      emergency: a.emergency,
      ports: { needed: PORTS_PER_STREAM * sdpStreamCount(sdp), free: a.freePorts },
    },
    a.now,
  );
  if (!d.ok) {
    a.log.info(
      { ...a.logContext, scope: d.scope, limit: d.limit, rule: d.rule, status: d.status },
      'sbc: call refused by admission control',
    );
    a.invite.reject(d.status, {
      headers: d.retryAfter !== undefined ? [['Retry-After', String(d.retryAfter)]] : [],
    });
    return false;
  }
  if (d.preempt !== undefined) {
    a.log.warn(
      { ...a.logContext, preempted: d.preempt },
      'sbc: at capacity: the newest ordinary call is released for an emergency call',
    );
    a.preempt(d.preempt);
  }
  return true;
}
