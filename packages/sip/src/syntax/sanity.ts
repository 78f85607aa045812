/**
 * The sanity layer: maps a parse result or a parsed message to what RFC 3261 says to do
 * with it — accept, reject with a status (400, 416, 420, 505, 513), or drop silently when
 * no response can be built (a malformed response, or a request without a usable Via/CSeq).
 * Pure. RFC 4475 §3 lists the cases this is tested against.
 */
import { TOKEN, is, trimLws } from './chars.js';
import { SINGLE_HEADERS, displayHeaderName } from './headers.js';
import {
  DEFAULT_MAX_BYTES,
  type ParseResult,
  type SipMessage,
  type SipParseError,
  type SipRequest,
} from './message.js';
import { parseVia } from './values.js';

export type SanityVerdict =
  | { readonly action: 'accept' }
  | {
      readonly action: 'reject';
      readonly status: number;
      readonly reason: string;
      /** The request to answer (build the response with `createResponse`). */
      readonly request: SipRequest;
      /** For a 420: the option tags to list in `Unsupported` (§8.2.2.3). */
      readonly unsupported?: readonly string[];
    }
  | { readonly action: 'drop'; readonly reason: string };

export interface SanityOptions {
  /** Maximum message size (→ 513). Default 65_535. */
  maxBytes?: number;
  /** Request-URI schemes served (others → 416, §8.2.2.1). Default sip, sips, tel. */
  supportedSchemes?: readonly string[];
  /** Option tags understood (§8.2.2.3). Default none. */
  supportedExtensions?: readonly string[];
  /**
   * Which option-tag header is enforced with 420: a UAS checks `Require`, a proxy checks
   * `Proxy-Require` (§16.3 item 5). Default 'uas'.
   */
  role?: 'uas' | 'proxy';
}

const DEFAULT_SCHEMES = ['sip', 'sips', 'tel'];

export function checkMessage(
  input: ParseResult | SipMessage,
  opts: SanityOptions = {},
): SanityVerdict {
  try {
    return check(input, opts);
  } catch {
    return { action: 'drop', reason: 'sanity check defect' };
  }
}

function isParseResult(x: ParseResult | SipMessage): x is ParseResult {
  return 'ok' in x;
}

