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

export function serializeMessage(msg: SipMessage): Uint8Array {
  const w = wire.get(msg);
  const startUnchanged =
    w !== undefined &&
    msg.version === w.version &&
    (msg.kind === 'request'
      ? msg.method === w.method && msg.uri === w.uri
      : msg.status === w.status && msg.reason === w.reason);
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

/** Request-Line or Status-Line, without CRLF. */
export function startLine(msg: SipMessage): string {
  if (msg.kind === 'request') {
    const w = wire.get(msg);
    const uriText = w !== undefined && msg.uri === w.uri ? msg.uriText : formatUri(msg.uri);
    return `${msg.method} ${uriText} ${msg.version}`;
  }
  return `${msg.version} ${msg.status} ${msg.reason}`;
}
