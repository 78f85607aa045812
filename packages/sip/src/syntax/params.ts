/**
 * Generic header parameters (RFC 3261 §25.1):
 *   generic-param = token [ EQUAL gen-value ];  gen-value = token / host / quoted-string
 * with LWS allowed around ";" and "=" (SEMI, EQUAL). Quoted values keep their quotes.
 */
import { TOKEN, is, isLws, skipLws } from './chars.js';
import { fail, ok } from './errors.js';
import type { Params, Result } from './types.js';

export interface ParamsAt {
  params: Map<string, string | null>;
  /** Index just after the last parameter. */
  end: number;
}

/**
 * Parse `*( SEMI generic-param )` from `s` at `i` up to `end` (default: the string end).
 * Fails on an empty parameter (`;;`), a bad name or value, or trailing garbage.
 */
export function parseParamsAt(s: string, i: number, end = s.length): Result<ParamsAt> {
  const params = new Map<string, string | null>();
  i = skipLwsTo(s, i, end);
  while (i < end) {
    if (s.charCodeAt(i) !== 0x3b) return fail('bad-params', `expected ";" at ${i}`, i);
    i = skipLwsTo(s, i + 1, end);
    const nameStart = i;
    while (i < end && is(s.charCodeAt(i), TOKEN)) i++;
    if (i === nameStart) return fail('bad-params', 'empty parameter name', i);
    const name = s.slice(nameStart, i).toLowerCase();
    i = skipLwsTo(s, i, end);
    let value: string | null = null;
    if (i < end && s.charCodeAt(i) === 0x3d) {
      i = skipLwsTo(s, i + 1, end);
      const vStart = i;
      if (i < end && s.charCodeAt(i) === 0x22) {
        const q = scanQuoted(s, i, end);
        if (q < 0) return fail('bad-params', 'unterminated quoted parameter value', i);
        i = q;
      } else {
        // token / host (an IPv6 reference has ":" "[" "]")
        while (i < end) {
          const c = s.charCodeAt(i);
          if (is(c, TOKEN) || c === 0x3a || c === 0x5b || c === 0x5d) i++;
          else break;
        }
      }
      if (i === vStart) return fail('bad-params', `empty value for parameter "${name}"`, i);
      value = s.slice(vStart, i);
      i = skipLwsTo(s, i, end);
    }
    if (params.has(name)) return fail('bad-params', `duplicate parameter "${name}"`, nameStart);
    params.set(name, value);
  }
  return ok({ params, end: i });
}

function skipLwsTo(s: string, i: number, end: number): number {
  while (i < end && isLws(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Scan a quoted-string starting at the opening DQUOTE at `i`; returns the index after the
 * closing DQUOTE, or -1 if unterminated. quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F).
 */
export function scanQuoted(s: string, i: number, end = s.length): number {
  i++;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) {
      if (i + 1 >= end) return -1;
      const n = s.charCodeAt(i + 1);
      if (n === 0x0a || n === 0x0d) return -1;
      i += 2;
    } else if (c === 0x22) {
      return i + 1;
    } else {
      i++;
    }
  }
  return -1;
}

/** Remove the quotes and quoted-pair backslashes of a quoted-string. */
export function unquote(q: string): string {
  let out = '';
  for (let i = 1; i < q.length - 1; i++) {
    const c = q[i]!;
    if (c === '\\' && i + 1 < q.length - 1) {
      out += q[i + 1]!;
      i++;
    } else out += c;
  }
  return out;
}

/** Quote a string: DQUOTE, backslash-escape `"` and `\`, DQUOTE. */
export function quote(s: string): string {
  let out = '"';
  for (const c of s) out += c === '"' || c === '\\' ? '\\' + c : c;
  return out + '"';
}

/** Public helper: parse `;a=b;c` (leading ";" optional). */
export function parseParams(text: string): Result<Params> {
  const t = text.length > 0 && text.charCodeAt(skipLws(text, 0)) !== 0x3b ? ';' + text : text;
  const r = parseParamsAt(t, 0);
  return r.ok ? ok(r.value.params) : r;
}

/** `;name=value;flag` in map order. */
export function formatParams(p: Params): string {
  let out = '';
  for (const [k, v] of p) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}

export function hasLws(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isLws(s.charCodeAt(i))) return true;
  return false;
}
