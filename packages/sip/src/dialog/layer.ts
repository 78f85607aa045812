/**
 * The dialog layer (RFC 3261 §12–§15): the transaction user that creates dialogs from INVITE
 * and its responses, keeps them in a table by dialog id, and runs what the UA core owns above
 * the transactions: the UAS's 2xx retransmissions until the ACK (§13.3.1.4), the UAC's ACK for
 * each 2xx and its retransmission (§13.2.2.4), BYE (§15), re-INVITE with glare (§14), and the
 * 420 for an unsupported `Require` (§8.2.2.3). Pure: sends through the functions it is given and
 * times on the injected clock.
 *
 *   TransactionLayer ──onRequest/onStrayResponse──▶ DialogLayer ──▶ Dialog (+ its timers)
 *   app ──invite()/Dialog ops──▶ DialogLayer ──sendRequest / sendStateless──▶ transactions/transport
 */
import { TfxError } from '@tfx/protocol';
import {
  createRequest,
  createResponse,
  generateBranch,
  generateCallId,
  generateTag,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type Uri,
} from '../syntax/index.js';
import type { Clock, TimerHandle } from '../time/index.js';
import type {
  AnyClientTransaction,
  AnyServerTransaction,
  ClientTransactionListener,
  IncomingRequest,
  TimerConfig,
  TransactionContext,
  TransactionUser,
} from '../transaction/index.js';
import { buildCancel } from '../transaction/index.js';
import { Dialog, dialogKey, incomingDialogId, type LocalParty } from './dialog.js';
import { hasOptionTag, parseRAck, parseRSeq } from './prack.js';
import {
  ClientInvite,
  DialogSession,
  ServerInvite,
  type ClientInviteEvents,
  type DialogEvents,
  type DialogOps,
  type InviteOptions,
  type Payload,
  type PendingAck,
} from './session.js';

/** What the dialog layer needs from below. */
export interface DialogLayerOptions {
  readonly clock: Clock;
  readonly timers: Pick<TimerConfig, 'T1' | 'T2'>;
  /** A request in a new client transaction (the transaction layer's or the stack's `sendRequest`). */
  readonly sendRequest: (
    request: SipRequest,
    target: TransactionContext,
    listener: ClientTransactionListener,
  ) => AnyClientTransaction;
  /** A message outside any transaction: the ACK of a 2xx, 2xx retransmissions after Timer L. */
  readonly sendStateless: (message: SipMessage, target: TransactionContext) => void;
  /** The transport target of a URI (the first Route or the Request-URI, §8.1.2). */
  readonly targetOf: (uri: Uri) => TransactionContext;
  readonly local: LocalParty;
  /** Option tags this UA supports (§8.2.2.3); a `Require` of anything else gets 420. */
  readonly supported?: readonly string[];
  /** Random number in [0, 1) for the §14.1 glare timers (injected so tests are deterministic). */
  readonly random?: () => number;
  /** A new out-of-dialog INVITE (the app answers it). Without one, INVITEs get 480. */
  readonly onInvite?: (invite: ServerInvite) => void;
  /** Any other out-of-dialog request. Without one: 405 (§8.2.1). */
  readonly onRequest?: (incoming: IncomingRequest) => void;
}

