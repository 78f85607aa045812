/**
 * Server transactions: INVITE (RFC 3261 §17.2.1, with RFC 6026's Accepted state) and
 * non-INVITE (§17.2.2).
 */
import { TfxError } from '@tfx/protocol';
import {
  createResponse,
  serializeOwned,
  type SipRequest,
  type SipResponse,
} from '../syntax/index.js';
import { TransactionBase, reparse } from './base.js';
import type {
  ServerTransactionListener,
  TerminationReason,
  TimerName,
  TransactionContext,
  TransactionEnv,
} from './types.js';

export enum InviteServerState {
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Confirmed = 'Confirmed',
  /** RFC 6026 §7.1: after a 2xx from the TU, until Timer L. */
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

export enum NonInviteServerState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

const INVITE_SERVER_SETTLED: ReadonlySet<InviteServerState> = new Set([
  InviteServerState.Completed,
  InviteServerState.Confirmed,
  InviteServerState.Accepted,
]);
const NON_INVITE_SERVER_SETTLED: ReadonlySet<NonInviteServerState> = new Set([
  NonInviteServerState.Completed,
]);

type ServerEvent =
  | { readonly type: 'start' }
  | { readonly type: 'request'; readonly request: SipRequest }
  | { readonly type: 'tu-response'; readonly response: SipResponse }
  | { readonly type: 'timer'; readonly name: TimerName }
  | { readonly type: 'transport-error'; readonly error: TfxError };

abstract class ServerTransaction<S extends string> extends TransactionBase<S, ServerEvent> {
  listener: ServerTransactionListener = {};
  #lastResponse: SipResponse | undefined;
  /** The last response's bytes, once settled (see {@link onSettled}). */
  #lastBytes: Uint8Array | undefined;
  /** Whether a CANCEL matched this transaction (§9.2); the TU answers 487. */
  cancelled = false;
  /** Request retransmissions absorbed. */
  absorbed = 0;

  protected constructor(
    env: TransactionEnv,
    key: string,
    request: SipRequest,
    ctx: TransactionContext,
    initial: S,
  ) {
    super(env, key, request, ctx, initial);
  }

  /** Starts the machine; called by the layer once the transaction is in its table. */
  start(): void {
    this.dispatch({ type: 'start' });
  }

  /** The TU's response to the request. Throws if the transaction cannot send it any more. */
  respond(response: SipResponse): void {
    if (this.terminated) {
      throw new TfxError('conflict', 'the server transaction is terminated', { key: this.key });
    }
    this.dispatch({ type: 'tu-response', response });
  }

  /** A retransmission of the request, or an ACK, matched by the layer (§17.2.3). */
  receiveRequest(request: SipRequest): void {
    this.dispatch({ type: 'request', request });
  }

  protected timerEvent(name: TimerName): ServerEvent {
    return { type: 'timer', name };
  }

  protected transportErrorEvent(error: TfxError): ServerEvent {
    return { type: 'transport-error', error };
  }

  protected reportError(error: TfxError): void {
    this.notify(() => this.listener.onError?.(error));
  }

  protected notifyTerminated(reason: TerminationReason): void {
    this.listener.onTerminated?.(reason);
  }

  /**
   * The last response sent (resent on request retransmissions). Once the machine only absorbs
   * retransmissions it is kept as its bytes and parsed back on each read (a resend then sends
   * those bytes as they are).
   */
  get lastResponse(): SipResponse | undefined {
    if (this.#lastResponse !== undefined) return this.#lastResponse;
    return this.#lastBytes === undefined ? undefined : (reparse(this.#lastBytes) as SipResponse);
  }

  protected send(response: SipResponse, retransmission = false): void {
    this.#lastResponse = response;
    this.#lastBytes = undefined;
    this.transmit(response, retransmission);
  }

  /** Keeps the last response as bytes only (it was sent already, so it serializes). */
  protected override onSettled(): void {
    const response = this.#lastResponse;
    if (response === undefined) return;
    // The bytes just sent (the serializer remembers them): they parse, the peer got them.
    this.#lastBytes = serializeOwned(response);
    this.#lastResponse = undefined;
  }

  protected resendLast(): void {
    this.absorbed++;
    if (this.lastResponse) this.transmit(this.lastResponse, true);
  }
}

/** §17.2.1: the INVITE server transaction. */
export class InviteServerTransaction extends ServerTransaction<InviteServerState> {
  readonly kind = 'invite-server' as const;
  protected readonly terminatedState = InviteServerState.Terminated;
  protected get settledStates(): ReadonlySet<InviteServerState> {
    return INVITE_SERVER_SETTLED;
  }
  #timerG = 0;

