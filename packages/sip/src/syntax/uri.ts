/**
 * SIP and SIPS URIs (RFC 3261 §19.1, grammar §25.1), IPv6 references per RFC 5118.
 *   SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
 * Other schemes (tel:, urn:, http:, …) are kept raw as `OtherUri`.
 */
import {
  HNV_UNRESERVED,
  HOST,
  PARAM_UNRESERVED,
  PASSWORD_EXTRA,
  UNRESERVED,
  USER_UNRESERVED,
  escape,
  is,
  parseBoundedInt,
  unescapeChecked,
} from './chars.js';
import { fail, ok } from './errors.js';
import type { Result, SipUri, Uri } from './types.js';

const USER_BITS = UNRESERVED | USER_UNRESERVED;
const PASSWORD_BITS = UNRESERVED | PASSWORD_EXTRA;
const PARAM_BITS = UNRESERVED | PARAM_UNRESERVED;
const HNV_BITS = UNRESERVED | HNV_UNRESERVED;

/** Parse any URI: `sip:`/`sips:` fully, other schemes raw. */
export function parseUri(text: string): Result<Uri> {
  let i = 0;
  const n = text.length;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  while (i < n) {
    const c = text.charCodeAt(i);
    const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (alpha || (i > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)))
      i++;
    else break;
  }
  if (i === 0 || i >= n || text.charCodeAt(i) !== 0x3a)
    return fail('bad-uri', 'URI without a scheme', 0);
  const scheme = text.slice(0, i).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(text, scheme, i + 1);
  // absoluteURI: no whitespace or controls, something after the colon.
  if (i + 1 >= n) return fail('bad-uri', 'empty URI after the scheme', i + 1);
  for (let j = i + 1; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e || c === 0x22)
      return fail('bad-uri', 'bad character in URI', j);
  }
  return ok({ kind: 'other', scheme, raw: text });
}

/** Parse a URI that must be sip/sips. */
export function parseSipUriText(text: string): Result<SipUri> {
  const r = parseUri(text);
  if (!r.ok) return r;
  if (r.value.kind !== 'sip') return fail('bad-uri', `not a SIP URI: ${r.value.scheme}`, 0);
  return ok(r.value);
}

function parseSipUri(text: string, scheme: 'sip' | 'sips', start: number): Result<SipUri> {
  const n = text.length;
  let i = start;
  let user: string | undefined;
  let password: string | undefined;
  // userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
  // '@' cannot appear unescaped elsewhere, so the first '@' ends the userinfo.
  const at = text.indexOf('@', start);
  if (at >= 0) {
    const info = text.slice(start, at);
    const colon = info.indexOf(':');
    const rawUser = colon >= 0 ? info.slice(0, colon) : info;
    if (rawUser.length === 0) return fail('bad-uri', 'empty user part', start);
    user = unescapeChecked(rawUser, USER_BITS);
    if (user === undefined) return fail('bad-uri', 'bad character or escape in user part', start);
    if (colon >= 0) {
      password = unescapeChecked(info.slice(colon + 1), PASSWORD_BITS);
      if (password === undefined)
        return fail('bad-uri', 'bad character or escape in password', start + colon + 1);
    }
    i = at + 1;
  }
  // hostport = host [ ":" port ]
  let hostEnd: number;
  let hostKind: SipUri['hostKind'];
  if (text.charCodeAt(i) === 0x5b) {
    const close = text.indexOf(']', i);
    if (close < 0 || !isIPv6(text.slice(i + 1, close)))
      return fail('bad-uri', 'bad IPv6 reference', i);
    hostEnd = close + 1;
    hostKind = 'ipv6';
  } else {
    hostEnd = i;
    while (hostEnd < n && is(text.charCodeAt(hostEnd), HOST)) hostEnd++;
    const h = text.slice(i, hostEnd);
    const kind = hostKindOf(h);
    if (kind === undefined) return fail('bad-uri', `bad host "${h}"`, i);
    hostKind = kind;
  }
  const host = text.slice(i, hostEnd).toLowerCase();
  i = hostEnd;
  let port: number | undefined;
  if (i < n && text.charCodeAt(i) === 0x3a) {
    let j = i + 1;
    while (j < n && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39) j++;
    port = parseBoundedInt(text.slice(i + 1, j), 65535);
    if (port === undefined) return fail('bad-uri', 'bad port', i + 1);
    i = j;
  }
  // uri-parameters = *( ";" uri-parameter ); uri-parameter = pname [ "=" pvalue ]
  const params = new Map<string, string | null>();
  while (i < n && text.charCodeAt(i) === 0x3b) {
    let j = i + 1;
    while (j < n && text.charCodeAt(j) !== 0x3b && text.charCodeAt(j) !== 0x3f) j++;
    const part = text.slice(i + 1, j);
    const eq = part.indexOf('=');
    const name = unescapeChecked(eq >= 0 ? part.slice(0, eq) : part, PARAM_BITS);
    const value = eq >= 0 ? unescapeChecked(part.slice(eq + 1), PARAM_BITS) : null;
    if (name === undefined || name.length === 0 || value === undefined || value === '') {
      return fail('bad-uri', `bad URI parameter "${part}"`, i + 1);
    }
    const key = name.toLowerCase();
    if (params.has(key)) return fail('bad-uri', `duplicate URI parameter "${key}"`, i + 1);
    params.set(key, value);
    i = j;
  }
  // headers = "?" header *( "&" header ); header = hname "=" hvalue
  const headers: Array<readonly [string, string]> = [];
  if (i < n && text.charCodeAt(i) === 0x3f) {
    const parts = text.slice(i + 1).split('&');
    for (const part of parts) {
      const eq = part.indexOf('=');
      if (eq <= 0) return fail('bad-uri', `bad URI header "${part}"`, i + 1);
      const hname = unescapeChecked(part.slice(0, eq), HNV_BITS);
      const hvalue = unescapeChecked(part.slice(eq + 1), HNV_BITS);
      if (hname === undefined || hvalue === undefined)
        return fail('bad-uri', `bad URI header "${part}"`, i + 1);
      headers.push([hname, hvalue]);
    }
    i = n;
  }
  if (i !== n) return fail('bad-uri', `unexpected character "${text[i]}" in SIP URI`, i);
  const uri: { -readonly [K in keyof SipUri]: SipUri[K] } = {
    kind: 'sip',
    scheme,
    host,
    hostKind,
    params,
    headers,
  };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  return ok(uri);
}

