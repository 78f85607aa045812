/**
 * Stream framing for SIP over TCP and TLS (RFC 3261 §18.3): arbitrary byte chunks in, whole SIP
 * messages out, cut by Content-Length. Also recognises the RFC 5626 §3.5.1 CRLF keep-alives.
 *
 * Pure: no sockets, no timers, no logging, no `node:` imports. The transport owns one framer per
 * connection, feeds it every chunk it reads, answers each `ping` with a CRLF `pong`, hands each
 * `message` to the ingress, and closes the connection on the first `error` (a stream whose framing
 * is in doubt cannot be resynchronised).
 */
import { FramingError, type FramingErrorReason } from './errors.js';

export interface FramerOptions {
  /**
   * Largest header section (start-line, headers and the blank line) accepted, in bytes.
   * Default 16384 (16 KiB).
   */
  readonly maxHeaderBytes?: number;
  /** Largest whole message (header section plus body) accepted, in bytes. Default 65535. */
  readonly maxMessageBytes?: number;
  /**
   * Most bytes held while waiting for the rest of a message. Default: `maxMessageBytes`.
   * A smaller value bounds memory per connection below the message limit.
   */
  readonly maxBufferBytes?: number;
}

export const FRAMER_DEFAULTS = {
  maxHeaderBytes: 16_384,
  maxMessageBytes: 65_535,
} as const;

/** What a chunk produced, in stream order. */
export type FrameEvent =
  /** One whole SIP message (a copy: it does not alias the framer's buffer). */
  | { readonly type: 'message'; readonly bytes: Uint8Array }
  /** A double-CRLF keep-alive ping (RFC 5626 §3.5.1): answer it with a single CRLF. */
  | { readonly type: 'ping' }
  /** A single CRLF between messages: a pong, or noise; nothing to answer. */
  | { readonly type: 'pong' }
  /** The stream is broken; close the connection. Always the last event. */
  | { readonly type: 'error'; readonly error: FramingError };

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/** Content-Length values longer than this many digits are rejected before any arithmetic. */
const MAX_LENGTH_DIGITS = 10;

export class StreamFramer {
  private readonly maxHeaderBytes: number;
  private readonly maxMessageBytes: number;
  private readonly maxBufferBytes: number;

  private buf = new Uint8Array(0);
  /** Unconsumed bytes are `buf[start, end)`. */
  private start = 0;
  private end = 0;
  /** Offset (relative to `start`) from which to resume the search for the blank line. */
  private scanFrom = 0;
  /** Once the header section is known: its length and the body length it announced. */
  private headerLength = -1;
  private bodyLength = -1;
  private failed: FramingError | undefined;

  constructor(options: FramerOptions = {}) {
    this.maxHeaderBytes = options.maxHeaderBytes ?? FRAMER_DEFAULTS.maxHeaderBytes;
    this.maxMessageBytes = options.maxMessageBytes ?? FRAMER_DEFAULTS.maxMessageBytes;
    this.maxBufferBytes = options.maxBufferBytes ?? this.maxMessageBytes;
    for (const [name, value] of [
      ['maxHeaderBytes', this.maxHeaderBytes],
      ['maxMessageBytes', this.maxMessageBytes],
      ['maxBufferBytes', this.maxBufferBytes],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 4) {
        throw new RangeError(`StreamFramer: ${name} must be an integer >= 4, got ${value}`);
      }
    }
  }

  /** Bytes currently held, waiting for the rest of a message. */
  get buffered(): number {
    return this.end - this.start;
  }

  /**
   * A client waiting for a pong (RFC 5626 §4.4.1) cannot wait for the next byte to tell a lone
   * CRLF from the start of a ping: when all that is held is one CRLF between messages, this
   * consumes it as the pong and returns true.
   */
  takeHeldPong(): boolean {
    if (this.failed || this.headerLength >= 0 || this.end - this.start !== 2) return false;
    if (this.buf[this.start] !== CR || this.buf[this.start + 1] !== LF) return false;
    this.start = this.end = 0;
    return true;
  }

  /** The error that broke this stream, if any. */
  get error(): FramingError | undefined {
    return this.failed;
  }

