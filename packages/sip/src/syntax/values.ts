/**
 * Grammars of the header values the stack reads (RFC 3261 §20), as pure functions
 * from the (unfolded) value text to a typed value or a typed error.
 */
import { TOKEN, is, isLws, isWord, parseBoundedInt, skipLws, trimLws } from './chars.js';
import { fail, ok } from './errors.js';
import type { CSeq, Contact, NameAddr, Result, Via } from './types.js';
import { parseNameAddr } from './nameaddr.js';
import { parseParamsAt, scanQuoted } from './params.js';
import { hostKindOf, isIPv4, isIPv6 } from './uri.js';

/** 2**31 - 1: §8.1.1.5 "The sequence number value MUST be expressible as a 32-bit unsigned integer and MUST be less than 2**31." */
export const MAX_CSEQ = 2 ** 31 - 1;
/** delta-seconds fit 32 bits (RFC 4475 §3.1.2.4 calls larger values out of range). */
export const MAX_DELTA_SECONDS = 2 ** 32 - 1;
export const MAX_MAX_FORWARDS = 255;

/**
 * Split a comma-separated list (§7.3.1) outside quoted strings and `<>`; empty elements
 * are kept (as "") so callers can reject them.
 */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let angle = false;
  const n = value.length;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22) {
      const q = scanQuoted(value, i);
      if (q < 0) break; // unterminated: the rest is one element, its parser will fail
      i = q - 1;
    } else if (c === 0x3c) angle = true;
    else if (c === 0x3e) angle = false;
    else if (c === 0x2c && !angle) {
      out.push(trimLws(value.slice(start, i)));
      start = i + 1;
    }
  }
  out.push(trimLws(value.slice(start)));
  return out;
}

function readToken(s: string, i: number): number {
  while (i < s.length && is(s.charCodeAt(i), TOKEN)) i++;
  return i;
}

/** via-parm = sent-protocol LWS sent-by *( SEMI via-params ) (§20.42, §25.1) */
export function parseVia(text: string): Result<Via> {
  const s = text;
  let i = skipLws(s, 0);
  const parts: string[] = [];
  for (let k = 0; k < 3; k++) {
    const st = i;
    i = readToken(s, i);
    if (i === st) return fail('bad-header-value', 'bad Via sent-protocol', i, 'via');
    parts.push(s.slice(st, i));
    i = skipLws(s, i);
    if (k < 2) {
      if (s.charCodeAt(i) !== 0x2f)
        return fail('bad-header-value', 'expected "/" in Via sent-protocol', i, 'via');
      i = skipLws(s, i + 1);
    }
  }
  if (i === s.length) return fail('bad-header-value', 'Via without sent-by', i, 'via');
  // sent-by = host [ COLON port ]
  const hs = i;
  let host: string;
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close < 0 || !isIPv6(s.slice(i + 1, close)))
      return fail('bad-header-value', 'bad IPv6 reference in Via', i, 'via');
    i = close + 1;
    host = s.slice(hs, i);
  } else {
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (
        (c >= 0x30 && c <= 0x39) ||
        (c >= 0x41 && c <= 0x5a) ||
        (c >= 0x61 && c <= 0x7a) ||
        c === 0x2d ||
        c === 0x2e
      )
        i++;
      else break;
    }
    host = s.slice(hs, i);
    if (hostKindOf(host) === undefined)
      return fail('bad-header-value', `bad Via host "${host}"`, hs, 'via');
  }
  let port: number | undefined;
  let j = skipLws(s, i);
  if (s.charCodeAt(j) === 0x3a) {
    j = skipLws(s, j + 1);
    const ps = j;
    while (j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x39) j++;
    port = parseBoundedInt(s.slice(ps, j), 65535);
    if (port === undefined) return fail('bad-header-value', 'bad Via port', ps, 'via');
    i = j;
  }
  const p = parseParamsAt(s, i);
  if (!p.ok) return fail('bad-header-value', `Via: ${p.error.reason}`, p.error.offset, 'via');
  const params = p.value.params;
  const via: { -readonly [K in keyof Via]: Via[K] } = {
    protocol: `${parts[0]!.toUpperCase()}/${parts[1]!}`,
    transport: parts[2]!.toUpperCase(),
    host: host.toLowerCase(),
    params,
  };
  if (port !== undefined) via.port = port;
  const branch = params.get('branch');
  if (branch !== undefined) {
    if (branch === null || !isTokenValue(branch))
      return fail('bad-header-value', 'bad Via branch', i, 'via');
    via.branch = branch;
  }
  const received = params.get('received');
  if (received !== undefined) {
    // received = "received" EQUAL (IPv4address / IPv6address) (RFC 5118 §4.5: unbracketed)
    if (received === null || !(isIPv4(received) || isIPv6(received) || isIPv6Ref(received))) {
      return fail('bad-header-value', 'bad Via received', i, 'via');
    }
    via.received = received;
  }
  const rport = params.get('rport');
  if (rport !== undefined) {
    // RFC 3581 §4: response-port = "rport" [EQUAL 1*DIGIT]
    if (rport === null) via.rport = null;
    else {
      const v = parseBoundedInt(rport, 65535);
      if (v === undefined) return fail('bad-header-value', 'bad Via rport', i, 'via');
      via.rport = v;
    }
  }
  const ttl = params.get('ttl');
  if (ttl !== undefined && (ttl === null || parseBoundedInt(ttl, 255) === undefined)) {
    return fail('bad-header-value', 'bad Via ttl', i, 'via');
  }
  return ok(via);
}

