/**
 * parseMessage: bytes of one whole SIP message → a typed message or a typed error
 * (RFC 3261 §7). Scans bytes with indexes; header values are decoded and parsed lazily.
 * Never throws: a defect is caught and reported as `internal`.
 */
import { TOKEN, decodeRange, is, isToken } from './chars.js';
import { fail } from './errors.js';
import { SipHeaders, type HeaderField, wireField } from './headers.js';
import {
  DEFAULT_MAX_BYTES,
  type OtherUri,
  type ParseOptions,
  type ParseResult,
  type SipMessage,
  type SipParseError,
  type SipRequest,
  type SipResponse,
  type Uri,
} from './message.js';
import { wire } from './raw.js';
import { parseUri } from './uri.js';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const EMPTY = new Uint8Array(0);

export function parseMessage(bytes: Uint8Array, opts?: ParseOptions): ParseResult {
  try {
    return parse(bytes, opts?.maxBytes ?? DEFAULT_MAX_BYTES);
  } catch (e) {
    return fail('internal', `parser defect: ${e instanceof Error ? e.message : 'unknown'}`);
  }
}

interface StartLine {
  kind: 'request' | 'response';
  method: string;
  uri: Uri;
  uriText: string;
  status: number;
  reason: string;
  version: string;
  error: SipParseError | undefined;
}

function parse(buf: Uint8Array, maxBytes: number): ParseResult {
  const n = buf.length;
  let i = 0;
  // §7.5: "Implementations processing SIP messages over stream-oriented transports MUST
  // ignore any CRLF appearing before the start-line".
  while (i < n && (buf[i] === CR || buf[i] === LF)) i++;
  if (i === n) return fail('empty', 'no message', 0);
  const msgStart = i;

  // Start line.
  const le = lineEnd(buf, i);
  if (le < 0) return fail('no-header-end', 'the start line has no CRLF', n);
  const slEnd = le > i && buf[le - 1] === CR ? le - 1 : le;
  const sl = parseStartLine(buf, i, slEnd);
  i = le + 1;

  // Header fields until the empty line.
  const fields: HeaderField[] = [];
  let headerError: SipParseError | undefined;
  let bodyStart = -1;
  while (i < n) {
    if (buf[i] === CR && i + 1 < n && buf[i + 1] === LF) {
      bodyStart = i + 2;
      break;
    }
    if (buf[i] === LF) {
      bodyStart = i + 1;
      break;
    }
    const lineStart = i;
    if (buf[i] === SP || buf[i] === HT) {
      // A continuation with no header to continue.
      headerError ??= { code: 'bad-header', reason: 'folded line before any header', offset: i };
    }
    // header-name *(SP/HTAB) ":"
    let j = i;
    while (j < n && buf[j]! < 0x80 && is(buf[j]!, TOKEN)) j++;
    const nameEnd = j;
    while (j < n && (buf[j] === SP || buf[j] === HT)) j++;
    // The field ends at a LF not followed by SP/HTAB (§7.3.1 folding).
    let k = j;
    let folded = false;
    let end = -1;
    while (k < n) {
      k = buf.indexOf(LF, k);
      if (k < 0) break;
      if (k + 1 < n && (buf[k + 1] === SP || buf[k + 1] === HT)) {
        folded = true;
        k++;
        continue;
      }
      end = k;
      break;
    }
    if (end < 0) {
      return withPartial(
        fail('no-header-end', 'the header section has no empty line', n),
        sl,
        fields,
        buf,
        msgStart,
        slEnd,
        n,
        EMPTY,
        false,
      );
    }
    const rawEnd = end > lineStart && buf[end - 1] === CR ? end - 1 : end;
    if (nameEnd === lineStart || j >= rawEnd || buf[j] !== 0x3a) {
      headerError ??= {
        code: 'bad-header',
        reason: 'a header line without "name:"',
        offset: lineStart,
      };
    } else {
      const name = decodeRange(buf, lineStart, nameEnd);
      fields.push(wireField(buf, name, lineStart, j + 1, rawEnd, folded));
    }
    i = end + 1;
  }
  // A datagram that ends right after a header line's CRLF, without the empty line, is read
  // as having no body (tolerance: RFC 4475's baddn.dat is stored that way).
  if (bodyStart < 0 && i === n) bodyStart = n;
  if (bodyStart < 0) {
    return withPartial(
      fail('no-header-end', 'the header section has no empty line', n),
      sl,
      fields,
      buf,
      msgStart,
      slEnd,
      n,
      EMPTY,
      false,
    );
  }

  // Body: Content-Length octets (§18.3: extra octets in a datagram are discarded; RFC 4475
  // §3.1.1.8). Without Content-Length the body is the rest of the datagram.
  let body = buf.subarray(bodyStart);
  let msgEnd = n;
  let bodyError: SipParseError | undefined;
  let lengthExact = false;
  let clCount = 0;
  let clField: HeaderField | undefined;
  for (const f of fields) {
    if (f.key === 'content-length') {
      clCount++;
      clField ??= f;
    }
  }
  if (clCount > 1) {
    bodyError = {
      code: 'bad-content-length',
      reason: 'more than one Content-Length (RFC 4475 §3.3.9)',
      header: 'content-length',
    };
  } else if (clField !== undefined) {
    const cl = parseDigits(buf, clField.valueStart, clField.rawEnd);
    if (cl < 0) {
      bodyError = {
        code: 'bad-content-length',
        reason: 'Content-Length is not 1*DIGIT',
        offset: clField.valueStart,
        header: 'content-length',
      };
    } else if (cl > n - bodyStart) {
      bodyError = {
        code: 'body-truncated',
        reason: `Content-Length ${cl} is larger than the ${n - bodyStart} body octets received (§18.3)`,
        offset: bodyStart,
        header: 'content-length',
      };
    } else {
      body = buf.subarray(bodyStart, bodyStart + cl);
      msgEnd = bodyStart + cl;
      lengthExact = true;
    }
  }

  const error: SipParseError | undefined =
    msgEnd - msgStart > maxBytes
      ? { code: 'too-large', reason: `message of ${msgEnd - msgStart} bytes exceeds ${maxBytes}` }
      : (sl.error ?? headerError ?? bodyError);
  if (error !== undefined) {
    return withPartial(
      { ok: false, error },
      sl,
      fields,
      buf,
      msgStart,
      slEnd,
      msgEnd,
      body,
      lengthExact,
    );
  }
  return { ok: true, message: build(sl, fields, buf, msgStart, slEnd, msgEnd, body, lengthExact) };
}

