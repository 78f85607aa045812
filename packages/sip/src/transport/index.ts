export { TransportLayer, TRANSPORT_DEFAULTS, rewriteTopVia } from './layer.js';
export type { TransportLayerOptions, SendTarget, SendResult } from './layer.js';
export type { ListenSpec, ListenerInfo, TlsIdentity } from './listeners.js';
export { Ingress, INGRESS_DEFAULTS, isKeepAlive } from './ingress.js';
export type { IngressOptions, IngressDeps, ReceiveOutcome } from './ingress.js';
export { encodeFlowToken, decodeFlowToken, newFlowTokenSecret } from './flow-token.js';
export type { Flow } from './flow-token.js';
export { stampVia, setViaTransport, responseDestination } from './via.js';
export type { ResponseDestination } from './via.js';
export { canonicalHost, sameHost, ipFamily, uriHost, formatEndpoint } from './address.js';
export {
  TRANSPORTS,
  DROP_REASONS,
  newCounters,
  isReliable,
  defaultPort,
  transportFromVia,
} from './types.js';
export type {
  TransportProtocol,
  Endpoint,
  ConnectionRef,
  ReceiveContext,
  InboundMessage,
  InboundHandler,
  DropReason,
  TransportCounters,
} from './types.js';
