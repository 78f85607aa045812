/**
 * The objects the dialog layer hands to the app: a dialog with what runs for it
 * (DialogSession), an INVITE we received (ServerInvite) and one we sent (ClientInvite). They act
 * through the layer's operations ({@link DialogOps}, implemented by DialogLayer), so this file
 * does not import the layer.
 */
import { TfxError } from '@tfx/protocol';
import { generateTag, type SipRequest, type SipResponse, type Uri } from '../syntax/index.js';
import type { TimerHandle } from '../time/index.js';
import type {
  AnyClientTransaction,
  AnyServerTransaction,
  TransactionContext,
} from '../transaction/index.js';
import type { Dialog } from './dialog.js';

/** What the session objects ask of the dialog layer. */
export interface DialogOps {
  sendBye(
    session: DialogSession,
    payload: Payload,
    onResponse?: (r: SipResponse) => void,
    reason?: TerminateReason,
  ): void;
  sendReinvite(
    session: DialogSession,
    payload: Payload,
    onResult?: (r: SipResponse) => void,
    o?: AckOptions,
  ): void;
  sendUpdate(session: DialogSession, payload: Payload, onResult?: (r: SipResponse) => void): void;
  sendInDialog(
    session: DialogSession,
    method: string,
    payload: Payload,
    onResponse?: (r: SipResponse) => void,
  ): void;
  respondInvite(
    invite: ServerInvite,
    status: number,
    payload: Payload,
    toTag?: string,
  ): DialogSession | undefined;
  sendCancel(invite: ClientInvite): void;
  /** The ACK the app held back (`deferAck`), with its payload (§13.2.2.4, RFC 3264 §5). */
  sendDeferredAck(session: DialogSession, payload: Payload): void;
}

/** Options of an INVITE we send (initial or re-INVITE). */
export interface AckOptions {
  /**
   * RFC 3264 §5 / §13.2.2.4: the app ACKs the 2xx itself with `session.ack(payload)` — an INVITE
   * without an offer gets the offer in the 2xx and the answer goes in the ACK. Until then a
   * retransmitted 2xx is not ACKed; without `ack()` within 64*T1 the layer ACKs with no body and
   * ends the dialog with a BYE. Default false: the layer ACKs each 2xx at once with no body.
   */
  readonly deferAck?: boolean;
}

/** The body and headers an offer or answer carries (the SDP is the caller's). */
export interface Payload {
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Uint8Array | string;
  readonly contentType?: string;
}

/** What the app hears about a dialog. */
export interface DialogEvents {
  /** A re-INVITE (§14.2); without a handler it is accepted with no body. */
  onReinvite?(invite: ServerInvite): void;
  /**
   * Any other in-dialog request but ACK and BYE; without a handler: 200 for INFO and for an
   * UPDATE without a body, else 501.
   */
  onRequest?(request: SipRequest, respond: (status: number, payload?: Payload) => void): void;
  /**
   * The ACK for our 2xx arrived (§13.3.1.4); its body is the answer when our 2xx carried the
   * offer (an INVITE without SDP, RFC 3264 §5).
   */
  onAck?(ack: SipRequest): void;
  /**
   * The dialog ended. For a BYE we received (`remote-bye`) the owner may return a promise: the
   * layer sends the BYE's 2xx only once it settles (resolved or rejected), so what the owner
   * finishes first (an SBC's final media stats and CDR line) is done before the peer sees its BYE
   * answered. The owner MUST bound it (a timeout well under the peer's Timer F, 64*T1 = 32 s);
   * retransmissions of the BYE meanwhile are absorbed by its server transaction (§17.2.2). For
   * every other reason the value is ignored and nothing waits.
   */
  onTerminated?: ((reason: TerminateReason) => void) | ((reason: TerminateReason) => Promise<void>);
}

/**
 * Why a dialog ended: we sent BYE, they did, no ACK for our 2xx (§13.3.1.4), the layer closed,
 * the dialog failed (non-2xx, 481/408), or its session expired without refresh (RFC 4028 §10).
 */
export type TerminateReason =
  'bye' | 'remote-bye' | 'no-ack' | 'closed' | 'failed' | 'expired' | 'subscription-ended';

/** RFC 4028: the running session timer of a dialog. */
export interface SessionTimerState {
  /** Session interval, seconds. */
  readonly interval: number;
  /** We refresh (at half the interval); else we BYE when no refresh came. */
  readonly localRefresher: boolean;
  refresh: TimerHandle | undefined;
  expire: TimerHandle | undefined;
}

/** §13.3.1.4 state of one 2xx we sent: retransmitted until the ACK of the same CSeq. */
export interface PendingAck {
  readonly cseq: number;
  readonly response: SipResponse;
  readonly tx: AnyServerTransaction | undefined;
  readonly ctx: TransactionContext;
  interval: number;
  readonly started: number;
  timer: TimerHandle | undefined;
}