function check(input: ParseResult | SipMessage, opts: SanityOptions): SanityVerdict {
  let msg: SipMessage | undefined;
  let error: SipParseError | undefined;
  if (isParseResult(input)) {
    if (input.ok) msg = input.message;
    else {
      error = input.error;
      msg = input.partial;
    }
  } else msg = input;
  if (msg === undefined) return { action: 'drop', reason: error?.reason ?? 'unparseable message' };

  if (msg.kind === 'response') {
    // §18.1.2: a response that fails the checks is discarded; nobody to answer.
    if (error !== undefined) return { action: 'drop', reason: error.reason };
    return checkResponse(msg);
  }
  const req = msg;
  const reject = (
    status: number,
    rawReason: string,
    unsupported?: readonly string[],
  ): SanityVerdict => {
    // The reason often quotes hostile input: make it a valid Reason-Phrase (§25.1) first.
    const reason = safeReasonPhrase(rawReason);
    // §17: an ACK is never answered.
    if (req.method === 'ACK') return { action: 'drop', reason };
    return unsupported === undefined
      ? { action: 'reject', status, reason, request: req }
      : { action: 'reject', status, reason, request: req, unsupported };
  };

  // A response needs the top Via (where to send it) and CSeq (transaction matching).
  const h = req.headers;
  const topVia = h.getAll('via')[0];
  if (topVia === undefined || !sentByParses(topVia))
    return { action: 'drop', reason: 'no usable Via: no response can be sent' };
  const firstCSeq = h.getAll('cseq')[0];
  if (firstCSeq === undefined || !cseqShape(firstCSeq))
    return { action: 'drop', reason: 'no usable CSeq: no response can be built' };

  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (error?.code === 'too-large' || (req.raw !== undefined && req.raw.length > maxBytes)) {
    return reject(513, 'Message Too Large');
  }
  // §8.2.2 / §21.5.6: 505 for a SIP version the server does not support.
  if (
    error?.code === 'unsupported-version' ||
    (error === undefined && req.version.toUpperCase() !== 'SIP/2.0')
  ) {
    return reject(505, 'Version Not Supported');
  }
  if (error !== undefined) return reject(400, `Bad Request: ${error.reason}`);

  // §8.2.2.1: "If the Request-URI uses a scheme not supported by the UAS, it SHOULD reject
  // the request with a 416 (Unsupported URI Scheme) response." (RFC 4475 §3.3.2, §3.3.3)
  const schemes = opts.supportedSchemes ?? DEFAULT_SCHEMES;
  if (!schemes.includes(req.uri.scheme)) return reject(416, 'Unsupported URI Scheme');
  // §19.1.1 table 1: URI headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
  if (req.uri.kind === 'sip' && req.uri.headers.length > 0)
    return reject(400, 'Bad Request: headers in the Request-URI');

  // §8.1.1: To, From, CSeq, Call-ID and Via are mandatory (RFC 4475 §3.3.1). Max-Forwards is
  // tolerated when absent (RFC 2543 requests, RFC 4475 §3.4.1).
  const counts = fieldCounts(req);
  for (const name of ['to', 'from', 'call-id', 'cseq']) {
    if (!counts.has(name)) return reject(400, `Bad Request: missing ${displayHeaderName(name)}`);
  }
  // §7.3.1 / §20: single-valued header fields appear once (RFC 4475 §3.3.8, §3.3.9).
  for (const name of SINGLE_HEADERS) {
    if ((counts.get(name) ?? 0) > 1)
      return reject(400, `Bad Request: more than one ${displayHeaderName(name)}`);
  }
  // Every header the stack reads must match its grammar (RFC 4475 §3.1.2.1, .4, .6, .13–.15).
  for (const name of [
    'via',
    'from',
    'to',
    'call-id',
    'cseq',
    'contact',
    'max-forwards',
    'expires',
    'route',
    'record-route',
  ] as const) {
    if (
      name === 'max-forwards' ||
      name === 'expires' ||
      name === 'contact' ||
      name === 'route' ||
      name === 'record-route'
    ) {
      if (!counts.has(name)) continue;
    }
    const r = h.typed(name);
    if (!r.ok) return reject(400, `Bad Request: ${r.error.reason}`);
  }
  // RFC 4475 §3.2.1: a branch that is only the magic cookie has no transaction identifier;
  // "an element receiving this request could reject the request with a 400".
  if (h.via()[0]?.branch === 'z9hG4bK')
    return reject(400, 'Bad Request: empty branch after the magic cookie');
  const cseq = h.cseq()!;
  // §8.2.2 / RFC 4475 §3.1.2.17–18: the CSeq method matches the Request-Line method.
  if (cseq.method !== req.method)
    return reject(400, 'Bad Request: CSeq method does not match the request method');
  // Content-Length larger than the body (for a message given directly).
  const hasLength = counts.has('content-length');
  const cl = hasLength ? h.contentLength() : undefined;
  if (hasLength && cl === undefined) return reject(400, 'Bad Request: bad Content-Length');
  if (cl !== undefined && cl !== req.body.length)
    return reject(400, 'Bad Request: Content-Length does not match the body');
  // §10.3 step 6: "*" is alone, only in REGISTER, and with Expires 0.
  const contacts = h.contact();
  if (contacts.some((c) => c.star)) {
    if (contacts.length > 1 || req.method !== 'REGISTER' || h.expires() !== 0) {
      return reject(400, 'Bad Request: Contact "*" must be alone, in a REGISTER with Expires: 0');
    }
  }
  // RFC 4475 §3.1.2.12: a Date must be an RFC 1123 date in GMT.
  const date = h.get('date');
  if (date !== undefined && !isSipDate(date)) return reject(400, 'Bad Request: bad Date');
  // §8.2.2.3 (UAS, Require) / §16.3 item 5 (proxy, Proxy-Require): unknown option tags → 420.
  if (req.method !== 'CANCEL') {
    const header = (opts.role ?? 'uas') === 'proxy' ? 'proxy-require' : 'require';
    if (counts.has(header)) {
      const known = new Set((opts.supportedExtensions ?? []).map((t) => t.toLowerCase()));
      const unsupported = h.getAll(header).filter((t) => !known.has(t.toLowerCase()));
      if (unsupported.length > 0) return reject(420, 'Bad Extension', unsupported);
    }
  }
  return { action: 'accept' };
}

