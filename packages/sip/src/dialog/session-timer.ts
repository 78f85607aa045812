/**
 * Session timers (RFC 4028): a confirmed INVITE dialog is refreshed by re-INVITE or UPDATE at
 * half its Session-Expires interval by the side the `refresher` parameter names, and the other
 * side ends it with a BYE when no refresh came. Active when the layer supports the `timer`
 * option tag. Header parsing is pure; the timers run on the layer's clock.
 *
 *   request  ── Session-Expires: N[;refresher=uac|uas], Min-SE: M ──▶  (422 + Min-SE if N < our Min-SE)
 *   2xx      ◀── Session-Expires: N;refresher=… (+ Require: timer when refresher=uac) ──
 *   refresher: refresh at N/2       other side: BYE at N − min(32, N/3)
 */
import type { SipMessage, SipRequest, SipResponse } from '../syntax/index.js';
import type { IncomingRequest } from '../transaction/index.js';
import type { LayerContext, SessionTimerOptions } from './context.js';

export type { SessionTimerOptions } from './context.js';
import { hasOptionTag } from './prack.js';
import type { DialogSession, SessionTimerState } from './session.js';

export const SESSION_TIMER_DEFAULTS = { expires: 1800, minSE: 90, method: 'UPDATE' } as const;

export interface SessionExpires {
  readonly seconds: number;
  readonly refresher: 'uac' | 'uas' | undefined;
}

/**
 * §4: `Session-Expires = ("Session-Expires" / "x") HCOLON delta-seconds *(SEMI se-params)`,
 * `se-params = refresher-param / generic-param`, `refresher-param = "refresher" EQUAL ("uas" /
 * "uac")`. Returns undefined when absent, 'invalid' when present but malformed.
 */
export function parseSessionExpires(m: SipMessage): SessionExpires | 'invalid' | undefined {
  const v = m.headers.get('session-expires');
  if (v === undefined) return undefined;
  const match = /^\s*(\d{1,10})\s*((?:;[^;]*)*)$/.exec(v);
  if (!match) return 'invalid';
  const seconds = Number(match[1]);
  if (seconds < 1 || seconds > 0xffffffff) return 'invalid';
  let refresher: 'uac' | 'uas' | undefined;
  for (const p of (match[2] ?? '').split(';')) {
    const [k, val] = p.split('=').map((x) => x.trim().toLowerCase());
    if (k === 'refresher') {
      if (val !== 'uac' && val !== 'uas') return 'invalid';
      refresher = val;
    }
  }
  return { seconds, refresher };
}

/** §5: `Min-SE = "Min-SE" HCOLON delta-seconds *(SEMI generic-param)`. */
export function parseMinSE(m: SipMessage): number | undefined {
  const match = /^\s*(\d{1,10})\s*(;.*)?$/.exec(m.headers.get('min-se') ?? '');
  return match ? Number(match[1]) : undefined;
}

function options(c: LayerContext): Required<SessionTimerOptions> {
  return { ...SESSION_TIMER_DEFAULTS, ...c.o.sessionTimer };
}

export function timerEnabled(c: LayerContext): boolean {
  return c.supported.has('timer');
}

/**
 * The headers of a session refresh request we send (initial INVITE, re-INVITE, UPDATE).
 * §7.1: "The UAC MAY include a Session-Expires header field"; "If the UAC has received a 422
 * […], it MUST include a Min-SE header field with the value from that 422". In a refresh of a
 * running timer where we refresh, §7.4: "the refresher parameter […] SHOULD be set to the
 * same value as it had in the previous request" — we name ourselves (`uac` of this request).
 */
export function requestHeaders(
  c: LayerContext,
  session: DialogSession | undefined,
  minSE?: number,
): Array<readonly [string, string]> {
  if (!timerEnabled(c)) return [];
  const o = options(c);
  const floor = Math.max(o.minSE, minSE ?? 0, session?.minSE ?? 0);
  const interval = Math.max(session?.timer?.interval ?? o.expires, floor);
  const t = session?.timer;
  const refresher = t === undefined ? '' : `;refresher=${t.localRefresher ? 'uac' : 'uas'}`;
  return [
    ['Session-Expires', `${interval}${refresher}`],
    ['Min-SE', String(floor)],
  ];
}

/**
 * §8.1 (UAS): "If the Session-Expires value is below the Min-SE the UAS [is configured with],
 * it MUST reject the request with a 422 (Session Interval Too Small) response. That response
 * MUST contain a Min-SE header field". A malformed Session-Expires gets 400. True when answered.
 */
export function rejectTooBrief(c: LayerContext, incoming: IncomingRequest): boolean {
  if (!timerEnabled(c)) return false;
  const se = parseSessionExpires(incoming.request);
  if (se === 'invalid') {
    c.counters.badRequests++;
    c.reply(incoming, 400);
    return true;
  }
  const { minSE } = options(c);
  if (se !== undefined && se.seconds < minSE) {
    c.counters.tooBrief++;
    c.reply(incoming, 422, { headers: [['Min-SE', String(minSE)]] });
    return true;
  }
  return false;
}