/** A subscription using a dialog (RFC 6665 §4.5.2 "dialog usage"; subscription.ts). */
export interface DialogUsage {
  readonly event: string;
  /** Ends the usage without sending. */
  end(reason: string): void;
}

/** The dialog plus what the layer runs for it. */
export class DialogSession {
  readonly dialog: Dialog;
  events: DialogEvents = {};
  /**
   * What made the dialog: an INVITE (a call, ended by BYE) or a SUBSCRIBE/NOTIFY (ends with its
   * last subscription, RFC 6665 §4.5.2).
   */
  usage: 'invite' | 'subscription' = 'invite';
  /** Subscriptions sharing the dialog, by "event;id" (REFER's implicit ones in a call, too). */
  readonly subscriptions = new Map<string, DialogUsage>();
  /** §14.1: our INVITE on this dialog that has no final response yet. */
  clientInvite: AnyClientTransaction | undefined;
  /** §14.2: the INVITE we received on this dialog that has no final response yet. */
  serverInvite: ServerInvite | undefined;
  /** §13.2.2.4: the ACK we sent for the last 2xx, resent when the 2xx is retransmitted. */
  lastAck: { readonly cseq: number; readonly ack: SipRequest } | undefined;
  pendingAck: PendingAck | undefined;
  /** `deferAck`: a 2xx the app has still to ACK with `ack(payload)` (its INVITE and guard timer). */
  ackDue: { readonly cseq: number; readonly invite: SipRequest; timer: TimerHandle } | undefined;
  readonly #layer: DialogOps;
  retryTimer: TimerHandle | undefined;
  /** Responses to re-INVITEs we sent, for tests and the app: status codes in order. */
  readonly reinviteResults: number[] = [];
  /** Final responses to UPDATEs we sent, in order. */
  readonly updateResults: number[] = [];
  /** RFC 3311 §5.2: our UPDATE carrying an offer has no answer yet. */
  localOffer = false;
  /** RFC 4028: the session timer, when one runs. */
  timer: SessionTimerState | undefined;
  /** RFC 4028 §7.4: the largest Min-SE a 422 taught us for this dialog. */
  minSE: number | undefined;
  /** The SDP a re-INVITE refresh carries (RFC 4028 §10 with `method: 'INVITE'`): the app's. */
  refreshPayload: Payload | undefined;

  constructor(layer: DialogOps, dialog: Dialog) {
    this.#layer = layer;
    this.dialog = dialog;
  }

  get state(): Dialog['state'] {
    return this.dialog.state;
  }

  /** §15.1.1: BYE ends the dialog; a UAC must not send it on an early dialog (use CANCEL). */
  bye(payload: Payload = {}, onResponse?: (r: SipResponse) => void): void {
    this.#layer.sendBye(this, payload, onResponse);
  }

  /**
   * §14.1: a re-INVITE (hold, resume, new offer); on 491 it is retried after the §14.1 timer.
   * With `deferAck` (a re-INVITE without an offer) the app ACKs the 2xx with `ack(answer)`.
   */
  reinvite(payload: Payload = {}, onResult?: (r: SipResponse) => void, o: AckOptions = {}): void {
    this.#layer.sendReinvite(this, payload, onResult, o);
  }

  /**
   * §13.2.2.4: the ACK of the 2xx this dialog's INVITE got, sent by the app (`deferAck`), with
   * the answer to the 2xx's offer (RFC 3264 §5). Throws when no 2xx waits for its ACK.
   */
  ack(payload: Payload = {}): void {
    this.#layer.sendDeferredAck(this, payload);
  }

  /** RFC 3311: an UPDATE (early or confirmed dialog); retried after 491 like a re-INVITE. */
  update(payload: Payload = {}, onResult?: (r: SipResponse) => void): void {
    this.#layer.sendUpdate(this, payload, onResult);
  }

  /** Any other request in the dialog (INFO, MESSAGE, NOTIFY, …). */
  request(method: string, payload: Payload = {}, onResponse?: (r: SipResponse) => void): void {
    this.#layer.sendInDialog(this, method, payload, onResponse);
  }
}

/** An INVITE we received (initial or re-INVITE): the app answers it once. */
export class ServerInvite {
  readonly request: SipRequest;
  readonly transaction: AnyServerTransaction | undefined;
  readonly ctx: TransactionContext;
  /** The dialog: set for a re-INVITE; for an initial INVITE once a response with a tag is sent. */
  session: DialogSession | undefined;
  /** RFC 3891: the dialog this INVITE's Replaces header names (matched before the app sees it). */
  replaces: DialogSession | undefined;
  /** RFC 3262: a PRACK acknowledged our reliable provisional response (after its 200). */
  onPrack: ((prack: SipRequest) => void) | undefined;
  readonly toTag: string;
  /** RFC 3262 §3: the RSeq of our last reliable provisional response. */
  rseq: number | undefined;
  /** RFC 3262 §3: the last RSeq per To tag (each early dialog counts its own). */
  readonly rseqs = new Map<string, number>();
  /**
   * The dialogs our responses made, by To tag: one, unless the app answers for several forks of
   * its own (a B2BUA relaying a forking far side, §12.1.1 / §13.2.2.4), each with its own tag.
   */
  readonly forks = new Map<string, DialogSession>();
  /** RFC 3262 §3: our reliable provisional response awaiting its PRACK, retransmitted meanwhile. */
  unacked:
    | {
        rseq: number;
        toTag: string;
        response: SipResponse;
        timer: TimerHandle | undefined;
        interval: number;
        started: number;
      }
    | undefined;
  #final = false;
  readonly #layer: DialogOps;