function withPartial(
  r: { ok: false; error: SipParseError },
  sl: StartLine,
  fields: HeaderField[],
  buf: Uint8Array,
  msgStart: number,
  slEnd: number,
  msgEnd: number,
  body: Uint8Array,
  lengthExact: boolean,
): ParseResult {
  return {
    ok: false,
    error: r.error,
    partial: build(sl, fields, buf, msgStart, slEnd, msgEnd, body, lengthExact),
  };
}

function build(
  sl: StartLine,
  fields: HeaderField[],
  buf: Uint8Array,
  msgStart: number,
  slEnd: number,
  msgEnd: number,
  body: Uint8Array,
  lengthExact: boolean,
): SipMessage {
  const headers = new SipHeaders(fields);
  const raw = buf.subarray(msgStart, msgEnd);
  let msg: SipMessage;
  if (sl.kind === 'request') {
    const req: SipRequest = {
      kind: 'request',
      method: sl.method,
      uri: sl.uri,
      uriText: sl.uriText,
      version: sl.version,
      headers,
      body,
      raw,
    };
    msg = req;
  } else {
    const res: SipResponse = {
      kind: 'response',
      status: sl.status,
      reason: sl.reason,
      version: sl.version,
      headers,
      body,
      raw,
    };
    msg = res;
  }
  wire.set(msg, {
    buf,
    msgStart,
    startLineEnd: slEnd,
    msgEnd,
    method: sl.kind === 'request' ? sl.method : undefined,
    uri: sl.kind === 'request' ? sl.uri : undefined,
    status: sl.kind === 'response' ? sl.status : undefined,
    reason: sl.kind === 'response' ? sl.reason : undefined,
    version: sl.version,
    body,
    headerVersion: headers.revision,
    lengthExact,
  });
  return msg;
}

function lineEnd(buf: Uint8Array, i: number): number {
  return buf.indexOf(LF, i);
}