  /**
   * Feed the next chunk of the stream. Returns the events it completed, in order. After an
   * `error` event the framer is dead: later pushes return that same error again.
   */
  push(chunk: Uint8Array): FrameEvent[] {
    if (this.failed) return [{ type: 'error', error: this.failed }];
    if (chunk.length === 0) return [];
    this.append(chunk);
    const events: FrameEvent[] = [];
    for (;;) {
      const progressed = this.step(events);
      if (this.failed) break;
      if (!progressed) break;
    }
    if (!this.failed && this.buffered > this.maxBufferBytes) {
      this.fail(events, 'buffer-overflow', `more than ${this.maxBufferBytes} bytes buffered`);
    }
    if (this.buffered === 0) {
      // Release a large buffer once it is drained, so an idle connection holds little memory.
      if (this.buf.length > 4096) this.buf = new Uint8Array(0);
      this.start = this.end = 0;
    }
    return events;
  }

  /** One framing step; returns false when more bytes are needed. */
  private step(events: FrameEvent[]): boolean {
    const avail = this.end - this.start;
    if (avail === 0) return false;
    if (this.headerLength < 0) {
      if (this.buf[this.start] === CR) {
        const crlf = this.leadingCrlf(events);
        if (crlf !== 'none') return crlf === 'consumed';
      }
      return this.findHeader(events);
    }
    const total = this.headerLength + this.bodyLength;
    if (avail < total) return false;
    const bytes = this.buf.slice(this.start, this.start + total);
    this.start += total;
    this.headerLength = this.bodyLength = -1;
    this.scanFrom = 0;
    events.push({ type: 'message', bytes });
    return true;
  }

  /**
   * Keep-alives between messages. RFC 5626 §3.5.1: "the client periodically sends a double-CRLF
   * (the 'ping') then waits to receive a single CRLF (the 'pong')". RFC 3261 §7.5:
   * "Implementations processing SIP messages over stream-oriented transports MUST ignore any
   * CRLF appearing before the start-line". A CRLF at the very end of the buffered bytes is held
   * until the next byte tells a ping from a lone CRLF, so every chunking gives the same events.
   */
  private leadingCrlf(events: FrameEvent[]): 'consumed' | 'need-more' | 'none' {
    const b = this.buf;
    const s = this.start;
    const avail = this.end - s;
    if (avail < 2) return 'need-more';
    if (b[s + 1] !== LF) return 'none';
    if (avail < 3) return 'need-more';
    if (b[s + 2] !== CR) {
      this.start += 2;
      events.push({ type: 'pong' });
      return 'consumed';
    }
    if (avail < 4) return 'need-more';
    if (b[s + 3] === LF) {
      this.start += 4;
      events.push({ type: 'ping' });
    } else {
      this.start += 2;
      events.push({ type: 'pong' });
    }
    return 'consumed';
  }

  /** Looks for the CRLFCRLF ending the header section and reads Content-Length from it. */
  private findHeader(events: FrameEvent[]): boolean {
    const b = this.buf;
    const s = this.start;
    const avail = this.end - s;
    const limit = Math.min(avail, this.maxHeaderBytes);
    let i = Math.max(0, this.scanFrom - 3);
    let found = -1;
    for (; i + 3 < limit; i++) {
      if (b[s + i + 3] === LF && b[s + i] === CR && b[s + i + 1] === LF && b[s + i + 2] === CR) {
        found = i + 4;
        break;
      }
    }
    if (found < 0) {
      this.scanFrom = Math.max(0, limit - 3);
      if (avail >= this.maxHeaderBytes) {
        this.fail(
          events,
          'header-too-large',
          `header section exceeds ${this.maxHeaderBytes} bytes`,
        );
      }
      return false;
    }
    const length = this.contentLength(s, s + found, events);
    if (length < 0) return false;
    if (found + length > this.maxMessageBytes) {
      this.fail(
        events,
        'message-too-large',
        `message of ${found + length} bytes exceeds ${this.maxMessageBytes}`,
      );
      return false;
    }
    this.headerLength = found;
    this.bodyLength = length;
    return true;
  }

