/**
 * RESP2, the Redis serialization protocol (https://redis.io/docs/latest/develop/reference/protocol-spec/),
 * as far as the unicast router's two hot commands need it (XADD, XREAD), a pure codec:
 *
 * - a command is "an array of bulk strings" (`*<n>\r\n` then `$<len>\r\n<bytes>\r\n` per argument),
 *   encoded here into one Buffer, so that one write carries it;
 * - a reply is a simple string (`+`), an error (`-`), an integer (`:`), a bulk string (`$`, `$-1`
 *   null) or an array (`*`, `*-1` null) of replies.
 *
 * Why not ioredis here: the router's profile (docs/benchmarks.md "Scale-out", 2026-12-07 04:40)
 * put a quarter of the two processes' samples in the hop's client side, most of it ioredis' generic
 * command and reply machinery (a Command and a Promise per command, auto-pipelining's Pipeline per
 * turn, replies parsed to Buffers then converted to strings element by element).
 *
 * The parser is incremental (bytes arrive in any split) and never throws on bad input: a reply it
 * cannot parse is a `RespProtocolError` from `next()`, after which the connection must be closed
 * (its bytes can no longer be framed). Bounds: a bulk string of at most `maxBulk` bytes, arrays of
 * at most `maxArray` elements and nesting depth 8 — far above what the router's entries hold.
 */

export type Reply = string | number | null | RespError | Reply[];

/** An error reply (`-ERR …`): Redis refused the command, the connection is fine. */
export class RespError extends Error {}

/** Bytes that are not RESP2, or exceed the parser's bounds: the connection must be dropped. */
export class RespProtocolError extends Error {}

const CRLF = Buffer.from('\r\n');

/** One command as one Buffer: `*<n>\r\n` and a bulk string per argument. */
export function encodeCommand(args: readonly string[]): Buffer {
  let size = 1 + digits(args.length) + 2;
  const lengths = new Array<number>(args.length);
  for (let i = 0; i < args.length; i++) {
    const n = Buffer.byteLength(args[i] as string, 'utf8');
    lengths[i] = n;
    size += 1 + digits(n) + 2 + n + 2;
  }
  const buf = Buffer.allocUnsafe(size);
  let o = buf.write(`*${args.length}\r\n`, 0, 'latin1');
  for (let i = 0; i < args.length; i++) {
    const n = lengths[i] as number;
    o += buf.write(`$${n}\r\n`, o, 'latin1');
    o += buf.write(args[i] as string, o, n, 'utf8');
    o += CRLF.copy(buf, o);
  }
  return buf;
}

function digits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : String(n).length;
}

export interface ParserLimits {
  readonly maxBulk: number;
  readonly maxArray: number;
}

const DEFAULT_LIMITS: ParserLimits = { maxBulk: 64 * 1024 * 1024, maxArray: 1_000_000 };
const MAX_DEPTH = 8;
/** Not yet complete: wait for more bytes. */
const INCOMPLETE = Symbol('incomplete');

export class ReplyParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private broken: RespProtocolError | undefined;

  constructor(private readonly limits: ParserLimits = DEFAULT_LIMITS) {}

  /** Appends bytes as they arrive. */
  push(chunk: Buffer): void {
    if (this.broken) return;
    if (this.pos >= this.buf.length) {
      this.buf = chunk;
      this.pos = 0;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
      this.pos = 0;
    }
  }

  /**
   * The next complete reply, `undefined` while incomplete, or a `RespProtocolError` (and from
   * then on always that one) when the bytes are not RESP2 or exceed the bounds.
   */
  next(): Reply | RespProtocolError | undefined {
    if (this.broken) return this.broken;
    if (this.pos >= this.buf.length) return undefined;
    const start = this.pos;
    let r: Reply | typeof INCOMPLETE;
    try {
      r = this.read(0);
    } catch (err) {
      this.broken =
        err instanceof RespProtocolError ? err : new RespProtocolError(String(err as Error));
      return this.broken;
    }
    if (r === INCOMPLETE) {
      this.pos = start;
      return undefined;
    }
    return r;
  }

  /** The line from `pos` to its CRLF (without the type byte), or INCOMPLETE. */
  private line(): string | typeof INCOMPLETE {
    const end = this.buf.indexOf(13, this.pos);
    if (end < 0 || end + 1 >= this.buf.length) {
      if (this.buf.length - this.pos > 64 * 1024)
        throw new RespProtocolError('RESP line longer than 64 KiB');
      return INCOMPLETE;
    }
    if (this.buf[end + 1] !== 10) throw new RespProtocolError('RESP line without CRLF');
    const s = this.buf.toString('utf8', this.pos + 1, end);
    this.pos = end + 2;
    return s;
  }

  private int(s: string): number {
    if (!/^-?\d{1,15}$/.test(s))
      throw new RespProtocolError(`RESP: bad length or integer ${JSON.stringify(s.slice(0, 20))}`);
    return Number(s);
  }

  private read(depth: number): Reply | typeof INCOMPLETE {
    if (this.pos >= this.buf.length) return INCOMPLETE;
    const type = this.buf[this.pos];
    const l = this.line();
    if (l === INCOMPLETE) return INCOMPLETE;
    switch (type) {
      case 43: // +
        return l;
      case 45: // -
        return new RespError(l);
      case 58: // :
        return this.int(l);
      case 36: {
        // $
        const n = this.int(l);
        if (n === -1) return null;
        if (n < 0 || n > this.limits.maxBulk)
          throw new RespProtocolError(`RESP bulk string of ${n} bytes`);
        if (this.buf.length - this.pos < n + 2) return INCOMPLETE;
        if (this.buf[this.pos + n] !== 13 || this.buf[this.pos + n + 1] !== 10)
          throw new RespProtocolError('RESP bulk string without CRLF');
        const s = this.buf.toString('utf8', this.pos, this.pos + n);
        this.pos += n + 2;
        return s;
      }
      case 42: {
        // *
        const n = this.int(l);
        if (n === -1) return null;
        if (n < 0 || n > this.limits.maxArray) throw new RespProtocolError(`RESP array of ${n}`);
        if (depth >= MAX_DEPTH) throw new RespProtocolError('RESP arrays nested too deep');
        const out: Reply[] = [];
        for (let i = 0; i < n; i++) {
          const e = this.read(depth + 1);
          if (e === INCOMPLETE) return INCOMPLETE;
          out.push(e);
        }
        return out;
      }
      default:
        throw new RespProtocolError(`RESP: unknown type byte ${type}`);
    }
  }
}
