/**
 * Character classes of the SIP grammar (RFC 3261 §25.1), as byte lookup tables,
 * and small string helpers shared by the value parsers. Pure, no regular expressions.
 */

export const ALNUM = 1;
/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = 2;
/** unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")" */
export const UNRESERVED = 4;
/** user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/" */
export const USER_UNRESERVED = 8;
/** password extra: "&" / "=" / "+" / "$" / "," */
export const PASSWORD_EXTRA = 16;
/** param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$" */
export const PARAM_UNRESERVED = 32;
/** hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$" */
export const HNV_UNRESERVED = 64;
/** hostname characters: alphanum / "-" / "." */
export const HOST = 128;
/** word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}") */
export const WORD = 256;

export const CLASS = new Uint16Array(256);

function mark(chars: string, bit: number): void {
  for (let i = 0; i < chars.length; i++) CLASS[chars.charCodeAt(i)]! |= bit;
}

for (let c = 0; c < 256; c++) {
  const isAlnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  if (isAlnum) CLASS[c] = ALNUM | TOKEN | UNRESERVED | HOST | WORD;
}
mark("-.!%*_+`'~", TOKEN);
mark("-_.!~*'()", UNRESERVED);
mark('&=+$,;?/', USER_UNRESERVED);
mark('&=+$,', PASSWORD_EXTRA);
mark('[]/:&+$', PARAM_UNRESERVED);
mark('[]/?:+$', HNV_UNRESERVED);
mark('-.', HOST);
mark('-.!%*_+`\'~()<>:\\"/[]?{}', WORD);

export function is(code: number, bits: number): boolean {
  return code < 256 && (CLASS[code]! & bits) !== 0;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!is(s.charCodeAt(i), TOKEN)) return false;
  return true;
}

export function isWord(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!is(s.charCodeAt(i), WORD)) return false;
  return true;
}

export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** Parse 1*DIGIT no larger than `max`; undefined when not digits or too large (no precision loss). */
export function parseBoundedInt(s: string, max: number): number | undefined {
  if (!isDigits(s) || s.length > 15) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}

/** SP or HTAB */
export function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** LWS inside an unfolded value: SP, HTAB, CR, LF. */
export function isLws(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

export function skipLws(s: string, i: number): number {
  while (i < s.length && isLws(s.charCodeAt(i))) i++;
  return i;
}

export function trimLws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isLws(s.charCodeAt(a))) a++;
  while (b > a && isLws(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Check that every char of `s` is in `bits` or is an `escaped` (%HEX HEX) triple, then
 * unescape. §19.1.2 / §25.1: escaped = "%" HEXDIG HEXDIG. Returns undefined if invalid.
 * Escapes decode as UTF-8 when they form valid UTF-8, else byte-per-char (latin1).
 */
export function unescapeChecked(s: string, bits: number): string | undefined {
  let hasEscape = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      if (i + 2 >= s.length || hexVal(s.charCodeAt(i + 1)) < 0 || hexVal(s.charCodeAt(i + 2)) < 0)
        return undefined;
      hasEscape = true;
      i += 2;
    } else if (c >= 0x80) {
      // UTF8-NONASCII is allowed where `escaped` is (tolerance for raw UTF-8 in user parts).
      continue;
    } else if (!is(c, bits)) {
      return undefined;
    }
  }
  if (!hasEscape) return s;
  const bytes: number[] = [];
  let out = '';
  const flush = (): void => {
    if (bytes.length === 0) return;
    out += decodeBytes(Uint8Array.from(bytes));
    bytes.length = 0;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      bytes.push(hexVal(s.charCodeAt(i + 1)) * 16 + hexVal(s.charCodeAt(i + 2)));
      i += 2;
    } else {
      flush();
      out += s[i];
    }
  }
  flush();
  return out;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

function decodeBytes(b: Uint8Array): string {
  try {
    return utf8Fatal.decode(b);
  } catch {
    let s = '';
    for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
    return s;
  }
}

const HEX = '0123456789ABCDEF';
const utf8Encoder = new TextEncoder();

/** Escape every char not in `bits` as %HH (UTF-8 bytes). */
export function escape(s: string, bits: number): string {
  let clean = true;
  for (let i = 0; i < s.length; i++) {
    if (!is(s.charCodeAt(i), bits)) {
      clean = false;
      break;
    }
  }
  if (clean) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (is(c, bits)) {
      out += s[i];
      continue;
    }
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    if (cp > 0xffff) i++;
    const bytes = cp < 0x80 ? [cp] : utf8Encoder.encode(ch);
    for (const b of bytes) out += '%' + HEX[b >> 4]! + HEX[b & 15]!;
  }
  return out;
}

/** Fast decoding of a byte range: ASCII without TextDecoder (its call overhead dominates short
 * header values), else UTF-8 (U+FFFD on error). */
const utf8 = new TextDecoder('utf-8');
export function decodeRange(buf: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len <= 16) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return utf8.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  if (len <= 2048) {
    for (let i = start; i < end; i++)
      if (buf[i]! >= 0x80) return utf8.decode(buf.subarray(start, end));
    return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  }
  return utf8.decode(buf.subarray(start, end));
}

/** Case-insensitive ASCII compare of `s` with lower-case `lower`. */
export function eqLower(s: string, lower: string): boolean {
  return s.length === lower.length && s.toLowerCase() === lower;
}
