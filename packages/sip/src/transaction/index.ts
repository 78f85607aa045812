export {
  DEFAULT_TIMERS,
  TRANSACTION_KINDS,
  isReliableTransport,
  type ClientTransactionListener,
  type SendFn,
  type ServerTransactionListener,
  type TerminationReason,
  type TimerConfig,
  type TimerName,
  type TransactionContext,
  type TransactionKind,
  type TxEndpoint,
} from './types.js';
export {
  InviteClientState,
  InviteClientTransaction,
  NonInviteClientState,
  NonInviteClientTransaction,
} from './client.js';
export {
  InviteServerState,
  InviteServerTransaction,
  NonInviteServerState,
  NonInviteServerTransaction,
  type AnyServerTransaction,
} from './server.js';
export { buildAckForNon2xx, buildCancel } from './build.js';
export { clientKey, serverKey } from './keys.js';
export {
  TransactionLayer,
  type AnyClientTransaction,
  type IncomingRequest,
  type TransactionCounters,
  type TransactionLayerOptions,
  type TransactionUser,
} from './layer.js';