/**
 * The Session-Expires of our 2xx to a session refresh request (INVITE or UPDATE), and our role.
 * §9: "If the request contained a Session-Expires header field, the UAS [places one] into the
 * response [with the same value or a smaller one not below Min-SE]. If the refresher parameter
 * was absent […] and the UAC supports the timer extension, the UAS MUST choose 'uac' or 'uas';
 * if the UAC does not support it, 'uas'." "If the refresher parameter in the Session-Expires
 * header field in the 2xx response has a value of 'uac', the UAS MUST place a Require header
 * field into the response with the value 'timer'." No Session-Expires in the request: none in
 * the response, and the dialog runs no timer.
 */
export function answer(
  c: LayerContext,
  request: SipRequest,
):
  | { headers: Array<readonly [string, string]>; interval: number; localRefresher: boolean }
  | undefined {
  if (!timerEnabled(c)) return undefined;
  const se = parseSessionExpires(request);
  if (se === undefined || se === 'invalid') return undefined;
  const refresher = se.refresher ?? (hasOptionTag(request, 'supported', 'timer') ? 'uac' : 'uas');
  const headers: Array<readonly [string, string]> = [
    ['Session-Expires', `${se.seconds};refresher=${refresher}`],
  ];
  if (refresher === 'uac') headers.push(['Require', 'timer']);
  return { headers, interval: se.seconds, localRefresher: refresher === 'uas' };
}

/**
 * §7.2 (UAC): a 2xx to our session refresh request. "If the 2xx response did not contain a
 * Session-Expires header field, there is no session expiration." Otherwise the refresher
 * parameter says who refreshes: `uac` is us (we sent this request).
 */
export function onRefreshResponse(c: LayerContext, session: DialogSession, r: SipResponse): void {
  if (!timerEnabled(c)) return;
  const se = parseSessionExpires(r);
  if (se === undefined || se === 'invalid') {
    stop(c, session);
    return;
  }
  arm(c, session, se.seconds, se.refresher !== 'uas');
}

/**
 * A 422 to our session refresh request (§7.4 / §8.2 of RFC 4028): "the UAC […] SHOULD retry
 * the request with a Session-Expires whose value is the Min-SE of the 422" and a Min-SE of it.
 * Returns the new floor, or undefined when the 422 cannot be acted on (no Min-SE, or not larger).
 */
export function floorFrom422(
  c: LayerContext,
  r: SipResponse,
  asked: number | undefined,
): number | undefined {
  if (!timerEnabled(c) || r.status !== 422) return undefined;
  const min = parseMinSE(r);
  if (min === undefined || (asked !== undefined && min <= asked)) return undefined;
  return min;
}

/**
 * §10: "the refresher SHOULD send a refresh at half the session interval"; "If the side not
 * performing refreshes does not receive a session refresh request before the session
 * expiration, it SHOULD send a BYE to terminate the session, slightly before the session
 * expiration. The minimum of 32 seconds and one third of the session interval is RECOMMENDED."
 * The refresher ends the session too when its refreshes fail until the interval is over.
 */
export function arm(
  c: LayerContext,
  session: DialogSession,
  interval: number,
  localRefresher: boolean,
): void {
  stop(c, session);
  if (session.state !== 'confirmed') return;
  const ms = interval * 1000;
  const state: SessionTimerState = {
    interval,
    localRefresher,
    refresh: undefined,
    expire: undefined,
  };
  session.timer = state;
  // The refresher's own backstop is the full interval: the other side's BYE comes first.
  const before = localRefresher ? 0 : Math.min(32_000, ms / 3);
  state.expire = c.o.clock.setTimer(ms - before, () => {
    if (session.timer !== state || session.state !== 'confirmed') return;
    c.counters.sessionExpired++;
    c.ops.sendBye(session, {}, undefined, 'expired');
  });
  if (localRefresher) {
    state.refresh = c.o.clock.setTimer(ms / 2, () => refresh(c, session, state));
  }
}

function refresh(c: LayerContext, session: DialogSession, state: SessionTimerState): void {
  state.refresh = undefined;
  if (session.timer !== state || session.state !== 'confirmed') return;
  const method = options(c).method;
  const busy = session.clientInvite !== undefined || session.serverInvite !== undefined;
  if (method === 'INVITE' && busy) {
    // §14.1: no re-INVITE while another INVITE is in progress; a refresh of theirs re-arms us.
    state.refresh = c.o.clock.setTimer(1000, () => refresh(c, session, state));
    return;
  }
  c.counters.sessionRefreshes++;
  if (method === 'INVITE') c.ops.sendReinvite(session, session.refreshPayload ?? {});
  else c.ops.sendUpdate(session, {});
}

/** Clears the dialog's session timer (terminated, or a refresh without Session-Expires). */
export function stop(c: LayerContext, session: DialogSession): void {
  const t = session.timer;
  if (!t) return;
  if (t.refresh) c.o.clock.clearTimer(t.refresh);
  if (t.expire) c.o.clock.clearTimer(t.expire);
  session.timer = undefined;
}
