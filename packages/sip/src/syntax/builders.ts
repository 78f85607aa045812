/**
 * Building requests and responses (RFC 3261 §8.1.1, §8.2.6) and the random identifiers
 * (branch §8.1.1.7, tag §19.3, Call-ID §8.1.1.4). Uses WebCrypto's getRandomValues only.
 */
import { fieldValue, SipHeaders } from './headers.js';
import type { NameAddr, SipRequest, SipResponse, Uri } from './message.js';
import { formatNameAddr } from './nameaddr.js';
import { formatUri, parseUri } from './uri.js';

/** §8.1.1.7: "The branch ID inserted by an element compliant with this specification MUST always begin with the characters z9hG4bK." */
export const BRANCH_COOKIE = 'z9hG4bK';

function randomHex(bytes: number): string {
  const b = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(b);
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16);
  return s;
}

/** `z9hG4bK` + 96 random bits (hex). */
export function generateBranch(): string {
  return BRANCH_COOKIE + randomHex(12);
}

/** §19.3: a tag with at least 32 bits of randomness (we use 64). */
export function generateTag(): string {
  return randomHex(8);
}

/** §8.1.1.4: a globally unique Call-ID (128 random bits), optionally `@host`. */
export function generateCallId(host?: string): string {
  return host === undefined ? randomHex(16) : `${randomHex(16)}@${host}`;
}

export interface CreateRequestOptions {
  method: string;
  /** Request-URI. */
  uri: Uri | string;
  from: NameAddr | string;
  to: NameAddr | string;
  /** Default: a new random Call-ID. */
  callId?: string;
  /** Default: 1. */
  cseq?: number;
  /** The top Via; its branch defaults to `generateBranch()`. Omit to add no Via (a transport adds it). */
  via?: { transport: string; host: string; port?: number; branch?: string; rport?: boolean };
  /** Default 70 (§8.1.1.6). */
  maxForwards?: number;
  contact?: NameAddr | string;
  /** Extra header fields, in order. */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Uint8Array | string;
  /** Content-Type when there is a body. */
  contentType?: string;
}

const encoder = new TextEncoder();

/** What a Via value says (§20.42, §18.2.1): transport, sent-by, branch, and RFC 3581 `rport`. */
export interface ViaSpec {
  readonly transport: string;
  /** sent-by host; an IPv6 address is bracketed here if it is not already. */
  readonly host: string;
  readonly port?: number | undefined;
  readonly branch: string;
  /** RFC 3581 §3: an empty `rport` asks the server to send the response to the source port. */
  readonly rport?: boolean | undefined;
}

/** The one Via builder of the stack: `SIP/2.0/UDP host:port;branch=…[;rport]`. */
export function formatVia(v: ViaSpec): string {
  const host = v.host.includes(':') && !v.host.startsWith('[') ? `[${v.host}]` : v.host;
  const port = v.port !== undefined ? `:${v.port}` : '';
  return `SIP/2.0/${v.transport.toUpperCase()} ${host}${port};branch=${v.branch}${v.rport === true ? ';rport' : ''}`;
}

function addr(v: NameAddr | string): string {
  return typeof v === 'string' ? v : formatNameAddr(v);
}

