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
export { DialogLayer, type DialogCounters, type DialogLayerOptions } from './layer.js';
export {
  ClientInvite,
  DialogSession,
  ServerInvite,
  type ClientInviteEvents,
  type DialogEvents,
  type DialogOps,
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
export type { SessionTimerState, TerminateReason } from './session.js';
