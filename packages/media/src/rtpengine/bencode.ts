/**
 * Bencode (BEP 3, https://www.bittorrent.org/beps/bep_0003.html), the encoding of rtpengine's ng
 * control protocol: integers `i42e`, byte strings `4:spam`, lists `l…e`, dictionaries `d…e`.
 *
 * Pure: bytes in, a value or a typed {@link BencodeError} out. Hostile input (a length prefix of
 * 10^15, nesting 10^5 deep, an integer past 2^53, bytes after the end) is refused with a reason,
 * never an allocation of the announced size, a stack overflow or a silently wrong number.
 */

/** A decoded or encodable bencode value. Byte strings decode to `string` (UTF-8) unless asked for bytes. */
export type BValue =
  string | number | Uint8Array | readonly BValue[] | { readonly [key: string]: BValue };

/** A dictionary, the only top-level value the ng protocol exchanges. */
export type BDict = { readonly [key: string]: BValue };

export type BencodeErrorReason =
  /** The input ended inside a value. */
  | 'truncated'
  /** A byte that cannot start or continue a value here. */
  | 'unexpected-byte'
  /** An integer with leading zeros, `-0`, no digits, or past Number.MAX_SAFE_INTEGER. */
  | 'bad-integer'
  /** A string length prefix that is malformed or runs past the end of the input. */
  | 'bad-length'
  /** A dictionary key that is not a byte string, or a key given twice. */
  | 'bad-key'
  /** Lists and dictionaries nested deeper than `maxDepth`. */
  | 'too-deep'
  /** Bytes left over after the top-level value. */
  | 'trailing-bytes'
  /** A value that bencode cannot carry (a float, NaN, a boolean, null, undefined, a function). */
  | 'unencodable';

/** Why bencode could not be decoded or encoded; `offset` is where decoding stopped. */
export class BencodeError extends Error {
  readonly reason: BencodeErrorReason;
  readonly offset: number;
  constructor(reason: BencodeErrorReason, message: string, offset = -1) {
    super(message);
    this.name = 'BencodeError';
    this.reason = reason;
    this.offset = offset;
  }
}

export interface DecodeOptions {
  /** Return byte strings as Uint8Array instead of UTF-8 strings (keys stay strings). Default false. */
  readonly bytes?: boolean;
  /** Deepest nesting of lists and dictionaries accepted. Default 64. */
  readonly maxDepth?: number;
}

const I = 0x69; // i
const L = 0x6c; // l
const D = 0x64; // d
const E = 0x65; // e
const COLON = 0x3a;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

const utf8 = new TextDecoder('utf-8');
const utf8enc = new TextEncoder();

/** Decodes exactly one bencoded value spanning the whole input. */
export function decode(input: Uint8Array, options: DecodeOptions = {}): BValue {
  const r = decodeAt(input, 0, options);
  if (r.end !== input.length)
    throw new BencodeError(
      'trailing-bytes',
      `${input.length - r.end} bytes after the value`,
      r.end,
    );
  return r.value;
}

