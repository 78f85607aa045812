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
  ClientInvite,
  DialogLayer,
  DialogSession,
  ServerInvite,
  type ClientInviteEvents,
  type DialogCounters,
  type DialogEvents,
  type DialogLayerOptions,
  type InviteOptions,
  type Payload,
} from './layer.js';
