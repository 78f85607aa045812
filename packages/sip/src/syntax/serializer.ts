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
  const out = new Splice();
  if (w !== undefined && startUnchanged) out.line(w.buf, w.msgStart, w.startLineEnd);
  else out.text(startLine(msg) + '\r\n');

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
        out.line(f.buf, f.rawStart, f.rawEnd);
      } else out.text(`${f.name}: ${bodyLength}\r\n`);
      continue;
    }
    if (f.buf !== undefined) out.line(f.buf, f.rawStart, f.rawEnd);
    else out.text(`${f.name}: ${fieldValue(f)}\r\n`);
  }
  if (!lengthWritten) out.text(`Content-Length: ${bodyLength}\r\n`);
  out.text('\r\n');
  out.bytes(msg.body);
  const bytes = out.finish();
  remember(msg, bytes);
  return bytes;
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
  const out = new Splice();
  if (startUnchanged) out.line(w.buf, w.msgStart, w.startLineEnd);
  else out.text(startLine(msg) + '\r\n');
  for (const f of msg.headers.fields()) {
    if (!keys.has(f.key)) continue;
    if (f.buf !== undefined) out.line(f.buf, f.rawStart, f.rawEnd);
    else out.text(`${f.name}: ${fieldValue(f)}\r\n`);
  }
  out.text('\r\n');
  return out.finish();
}

/** The message's bytes (as `serializeMessage`) in a buffer of their own, sized to fit. */
export function serializeOwned(msg: SipMessage): Uint8Array {
  const bytes = recalled(msg) ?? serializeMessage(msg);
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length ? bytes : bytes.slice();
}

/**
 * The output of a serialization, spliced from the received bytes (Kamailio's lumps, in
 * spirit): a run of untouched lines that lie next to each other in the received buffer, with
 * their own CRLFs, is one range copied once, and consecutive built lines are one string
 * encoded once. A line whose received ending is not CRLF (a bare LF, tolerated on input) gets
 * a CRLF (§7: the output is always CRLF-terminated). No subarray per header field.
 */
class Splice {
  /** Finished segments: a received range (buffer, start, end) or encoded text. */
  readonly #bufs: Uint8Array[] = [];
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  #total = 0;
  /** The open range of received bytes. */
  #buf: Uint8Array | undefined;
  #start = 0;
  #end = 0;
  /** Built text not yet encoded. */
  #text = '';

  /** A received line [a, b) (without its line ending), then CRLF. */
  line(buf: Uint8Array, a: number, b: number): void {
    const crlf = buf[b] === 0x0d && buf[b + 1] === 0x0a;
    const end = crlf ? b + 2 : b;
    if (this.#text.length > 0) this.#flushText();
    if (this.#buf === buf && this.#end === a) this.#end = end;
    else {
      this.#flushRange();
      this.#buf = buf;
      this.#start = a;
      this.#end = end;
    }
    if (!crlf) {
      this.#flushRange();
      this.#push(CRLF, 0, 2);
    }
  }

  text(s: string): void {
    if (this.#buf !== undefined) this.#flushRange();
    this.#text += s;
  }

  bytes(b: Uint8Array): void {
    if (b.length === 0) return;
    if (this.#text.length > 0) this.#flushText();
    this.#flushRange();
    this.#push(b, 0, b.length);
  }

  finish(): Uint8Array {
    if (this.#text.length > 0) this.#flushText();
    this.#flushRange();
    const out = new Uint8Array(this.#total);
    let o = 0;
    const bufs = this.#bufs;
    for (let i = 0; i < bufs.length; i++) {
      const a = this.#starts[i]!;
      const b = this.#ends[i]!;
      const src = bufs[i]!;
      if (a === 0 && b === src.length) out.set(src, o);
      else out.set(src.subarray(a, b), o);
      o += b - a;
    }
    return out;
  }

  #push(buf: Uint8Array, a: number, b: number): void {
    this.#bufs.push(buf);
    this.#starts.push(a);
    this.#ends.push(b);
    this.#total += b - a;
  }

  #flushRange(): void {
    if (this.#buf === undefined) return;
    this.#push(this.#buf, this.#start, this.#end);
    this.#buf = undefined;
  }

  #flushText(): void {
    const t = encoder.encode(this.#text);
    this.#text = '';
    this.#push(t, 0, t.length);
  }
}