  constructor(
    layer: DialogOps,
    incoming: {
      request: SipRequest;
      transaction: AnyServerTransaction | undefined;
      ctx: TransactionContext;
    },
    session: DialogSession | undefined,
  ) {
    this.#layer = layer;
    this.request = incoming.request;
    this.transaction = incoming.transaction;
    this.ctx = incoming.ctx;
    this.session = session;
    this.toTag = incoming.request.headers.to()?.tag ?? generateTag();
    if (session) this.forks.set(this.toTag, session);
  }

  get answered(): boolean {
    return this.#final;
  }

  /**
   * A provisional response (101–199 create an early dialog, §12.1.1). `toTag` (an initial INVITE
   * only) answers as another early dialog with a tag of the app's: a B2BUA keeps a forking far
   * side's early dialogs apart (§12.1.2); by default every response carries `this.toTag`.
   */
  progress(status = 180, payload: Payload = {}, toTag?: string): void {
    if (this.#final || status <= 100 || status >= 200) return;
    this.#checkTag(toTag);
    this.#layer.respondInvite(this, status, payload, toTag);
  }

  #checkTag(toTag: string | undefined): void {
    if (toTag !== undefined && toTag !== this.toTag && this.request.headers.to()?.tag)
      throw new TfxError('bad-request', 'a re-INVITE is answered in its own dialog only');
  }

  /**
   * 2xx: confirms the dialog (of `toTag`, by default `this.toTag`) and retransmits until the ACK
   * (§13.3.1.4); the other early dialogs end. Returns the dialog.
   */
  accept(payload: Payload = {}, status = 200, toTag?: string): DialogSession {
    if (this.#final) throw new TfxError('bad-request', 'the INVITE has a final response already');
    this.#checkTag(toTag);
    this.#final = true;
    return this.#layer.respondInvite(this, status, payload, toTag) as DialogSession;
  }

  reject(status = 486, payload: Payload = {}): void {
    if (this.#final) return;
    this.#final = true;
    this.#layer.respondInvite(this, status, payload);
  }
}

/** Our initial INVITE: forks into early dialogs (one per To tag, §12.1.2, §13.2.2.4). */
export class ClientInvite {
  /** The INVITE; replaced by its retry after a 422 (RFC 4028) or a digest challenge. */
  request: SipRequest;
  transaction: AnyClientTransaction;
  /** Retries of the INVITE so far (each with CSeq + 1, same Call-ID and From tag). */
  retries = 0;
  /** §22.2: credentials were sent once; a second challenge fails the call. */
  authTried = false;
  /** Dialogs by remote tag: early ones from 1xx, confirmed ones from 2xx. */
  readonly dialogs = new Map<string, DialogSession>();
  /** The first dialog a 2xx confirmed. */
  accepted: DialogSession | undefined;
  final: SipResponse | undefined;
  /** RFC 3262 §4: the RSeq of the last reliable provisional response we PRACKed, per To tag. */
  readonly rseqs = new Map<string, number>();
  /** The app ACKs the accepted 2xx itself (`InviteOptions.deferAck`). */
  deferAck = false;
  /** The app asked to cancel; the CANCEL waits for a provisional response (§9.1). */
  cancelRequested = false;
  cancelSent = false;
  provisional = false;
  #layer: DialogOps | undefined;

  constructor(request: SipRequest, transaction: AnyClientTransaction, layer?: DialogOps) {
    this.request = request;
    this.transaction = transaction;
    this.#layer = layer;
  }

  /** §9.1: cancels the INVITE (now, or once a provisional response arrives). Idempotent. */
  cancel(): void {
    if (this.final !== undefined || this.cancelRequested) return;
    this.cancelRequested = true;
    this.#layer?.sendCancel(this);
  }
}

export interface ClientInviteEvents {
  onProgress?(response: SipResponse, session: DialogSession | undefined): void;
  onAccepted?(session: DialogSession, response: SipResponse): void;
  onFailed?(response: SipResponse | undefined, error?: TfxError): void;
}

export interface InviteOptions extends Payload, AckOptions {
  readonly uri: string | Uri;
  readonly from: string;
  readonly to: string;
  readonly callId?: string;
}
