/**
 * Client transactions: INVITE (RFC 3261 §17.1.1, with RFC 6026's Accepted state) and
 * non-INVITE (§17.1.2).
 */
import type { TfxError } from '@tfx/protocol';
import type { SipRequest, SipResponse } from '../syntax/index.js';
import { TransactionBase } from './base.js';
import { buildAckForNon2xx } from './build.js';
import type {
  ClientTransactionListener,
  TerminationReason,
  TimerName,
  TransactionContext,
  TransactionEnv,
} from './types.js';

export enum InviteClientState {
  Calling = 'Calling',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  /** RFC 6026 §8.4: after a 2xx; 2xx retransmissions still match and go to the TU until Timer M. */
  Accepted = 'Accepted',
  Terminated = 'Terminated',
}

export enum NonInviteClientState {
  Trying = 'Trying',
  Proceeding = 'Proceeding',
  Completed = 'Completed',
  Terminated = 'Terminated',
}

const INVITE_CLIENT_SETTLED: ReadonlySet<InviteClientState> = new Set([
  InviteClientState.Completed,
  InviteClientState.Accepted,
]);
const NON_INVITE_CLIENT_SETTLED: ReadonlySet<NonInviteClientState> = new Set([
  NonInviteClientState.Completed,
]);

type ClientEvent =
  | { readonly type: 'start' }
  | { readonly type: 'response'; readonly response: SipResponse }
  | { readonly type: 'timer'; readonly name: TimerName }
  | { readonly type: 'transport-error'; readonly error: TfxError };

abstract class ClientTransaction<S extends string> extends TransactionBase<S, ClientEvent> {
  readonly listener: ClientTransactionListener;

  protected constructor(
    env: TransactionEnv,
    key: string,
    request: SipRequest,
    target: TransactionContext,
    initial: S,
    listener: ClientTransactionListener,
  ) {
    super(env, key, request, target, initial);
    this.listener = listener;
  }

  /** Sends the request and starts the machine. Called by the layer right after creation. */
  start(): void {
    this.dispatch({ type: 'start' });
  }

  /** A response matched to this transaction by the layer (§17.1.3). */
  receiveResponse(response: SipResponse): void {
    this.dispatch({ type: 'response', response });
  }

  protected timerEvent(name: TimerName): ClientEvent {
    return { type: 'timer', name };
  }

  protected transportErrorEvent(error: TfxError): ClientEvent {
    return { type: 'transport-error', error };
  }

  protected reportError(error: TfxError): void {
    this.notify(() => this.listener.onError?.(error));
  }

  protected passUp(response: SipResponse): void {
    this.notify(() => this.listener.onResponse(response));
  }

  protected notifyTerminated(reason: TerminationReason): void {
    this.listener.onTerminated?.(reason);
  }
}

/** §17.1.1: the INVITE client transaction. */
export class InviteClientTransaction extends ClientTransaction<InviteClientState> {
  readonly kind = 'invite-client' as const;
  protected readonly terminatedState = InviteClientState.Terminated;
  protected get settledStates(): ReadonlySet<InviteClientState> {
    return INVITE_CLIENT_SETTLED;
  }
  /** The ACK sent for the non-2xx final response, resent on its retransmissions. */
  ack: SipRequest | undefined;
  #timerA = 0;

  constructor(
    env: TransactionEnv,
    key: string,
    request: SipRequest,
    target: TransactionContext,
    listener: ClientTransactionListener,
  ) {
    super(env, key, request, target, InviteClientState.Calling, listener);
  }

