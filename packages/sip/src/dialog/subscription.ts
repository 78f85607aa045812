/**
 * SIP-specific event notification (RFC 6665): subscriptions as dialog usages. A subscriber
 * sends SUBSCRIBE, a NOTIFY (even one before the 2xx) creates or joins the dialog, the
 * subscription is refreshed before it expires and ended by `Expires: 0` or a NOTIFY with
 * `Subscription-State: terminated`. A notifier accepts a SUBSCRIBE for an event it knows (else
 * 489 Bad Event), NOTIFYs at once and on every change, and ends the subscription when it
 * expires. REFER's implicit subscription (RFC 3515) is a subscription of event `refer` created
 * by the REFER instead of a SUBSCRIBE (refer.ts).
 *
 *   Dialog ─┬─ INVITE usage (DialogSession.usage === 'invite')
 *           └─ subscriptions by "event;id": ClientSubscription | ServerSubscription
 */
import { TfxError } from '@tfx/protocol';
import {
  createRequest,
  createResponse,
  generateBranch,
  generateCallId,
  generateTag,
  type SipRequest,
  type SipResponse,
} from '../syntax/index.js';
import type { TimerHandle } from '../time/index.js';
import type { IncomingRequest } from '../transaction/index.js';
import type { LayerContext } from './context.js';
import { Dialog } from './dialog.js';
import {
  eventHeader,
  parseEvent,
  parseSubscriptionState,
  refreshDelay,
  subscriptionKey,
  type EventValue,
  type SubscriptionStateValue,
} from './event.js';
import type { DialogSession, DialogUsage, Payload } from './session.js';

export {
  parseEvent,
  parseSubscriptionState,
  refreshDelay,
  subscriptionKey,
  type EventValue,
  type SubscriptionStateValue,
} from './event.js';

/** SUBSCRIBEs waiting for their 2xx, per layer, by Call-ID and From tag (for an early NOTIFY). */
const pendingByLayer = new WeakMap<LayerContext, Map<string, ClientSubscription>>();
function pending(c: LayerContext): Map<string, ClientSubscription> {
  let m = pendingByLayer.get(c);
  if (!m) pendingByLayer.set(c, (m = new Map()));
  return m;
}

// --- subscriber ---------------------------------------------------------------------------------

export interface SubscribeOptions extends Payload {
  readonly uri: string;
  readonly from: string;
  readonly to: string;
  readonly event: string;
  /** Requested duration, seconds (RFC 6665 §4.1.2.1). Default 3600. */
  readonly expires?: number;
}

export interface ClientSubscriptionEvents {
  /** A NOTIFY, already answered 200. */
  onNotify?(notify: SipRequest, state: SubscriptionStateValue): void;
  /** The subscription ended: the notifier's reason, `rejected` (non-2xx), `timeout`, `closed`. */
  onTerminated?(reason: string, response?: SipResponse): void;
}

export type ClientSubscriptionState = 'init' | 'pending' | 'active' | 'terminated';

/** A subscription we hold (SUBSCRIBE sent, or REFER's implicit one). */
export class ClientSubscription implements DialogUsage {
  readonly event: string;
  readonly id: string | undefined;
  readonly events: ClientSubscriptionEvents;
  readonly request: SipRequest;
  session: DialogSession | undefined;
  state: ClientSubscriptionState = 'init';
  /** Seconds granted by the last 2xx or NOTIFY. */
  expires: number;
  /** Notifies received, in order. */
  readonly notifies: SipRequest[] = [];
  readonly #c: LayerContext;
  #refresh: TimerHandle | undefined;
  #expire: TimerHandle | undefined;
  #timerN: TimerHandle | undefined;
  #unsubscribing = false;

  constructor(
    c: LayerContext,
    o: { event: string; id: string | undefined; request: SipRequest; expires: number },
    events: ClientSubscriptionEvents,
  ) {
    this.#c = c;
    this.event = o.event;
    this.id = o.id;
    this.request = o.request;
    this.expires = o.expires;
    this.events = events;
  }

  get key(): string {
    return subscriptionKey(this.event, this.id);
  }

