/**
 * Shared types of the transaction layer (RFC 3261 §17).
 */
import type { TfxError } from '@tfx/protocol';
import type { Logger } from '../logger.js';
import type { SipMessage, SipRequest, SipResponse } from '../syntax/index.js';
import type { Clock } from '../time/index.js';

/** An IP address and port (structurally the transport layer's `Endpoint`). */
export interface TxEndpoint {
  readonly address: string;
  readonly port: number;
}

/**
 * Where a message came from or goes to. Structurally compatible with the transport layer's
 * `ReceiveContext`, so the ingress hands its context straight in, and a server transaction sends
 * its responses back to the context its request arrived with (the transport applies §18.2.2).
 */
export interface TransactionContext {
  /** `udp`, `tcp`, `tls`, `ws`, `wss` (case-insensitive). Anything but UDP is reliable. */
  readonly transport: string;
  readonly remote: TxEndpoint;
  readonly local?: TxEndpoint;
  /** The connection (flow) for connection-oriented transports, opaque here. */
  readonly connection?: unknown;
}

/** Sends one message; a throw or a rejected promise is a transport error (§17.1.4, §17.2.4). */
export type SendFn = (message: SipMessage, target: TransactionContext) => void | Promise<void>;

/** RFC 3261 §17.1.1.1 / Table 4 timer base values, in ms. */
export interface TimerConfig {
  /** RTT estimate. Default 500. */
  readonly T1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses. Default 4000. */
  readonly T2: number;
  /** Maximum duration a message remains in the network. Default 5000. */
  readonly T4: number;
  /** Timer D on unreliable transports; §17.1.1.2 asks for "at least 32 seconds". Default 32000. */
  readonly D: number;
  /** Delay before an INVITE server transaction sends 100 Trying itself (§17.2.1). Default 200. */
  readonly trying: number;
}

export const DEFAULT_TIMERS: TimerConfig = { T1: 500, T2: 4000, T4: 5000, D: 32_000, trying: 200 };

/** RFC names of the timers (L and M from RFC 6026; `Trying` is the §17.2.1 200 ms). */
export type TimerName =
  'A' | 'B' | 'D' | 'E' | 'F' | 'K' | 'G' | 'H' | 'I' | 'J' | 'L' | 'M' | 'Trying';

export type TransactionKind =
  'invite-client' | 'non-invite-client' | 'invite-server' | 'non-invite-server';
export const TRANSACTION_KINDS: readonly TransactionKind[] = [
  'invite-client',
  'non-invite-client',
  'invite-server',
  'non-invite-server',
];

/** What a transaction needs from its layer. */
export interface TransactionEnv {
  readonly clock: Clock;
  readonly timers: TimerConfig;
  readonly send: SendFn;
  readonly logger: Logger;
  /** Called once when the transaction enters Terminated. */
  readonly onTerminated: (
    tx: { readonly kind: TransactionKind; readonly key: string },
    reason: TerminationReason,
  ) => void;
}

export type TerminationReason = 'normal' | 'timeout' | 'transport-error';

/** Receives what a client transaction passes up to its TU. */
export interface ClientTransactionListener {
  /** Provisional and final responses that the machine passes up (never absorbed retransmissions). */
  onResponse(response: SipResponse): void;
  /** Timer B or F fired (`sip-transaction-timeout`), or sending failed (`sip-transport-error`). */
  onError?(error: TfxError): void;
  onTerminated?(reason: TerminationReason): void;
}

export interface ServerTransactionListener {
  /** Timer H fired (no ACK), or sending failed. */
  onError?(error: TfxError): void;
  /** RFC 6026 §7.1: an ACK matching an INVITE server transaction in Accepted goes to the TU. */
  onAck?(ack: SipRequest): void;
  onTerminated?(reason: TerminationReason): void;
}

/** Classifies a transport token: every transport but UDP is reliable (§17.1.1.2, §18). */
export function isReliableTransport(transport: string): boolean {
  return transport.toLowerCase() !== 'udp';
}
