/**
 * SIP message types (RFC 3261 §7, §19, §20, §25). Pure data: no I/O.
 *
 * A parsed message keeps the bytes it came from: `raw` is the whole message and every
 * header field keeps its own raw line, so a proxy re-emits what it never touched byte-exact.
 * Header values are parsed lazily, on the first typed access, and cached.
 */

import type { SipHeaders } from './headers.js';
import type { SipParseError, Uri } from './types.js';

export type {
  SipParseErrorCode,
  SipParseError,
  Result,
  Params,
  SipUri,
  OtherUri,
  Uri,
  NameAddr,
  Contact,
  Via,
  CSeq,
  TypedHeaders,
  HeaderCollection,
} from './types.js';

interface MessageBase {
  /** `SIP/2.0` (as written, upper case). */
  version: string;
  /** The header collection (implements `HeaderCollection`). */
  readonly headers: SipHeaders;
  /** The body bytes (Content-Length octets after the empty line). */
  body: Uint8Array;
  /** The bytes this message was parsed from (undefined for a built message). */
  readonly raw?: Uint8Array;
}

export interface SipRequest extends MessageBase {
  readonly kind: 'request';
  method: string;
  /** Parsed Request-URI; assign a new object to change it (the raw text is then not reused). */
  uri: Uri;
  /** The Request-URI as it was written (or formatted, for a built message). */
  readonly uriText: string;
}

export interface SipResponse extends MessageBase {
  readonly kind: 'response';
  status: number;
  reason: string;
}

export type SipMessage = SipRequest | SipResponse;

/**
 * Outcome of `parseMessage`. On failure, `partial` is the message as far as it could be
 * read (start line and header fields) when that is enough to build an error response
 * (a 400, 505 or 513 needs the request's Via, From, To, Call-ID and CSeq).
 */
export type ParseResult =
  | { readonly ok: true; readonly message: SipMessage }
  | { readonly ok: false; readonly error: SipParseError; readonly partial?: SipMessage };

export interface ParseOptions {
  /** Reject larger inputs with `too-large` (→ 513). Default 65_535 bytes. */
  maxBytes?: number;
}

export const DEFAULT_MAX_BYTES = 65_535;
