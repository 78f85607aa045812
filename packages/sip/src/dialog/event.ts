/**
 * The header values of SIP events (RFC 6665 §8.2): Event and Subscription-State, and the
 * refresh rule shared by subscriptions and registrations. Pure.
 */
import type { SipMessage } from '../syntax/index.js';

export interface SubscriptionStateValue {
  readonly state: string;
  readonly expires?: number;
  readonly reason?: string;
  readonly retryAfter?: number;
}

/** RFC 6665 §8.2.3: `Subscription-State = substate-value *( SEMI subexp-params )`. */
export function parseSubscriptionState(m: SipMessage): SubscriptionStateValue | undefined {
  const v = m.headers.get('subscription-state');
  if (v === undefined) return undefined;
  const [head, ...params] = v.split(';');
  const state = head?.trim().toLowerCase() ?? '';
  if (!/^[a-z0-9.!%*_+`'~-]+$/.test(state)) return undefined;
  let out: SubscriptionStateValue = { state };
  for (const p of params) {
    const [k, val] = p.split('=').map((x) => x.trim());
    const key = k?.toLowerCase();
    if (key === 'expires' && val && /^\d{1,10}$/.test(val)) out = { ...out, expires: Number(val) };
    else if (key === 'reason' && val) out = { ...out, reason: val.toLowerCase() };
    else if (key === 'retry-after' && val && /^\d{1,10}$/.test(val)) {
      out = { ...out, retryAfter: Number(val) };
    }
  }
  return out;
}

export interface EventValue {
  readonly type: string;
  readonly id: string | undefined;
}

/** RFC 6665 §8.2.1: `Event = ( "Event" / "o" ) HCOLON event-type *( SEMI event-param )`. */
export function parseEvent(m: SipMessage): EventValue | undefined {
  const v = m.headers.get('event');
  if (v === undefined) return undefined;
  const [head, ...params] = v.split(';');
  const type = head?.trim().toLowerCase() ?? '';
  if (!/^[a-z0-9.!%*_+`'~-]+$/.test(type)) return undefined;
  let id: string | undefined;
  for (const p of params) {
    const [k, val] = p.split('=').map((x) => x.trim());
    if (k?.toLowerCase() === 'id' && val) id = val;
  }
  return { type, id };
}

export function subscriptionKey(event: string, id: string | undefined): string {
  return `${event.toLowerCase()};${id ?? ''}`;
}

export function eventHeader(event: string, id: string | undefined): string {
  return id === undefined ? event : `${event};id=${id}`;
}

/** When to refresh a subscription or registration granted for `seconds`: before it lapses. */
export function refreshDelay(seconds: number): number {
  return Math.max(1, seconds - Math.max(5, seconds / 10)) * 1000;
}