/** 1*DIGIT with optional surrounding LWS, or -1; values above 2**31-1 are -1. */
function parseDigits(buf: Uint8Array, a: number, b: number): number {
  while (a < b && (buf[a] === SP || buf[a] === HT || buf[a] === CR || buf[a] === LF)) a++;
  while (
    b > a &&
    (buf[b - 1] === SP || buf[b - 1] === HT || buf[b - 1] === CR || buf[b - 1] === LF)
  )
    b--;
  if (a === b || b - a > 10) return -1;
  let v = 0;
  for (let i = a; i < b; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v > 2 ** 31 - 1 ? -1 : v;
}

const VERSION_2 = 'SIP/2.0';

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (§25.1) */
function checkVersion(v: string): SipParseError | undefined {
  if (v.length < 7 || v.slice(0, 4).toUpperCase() !== 'SIP/')
    return { code: 'bad-version', reason: `bad SIP version "${v}"` };
  const dot = v.indexOf('.', 4);
  const major = v.slice(4, dot < 0 ? undefined : dot);
  const minor = dot < 0 ? '' : v.slice(dot + 1);
  if (!/^[0-9]{1,9}$/.test(major) || !/^[0-9]{1,9}$/.test(minor))
    return { code: 'bad-version', reason: `bad SIP version "${v}"` };
  if (v.toUpperCase() !== VERSION_2)
    return {
      code: 'unsupported-version',
      reason: `SIP version "${v}" is not supported (§21.5.6: 505)`,
    };
  return undefined;
}

function rawUri(text: string): OtherUri {
  const colon = text.indexOf(':');
  return { kind: 'other', scheme: colon > 0 ? text.slice(0, colon).toLowerCase() : '', raw: text };
}

function parseStartLine(buf: Uint8Array, a: number, b: number): StartLine {
  const line = decodeRange(buf, a, b);
  const sl: StartLine = {
    kind: 'request',
    method: '',
    uri: rawUri(''),
    uriText: '',
    status: 0,
    reason: '',
    version: VERSION_2,
    error: undefined,
  };
  if (line.startsWith('SIP/') || line.startsWith('sip/')) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    sl.kind = 'response';
    const sp1 = line.indexOf(' ');
    const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    sl.version = sp1 < 0 ? line : line.slice(0, sp1);
    const code = sp1 < 0 ? '' : line.slice(sp1 + 1, sp2 < 0 ? undefined : sp2);
    sl.reason = sp2 < 0 ? '' : line.slice(sp2 + 1);
    // Status-Code = 3DIGIT (§7.2: 100 to 699)
    if (code.length !== 3 || !/^[1-6][0-9][0-9]$/.test(code)) {
      sl.error = {
        code: 'bad-status-code',
        reason: `bad status code "${code.slice(0, 16)}"`,
        offset: a + sp1 + 1,
      };
    } else sl.status = Number(code);
    sl.error ??= checkVersion(sl.version);
    if (sl.error === undefined && hasCtl(sl.reason)) {
      sl.error = {
        code: 'bad-reason-phrase',
        reason: 'control character in the reason phrase',
        offset: a + sp2 + 1,
      };
    }
    return sl;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version CRLF (single SPs, §7.1)
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  const method = sp1 < 0 ? line : line.slice(0, sp1);
  sl.method = method;
  if (sp1 < 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0 || sp2 === sp1 + 1) {
    sl.error = {
      code: 'bad-start-line',
      reason: 'the Request-Line must be "Method SP Request-URI SP SIP-Version" (§7.1)',
      offset: a,
    };
    if (sp1 >= 0) {
      const uriText = line.slice(sp1 + 1, sp2 < 0 ? undefined : sp2);
      sl.uriText = uriText;
      sl.uri = rawUri(uriText);
      if (sp2 >= 0) sl.version = line.slice(sp2 + 1).trim() || VERSION_2;
    }
    return sl;
  }
  const uriText = line.slice(sp1 + 1, sp2);
  sl.uriText = uriText;
  sl.version = line.slice(sp2 + 1);
  if (!isToken(method)) {
    sl.error = { code: 'bad-method', reason: 'the method is not a token', offset: a };
  }
  const u = parseUri(uriText);
  if (u.ok) sl.uri = u.value;
  else {
    sl.uri = rawUri(uriText);
    sl.error ??= {
      code: 'bad-request-uri',
      reason: `bad Request-URI: ${u.error.reason}`,
      offset: a + sp1 + 1 + (u.error.offset ?? 0),
    };
  }
  sl.error ??= checkVersion(sl.version);
  return sl;
}

function hasCtl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== HT) || c === 0x7f) return true;
  }
  return false;
}
