export { TransportLayer } from './layer.js';
export type { SendTarget, SendResult } from './layer.js';
export { TRANSPORT_DEFAULTS } from './options.js';
export type { TransportLayerOptions } from './options.js';
export type { ListenSpec, ListenerInfo, TlsIdentity, TlsClientOptions } from './listeners.js';
export { Ingress, INGRESS_DEFAULTS, isKeepAlive } from './ingress.js';
export type { IngressOptions, IngressDeps, ReceiveOutcome } from './ingress.js';
export { encodeFlowToken, decodeFlowToken, newFlowTokenSecret } from './flow-token.js';
export type { Flow } from './flow-token.js';
export { stampVia, setViaTransport, responseDestination, rewriteTopVia } from './via.js';
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
