/**
 * The header collection of a message (RFC 3261 §7.3): ordered fields, case-insensitive
 * names, compact forms (§7.3.3), comma-separated lists (§7.3.1), lazily decoded values and
 * lazily parsed, cached typed views. A field read from the wire keeps its raw bytes and is
 * re-emitted byte-exact until it is changed.
 */
import { decodeRange, isLws } from './chars.js';
import { fail, ok } from './errors.js';
import type {
  CSeq,
  Contact,
  HeaderCollection,
  NameAddr,
  Result,
  TypedHeaders,
  Uri,
  Via,
} from './types.js';
import {
  MAX_DELTA_SECONDS,
  MAX_MAX_FORWARDS,
  parseCallId,
  parseCSeq,
  parseContact,
  parseNameAddrList,
  parseUint,
  parseVia,
  splitList,
} from './values.js';
import { parseNameAddr } from './nameaddr.js';

/** §7.3.3 and the IANA registry: compact form → long name (lower case). */
const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id',
  m: 'contact',
  f: 'from',
  t: 'to',
  v: 'via',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
  o: 'event',
  r: 'refer-to',
  u: 'allow-events',
  b: 'referred-by',
  x: 'session-expires',
  y: 'identity',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
};

const COMPACT_OF: ReadonlyMap<string, string> = new Map(
  Object.entries(COMPACT).map(([k, v]) => [v, k]),
);

/**
 * Headers whose grammar is a comma-separated list (§7.3.1), so that several fields may be
 * combined in one line and one line split. The authentication headers are never split
 * (their challenge/credentials contain commas); unknown headers are not split either.
 */
const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via',
  'contact',
  'route',
  'record-route',
  'allow',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'content-language',
  'allow-events',
  'alert-info',
  'call-info',
  'error-info',
  'in-reply-to',
  'path',
  'service-route',
  'warning',
  'reason',
  'p-asserted-identity',
  'p-preferred-identity',
  'history-info',
  'security-client',
  'security-server',
  'security-verify',
  'accept-contact',
  'reject-contact',
  'request-disposition',
]);

/** Single-valued headers (§20): more than one field is an error (RFC 4475 §3.3.8). */
export const SINGLE_HEADERS: ReadonlySet<string> = new Set([
  'call-id',
  'cseq',
  'from',
  'to',
  'max-forwards',
  'content-length',
  'content-type',
  'expires',
  'min-expires',
]);

/** Preferred spelling when a message is built. */
const CANONICAL: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
};

const keyCache = new Map<string, string>();

/** Canonical lookup key of a header name: lower case long form. */
export function canonicalHeaderName(name: string): string {
  let k = keyCache.get(name);
  if (k !== undefined) return k;
  const lower = name.toLowerCase();
  k = lower.length === 1 ? (COMPACT[lower] ?? lower) : lower;
  if (keyCache.size < 1024) keyCache.set(name, k);
  return k;
}

/** The compact form of a header name, if it has one. */
export function compactFormOf(name: string): string | undefined {
  return COMPACT_OF.get(canonicalHeaderName(name));
}

/** The usual written spelling of a header key (`call-id` → `Call-ID`). */
export function displayHeaderName(key: string): string {
  return (
    CANONICAL[key] ??
    key.replace(/(^|-)([a-z])/g, (_m, p: string, c: string) => p + c.toUpperCase())
  );
}

export function isListHeader(key: string): boolean {
  return LIST_HEADERS.has(key);
}

/** One header field (line). `buf` and offsets point into the received message. */
export interface HeaderField {
  readonly name: string;
  readonly key: string;
  /** Unfolded, trimmed value; decoded from `buf` on first use. */
  value: string | undefined;
  readonly buf: Uint8Array | undefined;
  /** Raw line: [rawStart, rawEnd) (without the final CRLF, with any folding). */
  readonly rawStart: number;
  readonly rawEnd: number;
  readonly valueStart: number;
  readonly folded: boolean;
}

export function wireField(
  buf: Uint8Array,
  name: string,
  rawStart: number,
  valueStart: number,
  rawEnd: number,
  folded: boolean,
): HeaderField {
  return {
    name,
    key: canonicalHeaderName(name),
    value: undefined,
    buf,
    rawStart,
    rawEnd,
    valueStart,
    folded,
  };
}

function builtField(name: string, value: string): HeaderField {
  // A value set by code must not smuggle a line break into the message (header injection).
  if (value.includes('\r') || value.includes('\n')) value = value.replace(/[\r\n]+[ \t]*/g, ' ');
  return {
    name,
    key: canonicalHeaderName(name),
    value,
    buf: undefined,
    rawStart: 0,
    rawEnd: 0,
    valueStart: 0,
    folded: false,
  };
}

/** §7.3.1: LWS folding is equivalent to a single SP; the value is trimmed. */
export function fieldValue(f: HeaderField): string {
  if (f.value !== undefined) return f.value;
  const buf = f.buf!;
  let a = f.valueStart;
  let b = f.rawEnd;
  while (a < b && isLws(buf[a]!)) a++;
  while (b > a && isLws(buf[b - 1]!)) b--;
  let v = decodeRange(buf, a, b);
  if (f.folded) v = unfold(v);
  f.value = v;
  return v;
}