  protected transition(state: InviteClientState, event: ClientEvent): InviteClientState {
    const { T1 } = this.env.timers;
    const S = InviteClientState;
    if (event.type === 'transport-error') {
      // §17.1.1.2: "If the client transaction receives a transport error while in the
      // Calling state [...] the client transaction SHOULD inform the TU that a transport
      // failure has occurred, and the client transaction SHOULD transition directly to the
      // "Terminated" state." (§17.1.4 extends this to any send.)
      this.markTermination('transport-error');
      this.reportError(event.error);
      return S.Terminated;
    }
    switch (state) {
      case S.Calling:
        if (event.type === 'start') {
          this.transmit(this.request);
          // §17.1.1.2: "If an unreliable transport is being used, the client transaction MUST
          // start timer A with a value of T1. [...] For any transport, the client transaction
          // MUST start timer B with a value of 64*T1 seconds"
          if (!this.reliable) {
            this.#timerA = T1;
            this.startTimer('A', this.#timerA);
          }
          this.startTimer('B', 64 * T1);
          return S.Calling;
        }
        if (event.type === 'timer' && event.name === 'A') {
          // §17.1.1.2: "When timer A fires, the client transaction MUST retransmit the request
          // by passing it to the transport layer, and MUST reset the timer with a value of 2*T1."
          this.transmit(this.request, true);
          this.#timerA *= 2;
          this.startTimer('A', this.#timerA);
          return S.Calling;
        }
        if (event.type === 'timer' && event.name === 'B') {
          // §17.1.1.2: "If the client transaction is still in the "Calling" state when timer B
          // fires, the client transaction SHOULD inform the TU that a timeout has occurred."
          this.markTermination('timeout');
          this.reportError(this.timeoutError('B'));
          return S.Terminated;
        }
        if (event.type === 'response') return this.#onResponse(event.response);
        return state;
      case S.Proceeding:
        if (event.type === 'response') return this.#onResponse(event.response);
        return state;
      case S.Completed:
        if (event.type === 'response' && event.response.status >= 300) {
          // §17.1.1.2: "Any retransmissions of the final response that are received while in
          // the "Completed" state MUST cause the ACK to be re-passed to the transport layer
          // for retransmission, but the newly received response MUST NOT be passed up to the TU."
          if (this.ack) this.transmit(this.ack, true);
          return state;
        }
        if (event.type === 'timer' && event.name === 'D') return S.Terminated;
        return state;
      case S.Accepted:
        if (
          event.type === 'response' &&
          event.response.status >= 200 &&
          event.response.status < 300
        ) {
          // RFC 6026 §8.4: "Any 2xx responses that match this client transaction and that are
          // received while in the "Accepted" state MUST be passed up to the TU. The client
          // transaction MUST NOT generate an ACK to the 2xx response." (The TU re-ACKs.)
          this.passUp(event.response);
          return state;
        }
        // RFC 6026 §8.4: when Timer M fires in "Accepted", the machine moves to "Terminated".
        if (event.type === 'timer' && event.name === 'M') return S.Terminated;
        return state;
      case S.Terminated:
        return state;
    }
  }

  #onResponse(response: SipResponse): InviteClientState {
    const S = InviteClientState;
    const { status } = response;
    if (status < 200) {
      // §17.1.1.2: "If the client transaction receives a provisional response while in the
      // "Calling" state, it transitions to the "Proceeding" state. In the "Proceeding" state,
      // the client transaction SHOULD NOT retransmit the request any longer. Furthermore, the
      // provisional response MUST be passed to the TU."
      this.stopTimer('A');
      this.stopTimer('B');
      this.passUp(response);
      return S.Proceeding;
    }
    this.stopTimer('A');
    this.stopTimer('B');
    if (status < 300) {
      // RFC 6026 §8.4: "If a 2xx response is received while the client INVITE state machine
      // is in the "Calling" or "Proceeding" states, it MUST transition to the "Accepted"
      // state, pass the 2xx response to the TU, and set Timer M to 64*T1."
      this.passUp(response);
      this.startTimer('M', 64 * this.env.timers.T1);
      return S.Accepted;
    }
    // §17.1.1.2: "When in either the "Calling" or "Proceeding" states, reception of a response
    // with status code from 300-699 MUST cause the client transaction to transition to
    // "Completed". The client transaction MUST pass the received response up to the TU, and
    // the client transaction MUST generate an ACK request, even if the transport is reliable
    // [...] The client transaction SHOULD start timer D when it enters the "Completed" state,
    // with a value of at least 32 seconds for unreliable transports, and a value of zero
    // seconds for reliable transports."
    this.ack = buildAckForNon2xx(this.request, response);
    this.transmit(this.ack);
    this.passUp(response);
    this.startTimer('D', this.reliable ? 0 : this.env.timers.D);
    return S.Completed;
  }
}

/** §17.1.2: the non-INVITE client transaction. */
export class NonInviteClientTransaction extends ClientTransaction<NonInviteClientState> {
  readonly kind = 'non-invite-client' as const;
  protected readonly terminatedState = NonInviteClientState.Terminated;
  protected get settledStates(): ReadonlySet<NonInviteClientState> {
    return NON_INVITE_CLIENT_SETTLED;
  }
  #timerE = 0;

