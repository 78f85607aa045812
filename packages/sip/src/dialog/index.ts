// Public surface of the dialog layer (RFC 3261 §12–§15).
export {
  Dialog,
  dialogKey,
  incomingDialogId,
  type DialogId,
  type DialogState,
  type InDialogRequestOptions,
  type LocalParty,
} from './dialog.js';
export {
  DialogLayer,
  type DialogCoreOptions,
  type DialogCounters,
  type DialogLayerOptions,
  type OutOfDialogRequest,
} from './layer.js';
export {
  IncomingRefer,
  formatReplaces,
  parseReferTo,
  parseReplaces,
  parseSipfragStatus,
  referToWithReplaces,
  replacesFor,
  type ReferEvents,
  type ReferTo,
  type Replaces,
} from './refer.js';
export {
  ClientSubscription,
  ServerSubscription,
  parseEvent,
  parseSubscriptionState,
  refreshDelay,
  type ClientSubscriptionEvents,
  type ClientSubscriptionState,
  type EventValue,
  type NotifyOptions,
  type SubscribeOptions,
  type SubscriptionStateValue,
} from './subscription.js';
export {
  ClientInvite,
  DialogSession,
  ServerInvite,
  type ClientInviteEvents,
  type DialogEvents,
  type DialogOps,
  type AckOptions,
  type InviteOptions,
  type Payload,
} from './session.js';
export {
  SESSION_TIMER_DEFAULTS,
  parseMinSE,
  parseSessionExpires,
  type SessionExpires,
  type SessionTimerOptions,
} from './session-timer.js';
export type { DialogUsage, SessionTimerState, TerminateReason } from './session.js';