/** A new request with the mandatory header fields of §8.1.1. Throws on a bad Request-URI string. */
export function createRequest(o: CreateRequestOptions): SipRequest {
  let uri: Uri;
  if (typeof o.uri === 'string') {
    const r = parseUri(o.uri);
    if (!r.ok) throw new TypeError(`createRequest: ${r.error.reason}`);
    uri = r.value;
  } else uri = o.uri;
  const h = new SipHeaders();
  if (o.via !== undefined) {
    const v = o.via;
    h.append('Via', formatVia({ ...v, branch: v.branch ?? generateBranch() }));
  }
  h.append('Max-Forwards', String(o.maxForwards ?? 70));
  h.append('From', addr(o.from));
  h.append('To', addr(o.to));
  h.append('Call-ID', o.callId ?? generateCallId());
  h.append('CSeq', `${o.cseq ?? 1} ${o.method}`);
  if (o.contact !== undefined) h.append('Contact', addr(o.contact));
  for (const [n, v] of o.headers ?? []) h.append(n, v);
  const body = typeof o.body === 'string' ? encoder.encode(o.body) : (o.body ?? new Uint8Array(0));
  if (body.length > 0 && o.contentType !== undefined) h.append('Content-Type', o.contentType);
  h.append('Content-Length', String(body.length));
  return {
    kind: 'request',
    method: o.method,
    uri,
    uriText: formatUri(uri),
    version: 'SIP/2.0',
    headers: h,
    body,
  };
}

export interface CreateResponseOptions {
  /** To tag to add when the request's To has none (default: `generateTag()`; not added to a 100). */
  toTag?: string;
  /** Extra header fields, in order. */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Uint8Array | string;
  contentType?: string;
}

/**
 * §8.2.6.2: "The From field of the response MUST equal the From header field of the request.
 * The Call-ID ... MUST equal ... The CSeq ... MUST equal ... The Via header field values in
 * the response MUST equal the Via header field values in the request and MUST maintain the
 * same ordering." The To is copied, and a tag added if the request had none (except for 100).
 * Copied fields keep their raw bytes.
 */
export function createResponse(
  request: SipRequest,
  status: number,
  reason?: string,
  opts: CreateResponseOptions = {},
): SipResponse {
  const h = new SipHeaders();
  h.copyFrom(request.headers, ['via', 'from']);
  const toField = request.headers.fields().find((f) => f.key === 'to');
  if (toField !== undefined) {
    const to = request.headers.to();
    const hasTag =
      to !== undefined ? to.tag !== undefined : /;\s*tag\s*=/i.test(fieldValue(toField));
    if (hasTag || status === 100) h.copyFrom(request.headers, ['to']);
    else h.append(toField.name, `${fieldValue(toField)};tag=${opts.toTag ?? generateTag()}`);
  }
  h.copyFrom(request.headers, ['call-id', 'cseq']);
  // §8.2.6.1: a 100 (Trying) copies the Timestamp. §12.1.1: a dialog-creating response copies Record-Route.
  if (status === 100) h.copyFrom(request.headers, ['timestamp']);
  if (status > 100 && status < 300) h.copyFrom(request.headers, ['record-route']);
  for (const [n, v] of opts.headers ?? []) h.append(n, v);
  const body =
    typeof opts.body === 'string' ? encoder.encode(opts.body) : (opts.body ?? new Uint8Array(0));
  if (body.length > 0 && opts.contentType !== undefined) h.append('Content-Type', opts.contentType);
  h.append('Content-Length', String(body.length));
  return {
    kind: 'response',
    status,
    reason: reason ?? reasonPhrase(status),
    version: 'SIP/2.0',
    headers: h,
    body,
  };
}

const REASONS: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  181: 'Call Is Being Forwarded',
  182: 'Queued',
  183: 'Session Progress',
  200: 'OK',
  202: 'Accepted',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  305: 'Use Proxy',
  380: 'Alternative Service',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  410: 'Gone',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme',
  420: 'Bad Extension',
  421: 'Extension Required',
  423: 'Interval Too Brief',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  483: 'Too Many Hops',
  484: 'Address Incomplete',
  485: 'Ambiguous',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  493: 'Undecipherable',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Server Time-out',
  505: 'Version Not Supported',
  513: 'Message Too Large',
  600: 'Busy Everywhere',
  603: 'Decline',
  604: 'Does Not Exist Anywhere',
  606: 'Not Acceptable',
};

/** The RFC 3261 §21 reason phrase of a status code (or a generic one per class). */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? REASONS[Math.floor(status / 100) * 100] ?? 'Unknown';
}