export interface DialogCounters {
  /** In-dialog requests whose dialog does not exist (§12.2.2: 481). */
  unknownDialog: number;
  /** §12.2.2: requests with a lower CSeq than the dialog's remote CSeq (500). */
  outOfOrder: number;
  /** §8.2.2.3: 420 Bad Extension sent. */
  badExtension: number;
  /** §14.2: 491 sent. */
  glare: number;
  /** Initial INVITEs that cannot create a dialog (no From tag, no single Contact): 400. */
  badRequests: number;
  /** 2xx retransmissions sent (§13.3.1.4). */
  okRetransmits: number;
  /** ACKs resent for retransmitted 2xx (§13.2.2.4). */
  ackRetransmits: number;
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
  };
  readonly #o: DialogLayerOptions;
  readonly #supported: ReadonlySet<string>;
  readonly #random: () => number;
  /** Call-IDs this UA generated: §14.1's "owner of the Call-ID". */
  readonly #ownCallIds = new Set<string>();
  /** Initial INVITEs we received and have not answered finally, by transaction (for CANCEL). */
  readonly #unanswered = new Map<AnyServerTransaction, ServerInvite>();
  #closed = false;

  constructor(options: DialogLayerOptions) {
    this.#o = options;
    this.#supported = new Set((options.supported ?? []).map((t) => t.toLowerCase()));
    this.#random = options.random ?? Math.random;
  }

  get closed(): boolean {
    return this.#closed;
  }

  // --- UAC -------------------------------------------------------------------------------------

  /** Sends an initial INVITE (§13.2.1); responses fork into dialogs by To tag. */
  invite(o: InviteOptions, events: ClientInviteEvents = {}): ClientInvite {
    this.#open();
    const callId = o.callId ?? generateCallId(this.#o.local.via.host);
    this.#ownCallIds.add(callId);
    const request = createRequest({
      method: 'INVITE',
      uri: o.uri,
      from: `${o.from};tag=${generateTag()}`,
      to: o.to,
      callId,
      // §8.1.1.5: "The sequence number value MUST be expressible as a 32-bit unsigned integer
      // and MUST be less than 2**31."
      cseq: 1 + Math.floor(this.#random() * 10_000),
      via: { ...this.#o.local.via, branch: generateBranch() },
      contact: this.#o.local.contact,
      headers: [...this.#supportedHeader(), ...(o.headers ?? [])],
      ...(o.body !== undefined && { body: o.body }),
      ...(o.contentType !== undefined && { contentType: o.contentType }),
    });
    // The transaction reports before `new ClientInvite` returns only in theory; the holder is set next.
    const h: { invite?: ClientInvite } = {};
    const tx = this.#o.sendRequest(request, this.#o.targetOf(Dialog.nextHopUri(request)), {
      onResponse: (r) => h.invite && this.#onInviteResponse(h.invite, r, events),
      onError: (e) => {
        if (h.invite && !h.invite.final) {
          this.#endEarly(h.invite);
          events.onFailed?.(undefined, e);
        }
      },
      onTerminated: () => h.invite && this.#endEarly(h.invite),
    });
    const invite = new ClientInvite(request, tx, this);
    h.invite = invite;
    return invite;
  }

  #onInviteResponse(invite: ClientInvite, r: SipResponse, events: ClientInviteEvents): void {
    const tag = r.headers.to()?.tag;
    if (r.status < 200) {
      invite.provisional = true;
      if (invite.cancelRequested) this.sendCancel(invite);
      let session: DialogSession | undefined;
      // §12.1.2: "A 1xx response [with a To tag] may create an early dialog" (not 100).
      if (r.status > 100 && tag !== undefined && r.headers.contact().length > 0) {
        session = invite.dialogs.get(tag);
        if (!session) {
          session = this.#add(Dialog.uac(invite.request, r));
          invite.dialogs.set(tag, session);
        }
        const rseq = parseRSeq(r);
        if (hasOptionTag(r, 'require', '100rel') && rseq !== undefined) {
          // RFC 3262 §4: "If the UAC receives another reliable provisional response to the same
          // request, and its RSeq value is not one higher than the value of the sequence number,
          // that response MUST NOT be acknowledged with a PRACK, and MUST NOT be processed
          // further by the UAC core." A retransmission (the same RSeq) is dropped too: our PRACK's
          // own transaction retransmits it until the UAS answers.
          const last = invite.rseqs.get(tag);
          if (last !== undefined && rseq !== last + 1) return;
          invite.rseqs.set(tag, rseq);
          // RFC 3262 §7.2: "RAck: response-num CSeq-num Method" of the response acknowledged.
          const cseq = invite.request.headers.cseq()?.seq ?? 0;
          session.request('PRACK', { headers: [['RAck', `${rseq} ${cseq} INVITE`]] });
        }
      }
      events.onProgress?.(r, session);
      return;
    }
    if (r.status < 300) {
      if (tag === undefined || r.headers.contact().length === 0) return;
      let session = invite.dialogs.get(tag);
      const isRetransmit = session?.lastAck !== undefined;
      if (isRetransmit && session) {
        this.#resendAck(session);
        return;
      }
      // An early dialog that ended (a 481 to its PRACK, say) is made anew by the 2xx (§12.1.2).
      if (!session || session.state === 'terminated') {
        session = this.#add(Dialog.uac(invite.request, r));
        invite.dialogs.set(tag, session);
      } else session.dialog.confirm(r);
      this.#sendAck(session, invite.request, r);
      if (invite.accepted === undefined && !invite.cancelRequested) {
        invite.final = r;
        invite.accepted = session;
        events.onAccepted?.(session, r);
      } else {
        // §13.2.2.4: "If, after acknowledging any 2xx response to an INVITE, the UAC does not
        // want to continue with that dialog, then the UAC MUST terminate the dialog by sending a
        // BYE request". A second fork's 2xx (we keep the first call), or a 2xx that crossed our
        // CANCEL (§9.1: the CANCEL has no effect on a request that got its final response).
        if (invite.final === undefined) invite.final = r;
        session.bye();
        if (invite.accepted === undefined) events.onFailed?.(r);
      }
      return;
    }
    // §13.2.2.3: a non-2xx final response ends every early dialog of the INVITE.
    invite.final = r;
    this.#endEarly(invite);
    events.onFailed?.(r);
  }

  /**
   * §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent;
   * rather, the client MUST wait for the arrival of a provisional response before sending the
   * request. If the original request has generated a final response, the CANCEL SHOULD NOT be
   * sent". The CANCEL goes to the INVITE's target in its own transaction.
   */
  sendCancel(invite: ClientInvite): void {
    if (!invite.cancelRequested || invite.cancelSent || invite.final !== undefined) return;
    if (!invite.provisional) return; // sent from #onInviteResponse when the first 1xx arrives
    invite.cancelSent = true;
    this.#o.sendRequest(buildCancel(invite.request), invite.transaction.target, {
      onResponse: () => {},
    });
  }

  #endEarly(invite: ClientInvite): void {
    for (const s of invite.dialogs.values()) {
      if (s.state === 'early') this.#terminate(s, 'failed');
    }
  }

  /**
   * §13.2.2.4: "The UAC core MUST generate an ACK request for each 2xx received from the
   * transaction layer. The header fields of the ACK are constructed in the same way as for any
   * request sent within a dialog [...] with the exception of the CSeq and the header fields
   * related to authentication. The sequence number of the CSeq header field MUST be the same as
   * the INVITE being acknowledged, but the CSeq method MUST be ACK." The ACK goes to the
   * transport directly, and is kept to answer retransmissions of the 2xx.
   */
  #sendAck(
    session: DialogSession,
    invite: SipRequest,
    response: SipResponse,
    payload: Payload = {},
  ): void {
    const cseq = invite.headers.cseq()?.seq ?? 0;
    const ack = session.dialog.createRequest('ACK', this.#o.local, { ...payload, cseq });
    session.lastAck = { cseq, ack };
    void response;
    this.#o.sendStateless(ack, this.#o.targetOf(Dialog.nextHopUri(ack)));
  }

  #resendAck(session: DialogSession): void {
    if (!session.lastAck) return;
    this.counters.ackRetransmits++;
    const { ack } = session.lastAck;
    this.#o.sendStateless(ack, this.#o.targetOf(Dialog.nextHopUri(ack)));
  }

  /**
   * §13.2.2.4 / RFC 6026 §7.2: a 2xx retransmission after the INVITE client transaction is gone
   * reaches the core as a stray response: resend the ACK of its dialog.
   */
  onStrayResponse(response: SipResponse): void {
    const cseq = response.headers.cseq();
    if (!cseq || cseq.method !== 'INVITE' || response.status < 200 || response.status >= 300) {
      return;
    }
    const id = {
      callId: response.headers.callId() ?? '',
      localTag: response.headers.from()?.tag ?? '',
      remoteTag: response.headers.to()?.tag ?? '',
    };
    const session = this.dialogs.get(dialogKey(id));
    if (session?.lastAck?.cseq === cseq.seq) this.#resendAck(session);
  }

  // --- in-dialog requests we send ---------------------------------------------------------------

  sendBye(session: DialogSession, payload: Payload, onResponse?: (r: SipResponse) => void): void {
    if (session.state === 'terminated') return;
    // §15: "The caller's UA MAY send a BYE for either confirmed or early dialogs, and the
    // callee's UA MAY send a BYE on confirmed dialogs, but MUST NOT send a BYE on early dialogs."
    if (session.state === 'early' && session.dialog.role === 'uas') {
      throw new TfxError('bad-request', 'a UAS must not send BYE on an early dialog (§15)');
    }
    const bye = session.dialog.createRequest('BYE', this.#o.local, payload);
    this.#terminate(session, 'bye');
    this.#send(bye, { onResponse: (r) => r.status >= 200 && onResponse?.(r) });
  }

  sendInDialog(
    session: DialogSession,
    method: string,
    payload: Payload,
    onResponse?: (r: SipResponse) => void,
  ): void {
    const req = session.dialog.createRequest(method, this.#o.local, payload);
    this.#send(req, {
      onResponse: (r) => {
        if (r.status < 200) return;
        // §12.2.1.2: "If the response for a request within a dialog is a 481 (Call/Transaction
        // Does Not Exist) or a 408 (Request Timeout), the UAC SHOULD terminate the dialog."
        if (r.status === 481 || r.status === 408) this.#terminate(session, 'failed');
        else if (r.status < 300 && method === 'UPDATE') session.dialog.refreshTarget(r);
        onResponse?.(r);
      },
    });
  }

  sendReinvite(
    session: DialogSession,
    payload: Payload,
    onResult?: (r: SipResponse) => void,
  ): void {
    if (session.state !== 'confirmed') {
      throw new TfxError('bad-request', 're-INVITE needs a confirmed dialog');
    }
    // §14.1: "a UAC MUST NOT initiate a new INVITE transaction within a dialog while another
    // INVITE transaction is in progress in either direction."
    if (session.clientInvite !== undefined || session.serverInvite !== undefined) {
      throw new TfxError(
        'bad-request',
        'an INVITE transaction is in progress on this dialog (§14.1)',
      );
    }
    const req = session.dialog.createRequest('INVITE', this.#o.local, {
      ...payload,
      headers: [...this.#supportedHeader(), ...(payload.headers ?? [])],
    });
    session.clientInvite = this.#send(req, {
      onResponse: (r) => {
        if (r.status < 200) return;
        const seq = req.headers.cseq()?.seq;
        if (r.status < 300) {
          if (session.lastAck?.cseq === seq) {
            this.#resendAck(session);
            return;
          }
          session.clientInvite = undefined;
          session.dialog.refreshTarget(r);
          this.#sendAck(session, req, r);
        } else {
          session.clientInvite = undefined;
        }
        session.reinviteResults.push(r.status);
        if (r.status === 491) {
          // §14.1: "If a UAC receives a 491 response to a re-INVITE, it SHOULD start a timer with
          // a value T chosen as follows: 1. If the UAC is the owner of the Call-ID of the dialog
          // ID (meaning it generated the value), T has a randomly chosen value between 2.1 and 4
          // seconds in units of 10 ms. 2. If the UAC is not the owner of the Call-ID of the
          // dialog ID, T has a randomly chosen value of between 0 and 2 seconds in units of 10
          // ms. When the timer fires, the UAC SHOULD attempt the re-INVITE once more".
          this.#afterGlare(
            session,
            () => session.clientInvite !== undefined || session.serverInvite !== undefined,
            () => this.sendReinvite(session, payload, onResult),
          );
          return;
        }
        if (r.status === 481 || r.status === 408) this.#terminate(session, 'failed');
        onResult?.(r);
      },
      onError: () => {
        session.clientInvite = undefined;
      },
    });
  }

  /**
   * The §14.1 timer (also RFC 3311 §5.1 for UPDATE): the Call-ID's owner waits 2.1–4 s, the
   * other side 0–2 s, in units of 10 ms. If the dialog is busy with another offer when it fires,
   * the retry waits until it is not.
   */
  #afterGlare(session: DialogSession, busy: () => boolean, retry: () => void): void {
    const owner = this.#ownCallIds.has(session.dialog.id.callId);
    const steps = owner ? 210 + Math.floor(this.#random() * 191) : Math.floor(this.#random() * 201);
    const fire = (): void => {
      session.retryTimer = undefined;
      if (session.state === 'terminated') return;
      if (busy()) {
        session.retryTimer = this.#o.clock.setTimer(10, fire);
        return;
      }
      retry();
    };
    session.retryTimer = this.#o.clock.setTimer(steps * 10, fire);
  }

  /**
   * RFC 3311 §5.1: an UPDATE in an early or confirmed dialog; with a body it is an offer. "If a
   * UAC receives a 491 response to an UPDATE, it SHOULD start a timer with a value T chosen as
   * follows" (the §14.1 values) "When the timer fires, the UAC SHOULD attempt the UPDATE once
   * more". A 2xx refreshes the remote target (UPDATE is a target refresh request, §5.1).
   */
  sendUpdate(session: DialogSession, payload: Payload, onResult?: (r: SipResponse) => void): void {
    if (session.state === 'terminated') {
      throw new TfxError('bad-request', 'the dialog is terminated; cannot send UPDATE');
    }
    const offer = payload.body !== undefined;
    if (offer) session.localOffer = true;
    const req = session.dialog.createRequest('UPDATE', this.#o.local, payload);
    this.#send(req, {
      onResponse: (r) => {
        if (r.status < 200) return;
        if (offer) session.localOffer = false;
        session.updateResults.push(r.status);
        if (r.status === 491) {
          this.#afterGlare(
            session,
            () => session.localOffer,
            () => this.sendUpdate(session, payload, onResult),
          );
          return;
        }
        if (r.status < 300) session.dialog.refreshTarget(r);
        if (r.status === 481 || r.status === 408) this.#terminate(session, 'failed');
        onResult?.(r);
      },
      onError: () => {
        if (offer) session.localOffer = false;
      },
    });
  }

  #send(request: SipRequest, listener: ClientTransactionListener): AnyClientTransaction {
    return this.#o.sendRequest(request, this.#o.targetOf(Dialog.nextHopUri(request)), listener);
  }

  // --- requests we receive -----------------------------------------------------------------------

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
      this.#onCancel(incoming);
      return;
    }
    const id = incomingDialogId(request);
    if (id === undefined || request.headers.to()?.tag === undefined) {
      this.#outOfDialog(incoming);
      return;
    }
    const session = this.dialogs.get(dialogKey(id));
    if (!session) {
      if (request.method === 'ACK') return; // §17: an ACK for nothing we know is dropped.
      // §12.2.2: "If the UAS wishes to reject the request because it does not wish to recreate
      // the dialog, it MUST respond to the request with a 481 (Call/Transaction Does Not Exist)".
      this.counters.unknownDialog++;
      this.#reply(incoming, 481);
      return;
    }
    if (request.method === 'ACK') {
      this.#onAck(session, request);
      return;
    }
    if (!session.dialog.acceptRemoteSeq(request)) {
      this.counters.outOfOrder++;
      this.#reply(incoming, 500, { headers: [['Retry-After', '1']] });
      return;
    }
    if (request.method === 'BYE') {
      // §15.1.2: "the UAS core [...] SHOULD terminate the session (and therefore stop sending and
      // listening for media) [...] The UAS MUST still respond to any pending requests received for
      // that dialog [...] 487". Then a 2xx to the BYE.
      const pending = session.serverInvite;
      if (pending && !pending.answered) pending.reject(487);
      this.#reply(incoming, 200);
      this.#terminate(session, 'remote-bye');
      return;
    }
    if (request.method === 'INVITE') {
      this.#onReinvite(session, incoming);
      return;
    }
    if (request.method === 'PRACK') {
      this.#onPrack(session, incoming);
      return;
    }
    if (request.method === 'UPDATE' && request.body.length > 0) {
      // RFC 3311 §5.2: "If an UPDATE is received that contains an offer, and the UAS has
      // generated an offer (in an UPDATE, PRACK or INVITE) to which it has not yet received an
      // answer, the UAS MUST reject the UPDATE with a 491 response. Similarly, if an UPDATE is
      // received that contains an offer, and the UAS has received an offer (in an UPDATE, PRACK,
      // or INVITE) on which it has not generated an answer, the UAS MUST reject the UPDATE with a
      // 500 response, and MUST include a Retry-After header field with a randomly chosen value
      // between 0 and 10 seconds."
      const ourInviteOffer =
        session.clientInvite !== undefined && session.clientInvite.request.body.length > 0;
      if (session.localOffer || ourInviteOffer) {
        this.counters.glare++;
        this.#reply(incoming, 491);
        return;
      }
      const theirs = session.serverInvite;
      if (theirs && !theirs.answered && theirs.request.body.length > 0) {
        this.#reply(incoming, 500, {
          headers: [['Retry-After', String(Math.floor(this.#random() * 11))]],
        });
        return;
      }
    }
    const respond = (status: number, payload: Payload = {}) => {
      if (status >= 200 && status < 300 && request.method === 'UPDATE') {
        session.dialog.refreshTarget(request);
      }
      this.#reply(incoming, status, payload);
    };
    if (session.events.onRequest) session.events.onRequest(request, respond);
    else respond(request.method === 'INFO' ? 200 : 501);
  }

  #onReinvite(session: DialogSession, incoming: IncomingRequest): void {
    // §14.2: "A UAS that receives an INVITE on a dialog while an INVITE it had sent on that dialog
    // is in progress MUST return a 491 (Request Pending) response to the received INVITE."
    if (session.clientInvite !== undefined) {
      this.counters.glare++;
      this.#reply(incoming, 491);
      return;
    }
    // §14.2: "A UAS that receives a second INVITE before it sends the final response to a first
    // INVITE with a lower CSeq sequence number on the same dialog MUST return a 500 (Server
    // Internal Error) response to the second INVITE and MUST include a Retry-After header field
    // with a randomly chosen value of between 0 and 10 seconds."
    if (session.serverInvite !== undefined || session.pendingAck !== undefined) {
      this.#reply(incoming, 500, {
        headers: [['Retry-After', String(Math.floor(this.#random() * 11))]],
      });
      return;
    }
    const invite = new ServerInvite(this, incoming, session);
    session.serverInvite = invite;
    if (session.events.onReinvite) session.events.onReinvite(invite);
    else invite.accept();
  }

  #outOfDialog(incoming: IncomingRequest): void {
    const { request } = incoming;
    if (request.method === 'ACK') return;
    if (request.method === 'INVITE') {
      // §8.1.1.3 / §8.1.1.8: a dialog-creating INVITE needs a From tag and exactly one Contact
      // (a SIP URI); without them no dialog can be built (§12.1.1), so it is refused with 400.
      const contacts = request.headers.contact();
      if (
        request.headers.from()?.tag === undefined ||
        contacts.length !== 1 ||
        contacts[0]?.star !== false
      ) {
        this.counters.badRequests++;
        this.#reply(incoming, 400);
        return;
      }
      const invite = new ServerInvite(this, incoming, undefined);
      if (incoming.transaction) this.#unanswered.set(incoming.transaction, invite);
      if (this.#o.onInvite) this.#o.onInvite(invite);
      else invite.reject(480);
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

  /** §9.2: 200 to the CANCEL; 487 to the INVITE if it has no final response yet. */
  #onCancel(incoming: IncomingRequest): void {
    const target = incoming.cancels;
    if (!target) {
      this.#reply(incoming, 481);
      return;
    }
    this.#reply(incoming, 200);
    const inv = this.#unanswered.get(target);
    if (inv && !inv.answered) {
      inv.reject(487);
      return;
    }
    if (target.lastResponse === undefined || target.lastResponse.status < 200) {
      target.respond(createResponse(target.request, 487));
    }
  }

  /** Sends the response of a ServerInvite; builds the dialog on a tagged 1xx/2xx (§12.1.1). */
  respondInvite(invite: ServerInvite, status: number, payload: Payload): DialogSession | undefined {
    const { request } = invite;
    const dialogForming = status > 100 && status < 300;
    const headers: Array<readonly [string, string]> = [];
    if (dialogForming) {
      // §12.1.1: "the UAS MUST add a Contact header field to the response."
      headers.push(['Contact', this.#o.local.contact], ...this.#supportedHeader());
    }
    // RFC 3262 §3: "If the UAS [...] supports the 100rel extension [and] the request contained a
    // Supported or Require header field with the option tag 100rel, the UAS MAY send the
    // provisional response reliably": we do when the UAS supports 100rel. "The UAS MUST NOT send
    // a second reliable provisional response until the first is acknowledged."
    const reliable =
      status > 100 &&
      status < 200 &&
      this.#supported.has('100rel') &&
      (hasOptionTag(request, 'require', '100rel') || hasOptionTag(request, 'supported', '100rel'));
    if (reliable && invite.unacked !== undefined) {
      throw new TfxError(
        'bad-request',
        'a reliable provisional response awaits its PRACK (RFC 3262 §3)',
      );
    }
    if (reliable) {
      // §3: "the initial value of the response number [...] MUST be between 1 and 2**31 - 1".
      invite.rseq =
        invite.rseq === undefined ? 1 + Math.floor(this.#random() * 1000) : invite.rseq + 1;
      headers.push(['Require', '100rel'], ['RSeq', String(invite.rseq)]);
    }
    headers.push(...(payload.headers ?? []));
    const response = createResponse(request, status, undefined, {
      toTag: invite.toTag,
      headers,
      ...(payload.body !== undefined && { body: payload.body }),
      ...(payload.contentType !== undefined && { contentType: payload.contentType }),
    });
    let session = invite.session;
    if (dialogForming && !session) {
      session = this.#add(Dialog.uas(request, invite.toTag, status));
      session.serverInvite = invite;
      invite.session = session;
    }
    if (session && status >= 200 && status < 300) {
      session.dialog.confirm();
      // §12.2.2: a UAS accepting a target refresh request replaces the remote target.
      session.dialog.refreshTarget(request);
    }
    this.#sendResponse(response, invite.transaction, invite.ctx);
    if (reliable && invite.rseq !== undefined) this.#startReliable(invite, invite.rseq, response);
    if (status < 200) return session;
    this.#stopReliable(invite);
    if (invite.transaction) this.#unanswered.delete(invite.transaction);
    if (session) session.serverInvite = undefined;
    if (status < 300 && session) this.#start2xxRetransmit(session, invite, response);
    else if (
      session &&
      session.dialog.state === 'early' &&
      invite.request.headers.to()?.tag === undefined
    ) {
      // §12.1.1: a non-2xx final response to the initial INVITE ends its early dialog.
      this.#terminate(session, 'failed');
    }
    return session;
  }

  /**
   * §13.3.1.4: "the 2xx response is passed to the transport with an interval that starts at T1
   * seconds and doubles for each retransmission until it reaches T2 seconds [...]. Response
   * retransmissions cease when an ACK request for the response is received." "If the server
   * retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the dialog is
   * confirmed, but the session SHOULD be terminated. This is accomplished with a BYE".
   */
  #start2xxRetransmit(session: DialogSession, invite: ServerInvite, response: SipResponse): void {
    const { T1 } = this.#o.timers;
    const pending: PendingAck = {
      cseq: invite.request.headers.cseq()?.seq ?? 0,
      response,
      tx: invite.transaction,
      ctx: invite.ctx,
      interval: T1,
      started: this.#o.clock.now(),
      timer: undefined,
    };
    session.pendingAck = pending;
    this.#arm2xx(session, pending);
  }

  #arm2xx(session: DialogSession, p: PendingAck): void {
    const { T1, T2 } = this.#o.timers;
    p.timer = this.#o.clock.setTimer(p.interval, () => {
      if (session.pendingAck !== p) return;
      if (this.#o.clock.now() - p.started >= 64 * T1) {
        session.pendingAck = undefined;
        session.events.onTerminated?.('no-ack');
        if (session.state === 'confirmed') this.sendBye(session, {});
        return;
      }
      this.counters.okRetransmits++;
      this.#sendResponse(p.response, p.tx, p.ctx);
      p.interval = Math.min(2 * p.interval, T2);
      this.#arm2xx(session, p);
    });
  }

  /**
   * RFC 3262 §3: "The reliable provisional response is passed to the transaction layer
   * periodically with an interval that starts at T1 seconds and doubles for each
   * retransmission." "Once a reliable provisional response is received [acknowledged by PRACK],
   * retransmissions of that reliable provisional response MUST cease." "If a reliable
   * provisional response is retransmitted for 64*T1 seconds without reception of a
   * corresponding PRACK, the UAS SHOULD reject the original request with a 5xx response."
   */
  #startReliable(invite: ServerInvite, rseq: number, response: SipResponse): void {
    const { T1 } = this.#o.timers;
    const u = {
      rseq,
      response,
      timer: undefined as TimerHandle | undefined,
      interval: T1,
      started: this.#o.clock.now(),
    };
    invite.unacked = u;
    const arm = (): void => {
      const left = u.started + 64 * T1 - this.#o.clock.now();
      u.timer = this.#o.clock.setTimer(Math.min(u.interval, left), () => {
        if (invite.unacked !== u) return;
        if (this.#o.clock.now() - u.started >= 64 * T1) {
          invite.unacked = undefined;
          invite.reject(504);
          return;
        }
        this.#sendResponse(u.response, invite.transaction, invite.ctx);
        u.interval *= 2;
        arm();
      });
    };
    arm();
  }

  #stopReliable(invite: ServerInvite): void {
    if (invite.unacked?.timer) this.#o.clock.clearTimer(invite.unacked.timer);
    invite.unacked = undefined;
  }

  /**
   * RFC 3262 §3: "If the PRACK does match an unacknowledged reliable provisional response, a 2xx
   * response MUST be sent to the PRACK". "If a PRACK request is received by the UA core that
   * does not match any unacknowledged reliable provisional response, the UAS MUST respond to the
   * PRACK with a 481 response."
   */
  #onPrack(session: DialogSession, incoming: IncomingRequest): void {
    const rack = parseRAck(incoming.request);
    const invite = session.serverInvite;
    const u = invite?.unacked;
    if (
      !rack ||
      !invite ||
      !u ||
      rack.rseq !== u.rseq ||
      rack.method !== 'INVITE' ||
      rack.cseq !== invite.request.headers.cseq()?.seq
    ) {
      this.#reply(incoming, 481);
      return;
    }
    this.#stopReliable(invite);
    this.#reply(incoming, 200);
  }

  #onAck(session: DialogSession, ack: SipRequest): void {
    const p = session.pendingAck;
    if (p && ack.headers.cseq()?.seq === p.cseq) {
      if (p.timer) this.#o.clock.clearTimer(p.timer);
      session.pendingAck = undefined;
      session.events.onAck?.(ack);
    }
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

  #terminate(
    session: DialogSession,
    reason: Parameters<NonNullable<DialogEvents['onTerminated']>>[0],
  ): void {
    if (session.state === 'terminated') return;
    session.dialog.terminate();
    if (session.pendingAck?.timer) this.#o.clock.clearTimer(session.pendingAck.timer);
    session.pendingAck = undefined;
    if (session.retryTimer) this.#o.clock.clearTimer(session.retryTimer);
    session.retryTimer = undefined;
    this.dialogs.delete(session.dialog.key);
    session.events.onTerminated?.(reason);
  }

  #supportedHeader(): Array<readonly [string, string]> {
    return this.#supported.size > 0 ? [['Supported', [...this.#supported].join(', ')]] : [];
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

const ALLOW = 'INVITE, ACK, CANCEL, BYE, INFO, UPDATE, PRACK, OPTIONS';
