/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §25.1):
 *   name-addr    = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 * §20.10: "if the URI contains a comma, question mark or semicolon, the URI MUST be
 * enclosed in angle brackets", so an addr-spec ends at the first ";" (its parameters are
 * header parameters) and may not contain "?" or ",".
 */
import { TOKEN, is, isLws, skipLws, trimLws } from './chars.js';
import { fail, ok } from './errors.js';
import type { NameAddr, Result } from './types.js';
import { parseParamsAt, quote, scanQuoted, unquote } from './params.js';
import { formatUri, parseUri } from './uri.js';
import { formatParams } from './params.js';

export function parseNameAddr(text: string): Result<NameAddr> {
  const s = trimLws(text);
  const n = s.length;
  if (n === 0) return fail('bad-header-value', 'empty address');
  let i = 0;
  let displayName: string | undefined;
  let uriStart: number;
  let uriEnd: number;
  let after: number;
  let angle = false;
  if (s.charCodeAt(0) === 0x22) {
    const q = scanQuoted(s, 0);
    if (q < 0) return fail('bad-header-value', 'unterminated quoted display name', 0);
    displayName = unquote(s.slice(0, q));
    i = skipLws(s, q);
    if (s.charCodeAt(i) !== 0x3c)
      return fail('bad-header-value', 'expected "<" after the display name', i);
    angle = true;
  } else {
    // tokens and LWS up to "<" make a display name; anything else means addr-spec.
    let j = 0;
    while (j < n && (is(s.charCodeAt(j), TOKEN) || isLws(s.charCodeAt(j)))) j++;
    if (j < n && s.charCodeAt(j) === 0x3c) {
      const dn = trimLws(s.slice(0, j));
      if (dn.length > 0) displayName = dn;
      i = j;
      angle = true;
    }
  }
  if (angle) {
    const close = s.indexOf('>', i + 1);
    if (close < 0) return fail('bad-header-value', 'missing ">"', i);
    uriStart = i + 1;
    uriEnd = close;
    after = close + 1;
  } else {
    uriStart = 0;
    let j = 0;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c === 0x3b || isLws(c)) break;
      if (c === 0x3f || c === 0x2c || c === 0x3c || c === 0x3e || c === 0x22) {
        return fail(
          'bad-header-value',
          'an addr-spec with "?", ",", "<", ">" or quotes must be in "<>" (§20.10)',
          j,
        );
      }
      j++;
    }
    uriEnd = j;
    after = j;
  }
  const u = parseUri(s.slice(uriStart, uriEnd));
  if (!u.ok) return fail('bad-header-value', u.error.reason, uriStart + (u.error.offset ?? 0));
  const p = parseParamsAt(s, after);
  if (!p.ok) return fail('bad-header-value', p.error.reason, p.error.offset);
  const na: { -readonly [K in keyof NameAddr]: NameAddr[K] } = {
    uri: u.value,
    params: p.value.params,
  };
  if (displayName !== undefined) na.displayName = displayName;
  const tag = p.value.params.get('tag');
  if (tag !== undefined) {
    if (tag === null) return fail('bad-header-value', 'tag without a value', after);
    na.tag = tag;
  }
  return ok(na);
}

/** Canonical form: `"Display" <uri>;params` (angle brackets always). */
export function formatNameAddr(na: NameAddr): string {
  const dn = na.displayName !== undefined ? quote(na.displayName) + ' ' : '';
  return `${dn}<${formatUri(na.uri)}>${formatParams(na.params)}`;
}
