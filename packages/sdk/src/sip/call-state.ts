/**
 * A phone call's states as the dial pad shows them, and the one guarded transition function
 * that moves between them (pure: the SIP.js session's events are fed in by `phone.ts`).
 *
 * ```text
 * outgoing: dialling ─1xx─▶ ringing ─2xx─▶ connected ─bye/hangup─▶ ended
 *              │               │
 *              └──── final ≥ 300, transport error, hangup (CANCEL) ──▶ failed / ended
 * incoming: incoming ─answer─▶ connecting ─ack─▶ connected ─▶ ended
 *              └── reject / the caller's CANCEL ──▶ ended
 * ```
 * `ended` and `failed` are final: later events are ignored (a 2xx crossing a CANCEL, a late BYE).
 */
import { failureReason } from './dial.js';

export type CallState =
  'dialling' | 'ringing' | 'incoming' | 'connecting' | 'connected' | 'ended' | 'failed';

export type CallEvent =
  | { readonly type: 'provisional'; readonly status: number }
  | { readonly type: 'answered' }
  | { readonly type: 'answer' }
  | { readonly type: 'final'; readonly status: number; readonly phrase?: string }
  | { readonly type: 'error'; readonly reason: string }
  | { readonly type: 'hangup' }
  | { readonly type: 'remote-ended' };

export interface CallSnapshot {
  readonly state: CallState;
  /** Why the call failed or ended, in words; `status` is the SIP status when there was one. */
  readonly reason?: string;
  readonly status?: number;
}

export const FINAL_STATES: ReadonlySet<CallState> = new Set(['ended', 'failed']);

/** The next snapshot, or `null` when the event does not apply in this state (ignored). */
export function nextCallState(from: CallSnapshot, ev: CallEvent): CallSnapshot | null {
  if (FINAL_STATES.has(from.state)) return null;
  switch (ev.type) {
    case 'provisional':
      // RFC 3261 §21.1: 100 is hop-by-hop (the SBC's); 180/183 say the far end is alerting.
      if (from.state !== 'dialling' && from.state !== 'ringing') return null;
      return ev.status > 100 && ev.status < 200 ? { state: 'ringing' } : null;
    case 'answered':
      return from.state === 'dialling' || from.state === 'ringing' || from.state === 'connecting'
        ? { state: 'connected' }
        : null;
    case 'answer':
      return from.state === 'incoming' ? { state: 'connecting' } : null;
    case 'final':
      if (from.state === 'connected') return null;
      if (ev.status === 487 && from.state !== 'incoming')
        return { state: 'ended', reason: 'Cancelled', status: 487 };
      return {
        state: 'failed',
        reason: failureReason(ev.status, ev.phrase),
        status: Number.isInteger(ev.status) ? ev.status : undefined,
      };
    case 'error':
      return { state: 'failed', reason: ev.reason.slice(0, 200) || 'The call failed' };
    case 'hangup':
      return {
        state: 'ended',
        reason:
          from.state === 'connected'
            ? 'Hung up'
            : from.state === 'incoming'
              ? 'Declined'
              : 'Cancelled',
      };
    case 'remote-ended':
      return {
        state: 'ended',
        reason: from.state === 'connected' ? 'The other side hung up' : 'The caller gave up',
      };
  }
}