  constructor(env: TransactionEnv, key: string, request: SipRequest, ctx: TransactionContext) {
    super(env, key, request, ctx, InviteServerState.Proceeding);
  }

  protected transition(state: InviteServerState, event: ServerEvent): InviteServerState {
    const { T1, T2, T4 } = this.env.timers;
    const S = InviteServerState;
    if (event.type === 'transport-error') {
      // §17.2.4: "the server transaction [...] SHOULD inform the TU that a failure has
      // occurred, and SHOULD transition to the terminated state."
      this.markTermination('transport-error');
      this.reportError(event.error);
      return S.Terminated;
    }
    switch (state) {
      case S.Proceeding:
        if (event.type === 'start') {
          // §17.2.1: "If there is no such assurance [that the TU will generate a provisional
          // response within 200 ms], the server transaction MUST generate a 100 (Trying)
          // response."
          this.startTimer('Trying', this.env.timers.trying);
          return state;
        }
        if (event.type === 'timer' && event.name === 'Trying') {
          if (!this.lastResponse) this.send(createResponse(this.request, 100));
          return state;
        }
        if (event.type === 'request') {
          // §17.2.1: "If a request retransmission is received while in the "Proceeding" state,
          // the most recent provisional response that was received from the TU MUST be passed
          // to the transport layer for retransmission."
          if (event.request.method === 'INVITE') this.resendLast();
          return state;
        }
        if (event.type === 'tu-response') {
          const { response } = event;
          this.stopTimer('Trying');
          this.send(response);
          if (response.status < 200) return state;
          if (response.status < 300) {
            // RFC 6026 §8.7: "If the SIP element's TU (Transaction User) issues a 2xx response
            // for this transaction while the state machine is in the "Proceeding" state, the
            // state machine MUST transition to the "Accepted" state and set Timer L to 64*T1".
            // The 2xx is sent once; its retransmissions are the TU's (§13.3.1.4).
            this.startTimer('L', 64 * T1);
            return S.Accepted;
          }
          // §17.2.1: "While in the "Proceeding" state, if the TU passes a response with status
          // code from 300 to 699 to the server transaction, the response MUST be passed to the
          // transport layer for transmission, and the state machine MUST enter the "Completed"
          // state. For unreliable transports, timer G is set to fire in T1 seconds, and is not
          // set to fire for reliable transports." "When the "Completed" state is entered,
          // timer H MUST be set to fire in 64*T1 seconds for all transports."
          if (!this.reliable) {
            this.#timerG = T1;
            this.startTimer('G', this.#timerG);
          }
          this.startTimer('H', 64 * T1);
          return S.Completed;
        }
        return state;
      case S.Completed:
        if (event.type === 'timer' && event.name === 'G') {
          // §17.2.1: "If timer G fires, the response is passed to the transport layer once
          // more for retransmission, and timer G is set to fire in MIN(2*T1, T2) seconds."
          if (this.lastResponse) this.transmit(this.lastResponse, true);
          this.#timerG = Math.min(2 * this.#timerG, T2);
          this.startTimer('G', this.#timerG);
          return state;
        }
        if (event.type === 'timer' && event.name === 'H') {
          // §17.2.1: "If timer H fires while in the "Completed" state, it implies that the ACK
          // was never received. In this case, the server transaction MUST transition to the
          // "Terminated" state, and MUST indicate to the TU that a transaction failure has
          // occurred."
          this.markTermination('timeout');
          this.reportError(this.timeoutError('H'));
          return S.Terminated;
        }
        if (event.type === 'request' && event.request.method === 'ACK') {
          // §17.2.1: "If an ACK is received while the server transaction is in the "Completed"
          // state, the server transaction MUST transition to the "Confirmed" state. As Timer G
          // is ignored in this state, any retransmissions of the response will cease." "When
          // this state is entered, timer I is set to fire in T4 seconds for unreliable
          // transports, and zero seconds for reliable transports."
          this.stopTimer('G');
          this.stopTimer('H');
          this.startTimer('I', this.reliable ? 0 : T4);
          return S.Confirmed;
        }
        if (event.type === 'request') {
          // §17.2.1: "Furthermore, while in the "Completed" state, if a request retransmission
          // is received, the server SHOULD pass the response to the transport for
          // retransmission."
          this.resendLast();
          return state;
        }
        return state;
      case S.Confirmed:
        // §17.2.1: "The purpose of the "Confirmed" state is to absorb any additional ACK
        // messages that arrive, triggered from retransmissions of the final response."
        if (event.type === 'request') {
          this.absorbed++;
          return state;
        }
        if (event.type === 'timer' && event.name === 'I') return S.Terminated;
        return state;
      case S.Accepted:
        if (
          event.type === 'tu-response' &&
          event.response.status >= 200 &&
          event.response.status < 300
        ) {
          // RFC 6026 §8.7: "While in the "Accepted" state, if the TU passes a 2xx response,
          // the server transaction MUST pass the response to the transport layer for
          // transmission." (the UAS core's 2xx retransmissions, §13.3.1.4)
          this.send(event.response, true);
          return state;
        }
        if (event.type === 'request' && event.request.method === 'ACK') {
          // RFC 6026 §7.1: "Any ACKs received from the network while in the "Accepted" state
          // MUST be passed directly to the TU and not absorbed."
          const ack = event.request;
          this.notify(() => this.listener.onAck?.(ack));
          return state;
        }
        if (event.type === 'request') {
          // RFC 6026 §8.7: "While in the "Accepted" state, any retransmissions of the INVITE
          // received will match this transaction state machine and will be absorbed by the
          // machine without changing its state. These retransmissions are not passed onto the TU."
          this.absorbed++;
          return state;
        }
        // RFC 6026 §8.7: when Timer L fires in "Accepted", the machine moves to "Terminated".
        if (event.type === 'timer' && event.name === 'L') return S.Terminated;
        return state;
      case S.Terminated:
        return state;
    }
  }
}

/** §17.2.2: the non-INVITE server transaction. */
export class NonInviteServerTransaction extends ServerTransaction<NonInviteServerState> {
  readonly kind = 'non-invite-server' as const;
  protected readonly terminatedState = NonInviteServerState.Terminated;
  protected get settledStates(): ReadonlySet<NonInviteServerState> {
    return NON_INVITE_SERVER_SETTLED;
  }

  constructor(env: TransactionEnv, key: string, request: SipRequest, ctx: TransactionContext) {
    super(env, key, request, ctx, NonInviteServerState.Trying);
  }

  protected transition(state: NonInviteServerState, event: ServerEvent): NonInviteServerState {
    const { T1 } = this.env.timers;
    const S = NonInviteServerState;
    if (event.type === 'transport-error') {
      this.markTermination('transport-error');
      this.reportError(event.error);
      return S.Terminated;
    }
    switch (state) {
      case S.Trying:
      case S.Proceeding:
        if (event.type === 'request') {
          // §17.2.2: "Once in the "Trying" state, any further request retransmissions are
          // discarded." "If a retransmission of the request is received while in the
          // "Proceeding" state, the most recently sent provisional response MUST be passed to
          // the transport layer for retransmission."
          if (state === S.Trying) this.absorbed++;
          else this.resendLast();
          return state;
        }
        if (event.type === 'tu-response') {
          const { response } = event;
          this.send(response);
          if (response.status < 200) return S.Proceeding;
          // §17.2.2: "When the server transaction enters the "Completed" state, it MUST set
          // Timer J to fire in 64*T1 seconds for unreliable transports, and zero seconds for
          // reliable transports."
          this.startTimer('J', this.reliable ? 0 : 64 * T1);
          return S.Completed;
        }
        return state;
      case S.Completed:
        if (event.type === 'request') {
          // §17.2.2: "While in the "Completed" state, the server transaction MUST pass the final
          // response to the transport layer for retransmission whenever a retransmission of
          // the request is received. Any other final responses passed by the TU to the server
          // transaction MUST be discarded while in the "Completed" state."
          this.resendLast();
          return state;
        }
        if (event.type === 'timer' && event.name === 'J') return S.Terminated;
        return state;
      case S.Terminated:
        return state;
    }
  }
}

export type AnyServerTransaction = InviteServerTransaction | NonInviteServerTransaction;
