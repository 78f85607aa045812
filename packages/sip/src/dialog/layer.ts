/**
 * The dialog layer (RFC 3261 §12–§15): the transaction user that creates dialogs from INVITE
 * and its responses, keeps them in a table by dialog id, and runs what the UA core owns above
 * the transactions. Pure: sends through the functions it is given and times on the injected
 * clock. This file routes; the work is in its modules:
 *
 *   uac.ts        initial INVITE, forking, ACK of each 2xx (§13.2.2.4), CANCEL (§9.1), PRACK out
 *   uas.ts        INVITE answered by the app, 2xx until ACK (§13.3.1.4), reliable 1xx (RFC 3262)
 *   in-dialog.ts  BYE (§15), re-INVITE with glare (§14), UPDATE (RFC 3311), other methods
 *
 *   TransactionLayer ──onRequest/onStrayResponse──▶ DialogLayer ──▶ Dialog (+ its timers)
 *   app ──invite()/Dialog ops──▶ DialogLayer ──sendRequest / sendStateless──▶ transactions/transport
 */
import { TfxError } from '@tfx/protocol';
import { createResponse, type SipRequest, type SipResponse } from '../syntax/index.js';
import type {
  AnyClientTransaction,
  AnyServerTransaction,
  ClientTransactionListener,
  IncomingRequest,
  TransactionContext,
  TransactionUser,
} from '../transaction/index.js';
import type {
  DialogCoreOptions,
  DialogCounters,
  LayerContext,
  TerminateReason,
} from './context.js';
import { Dialog, dialogKey, incomingDialogId } from './dialog.js';
import { onInDialogRequest, sendBye, sendInDialog, sendReinvite, sendUpdate } from './in-dialog.js';
import {
  DialogSession,
  type AckOptions,
  type ClientInvite,
  type ClientInviteEvents,
  type DialogOps,
  type InviteOptions,
  type Payload,
  type ServerInvite,
} from './session.js';
import { stop as stopSessionTimer } from './session-timer.js';
import {
  onStrayResponse,
  sendCancel,
  sendDeferredAck,
  sendInvite,
  sendOutOfDialog,
} from './uac.js';
import { onAck, onCancel, onInitialInvite, respondInvite } from './uas.js';

import {
  findReplaced,
  onRefer,
  parseReplaces,
  sendRefer,
  type IncomingRefer,
  type ReferEvents,
} from './refer.js';
import {
  dialogFromNotify,
  endSubscriptions,
  onNotify,
  onSubscribe,
  onSubscribeInDialog,
  subscribe,
  type ClientSubscription,
  type ClientSubscriptionEvents,
  type ServerSubscription,
  type SubscribeOptions,
} from './subscription.js';

export type { DialogCounters, DialogCoreOptions } from './context.js';

/** The dialog layer's options: what it needs from below and the app's handlers. */
export interface DialogLayerOptions extends DialogCoreOptions {
  /** Event packages we notify for (RFC 6665); a SUBSCRIBE for another gets 489. */
  readonly events?: readonly string[];
  /** A SUBSCRIBE for one of `events`: `sub.accept()` then `sub.notify()`, or `sub.reject()`. */
  readonly onSubscribe?: (sub: ServerSubscription) => void;
  /** A REFER in a dialog (RFC 3515): `refer.accept()` then `refer.notify(status)`. Else 501. */
  readonly onRefer?: (refer: IncomingRefer) => void;
}

/** An out-of-dialog request (OPTIONS, MESSAGE, …; §8.1.1). */
export interface OutOfDialogRequest extends Payload {
  readonly method: string;
  readonly uri: string;
  readonly from: string;
  readonly to: string;
  readonly callId?: string;
}

export class DialogLayer implements TransactionUser, DialogOps {
  readonly dialogs = new Map<string, DialogSession>();
  readonly counters: DialogCounters = {
    unknownDialog: 0,
    outOfOrder: 0,
    badExtension: 0,
    glare: 0,
    badRequests: 0,
    okRetransmits: 0,
    ackRetransmits: 0,
    badEvent: 0,
    tooBrief: 0,
    sessionRefreshes: 0,
    sessionExpired: 0,
  };
  readonly #o: DialogLayerOptions;
  readonly #supported: ReadonlySet<string>;
  readonly #c: LayerContext;
  #closed = false;