/** Decodes one value starting at `offset`; returns it and the offset just past it. */
export function decodeAt(
  input: Uint8Array,
  offset: number,
  options: DecodeOptions = {},
): { value: BValue; end: number } {
  const bytes = options.bytes ?? false;
  const maxDepth = options.maxDepth ?? 64;
  let pos = offset;

  const need = (): number => {
    if (pos >= input.length) throw new BencodeError('truncated', 'input ended inside a value', pos);
    return input[pos] as number;
  };

  const readInt = (terminator: number, what: string): number => {
    // Digits up to the terminator; strict: no leading zeros, no "-0", at most 16 digits.
    const start = pos;
    let neg = false;
    if (need() === MINUS) {
      neg = true;
      pos++;
    }
    const digitsStart = pos;
    let n = 0;
    for (;;) {
      const c = need();
      if (c === terminator) break;
      if (c < ZERO || c > NINE)
        throw new BencodeError(
          what === 'integer' ? 'bad-integer' : 'bad-length',
          `non-digit in ${what}`,
          pos,
        );
      if (pos - digitsStart >= 16)
        throw new BencodeError(
          what === 'integer' ? 'bad-integer' : 'bad-length',
          `${what} too long`,
          start,
        );
      n = n * 10 + (c - ZERO);
      pos++;
    }
    const ndigits = pos - digitsStart;
    const kind = what === 'integer' ? 'bad-integer' : 'bad-length';
    if (ndigits === 0) throw new BencodeError(kind, `${what} without digits`, start);
    if (ndigits > 1 && input[digitsStart] === ZERO)
      throw new BencodeError(kind, `${what} with a leading zero`, start);
    if (neg && (n === 0 || what !== 'integer'))
      throw new BencodeError(kind, `negative ${what === 'integer' ? 'zero' : what}`, start);
    if (n > Number.MAX_SAFE_INTEGER) throw new BencodeError(kind, `${what} past 2^53`, start);
    pos++; // the terminator
    return neg ? -n : n;
  };

  const readString = (): Uint8Array => {
    const len = readInt(COLON, 'string length');
    if (len > input.length - pos)
      throw new BencodeError(
        'bad-length',
        `string of ${len} bytes announced, ${input.length - pos} left`,
        pos,
      );
    const s = input.subarray(pos, pos + len);
    pos += len;
    return s;
  };

  const value = (depth: number): BValue => {
    const c = need();
    if (c === I) {
      pos++;
      return readInt(E, 'integer');
    }
    if (c >= ZERO && c <= NINE) {
      const s = readString();
      return bytes ? Uint8Array.from(s) : utf8.decode(s);
    }
    if (c === L || c === D) {
      if (depth >= maxDepth)
        throw new BencodeError('too-deep', `nested deeper than ${maxDepth}`, pos);
      pos++;
      if (c === L) {
        const list: BValue[] = [];
        while (need() !== E) list.push(value(depth + 1));
        pos++;
        return list;
      }
      const dict: Record<string, BValue> = Object.create(null) as Record<string, BValue>;
      while (need() !== E) {
        const k = need();
        if (k < ZERO || k > NINE)
          throw new BencodeError('bad-key', 'dictionary key is not a string', pos);
        const at = pos;
        const key = utf8.decode(readString());
        if (Object.prototype.hasOwnProperty.call(dict, key))
          throw new BencodeError('bad-key', `key "${key.slice(0, 40)}" given twice`, at);
        dict[key] = value(depth + 1);
      }
      pos++;
      return dict;
    }
    throw new BencodeError('unexpected-byte', `byte 0x${c.toString(16)} cannot start a value`, pos);
  };

  const v = value(0);
  return { value: v, end: pos };
}

/** Decodes a top-level dictionary (what every ng message body is). */
export function decodeDict(input: Uint8Array, options: DecodeOptions = {}): BDict {
  const v = decode(input, options);
  if (typeof v !== 'object' || v instanceof Uint8Array || Array.isArray(v))
    throw new BencodeError('unexpected-byte', 'the top-level value is not a dictionary', 0);
  return v as BDict;
}

/**
 * Encodes a value. Dictionary keys are written in the byte order of their UTF-8 form (BEP 3;
 * rtpengine does not require it, but the output is then deterministic). Entries whose value is
 * `undefined` are left out, so optional ng keys can be written inline.
 */
export function encode(value: BValue | undefined): Buffer {
  const parts: Uint8Array[] = [];
  let depth = 0;
  const put = (v: unknown): void => {
    if (typeof v === 'string') {
      const b = utf8enc.encode(v);
      parts.push(utf8enc.encode(`${b.length}:`), b);
    } else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v))
        throw new BencodeError('unencodable', `${v} is not a safe integer (bencode has no floats)`);
      parts.push(utf8enc.encode(`i${v}e`));
    } else if (v instanceof Uint8Array) {
      parts.push(utf8enc.encode(`${v.length}:`), v);
    } else if (Array.isArray(v)) {
      if (++depth > 64) throw new BencodeError('too-deep', 'nested deeper than 64');
      parts.push(Uint8Array.of(L));
      for (const x of v) put(x);
      parts.push(Uint8Array.of(E));
      depth--;
    } else if (typeof v === 'object' && v !== null) {
      if (++depth > 64) throw new BencodeError('too-deep', 'nested deeper than 64');
      const entries = Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [Buffer.from(k, 'utf8'), x] as const)
        .sort((a, b) => Buffer.compare(a[0], b[0]));
      parts.push(Uint8Array.of(D));
      for (const [k, x] of entries) {
        parts.push(utf8enc.encode(`${k.length}:`), k);
        put(x);
      }
      parts.push(Uint8Array.of(E));
      depth--;
    } else {
      throw new BencodeError(
        'unencodable',
        `a ${v === null ? 'null' : typeof v} cannot be bencoded`,
      );
    }
  };
  put(value);
  return Buffer.concat(parts);
}