  /** Sends SUBSCRIBE in the dialog with a new duration (RFC 6665 §4.1.2.2). */
  refresh(expires = this.expires): void {
    const s = this.session;
    if (this.state === 'terminated' || !s || s.state === 'terminated') return;
    this.#c.ops.sendInDialog(
      s,
      'SUBSCRIBE',
      {
        headers: [
          ['Event', eventHeader(this.event, this.id)],
          ['Expires', String(expires)],
        ],
      },
      (r) => {
        if (r.status >= 300) {
          if (r.status === 481 || r.status === 408) this.end('failed', r);
          return;
        }
        if (!this.#unsubscribing) this.granted(r.headers.expires() ?? expires);
      },
    );
  }

  /**
   * RFC 6665 §4.1.2.3: "Unsubscribing is handled in the same way as refreshing of a
   * subscription, with the "Expires" header field set to "0"." The notifier answers with a
   * final NOTIFY (terminated); if none comes within 64*T1 the subscription ends anyway.
   */
  unsubscribe(): void {
    if (this.state === 'terminated' || this.#unsubscribing) return;
    this.#unsubscribing = true;
    this.#clear();
    if (!this.session) {
      this.end('unsubscribed');
      return;
    }
    this.refresh(0);
    this.#expire = this.#c.o.clock.setTimer(64 * this.#c.o.timers.T1, () =>
      this.end('unsubscribed'),
    );
  }

  /** The notifier granted `seconds`: refresh before they run out, end when they do. */
  granted(seconds: number): void {
    if (this.state === 'terminated' || this.#unsubscribing) return;
    this.expires = seconds;
    this.#clear();
    if (seconds <= 0) return;
    const clock = this.#c.o.clock;
    this.#refresh = clock.setTimer(refreshDelay(seconds), () => this.refresh());
    // RFC 6665 §4.1.2.2: without a refresh the subscription is over when it expires; we wait
    // 64*T1 longer for the notifier's final NOTIFY (§4.2.2), which may cross our timer.
    const grace = 64 * this.#c.o.timers.T1;
    this.#expire = clock.setTimer(seconds * 1000 + grace, () => this.end('timeout'));
  }

  /**
   * RFC 6665 §4.1.2.4: "If [Timer N] fires before a NOTIFY has been received, the subscriber
   * [considers] the subscription failed" (Timer N = 64*T1 from the 2xx).
   */
  armTimerN(): void {
    if (this.notifies.length > 0 || this.#timerN) return;
    this.#timerN = this.#c.o.clock.setTimer(64 * this.#c.o.timers.T1, () => {
      this.#timerN = undefined;
      if (this.notifies.length === 0) this.end('timeout');
    });
  }

