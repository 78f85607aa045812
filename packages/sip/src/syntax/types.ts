/**
 * The value types of SIP syntax (RFC 3261 §19, §20, §25): URIs, name-addrs, Via, CSeq, the
 * typed header views and the header collection's interface. Pure types; `message.ts` (the
 * messages) and `headers.ts` (the collection) both import them, and neither imports the other's
 * values, so the two files have no import cycle.
 */

/** Stable codes of a SIP syntax failure. */
export type SipParseErrorCode =
  | 'empty' // no bytes, or only CRLFs
  | 'too-large' // larger than `maxBytes` (513)
  | 'bad-start-line' // neither a Request-Line nor a Status-Line
  | 'bad-method'
  | 'bad-request-uri'
  | 'bad-version' // not "SIP/" 1*DIGIT "." 1*DIGIT (400)
  | 'unsupported-version' // well formed but not SIP/2.0 (505)
  | 'bad-status-code'
  | 'bad-reason-phrase'
  | 'bad-header' // a header line without a colon or with a bad name
  | 'bad-header-value' // a typed header value that does not match its grammar
  | 'missing-header'
  | 'bad-content-length'
  | 'body-truncated' // Content-Length larger than the bytes received
  | 'no-header-end' // no empty line after the headers
  | 'bad-uri'
  | 'bad-params'
  | 'internal'; // a defect in the parser (it never throws: caught and mapped here)

/** A SIP syntax failure, with a human reason and the byte offset when known. */
export interface SipParseError {
  readonly code: SipParseErrorCode;
  readonly reason: string;
  /** Byte offset in the input where the problem was found. */
  readonly offset?: number;
  /** Header name (long form, lower case) the problem is in. */
  readonly header?: string;
}

/** A value or a typed error; the syntax layer never throws. */
export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: SipParseError };

/** Generic parameters (`;name=value`, or `;name` valueless → `null`). Keys are lower case. */
export type Params = ReadonlyMap<string, string | null>;

/** A `sip:` or `sips:` URI (RFC 3261 §19.1). Immutable: build a new one to change it. */
export interface SipUri {
  readonly kind: 'sip';
  readonly scheme: 'sip' | 'sips';
  /** User part, %-unescaped. */
  readonly user?: string;
  /** Password, %-unescaped. */
  readonly password?: string;
  /** Host in lower case; an IPv6 reference keeps its brackets: `[2001:db8::1]`. */
  readonly host: string;
  readonly hostKind: 'name' | 'ipv4' | 'ipv6';
  readonly port?: number;
  /** URI parameters (`transport`, `lr`, `maddr`, `user`, `ob`, …), names lower case, values unescaped. */
  readonly params: Params;
  /** URI headers (`?a=b&c=d`), names and values unescaped, in order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** A URI of another scheme (`tel:`, `urn:`, `http:`, …) kept as written. */
export interface OtherUri {
  readonly kind: 'other';
  /** Scheme in lower case. */
  readonly scheme: string;
  /** The whole URI as written. */
  readonly raw: string;
}

export type Uri = SipUri | OtherUri;

/** `name-addr` or `addr-spec` followed by parameters (From, To, Contact, Route, …; §20.10, §25.1). */
export interface NameAddr {
  /** Display name, unquoted and unescaped; undefined when absent. */
  readonly displayName?: string;
  readonly uri: Uri;
  /** Header parameters after the address, names lower case. */
  readonly params: Params;
  /** The `tag` parameter, when present (From/To). */
  readonly tag?: string;
}

/** A Contact value (§20.10): an address with `expires`/`q`, or the `*` of a REGISTER. */
export type Contact =
  | { readonly star: true }
  | (NameAddr & { readonly star: false; readonly expires?: number; readonly q?: number });

/** A Via value (§20.42). */
export interface Via {
  /** `SIP/2.0` */
  readonly protocol: string;
  /** Transport in upper case: UDP, TCP, TLS, SCTP, WS, WSS, or any token. */
  readonly transport: string;
  /** sent-by host, lower case; IPv6 keeps its brackets. */
  readonly host: string;
  readonly port?: number;
  /** All parameters, names lower case; `rport` valueless is `null`. */
  readonly params: Params;
  readonly branch?: string;
  readonly received?: string;
  /** `undefined` absent, `null` present without a value, else the port. */
  readonly rport?: number | null;
}

/** A CSeq value (§20.16). */
export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/** Typed views of the headers the stack reads. */
export interface TypedHeaders {
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  'call-id': string;
  cseq: CSeq;
  contact: Contact[];
  'max-forwards': number;
  'content-length': number;
  route: NameAddr[];
  'record-route': NameAddr[];
  expires: number;
}

/** Header collection: case-insensitive, compact-form aware. See `headers.ts`. */
export interface HeaderCollection {
  /** First value (a whole line's value for non-list headers, the first element for list headers). */
  get(name: string): string | undefined;
  /** All values, comma-separated lists split outside quotes and `<>` (never the auth headers). */
  getAll(name: string): string[];
  has(name: string): boolean;
  /** Replace every field of this name by one field per value, at the position of the first one. */
  set(name: string, value: string | readonly string[]): void;
  /** Add a field after the last one. */
  append(name: string, value: string): void;
  /** Add a field before the first field of that name (or at the top). Used for Via, Record-Route. */
  prepend(name: string, value: string): void;
  /** Remove every field of this name; returns how many were removed. */
  remove(name: string): number;
  /** Remove and return the topmost value of a list header (splitting `Via: a, b` if needed). */
  shift(name: string): string | undefined;
  /** Fields in order, as `[name as written, value]`. */
  entries(): Array<[string, string]>;
  /** Number of header fields (lines). */
  readonly size: number;
  /** Parse a header with its grammar; cached until the header changes. */
  typed<K extends keyof TypedHeaders>(name: K): Result<TypedHeaders[K]>;
  via(): Via[];
  callId(): string | undefined;
  cseq(): CSeq | undefined;
  from(): NameAddr | undefined;
  to(): NameAddr | undefined;
  contact(): Contact[];
  maxForwards(): number | undefined;
  contentLength(): number | undefined;
  route(): NameAddr[];
  recordRoute(): NameAddr[];
  expires(): number | undefined;
}
