/**
 * serializeMessage: a message → bytes (RFC 3261 §7). A parsed message that was not changed
 * is returned as its original bytes; otherwise untouched header fields are re-emitted from
 * their raw bytes and changed ones canonically. Content-Length always matches the body.
 */
import { fieldValue } from './headers.js';
import type { SipMessage } from './message.js';
import { wire } from './raw.js';
import { formatUri } from './uri.js';

const CRLF = new Uint8Array([0x0d, 0x0a]);
const encoder = new TextEncoder();

/** Whether the message's start line is still the one its received bytes hold. */
function startLineUnchanged(msg: SipMessage, w: NonNullable<ReturnType<typeof wire.get>>): boolean {
  return (
    msg.version === w.version &&
    (msg.kind === 'request'
      ? msg.method === w.method && msg.uri === w.uri
      : msg.status === w.status && msg.reason === w.reason)
  );
}

export function serializeMessage(msg: SipMessage): Uint8Array {
  const w = wire.get(msg);
  const startUnchanged = w !== undefined && startLineUnchanged(msg, w);
  const bodyUnchanged = w !== undefined && msg.body === w.body;
  if (
    w !== undefined &&
    startUnchanged &&
    bodyUnchanged &&
    w.lengthExact &&
    msg.headers.revision === w.headerVersion
  ) {
    return w.buf.subarray(w.msgStart, w.msgEnd);
  }
  const chunks: Uint8Array[] = [];
  if (w !== undefined && startUnchanged)
    chunks.push(w.buf.subarray(w.msgStart, w.startLineEnd), CRLF);
  else chunks.push(encoder.encode(startLine(msg) + '\r\n'));

  const bodyLength = msg.body.length;
  let lengthWritten = false;
  for (const f of msg.headers.fields()) {
    if (f.key === 'content-length') {
      if (lengthWritten) continue;
      lengthWritten = true;
      // Reuse the raw field when it already states the body length.
      if (
        f.buf !== undefined &&
        Number(fieldValue(f)) === bodyLength &&
        /^[0-9]+$/.test(fieldValue(f))
      ) {
        chunks.push(f.buf.subarray(f.rawStart, f.rawEnd), CRLF);
      } else chunks.push(encoder.encode(`${f.name}: ${bodyLength}\r\n`));
      continue;
    }
    if (f.buf !== undefined) chunks.push(f.buf.subarray(f.rawStart, f.rawEnd), CRLF);
    else chunks.push(encoder.encode(`${f.name}: ${fieldValue(f)}\r\n`));
  }
  if (!lengthWritten) chunks.push(encoder.encode(`Content-Length: ${bodyLength}\r\n`));
  chunks.push(CRLF, msg.body);
  const out = concat(chunks);
  remember(msg, out);
  return out;
}

/**
 * The last message serialized the slow way and its bytes, in the state it had then: a server
 * transaction keeps the response it just sent as bytes ({@link serializeOwned}), and the
 * transport serialized that response a moment before. One entry, checked against every field
 * the output depends on, so it can only answer with the bytes the message serializes to now.
 */
interface Remembered {
  readonly msg: SipMessage;
  readonly out: Uint8Array;
  readonly revision: number;
  readonly body: Uint8Array;
  readonly version: string;
  readonly start: unknown;
  readonly start2: unknown;
}
let last: Remembered | undefined;

function startOf(msg: SipMessage): [unknown, unknown] {
  return msg.kind === 'request' ? [msg.method, msg.uri] : [msg.status, msg.reason];
}

function remember(msg: SipMessage, out: Uint8Array): void {
  const [start, start2] = startOf(msg);
  last = {
    msg,
    out,
    revision: msg.headers.revision,
    body: msg.body,
    version: msg.version,
    start,
    start2,
  };
}

function recalled(msg: SipMessage): Uint8Array | undefined {
  const r = last;
  if (r === undefined || r.msg !== msg) return undefined;
  const [start, start2] = startOf(msg);
  return r.revision === msg.headers.revision &&
    r.body === msg.body &&
    r.version === msg.version &&
    r.start === start &&
    r.start2 === start2
    ? r.out
    : undefined;
}

/** Request-Line or Status-Line, without CRLF. */
export function startLine(msg: SipMessage): string {
  if (msg.kind === 'request') {
    const w = wire.get(msg);
    const uriText = w !== undefined && msg.uri === w.uri ? msg.uriText : formatUri(msg.uri);
    return `${msg.method} ${uriText} ${msg.version}`;
  }
  return `${msg.version} ${msg.status} ${msg.reason}`;
}

/**
 * The start line and only the header fields whose keys are in `keys` (lower-case long form),
 * in order, raw bytes where they have them, then the empty line; no body and no
 * Content-Length. In a buffer of its own, sized to fit: what a transaction that only absorbs
 * retransmissions keeps of its request (Kamailio's tm likewise keeps buffers, not messages).
 */
export function serializeFields(msg: SipMessage, keys: ReadonlySet<string>): Uint8Array {
  const w = wire.get(msg);
  const startUnchanged = w !== undefined && startLineUnchanged(msg, w);
  const chunks: Uint8Array[] = [];
  if (startUnchanged) chunks.push(w.buf.subarray(w.msgStart, w.startLineEnd), CRLF);
  else chunks.push(encoder.encode(startLine(msg) + '\r\n'));
  for (const f of msg.headers.fields()) {
    if (!keys.has(f.key)) continue;
    if (f.buf !== undefined) chunks.push(f.buf.subarray(f.rawStart, f.rawEnd), CRLF);
    else chunks.push(encoder.encode(`${f.name}: ${fieldValue(f)}\r\n`));
  }
  chunks.push(CRLF);
  return concat(chunks);
}

/** The message's bytes (as `serializeMessage`) in a buffer of their own, sized to fit. */
export function serializeOwned(msg: SipMessage): Uint8Array {
  const bytes = recalled(msg) ?? serializeMessage(msg);
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length ? bytes : bytes.slice();
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