function unfold(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) {
      while (out.length > 0 && (out.endsWith(' ') || out.endsWith('\t'))) out = out.slice(0, -1);
      let j = i;
      while (j < v.length && isLws(v.charCodeAt(j))) j++;
      out += ' ';
      i = j - 1;
    } else out += v[i]!;
  }
  return out;
}

/** What a parsed message remembers of its wire form (see raw.ts). */
export interface WireInfo {
  readonly buf: Uint8Array;
  /** [msgStart, startLineEnd) is the start line without CRLF. */
  readonly msgStart: number;
  readonly startLineEnd: number;
  /** Offset just after the body (msgStart..msgEnd is the whole message). */
  readonly msgEnd: number;
  readonly method: string | undefined;
  readonly uri: Uri | undefined;
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly version: string;
  readonly body: Uint8Array;
  /** Header mutation count at parse time. */
  readonly headerVersion: number;
  /** True when the message had exactly one Content-Length equal to the body length. */
  readonly lengthExact: boolean;
}

type Cache = { [K in keyof TypedHeaders]?: Result<TypedHeaders[K]> };

export class SipHeaders implements HeaderCollection {
  readonly #fields: HeaderField[];
  #cache: Cache = {};
  #revision = 0;
  #wire: WireInfo | undefined = undefined;

  constructor(fields: HeaderField[] = []) {
    this.#fields = fields;
  }

  /** Build from `[name, value]` pairs. */
  static from(entries: Iterable<readonly [string, string]>): SipHeaders {
    const h = new SipHeaders();
    for (const [n, v] of entries) h.append(n, v);
    return h;
  }

  /** Copy the fields of these names from another collection, raw bytes included, in that order. */
  copyFrom(other: SipHeaders, names: readonly string[]): void {
    for (const name of names) {
      const key = canonicalHeaderName(name);
      for (const f of other.fields()) if (f.key === key) this.#fields.push(f);
      this.#invalidate(key);
    }
  }

  /** Fields in order (read-only view, for the serializer and diagnostics). */
  fields(): readonly HeaderField[] {
    return this.#fields;
  }

  /** The received message these fields were parsed with (the parser sets it; see raw.ts). */
  get wire(): WireInfo | undefined {
    return this.#wire;
  }

  /** @internal The parser's: the message these fields came from. */
  attachWire(info: WireInfo): void {
    this.#wire = info;
  }

  /** Incremented by every change; a serializer reuses raw bytes only when it is unchanged. */
  get revision(): number {
    return this.#revision;
  }

  get size(): number {
    return this.#fields.length;
  }

  /** Number of fields (lines) with this name. */
  count(name: string): number {
    const key = canonicalHeaderName(name);
    let n = 0;
    for (const f of this.#fields) if (f.key === key) n++;
    return n;
  }

  get(name: string): string | undefined {
    const key = canonicalHeaderName(name);
    for (const f of this.#fields) {
      if (f.key !== key) continue;
      const v = fieldValue(f);
      if (!LIST_HEADERS.has(key)) return v;
      for (const e of splitList(v)) if (e.length > 0) return e;
    }
    return undefined;
  }

  getAll(name: string): string[] {
    const key = canonicalHeaderName(name);
    const out: string[] = [];
    const list = LIST_HEADERS.has(key);
    for (const f of this.#fields) {
      if (f.key !== key) continue;
      const v = fieldValue(f);
      if (!list) out.push(v);
      else for (const e of splitList(v)) if (e.length > 0) out.push(e);
    }
    return out;
  }

  /** Values split per list element, empty elements kept (for the strict typed parsers). */
  #elements(key: string): string[] {
    const out: string[] = [];
    const list = LIST_HEADERS.has(key);
    for (const f of this.#fields) {
      if (f.key !== key) continue;
      const v = fieldValue(f);
      if (list) out.push(...splitList(v));
      else out.push(v);
    }
    return out;
  }

  has(name: string): boolean {
    const key = canonicalHeaderName(name);
    return this.#fields.some((f) => f.key === key);
  }