  /** A NOTIFY of this subscription, already checked and answered. */
  notified(notify: SipRequest, ss: SubscriptionStateValue): void {
    if (this.state === 'terminated') return;
    this.notifies.push(notify);
    if (this.#timerN) this.#c.o.clock.clearTimer(this.#timerN);
    this.#timerN = undefined;
    if (ss.state === 'active' || ss.state === 'pending') this.state = ss.state;
    if (ss.expires !== undefined && ss.state !== 'terminated') this.granted(ss.expires);
    this.events.onNotify?.(notify, ss);
    if (ss.state === 'terminated') this.end(ss.reason ?? 'terminated');
  }

  #clear(): void {
    const clock = this.#c.o.clock;
    if (this.#refresh) clock.clearTimer(this.#refresh);
    if (this.#expire) clock.clearTimer(this.#expire);
    this.#refresh = this.#expire = undefined;
  }

  /** Ends the subscription (no request sent); its dialog ends with it when it was its only use. */
  end(reason: string, response?: SipResponse): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.#clear();
    if (this.#timerN) this.#c.o.clock.clearTimer(this.#timerN);
    this.#timerN = undefined;
    pending(this.#c).delete(pendingKey(this.request));
    const s = this.session;
    if (s && s.subscriptions.get(this.key) === this) {
      s.subscriptions.delete(this.key);
      if (s.usage === 'subscription' && s.subscriptions.size === 0) {
        this.#c.terminate(s, 'subscription-ended');
      }
    }
    this.events.onTerminated?.(reason, response);
  }
}

function pendingKey(request: SipRequest): string {
  return `${request.headers.callId() ?? ''}\n${request.headers.from()?.tag ?? ''}`;
}

/** RFC 6665 §4.1.2.1: sends an initial SUBSCRIBE outside any dialog. */
export function subscribe(
  c: LayerContext,
  o: SubscribeOptions,
  events: ClientSubscriptionEvents,
): ClientSubscription {
  const expires = o.expires ?? 3600;
  const request = createRequest({
    method: 'SUBSCRIBE',
    uri: o.uri,
    from: `${o.from};tag=${generateTag()}`,
    to: o.to,
    callId: generateCallId(c.o.local.via.host),
    cseq: 1 + Math.floor(c.random() * 10_000),
    via: { ...c.o.local.via, branch: generateBranch() },
    contact: c.o.local.contact,
    headers: [['Event', o.event], ['Expires', String(expires)], ...(o.headers ?? [])],
    ...(o.body !== undefined && { body: o.body }),
    ...(o.contentType !== undefined && { contentType: o.contentType }),
  });
  const sub = new ClientSubscription(
    c,
    { event: o.event, id: undefined, request, expires },
    events,
  );
  pending(c).set(pendingKey(request), sub);
  c.send(request, {
    onResponse: (r) => {
      if (r.status < 200 || sub.state === 'terminated') return;
      pending(c).delete(pendingKey(request));
      if (r.status >= 300) {
        // A NOTIFY may have made the dialog already; a failed SUBSCRIBE still ends it.
        sub.end('rejected', r);
        return;
      }
      // RFC 6665 §4.1.2.1: a 2xx creates the dialog (unless a NOTIFY did first).
      if (!sub.session && r.headers.to()?.tag !== undefined && r.headers.contact().length > 0) {
        const session = c.add(Dialog.uac(request, r));
        session.usage = 'subscription';
        session.subscriptions.set(sub.key, sub);
        sub.session = session;
      }
      if (sub.state === 'init') sub.state = 'pending';
      sub.granted(r.headers.expires() ?? expires);
      sub.armTimerN();
    },
    onError: () => sub.end('timeout'),
  });
  return sub;
}

/**
 * A NOTIFY with a To tag whose dialog we do not know yet: RFC 6665 §4.1.2.4, the NOTIFY of a
 * SUBSCRIBE still waiting for its 2xx creates the dialog. Returns the session, or undefined.
 */
export function dialogFromNotify(c: LayerContext, request: SipRequest): DialogSession | undefined {
  if (request.method !== 'NOTIFY') return undefined;
  const key = `${request.headers.callId() ?? ''}\n${request.headers.to()?.tag ?? ''}`;
  const sub = pending(c).get(key);
  const event = parseEvent(request);
  if (!sub || !event || event.type !== sub.event.toLowerCase()) return undefined;
  if (request.headers.contact().length !== 1) return undefined;
  pending(c).delete(key);
  const session = c.add(Dialog.fromNotify(sub.request, request));
  session.usage = 'subscription';
  session.subscriptions.set(sub.key, sub);
  sub.session = session;
  return session;
}

/**
 * RFC 6665 §4.1.3: a NOTIFY in a dialog. "If the NOTIFY request [has no] Subscription-State
 * header field, the subscriber [rejects it with] 400"; one that matches no subscription gets
 * 481; otherwise 200.
 */
export function onNotify(c: LayerContext, session: DialogSession, incoming: IncomingRequest): void {
  const { request } = incoming;
  const event = parseEvent(request);
  const ss = parseSubscriptionState(request);
  if (!event || !ss) {
    c.counters.badRequests++;
    c.reply(incoming, 400);
    return;
  }
  const sub = findClient(session, event);
  if (!sub) {
    c.counters.unknownDialog++;
    c.reply(incoming, 481);
    return;
  }
  c.reply(incoming, 200);
  sub.notified(request, ss);
}

/**
 * The subscription a NOTIFY is for: its event and id; a NOTIFY without an id matches the one
 * subscription of its event (RFC 3515 §2.4.6: the id may be left out for a dialog's only REFER).
 */
function findClient(session: DialogSession, event: EventValue): ClientSubscription | undefined {
  const exact = session.subscriptions.get(subscriptionKey(event.type, event.id));
  if (exact instanceof ClientSubscription && exact.state !== 'terminated') return exact;
  if (event.id !== undefined) return undefined;
  for (const s of session.subscriptions.values()) {
    if (s instanceof ClientSubscription && s.event === event.type && s.state !== 'terminated') {
      return s;
    }
  }
  return undefined;
}

// --- notifier ------------------------------------------------------------------------------------

export interface NotifyOptions extends Payload {
  /** Default `active`. `terminated` ends the subscription. */
  readonly state?: 'active' | 'pending' | 'terminated';
  /** With `terminated` (RFC 6665 §4.1.3: noresource, timeout, rejected, deactivated, …). */
  readonly reason?: string;
}

/** A subscription we serve (a SUBSCRIBE we accepted, or the implicit one of a REFER). */
export class ServerSubscription implements DialogUsage {
  readonly event: string;
  readonly id: string | undefined;
  readonly request: SipRequest;
  session: DialogSession | undefined;
  state: 'init' | 'pending' | 'active' | 'terminated' = 'init';
  /** Responses to our NOTIFYs, in order. */
  readonly notifyResults: number[] = [];
  /** The app hears refreshes (after the layer re-NOTIFYs the last state) and the end. */
  onRefresh: ((expires: number) => void) | undefined;
  onTerminated: ((reason: string) => void) | undefined;
  readonly #c: LayerContext;
  readonly #incoming: IncomingRequest;
  #expiresAt = 0;
  #timer: TimerHandle | undefined;
  #last: NotifyOptions = {};
  #answered = false;

  constructor(c: LayerContext, incoming: IncomingRequest, event: EventValue) {
    this.#c = c;
    this.#incoming = incoming;
    this.request = incoming.request;
    this.event = event.type;
    this.id = event.id;
  }

  get key(): string {
    return subscriptionKey(this.event, this.id);
  }

  /** Seconds the subscription still runs. */
  get remaining(): number {
    return Math.max(0, Math.ceil((this.#expiresAt - this.#c.o.clock.now()) / 1000));
  }

  /**
   * Accepts an initial SUBSCRIBE: 200 with Expires (RFC 6665 §4.2.1.1: the notifier "MAY
   * shorten" it, never lengthen), the dialog as UAS (§12.1.1). Then NOTIFY at once (§4.2.1.2:
   * "the notifier MUST immediately send a NOTIFY").
   */
  accept(o: { expires?: number; status?: 200 | 202; notify?: NotifyOptions } = {}): DialogSession {
    if (this.#answered) throw new TfxError('bad-request', 'the SUBSCRIBE is answered already');
    this.#answered = true;
    const asked = this.request.headers.expires() ?? 3600;
    const expires = Math.min(asked, o.expires ?? asked);
    const toTag = this.request.headers.to()?.tag ?? generateTag();
    const response = createResponse(this.request, o.status ?? 200, undefined, {
      toTag,
      headers: [
        ['Contact', this.#c.o.local.contact],
        ['Expires', String(expires)],
      ],
    });
    const session = this.#c.add(Dialog.uas(this.request, toTag, 200));
    session.usage = 'subscription';
    this.attach(session, expires);
    this.#c.sendResponse(response, this.#incoming.transaction, this.#incoming.ctx);
    this.notify(
      expires === 0 ? { ...o.notify, state: 'terminated', reason: 'timeout' } : (o.notify ?? {}),
    );
    return session;
  }

  reject(status = 403): void {
    if (this.#answered) return;
    this.#answered = true;
    this.#c.reply(this.#incoming, status);
  }

  /** Joins the dialog `session` for `expires` seconds (accept, or REFER's 202). */
  attach(session: DialogSession, expires: number): void {
    this.session = session;
    session.subscriptions.set(this.key, this);
    this.state = 'pending';
    this.#arm(expires);
  }

  /** An in-dialog SUBSCRIBE refreshing (or, with Expires 0, ending) this subscription. */
  refreshed(incoming: IncomingRequest): void {
    const asked = incoming.request.headers.expires() ?? 3600;
    this.#c.reply(incoming, 200, { headers: [['Expires', String(asked)]] });
    if (asked === 0) {
      // RFC 6665 §4.2.1.4 (unsubscribe): a final NOTIFY with "terminated".
      this.notify({ ...this.#last, state: 'terminated', reason: 'timeout' });
      return;
    }
    this.#arm(asked);
    // §4.2.1.2: "Upon successfully accepting or refreshing a subscription, notifiers MUST send
    // a NOTIFY request immediately to communicate the current resource state".
    this.notify(this.#last);
    this.onRefresh?.(asked);
  }

  /** Sends a NOTIFY (§4.2.2) with the subscription's state and `body`. */
  notify(o: NotifyOptions = {}): void {
    const s = this.session;
    if (this.state === 'terminated' || !s || s.state === 'terminated') return;
    const state = o.state ?? 'active';
    if (state !== 'terminated') this.#last = o;
    const value =
      state === 'terminated'
        ? `terminated${o.reason ? `;reason=${o.reason}` : ''}`
        : `${state};expires=${this.remaining}`;
    if (state !== 'terminated') this.state = state;
    this.#c.ops.sendInDialog(
      s,
      'NOTIFY',
      {
        ...o,
        headers: [
          ['Event', eventHeader(this.event, this.id)],
          ['Subscription-State', value],
          ...(o.headers ?? []),
        ],
      },
      (r) => {
        this.notifyResults.push(r.status);
        // RFC 6665 §4.2.2: "a 481 [...] the notifier MUST remove the corresponding subscription".
        if (r.status === 481) this.end('rejected');
      },
    );
    if (state === 'terminated') this.end(o.reason ?? 'terminated');
  }

  #arm(seconds: number): void {
    const clock = this.#c.o.clock;
    if (this.#timer) clock.clearTimer(this.#timer);
    this.#expiresAt = clock.now() + seconds * 1000;
    if (seconds === 0) return;
    // §4.2.2: when a subscription expires, "the notifier SHOULD send a NOTIFY [...]
    // 'terminated' [with] reason 'timeout'".
    this.#timer = clock.setTimer(seconds * 1000, () => {
      this.#timer = undefined;
      this.notify({ ...this.#last, state: 'terminated', reason: 'timeout' });
    });
  }

  /** Ends the subscription without sending; its dialog ends with it when it was its only use. */
  end(reason: string): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    if (this.#timer) this.#c.o.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    const s = this.session;
    if (s && s.subscriptions.get(this.key) === this) {
      s.subscriptions.delete(this.key);
      if (s.usage === 'subscription' && s.subscriptions.size === 0 && s.state !== 'terminated') {
        this.#c.terminate(s, 'subscription-ended');
      }
    }
    this.onTerminated?.(reason);
  }
}

/**
 * RFC 6665 §4.2.1.1: an initial SUBSCRIBE. "If the notifier does not support the event package
 * [...] it MUST respond with 489 (Bad Event)" and an Allow-Events header listing those it does.
 */
export function onSubscribe(
  c: LayerContext,
  incoming: IncomingRequest,
  known: readonly string[],
  handler: ((sub: ServerSubscription) => void) | undefined,
): void {
  const event = parseEvent(incoming.request);
  if (!event || !handler || !known.some((k) => k.toLowerCase() === event.type)) {
    c.counters.badEvent++;
    c.reply(
      incoming,
      489,
      known.length > 0 ? { headers: [['Allow-Events', known.join(', ')]] } : {},
    );
    return;
  }
  if (
    incoming.request.headers.from()?.tag === undefined ||
    incoming.request.headers.contact().length !== 1
  ) {
    c.counters.badRequests++;
    c.reply(incoming, 400);
    return;
  }
  handler(new ServerSubscription(c, incoming, event));
}

/** An in-dialog SUBSCRIBE: a refresh or unsubscribe of a subscription we serve, else 481. */
export function onSubscribeInDialog(
  c: LayerContext,
  session: DialogSession,
  incoming: IncomingRequest,
): void {
  const event = parseEvent(incoming.request);
  const sub = event && session.subscriptions.get(subscriptionKey(event.type, event.id));
  if (!(sub instanceof ServerSubscription) || sub.state === 'terminated') {
    c.reply(incoming, event ? 481 : 489);
    return;
  }
  sub.refreshed(incoming);
}

/** Ends every subscription of a dialog that ends (no requests sent). */
export function endSubscriptions(session: DialogSession, reason: string): void {
  for (const sub of [...session.subscriptions.values()]) sub.end(reason);
}

export type AnySubscription = ClientSubscription | ServerSubscription;