/** hostname / IPv4address; undefined when neither. */
export function hostKindOf(h: string): 'name' | 'ipv4' | undefined {
  if (h.length === 0) return undefined;
  if (isIPv4(h)) return 'ipv4';
  // hostname = *( domainlabel "." ) toplabel [ "." ]; labels alnum with inner "-"
  const labels = h.endsWith('.') ? h.slice(0, -1).split('.') : h.split('.');
  for (const label of labels) {
    if (label.length === 0 || label.length > 63 || label.startsWith('-') || label.endsWith('-'))
      return undefined;
  }
  const top = labels[labels.length - 1]!;
  const c = top.charCodeAt(0);
  // toplabel = ALPHA / ALPHA *( alphanum / "-" ) alphanum; an all-digit name is a broken IPv4.
  if (c >= 0x30 && c <= 0x39) return undefined;
  return 'name';
}

export function isIPv4(h: string): boolean {
  // Four dot-separated groups of 1–3 digits, each ≤ 255; scanned in place, without splitting
  // (it runs for every host parsed and compared: issue #14).
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= h.length; i++) {
    const c = i < h.length ? h.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || value > 255 || ++parts > 4) return false;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (++digits > 3) return false;
      value = value * 10 + (c - 0x30);
    } else {
      return false;
    }
  }
  return parts === 4;
}

/**
 * IPv6address (RFC 5118 §4.4 corrects RFC 3261's ABNF: "::" stands for at least one
 * 16-bit group, so `2001:db8:::192.0.2.1` is invalid and `2001:db8::192.0.2.1` valid).
 */
export function isIPv6(h: string): boolean {
  if (h.length < 2 || h.length > 45) return false;
  // Every IPv6 address has a colon; a host name or IPv4 address (the usual case, checked on
  // every datagram by canonicalHost) is answered here without splitting anything (issue #14).
  if (h.indexOf(':') < 0) return false;
  const dbl = h.indexOf('::');
  if (dbl >= 0 && h.indexOf('::', dbl + 1) >= 0) return false;
  let groups = 0;
  const sides = dbl >= 0 ? [h.slice(0, dbl), h.slice(dbl + 2)] : [h];
  for (let s = 0; s < sides.length; s++) {
    const side = sides[s]!;
    if (side.length === 0) continue;
    const parts = side.split(':');
    for (let p = 0; p < parts.length; p++) {
      const part = parts[p]!;
      const last = s === sides.length - 1 && p === parts.length - 1;
      if (last && part.includes('.')) {
        if (!isIPv4(part)) return false;
        groups += 2;
        continue;
      }
      if (part.length === 0 || part.length > 4) return false;
      for (let i = 0; i < part.length; i++) {
        const c = part.charCodeAt(i);
        const hex =
          (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
        if (!hex) return false;
      }
      groups++;
    }
  }
  return dbl >= 0 ? groups <= 7 : groups === 8;
}

/** Canonical text of a URI (§19.1): escapes only where the grammar requires. */
export function formatUri(uri: Uri): string {
  if (uri.kind === 'other') return uri.raw;
  let out = uri.scheme + ':';
  if (uri.user !== undefined) {
    out += escape(uri.user, USER_BITS);
    if (uri.password !== undefined) out += ':' + escape(uri.password, PASSWORD_BITS);
    out += '@';
  }
  out += uri.host;
  if (uri.port !== undefined) out += ':' + String(uri.port);
  for (const [k, v] of uri.params)
    out += ';' + escape(k, PARAM_BITS) + (v === null ? '' : '=' + escape(v, PARAM_BITS));
  for (let h = 0; h < uri.headers.length; h++) {
    const [k, v] = uri.headers[h]!;
    out += (h === 0 ? '?' : '&') + escape(k, HNV_BITS) + '=' + escape(v, HNV_BITS);
  }
  return out;
}