  set(name: string, value: string | readonly string[]): void {
    const key = canonicalHeaderName(name);
    const values = typeof value === 'string' ? [value] : value;
    let at = this.#fields.findIndex((f) => f.key === key);
    if (at < 0) at = this.#fields.length;
    this.#removeKey(key);
    at = Math.min(at, this.#fields.length);
    this.#fields.splice(at, 0, ...values.map((v) => builtField(name, v)));
    this.#invalidate(key);
  }

  append(name: string, value: string): void {
    this.#fields.push(builtField(name, value));
    this.#invalidate(canonicalHeaderName(name));
  }

  prepend(name: string, value: string): void {
    const key = canonicalHeaderName(name);
    const at = this.#fields.findIndex((f) => f.key === key);
    this.#fields.splice(at < 0 ? 0 : at, 0, builtField(name, value));
    this.#invalidate(key);
  }

  remove(name: string): number {
    const key = canonicalHeaderName(name);
    const n = this.#removeKey(key);
    this.#invalidate(key);
    return n;
  }

  shift(name: string): string | undefined {
    const key = canonicalHeaderName(name);
    const at = this.#fields.findIndex((f) => f.key === key);
    if (at < 0) return undefined;
    const f = this.#fields[at]!;
    const v = fieldValue(f);
    this.#invalidate(key);
    if (!LIST_HEADERS.has(key)) {
      this.#fields.splice(at, 1);
      return v;
    }
    const parts = splitList(v).filter((e) => e.length > 0);
    const first = parts.shift();
    if (parts.length === 0) this.#fields.splice(at, 1);
    else this.#fields[at] = builtField(f.name, parts.join(', '));
    return first;
  }

  entries(): Array<[string, string]> {
    return this.#fields.map((f) => [f.name, fieldValue(f)]);
  }

  #removeKey(key: string): number {
    let n = 0;
    for (let i = this.#fields.length - 1; i >= 0; i--) {
      if (this.#fields[i]!.key === key) {
        this.#fields.splice(i, 1);
        n++;
      }
    }
    return n;
  }

  #invalidate(key: string): void {
    this.#revision++;
    // Cleared by assignment, not `delete`: a delete turns the cache into a dictionary-mode
    // object, slower for every later read and write (`#invalidate` alone was 0.7 % of the
    // samples of a 1000 calls/s profile, issue #23). `typed` reads undefined as "not parsed".
    const cache = this.#cache as Record<string, unknown>;
    if (cache[key] !== undefined) cache[key] = undefined;
  }

  typed<K extends keyof TypedHeaders>(name: K): Result<TypedHeaders[K]> {
    const cached = this.#cache[name];
    if (cached !== undefined) return cached;
    let r: Result<TypedHeaders[K]>;
    try {
      r = this.#parseTyped(name) as Result<TypedHeaders[K]>;
    } catch {
      r = fail('internal', `parser defect on ${name}`, undefined, name);
    }
    (this.#cache as Record<string, unknown>)[name] = r;
    return r;
  }

  #single(key: string): Result<string> {
    const values = this.#elements(key);
    if (values.length === 0)
      return fail('missing-header', `no ${displayHeaderName(key)} header`, undefined, key);
    if (values.length > 1)
      return fail(
        'bad-header-value',
        `more than one ${displayHeaderName(key)} header`,
        undefined,
        key,
      );
    return ok(values[0]!);
  }

  #parseTyped(name: keyof TypedHeaders): Result<TypedHeaders[keyof TypedHeaders]> {
    switch (name) {
      case 'via': {
        const out: Via[] = [];
        for (const v of this.#elements('via')) {
          const r = parseVia(v);
          if (!r.ok) return r;
          out.push(r.value);
        }
        return ok(out);
      }
      case 'contact': {
        const out: Contact[] = [];
        for (const v of this.#elements('contact')) {
          const r = parseContact(v);
          if (!r.ok) return r;
          out.push(r.value);
        }
        return ok(out);
      }
      case 'route':
      case 'record-route':
        return parseNameAddrList(this.#elements(name), name);
      case 'from':
      case 'to': {
        const s = this.#single(name);
        if (!s.ok) return s;
        const r = parseNameAddr(s.value);
        return r.ok
          ? r
          : fail('bad-header-value', `${name}: ${r.error.reason}`, r.error.offset, name);
      }
      case 'call-id': {
        const s = this.#single(name);
        return s.ok ? parseCallId(s.value) : s;
      }
      case 'cseq': {
        const s = this.#single(name);
        return s.ok ? parseCSeq(s.value) : s;
      }
      case 'max-forwards': {
        const s = this.#single(name);
        return s.ok ? parseUint(s.value, MAX_MAX_FORWARDS, name) : s;
      }
      case 'content-length': {
        const s = this.#single(name);
        return s.ok ? parseUint(s.value, 2 ** 31 - 1, name) : s;
      }
      case 'expires': {
        const s = this.#single(name);
        return s.ok ? parseUint(s.value, MAX_DELTA_SECONDS, name) : s;
      }
    }
    return fail('internal', 'unknown typed header');
  }

  #value<K extends keyof TypedHeaders>(name: K): TypedHeaders[K] | undefined {
    const r = this.typed(name);
    return r.ok ? r.value : undefined;
  }

  via(): Via[] {
    return this.#value('via') ?? [];
  }
  callId(): string | undefined {
    return this.#value('call-id');
  }
  cseq(): CSeq | undefined {
    return this.#value('cseq');
  }
  from(): NameAddr | undefined {
    return this.#value('from');
  }
  to(): NameAddr | undefined {
    return this.#value('to');
  }
  contact(): Contact[] {
    return this.#value('contact') ?? [];
  }
  maxForwards(): number | undefined {
    return this.#value('max-forwards');
  }
  contentLength(): number | undefined {
    return this.#value('content-length');
  }
  route(): NameAddr[] {
    return this.#value('route') ?? [];
  }
  recordRoute(): NameAddr[] {
    return this.#value('record-route') ?? [];
  }
  expires(): number | undefined {
    return this.#value('expires');
  }
}
