/**
 * What the dialog layer's modules share: the options it is given, its counters and table, and
 * the few primitives every module uses (send a request, answer one, add and end a dialog). The
 * layer (layer.ts) implements {@link LayerContext}; uac.ts, uas.ts, in-dialog.ts and the
 * extension modules take it as their first argument, so none of them imports the layer.
 */
import type { Clock } from '../time/index.js';
import type { SipMessage, SipRequest, SipResponse, Uri } from '../syntax/index.js';
import type {
  AnyClientTransaction,
  AnyServerTransaction,
  ClientTransactionListener,
  IncomingRequest,
  TimerConfig,
  TransactionContext,
} from '../transaction/index.js';
import type { Dialog, LocalParty } from './dialog.js';
import type {
  DialogOps,
  DialogSession,
  Payload,
  ServerInvite,
  TerminateReason,
} from './session.js';

/** What the dialog layer needs from below (the layer's own options add the app's handlers). */
export interface DialogCoreOptions {
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
  /** RFC 4028 session timers (with `timer` in `supported`). */
  readonly sessionTimer?: SessionTimerOptions;
  /**
   * §22.2: credentials for a 401/407 to our INVITE: the Authorization (or Proxy-Authorization)
   * header answering `challenge` for `request`, or undefined to give up. The INVITE is sent again
   * once with it (CSeq + 1).
   */
  readonly authenticate?: (
    request: SipRequest,
    challenge: SipResponse,
  ) => readonly [string, string] | undefined;
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
  /** RFC 4028 §5: 422 Session Interval Too Small sent. */
  tooBrief: number;
  /** RFC 4028 §10: session refreshes we sent. */
  sessionRefreshes: number;
  /** RFC 4028 §10: sessions we ended with BYE because no refresh came. */
  sessionExpired: number;
  /** RFC 6665 §4.2.1.1: 489 Bad Event sent. */
  badEvent: number;
}

export type { TerminateReason } from './session.js';

/** RFC 4028 options of a dialog layer; effective when `supported` lists `timer`. */
export interface SessionTimerOptions {
  /** The Session-Expires we ask for in our INVITEs, seconds (§4). Default 1800 (§4's recommendation). */
  readonly expires?: number;
  /**
   * Our Min-SE, seconds (§4, §5): requests asking for less get 422. Default 90, the RFC's floor
   * ("MUST NOT be less than 90 seconds"); smaller values are for tests only.
   */
  readonly minSE?: number;
  /**
   * How we refresh when we are the refresher: `UPDATE` without a body (default; RFC 4028 §10
   * prefers UPDATE) or `INVITE`, a re-INVITE carrying the session's `refreshPayload` (its SDP).
   */
  readonly method?: 'UPDATE' | 'INVITE';
}

/** The layer's shared state and primitives, as its modules see them. */
export interface LayerContext {
  readonly o: DialogCoreOptions;
  readonly counters: DialogCounters;
  readonly dialogs: Map<string, DialogSession>;
  readonly supported: ReadonlySet<string>;
  readonly random: () => number;
  /** Call-IDs this UA generated: §14.1's "owner of the Call-ID". */
  readonly ownCallIds: Set<string>;
  /** Initial INVITEs we received and have not answered finally, by transaction (for CANCEL). */
  readonly unanswered: Map<AnyServerTransaction, ServerInvite>;
  /** The layer's operations, for modules that act on a session as the app would. */
  readonly ops: DialogOps;
  add(dialog: Dialog): DialogSession;
  /**
   * Ends the dialog and tells its owner; returns the owner's promise when its `onTerminated`
   * returned one (only a received BYE waits for it), else undefined.
   */
  terminate(session: DialogSession, reason: TerminateReason): PromiseLike<unknown> | undefined;
  reply(incoming: IncomingRequest, status: number, payload?: Payload): void;
  sendResponse(
    response: SipResponse,
    tx: AnyServerTransaction | undefined,
    ctx: TransactionContext,
  ): void;
  /** A request in a new client transaction, to the target of its next hop. */
  send(request: SipRequest, listener: ClientTransactionListener): AnyClientTransaction;
  /** `Supported` with our option tags, or nothing. */
  supportedHeader(): Array<readonly [string, string]>;
}