  constructor(
    env: TransactionEnv,
    key: string,
    request: SipRequest,
    target: TransactionContext,
    listener: ClientTransactionListener,
  ) {
    super(env, key, request, target, NonInviteClientState.Trying, listener);
  }

  protected transition(state: NonInviteClientState, event: ClientEvent): NonInviteClientState {
    const { T1, T2, T4 } = this.env.timers;
    const S = NonInviteClientState;
    if (event.type === 'transport-error') {
      // §17.1.2.2: "If a transport error occurs, the client transaction SHOULD inform the TU
      // and SHOULD transition directly to the "Terminated" state."
      this.markTermination('transport-error');
      this.reportError(event.error);
      return S.Terminated;
    }
    switch (state) {
      case S.Trying:
      case S.Proceeding:
        if (event.type === 'start' && state === S.Trying) {
          this.transmit(this.request);
          // §17.1.2.2: "The "Trying" state is entered when the TU initiates a new client
          // transaction with a request. When entering this state, the client transaction
          // SHOULD set timer F to fire in 64*T1 seconds. [...] If an unreliable transport is
          // in use, the client transaction MUST set timer E to fire in T1 seconds."
          if (!this.reliable) {
            this.#timerE = T1;
            this.startTimer('E', this.#timerE);
          }
          this.startTimer('F', 64 * T1);
          return state;
        }
        if (event.type === 'timer' && event.name === 'E') {
          this.transmit(this.request, true);
          // §17.1.2.2: "If timer E fires while still in this state, the timer is reset, but
          // this time with a value of MIN(2*T1, T2). [...] If Timer E fires while in the
          // "Proceeding" state, the request MUST be passed to the transport layer for
          // retransmission, and Timer E MUST be reset with a value of T2 seconds."
          this.#timerE = state === S.Trying ? Math.min(2 * this.#timerE, T2) : T2;
          this.startTimer('E', this.#timerE);
          return state;
        }
        if (event.type === 'timer' && event.name === 'F') {
          // §17.1.2.2: "If Timer F fires while the client transaction is still in the "Trying"
          // state, the client transaction SHOULD inform the TU about the timeout, and then it
          // SHOULD enter the "Terminated" state." (The same holds in "Proceeding".)
          this.markTermination('timeout');
          this.reportError(this.timeoutError('F'));
          return S.Terminated;
        }
        if (event.type === 'response') {
          const { response } = event;
          this.passUp(response);
          if (response.status < 200) return S.Proceeding;
          // §17.1.2.2: "Once the client transaction enters the "Completed" state, it MUST set
          // Timer K to fire in T4 seconds for unreliable transports, and zero seconds for
          // reliable transports."
          this.stopTimer('E');
          this.stopTimer('F');
          this.startTimer('K', this.reliable ? 0 : T4);
          return S.Completed;
        }
        return state;
      case S.Completed:
        // §17.1.2.2: "The "Completed" state exists to buffer any additional response
        // retransmissions that may be received (which is why the client transaction remains
        // there only for unreliable transports)." Responses here are absorbed.
        if (event.type === 'timer' && event.name === 'K') return S.Terminated;
        return state;
      case S.Terminated:
        return state;
    }
  }
}