function checkResponse(res: SipMessage & { kind: 'response' }): SanityVerdict {
  const h = res.headers;
  if (res.version.toUpperCase() !== 'SIP/2.0')
    return { action: 'drop', reason: 'unsupported SIP version in a response' };
  const counts = fieldCounts(res);
  for (const name of ['via', 'from', 'to', 'call-id', 'cseq'] as const) {
    if (!counts.has(name))
      return { action: 'drop', reason: `response without ${displayHeaderName(name)}` };
    const r = h.typed(name);
    if (!r.ok) return { action: 'drop', reason: r.error.reason };
  }
  for (const name of SINGLE_HEADERS) {
    if ((counts.get(name) ?? 0) > 1)
      return { action: 'drop', reason: `response with more than one ${displayHeaderName(name)}` };
  }
  const hasLength = counts.has('content-length');
  const cl = hasLength ? h.contentLength() : undefined;
  if (hasLength && (cl === undefined || cl !== res.body.length))
    return { action: 'drop', reason: 'bad Content-Length' };
  return { action: 'accept' };
}

/**
 * How many fields of each header key (lower-case long form) the message has: one pass over the
 * fields instead of one per header checked.
 */
function fieldCounts(msg: SipMessage): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of msg.headers.fields()) counts.set(f.key, (counts.get(f.key) ?? 0) + 1);
  return counts;
}

/** 1*DIGIT LWS token: enough to copy the CSeq into a response even if the number overflows. */
function cseqShape(v: string): boolean {
  const s = trimLws(v);
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  if (i === 0) return false;
  const sp = i;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  if (i === sp || i === s.length) return false;
  for (; i < s.length; i++) if (!is(s.charCodeAt(i), TOKEN)) return false;
  return true;
}

/** The protocol and sent-by of a Via parse (parameters may be broken; RFC 4475 §3.1.2.1). */
function sentByParses(via: string): boolean {
  const semi = via.indexOf(';');
  return parseVia(semi < 0 ? via : via.slice(0, semi)).ok;
}

const WKDAY = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const MONTH = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** SIP-date = wkday "," SP 2DIGIT SP month SP 4DIGIT SP 2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT" (§20.17) */
export function isSipDate(v: string): boolean {
  const s = trimLws(v);
  if (s.length !== 29) return false;
  const digits = (a: number, b: number): boolean => {
    for (let i = a; i < b; i++) if (s.charCodeAt(i) < 0x30 || s.charCodeAt(i) > 0x39) return false;
    return true;
  };
  return (
    WKDAY.includes(s.slice(0, 3)) &&
    s.slice(3, 5) === ', ' &&
    digits(5, 7) &&
    s[7] === ' ' &&
    MONTH.includes(s.slice(8, 11)) &&
    s[11] === ' ' &&
    digits(12, 16) &&
    s[16] === ' ' &&
    digits(17, 19) &&
    s[19] === ':' &&
    digits(20, 22) &&
    s[22] === ':' &&
    digits(23, 25) &&
    s.slice(25) === ' GMT'
  );
}

/** Option tags are tokens. */
export function isOptionTag(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!is(s.charCodeAt(i), TOKEN)) return false;
  return s.length > 0;
}

/**
 * Makes text safe as a Reason-Phrase (RFC 3261 §25.1: no CR, LF or other control characters):
 * controls become "?", and the phrase is cut to 120 characters.
 */
export function safeReasonPhrase(reason: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = reason.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 120 ? `${clean.slice(0, 117)}...` : clean;
}