  constructor(options: DialogLayerOptions) {
    this.#o = options;
    this.#supported = new Set((options.supported ?? []).map((t) => t.toLowerCase()));
    const supported = this.#supported;
    this.#c = {
      o: options,
      counters: this.counters,
      dialogs: this.dialogs,
      supported,
      random: options.random ?? Math.random,
      ownCallIds: new Set(),
      unanswered: new Map(),
      ops: this,
      add: (d) => this.#add(d),
      terminate: (s, r) => this.#terminate(s, r),
      reply: (i, status, payload) => this.#reply(i, status, payload),
      sendResponse: (r, tx, ctx) => this.#sendResponse(r, tx, ctx),
      send: (req, listener) => this.#send(req, listener),
      supportedHeader: () =>
        supported.size > 0 ? [['Supported', [...supported].join(', ')] as const] : [],
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Where this UA sends from (Via sent-by, Contact). */
  get local(): DialogCoreOptions['local'] {
    return this.#o.local;
  }

  // --- what the app and the session objects call ----------------------------------------------

  /** Sends an initial INVITE (§13.2.1); responses fork into dialogs by To tag. */
  invite(o: InviteOptions, events: ClientInviteEvents = {}): ClientInvite {
    this.#open();
    return sendInvite(this.#c, o, events);
  }

  sendCancel(invite: ClientInvite): void {
    sendCancel(this.#c, invite);
  }

  sendBye(
    session: DialogSession,
    payload: Payload,
    onResponse?: (r: SipResponse) => void,
    reason?: TerminateReason,
  ): void {
    sendBye(this.#c, session, payload, onResponse, reason);
  }

  sendInDialog(
    session: DialogSession,
    method: string,
    payload: Payload,
    onResponse?: (r: SipResponse) => void,
  ): void {
    sendInDialog(this.#c, session, method, payload, onResponse);
  }

  sendReinvite(
    session: DialogSession,
    payload: Payload,
    onResult?: (r: SipResponse) => void,
    o?: AckOptions,
  ): void {
    sendReinvite(this.#c, session, payload, onResult, o);
  }

  sendDeferredAck(session: DialogSession, payload: Payload): void {
    sendDeferredAck(this.#c, session, payload);
  }

  sendUpdate(session: DialogSession, payload: Payload, onResult?: (r: SipResponse) => void): void {
    sendUpdate(this.#c, session, payload, onResult);
  }

  respondInvite(
    invite: ServerInvite,
    status: number,
    payload: Payload,
    toTag?: string,
  ): DialogSession | undefined {
    return respondInvite(this.#c, invite, status, payload, toTag);
  }

  /** RFC 3515: REFER in a confirmed dialog; its NOTIFYs report the transfer's progress. */
  refer(
    session: DialogSession,
    referTo: string,
    events: ReferEvents = {},
    payload: Payload = {},
  ): ClientSubscription {
    this.#open();
    return sendRefer(this.#c, session, referTo, events, payload);
  }

  /** RFC 6665 §4.1.2.1: a SUBSCRIBE outside any dialog; NOTIFYs arrive on `events`. */
  subscribe(o: SubscribeOptions, events: ClientSubscriptionEvents = {}): ClientSubscription {
    this.#open();
    return subscribe(this.#c, o, events);
  }

  /** §8.1.1: a request outside any dialog (OPTIONS, MESSAGE, …); final response to `onResponse`. */
  request(o: OutOfDialogRequest, onResponse?: (r: SipResponse | undefined) => void): SipRequest {
    this.#open();
    return sendOutOfDialog(this.#c, o, onResponse);
  }

  // --- what the transaction layer calls ---------------------------------------------------------

  onStrayResponse(response: SipResponse): void {
    onStrayResponse(this.#c, response);
  }

  onRequest(incoming: IncomingRequest): void {
    const { request } = incoming;
    if (this.#closed) return;
    // §8.2.2.3: "If a UAS does not understand an option-tag listed in a Require header field, it
    // MUST respond by generating a response with status code 420 (Bad Extension). The UAS MUST
    // add an Unsupported header field, and list in it those options it does not understand
    // amongst those in the Require header field of the request." (not for ACK or CANCEL)
    if (request.method !== 'ACK' && request.method !== 'CANCEL') {
      const unsupported = request.headers
        .getAll('require')
        .map((t) => t.trim())
        .filter((t) => t !== '' && !this.#supported.has(t.toLowerCase()));
      if (unsupported.length > 0) {
        this.counters.badExtension++;
        this.#reply(incoming, 420, { headers: [['Unsupported', unsupported.join(', ')]] });
        return;
      }
    }
    if (request.method === 'CANCEL') {
      onCancel(this.#c, incoming);
      return;
    }
    const id = incomingDialogId(request);
    if (id === undefined || request.headers.to()?.tag === undefined) {
      this.#outOfDialog(incoming);
      return;
    }
    const session = this.dialogs.get(dialogKey(id)) ?? dialogFromNotify(this.#c, request);
    if (!session) {
      if (request.method === 'ACK') return; // §17: an ACK for nothing we know is dropped.
      // §12.2.2: "If the UAS wishes to reject the request because it does not wish to recreate
      // the dialog, it MUST respond to the request with a 481 (Call/Transaction Does Not Exist)".
      this.counters.unknownDialog++;
      this.#reply(incoming, 481);
      return;
    }
    if (request.method === 'ACK') {
      onAck(this.#c, session, request);
      return;
    }
    if (!session.dialog.acceptRemoteSeq(request)) {
      this.counters.outOfOrder++;
      this.#reply(incoming, 500, { headers: [['Retry-After', '1']] });
      return;
    }
    if (request.method === 'NOTIFY') onNotify(this.#c, session, incoming);
    else if (request.method === 'SUBSCRIBE') onSubscribeInDialog(this.#c, session, incoming);
    else if (request.method === 'REFER') onRefer(this.#c, session, incoming, this.#o.onRefer);
    else onInDialogRequest(this.#c, session, incoming);
  }

  #outOfDialog(incoming: IncomingRequest): void {
    const { request } = incoming;
    if (request.method === 'ACK') return;
    if (request.method === 'INVITE') {
      const replaces = this.#replaces(incoming);
      if (replaces !== false) onInitialInvite(this.#c, incoming, replaces);
      return;
    }
    if (request.method === 'SUBSCRIBE') {
      onSubscribe(this.#c, incoming, this.#o.events ?? [], this.#o.onSubscribe);
      return;
    }
    if (request.method === 'BYE') {
      this.counters.unknownDialog++;
      this.#reply(incoming, 481);
      return;
    }
    if (this.#o.onRequest) this.#o.onRequest(incoming);
    else this.#reply(incoming, 405, { headers: [['Allow', ALLOW]] });
  }

  /**
   * RFC 3891 §3: an INVITE with Replaces names a dialog of ours, or is refused (400 malformed,
   * 481 no such dialog, 486 early-only on a confirmed one). False when it was answered.
   */
  #replaces(incoming: IncomingRequest): DialogSession | undefined | false {
    const values = incoming.request.headers.getAll('replaces');
    if (values.length === 0) return undefined;
    const r = values.length === 1 ? parseReplaces(values[0] as string) : undefined;
    if (!r) {
      this.counters.badRequests++;
      this.#reply(incoming, 400);
      return false;
    }
    const found = findReplaced(this.#c, r);
    if ('status' in found) {
      if (found.status === 481) this.counters.unknownDialog++;
      this.#reply(incoming, found.status);
      return false;
    }
    return found.session;
  }

  // --- primitives the modules share ----------------------------------------------------------------

  #send(request: SipRequest, listener: ClientTransactionListener): AnyClientTransaction {
    return this.#o.sendRequest(request, this.#o.targetOf(Dialog.nextHopUri(request)), listener);
  }

  #sendResponse(
    response: SipResponse,
    tx: AnyServerTransaction | undefined,
    ctx: TransactionContext,
  ): void {
    if (tx && !tx.terminated) {
      // RFC 6026 §7.1: ACKs for the 2xx reach the TU through the transaction in Accepted.
      if (tx.kind === 'invite-server' && response.status >= 200 && response.status < 300) {
        const prior = tx.listener;
        tx.listener = {
          ...prior,
          onAck: (ack) => this.onRequest({ request: ack, ctx, transaction: undefined }),
        };
      }
      tx.respond(response);
    } else this.#o.sendStateless(response, ctx);
  }

  #reply(incoming: IncomingRequest, status: number, payload: Payload = {}): void {
    const response = createResponse(incoming.request, status, undefined, {
      ...(payload.headers !== undefined && { headers: payload.headers }),
      ...(payload.body !== undefined && { body: payload.body }),
      ...(payload.contentType !== undefined && { contentType: payload.contentType }),
    });
    this.#sendResponse(response, incoming.transaction, incoming.ctx);
  }

  // --- table ---------------------------------------------------------------------------------------

  #add(dialog: Dialog): DialogSession {
    const s = new DialogSession(this, dialog);
    this.dialogs.set(dialog.key, s);
    return s;
  }

  #terminate(session: DialogSession, reason: TerminateReason): PromiseLike<unknown> | undefined {
    if (session.state === 'terminated') return undefined;
    session.dialog.terminate();
    if (session.pendingAck?.timer) this.#o.clock.clearTimer(session.pendingAck.timer);
    session.pendingAck = undefined;
    if (session.retryTimer) this.#o.clock.clearTimer(session.retryTimer);
    session.retryTimer = undefined;
    if (session.ackDue) this.#o.clock.clearTimer(session.ackDue.timer);
    session.ackDue = undefined;
    stopSessionTimer(this.#c, session);
    this.dialogs.delete(session.dialog.key);
    endSubscriptions(session, 'dialog-ended');
    const done: unknown = session.events.onTerminated?.(reason);
    if (!isThenable(done)) return undefined;
    // The owner's failure is its own (it logs it); only the wait matters here (in-dialog.ts).
    done.then(undefined, () => undefined);
    return done;
  }

  #open(): void {
    if (this.#closed) throw new TfxError('shutting-down', 'the dialog layer is closed');
  }

  /** Ends every dialog without sending (a BYE is the owner's decision, before close). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.dialogs.values()]) this.#terminate(s, 'closed');
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

const ALLOW =
  'INVITE, ACK, CANCEL, BYE, INFO, UPDATE, PRACK, OPTIONS, REFER, SUBSCRIBE, NOTIFY, MESSAGE';