  /**
   * RFC 3261 §18.3: "In the case of stream-oriented transports such as TCP, the Content-Length
   * header field indicates the size of the body. All SIP implementations MUST use this to
   * determine the end of a message". §20.14: "If a stream-based protocol (such as TCP) is used as
   * transport, the header field MUST be used." So a missing, malformed, or ambiguous (repeated
   * with different values) Content-Length is fatal for the stream. Returns -1 after failing.
   */
  private contentLength(from: number, to: number, events: FrameEvent[]): number {
    const b = this.buf;
    let value = -1;
    // Skip the start-line: headers begin after its CRLF.
    let line = indexOfCrlf(b, from, to);
    while (line >= 0 && line + 2 < to) {
      const lineStart = line + 2;
      const lineEnd = indexOfCrlf(b, lineStart, to);
      if (lineEnd < 0 || lineEnd === lineStart) break;
      const first = b[lineStart];
      if (first !== SP && first !== HT) {
        const parsed = this.contentLengthLine(lineStart, lineEnd, to, events);
        if (parsed === -2) return -1;
        if (parsed >= 0) {
          if (value >= 0 && value !== parsed) {
            this.fail(events, 'bad-content-length', 'conflicting Content-Length headers');
            return -1;
          }
          value = parsed;
        }
      }
      line = lineEnd;
    }
    if (value < 0) {
      this.fail(events, 'missing-content-length', 'no Content-Length on a stream transport');
      return -1;
    }
    return value;
  }

  /**
   * If the header line at `[start, end)` is Content-Length (or compact `l`), returns its value
   * (following folded continuation lines); -1 if it is another header; -2 after failing.
   */
  private contentLengthLine(start: number, end: number, limit: number, events: FrameEvent[]) {
    const b = this.buf;
    let i = start;
    while (i < end && b[i] !== COLON && b[i] !== SP && b[i] !== HT) i++;
    if (!isContentLengthName(b, start, i)) return -1;
    while (i < end && (b[i] === SP || b[i] === HT)) i++;
    if (b[i] !== COLON) return -1;
    i++;
    // Gather the value, joining folded lines (RFC 3261 §7.3.1: a line starting with SP or HT
    // continues the previous header).
    let digits = '';
    let sawSpaceAfterDigits = false;
    let lineEnd = end;
    for (;;) {
      for (; i < lineEnd; i++) {
        const c = b[i] as number;
        if (c === SP || c === HT) {
          if (digits.length > 0) sawSpaceAfterDigits = true;
          continue;
        }
        if (c < 0x30 || c > 0x39 || sawSpaceAfterDigits || digits.length >= MAX_LENGTH_DIGITS) {
          this.fail(events, 'bad-content-length', 'Content-Length is not a small integer');
          return -2;
        }
        digits += String.fromCharCode(c);
      }
      const next = lineEnd + 2;
      if (next < limit && (b[next] === SP || b[next] === HT)) {
        const nextEnd = indexOfCrlf(b, next, limit);
        if (nextEnd < 0) break;
        i = next;
        lineEnd = nextEnd;
        if (digits.length > 0) sawSpaceAfterDigits = true;
        continue;
      }
      break;
    }
    if (digits.length === 0) {
      this.fail(events, 'bad-content-length', 'Content-Length is empty');
      return -2;
    }
    return Number(digits);
  }

  private fail(events: FrameEvent[], reason: FramingErrorReason, message: string): void {
    this.failed = new FramingError(reason, message);
    events.push({ type: 'error', error: this.failed });
    // Drop what was held: nothing more will be read from this stream.
    this.buf = new Uint8Array(0);
    this.start = this.end = 0;
  }

  private append(chunk: Uint8Array): void {
    const used = this.end - this.start;
    if (this.end + chunk.length <= this.buf.length) {
      this.buf.set(chunk, this.end);
      this.end += chunk.length;
      return;
    }
    const needed = used + chunk.length;
    if (needed <= this.buf.length && this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      const grown = new Uint8Array(
        Math.max(needed, Math.min(this.buf.length * 2, needed * 2), 256),
      );
      grown.set(this.buf.subarray(this.start, this.end), 0);
      this.buf = grown;
    }
    this.start = 0;
    this.end = used;
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}

function indexOfCrlf(b: Uint8Array, from: number, to: number): number {
  for (let i = from; i + 1 < to; i++) {
    if (b[i] === CR && b[i + 1] === LF) return i;
  }
  return -1;
}

/** `Content-Length` or its compact form `l`, case-insensitive (RFC 3261 §7.3.3, §20.14). */
function isContentLengthName(b: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (n === 1) return ((b[start] as number) | 0x20) === 0x6c;
  if (n !== 14) return false;
  const name = 'content-length';
  for (let k = 0; k < n; k++) {
    const c = b[start + k] as number;
    const lower = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
    if (lower !== name.charCodeAt(k)) return false;
  }
  return true;
}
