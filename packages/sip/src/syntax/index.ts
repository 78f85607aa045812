// Public surface of the pure SIP syntax layer (RFC 3261 §7, §19, §20, §25).
export type {
  CSeq,
  Contact,
  HeaderCollection,
  NameAddr,
  OtherUri,
  Params,
  ParseOptions,
  ParseResult,
  Result,
  SipMessage,
  SipParseError,
  SipParseErrorCode,
  SipRequest,
  SipResponse,
  SipUri,
  TypedHeaders,
  Uri,
  Via,
} from './message.js';
export { DEFAULT_MAX_BYTES } from './message.js';
export { parseMessage } from './parser.js';
export { serializeFields, serializeMessage, serializeOwned } from './serializer.js';
export { SipHeaders, canonicalHeaderName, compactFormOf, displayHeaderName } from './headers.js';
export { parseUri, formatUri, isIPv4, isIPv6 } from './uri.js';
export { parseVia, parseCSeq, parseContact, parseCallId, splitList } from './values.js';
export { parseNameAddr, formatNameAddr } from './nameaddr.js';
export { parseParams, formatParams } from './params.js';
export {
  createRequest,
  createResponse,
  generateBranch,
  generateTag,
  generateCallId,
  reasonPhrase,
  BRANCH_COOKIE,
  formatVia,
} from './builders.js';
export type { CreateRequestOptions, CreateResponseOptions, ViaSpec } from './builders.js';
export { checkMessage, isSipDate, safeReasonPhrase } from './sanity.js';
export type { SanityVerdict, SanityOptions } from './sanity.js';
export { canonicalHost } from './host.js';
export {
  TRANSPORTS,
  defaultPort,
  isReliable,
  transportFromVia,
  type TransportProtocol,
} from './transport.js';
export { uriEquals, uriTextEquals } from './compare.js';