function isIPv6Ref(s: string): boolean {
  return s.startsWith('[') && s.endsWith(']') && isIPv6(s.slice(1, -1));
}

function isTokenValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!is(s.charCodeAt(i), TOKEN)) return false;
  return s.length > 0;
}

/** CSeq = 1*DIGIT LWS Method (§20.16) */
export function parseCSeq(text: string): Result<CSeq> {
  const s = trimLws(text);
  let i = 0;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  const seq = parseBoundedInt(s.slice(0, i), MAX_CSEQ);
  if (seq === undefined)
    return fail('bad-header-value', 'CSeq number missing or not below 2**31 (§8.1.1.5)', 0, 'cseq');
  const ms = skipLws(s, i);
  if (ms === i) return fail('bad-header-value', 'CSeq needs LWS before the method', i, 'cseq');
  const me = readToken(s, ms);
  if (me === ms || me !== s.length) return fail('bad-header-value', 'bad CSeq method', ms, 'cseq');
  return ok({ seq, method: s.slice(ms) });
}

/** callid = word [ "@" word ] (§20.8) */
export function parseCallId(text: string): Result<string> {
  const s = trimLws(text);
  const at = s.indexOf('@');
  const okWord = at < 0 ? isWord(s) : isWord(s.slice(0, at)) && isWord(s.slice(at + 1));
  return okWord ? ok(s) : fail('bad-header-value', 'bad Call-ID', 0, 'call-id');
}

export function parseUint(text: string, max: number, header: string): Result<number> {
  const v = parseBoundedInt(trimLws(text), max);
  return v === undefined
    ? fail('bad-header-value', `bad ${header} value (1*DIGIT, at most ${max})`, 0, header)
    : ok(v);
}

/** Contact value: "*" or an address with contact-params (§20.10). */
export function parseContact(text: string): Result<Contact> {
  const s = trimLws(text);
  if (s === '*') return ok({ star: true });
  const na = parseNameAddr(s);
  if (!na.ok) return na;
  const c: { -readonly [K in keyof NameAddr]: NameAddr[K] } & {
    star: false;
    expires?: number;
    q?: number;
  } = {
    ...na.value,
    star: false,
  };
  const e = na.value.params.get('expires');
  if (e !== undefined) {
    const v = e === null ? undefined : parseBoundedInt(e, MAX_DELTA_SECONDS);
    if (v === undefined) return fail('bad-header-value', 'bad Contact expires', 0, 'contact');
    c.expires = v;
  }
  const q = na.value.params.get('q');
  if (q !== undefined) {
    const v = q === null ? undefined : parseQValue(q);
    if (v === undefined) return fail('bad-header-value', 'bad Contact q', 0, 'contact');
    c.q = v;
  }
  return ok(c);
}

/** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
function parseQValue(s: string): number | undefined {
  if (s.length === 0 || s.length > 5) return undefined;
  const c0 = s[0];
  if (c0 !== '0' && c0 !== '1') return undefined;
  if (s.length > 1) {
    if (s[1] !== '.') return undefined;
    for (let i = 2; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x30 || c > 0x39 || (c0 === '1' && c !== 0x30)) return undefined;
    }
  }
  return Number(s);
}

/** A list of name-addrs (Route, Record-Route): each value is a name-addr (§20.30, §20.34). */
export function parseNameAddrList(values: readonly string[], header: string): Result<NameAddr[]> {
  const out: NameAddr[] = [];
  for (const v of values) {
    const r = parseNameAddr(v);
    if (!r.ok)
      return fail('bad-header-value', `${header}: ${r.error.reason}`, r.error.offset, header);
    out.push(r.value);
  }
  return ok(out);
}

export function hasLwsInside(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isLws(s.charCodeAt(i))) return true;
  return false;
}
