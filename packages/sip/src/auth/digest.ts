/**
 * Digest access authentication for SIP: RFC 3261 §22 with the algorithms and the mandatory
 * `qop` of RFC 8760 (MD5 and SHA-256; `qop=auth`). Pure: hashing comes from an injected
 * {@link DigestHash}; `./node-crypto.ts` binds it to `node:crypto`.
 *
 * Decisions (see docs/sip.md, "Digest authentication"):
 * - `-sess` algorithms are parsed but rejected as `unsupported-algorithm`: SIP deployments do
 *   not use them, and they would tie HA1 to a per-nonce cnonce the registrar cannot store.
 * - `qop=auth-int` is rejected (`unsupported-qop`); RFC 8760 requires only `auth`.
 * - Server side requires `qop=auth` (RFC 3261 §22.4: servers MUST always send qop, and a client
 *   that receives qop MUST send it back, so a credential without qop answering our challenge is
 *   non-compliant). Client side still answers a legacy no-qop challenge (old trunks), since
 *   that only weakens the peer's own replay protection.
 */
import {
  authError,
  isToken,
  parseAuthParams,
  serializeAuthParams,
  type AuthParamValue,
  type AuthResult,
  type ParamToWrite,
} from './params.js';

/** Algorithms this stack computes. RFC 8760 §2.2 lists SHA-256 and MD5 (and SHA-512/256). */
export type DigestAlgorithm = 'MD5' | 'SHA-256';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

/** Hashes UTF-8 `data` with `algorithm`, returning lower-case hex. */
export type DigestHash = (algorithm: DigestAlgorithm, data: string) => string;

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return value === 'MD5' || value === 'SHA-256';
}

/** A `WWW-Authenticate` / `Proxy-Authenticate` Digest challenge. */
export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  /** As received, canonical case for known values (`MD5`, `SHA-256`, `MD5-sess`, …). */
  readonly algorithm: string;
  /** qop-options; empty for a legacy challenge without qop. */
  readonly qop: readonly string[];
  readonly opaque?: string;
  readonly domain?: string;
  readonly stale: boolean;
  /** Unknown auth-params, kept for forward compatibility (names lower-cased). */
  readonly extra?: Readonly<Record<string, string>>;
}

/** An `Authorization` / `Proxy-Authorization` Digest credential. */
export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm: string;
  readonly cnonce?: string;
  /** nonce-count as sent: 8 hex digits. */
  readonly nc?: string;
  readonly qop?: string;
  readonly opaque?: string;
  readonly extra?: Readonly<Record<string, string>>;
}

const KNOWN_ALGORITHMS = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256'];

function canonicalAlgorithm(value: string): string {
  const lower = value.toLowerCase();
  return KNOWN_ALGORITHMS.find((a) => a.toLowerCase() === lower) ?? value;
}

function isDigestScheme(scheme: string): boolean {
  return scheme.toLowerCase() === 'digest';
}

function extras(
  params: ReadonlyMap<string, AuthParamValue>,
  known: readonly string[],
): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const [k, v] of params) {
    if (known.includes(k)) continue;
    out ??= Object.create(null) as Record<string, string>;
    out[k] = v.value;
  }
  return out;
}

const CHALLENGE_KNOWN = ['realm', 'nonce', 'algorithm', 'qop', 'opaque', 'domain', 'stale'];

/** Parses one challenge header value. Never throws. */
export function parseChallenge(input: string): AuthResult<DigestChallenge> {
  const parsed = parseAuthParams(input);
  if (!parsed.ok) return parsed;
  const { scheme, params } = parsed.value;
  if (!isDigestScheme(scheme)) return authError('bad-scheme', `scheme ${scheme} is not Digest`);
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (!realm) return authError('missing-param', 'challenge without realm');
  if (!nonce) return authError('missing-param', 'challenge without nonce');
  const staleRaw = params.get('stale')?.value.toLowerCase();
  if (staleRaw !== undefined && staleRaw !== 'true' && staleRaw !== 'false') {
    return authError('bad-value', 'stale must be true or false');
  }
  const qopRaw = params.get('qop')?.value;
  const qop =
    qopRaw === undefined
      ? []
      : qopRaw
          .split(',')
          .map((q) => q.trim().toLowerCase())
          .filter((q) => q.length > 0);
  if (qopRaw !== undefined && (qop.length === 0 || !qop.every(isToken))) {
    return authError('bad-value', 'qop-options must be a list of tokens');
  }
  const algorithmRaw = params.get('algorithm')?.value ?? 'MD5';
  if (!isToken(algorithmRaw)) return authError('bad-value', 'algorithm must be a token');
  const opaque = params.get('opaque')?.value;
  const domain = params.get('domain')?.value;
  const extra = extras(params, CHALLENGE_KNOWN);
  return {
    ok: true,
    value: {
      realm: realm.value,
      nonce: nonce.value,
      algorithm: canonicalAlgorithm(algorithmRaw),
      qop,
      stale: staleRaw === 'true',
      ...(opaque !== undefined && { opaque }),
      ...(domain !== undefined && { domain }),
      ...(extra && { extra }),
    },
  };
}

const CREDENTIALS_KNOWN = [
  'username',
  'realm',
  'nonce',
  'uri',
  'response',
  'algorithm',
  'cnonce',
  'nc',
  'qop',
  'opaque',
];

/** Parses one credentials header value. Never throws. */
export function parseCredentials(input: string): AuthResult<DigestCredentials> {
  const parsed = parseAuthParams(input);
  if (!parsed.ok) return parsed;
  const { scheme, params } = parsed.value;
  if (!isDigestScheme(scheme)) return authError('bad-scheme', `scheme ${scheme} is not Digest`);
  const required = ['username', 'realm', 'nonce', 'uri', 'response'] as const;
  const got: Partial<Record<(typeof required)[number], string>> = {};
  for (const name of required) {
    const v = params.get(name);
    if (!v) return authError('missing-param', `credentials without ${name}`);
    got[name] = v.value;
  }
  // RFC 3261 §25.1: request-digest = LDQUOT 32LHEX RDQUOT; RFC 8760 widens it to the digest
  // size of the algorithm (64 hex digits for SHA-256).
  const response = (got.response as string).toLowerCase();
  if (!/^[0-9a-f]{32}([0-9a-f]{32})?$/.test(response)) {
    return authError('bad-value', 'response must be 32 or 64 hex digits');
  }
  const nc = params.get('nc')?.value;
  // nonce-count = "nc" EQUAL nc-value; nc-value = 8LHEX
  if (nc !== undefined && !/^[0-9a-fA-F]{8}$/.test(nc)) {
    return authError('bad-value', 'nc must be 8 hex digits');
  }
  const qop = params.get('qop')?.value.toLowerCase();
  if (qop !== undefined && !isToken(qop)) return authError('bad-value', 'qop must be a token');
  const cnonce = params.get('cnonce')?.value;
  const algorithmRaw = params.get('algorithm')?.value ?? 'MD5';
  if (!isToken(algorithmRaw)) return authError('bad-value', 'algorithm must be a token');
  const opaque = params.get('opaque')?.value;
  const extra = extras(params, CREDENTIALS_KNOWN);
  return {
    ok: true,
    value: {
      username: got.username as string,
      realm: got.realm as string,
      nonce: got.nonce as string,
      uri: got.uri as string,
      response,
      algorithm: canonicalAlgorithm(algorithmRaw),
      ...(cnonce !== undefined && { cnonce }),
      ...(nc !== undefined && { nc: nc.toLowerCase() }),
      ...(qop !== undefined && { qop }),
      ...(opaque !== undefined && { opaque }),
      ...(extra && { extra }),
    },
  };
}

/** Writes a challenge header value (`Digest realm="…", …`). */
export function serializeChallenge(c: DigestChallenge): string {
  const p: ParamToWrite[] = [{ name: 'realm', value: c.realm, quoted: true }];
  if (c.domain !== undefined) p.push({ name: 'domain', value: c.domain, quoted: true });
  p.push({ name: 'nonce', value: c.nonce, quoted: true });
  if (c.opaque !== undefined) p.push({ name: 'opaque', value: c.opaque, quoted: true });
  if (c.stale) p.push({ name: 'stale', value: 'true', quoted: false });
  p.push({ name: 'algorithm', value: c.algorithm, quoted: false });
  if (c.qop.length > 0) p.push({ name: 'qop', value: c.qop.join(','), quoted: true });
  for (const [name, value] of Object.entries(c.extra ?? {})) {
    p.push({ name, value, quoted: true });
  }
  return serializeAuthParams('Digest', p);
}

/** Writes a credentials header value (`Digest username="…", …`). */
export function serializeCredentials(c: DigestCredentials): string {
  const p: ParamToWrite[] = [
    { name: 'username', value: c.username, quoted: true },
    { name: 'realm', value: c.realm, quoted: true },
    { name: 'nonce', value: c.nonce, quoted: true },
    { name: 'uri', value: c.uri, quoted: true },
    { name: 'response', value: c.response, quoted: true },
    { name: 'algorithm', value: c.algorithm, quoted: false },
  ];
  if (c.cnonce !== undefined) p.push({ name: 'cnonce', value: c.cnonce, quoted: true });
  if (c.opaque !== undefined) p.push({ name: 'opaque', value: c.opaque, quoted: true });
  if (c.qop !== undefined) p.push({ name: 'qop', value: c.qop, quoted: false });
  if (c.nc !== undefined) p.push({ name: 'nc', value: c.nc, quoted: false });
  for (const [name, value] of Object.entries(c.extra ?? {})) {
    p.push({ name, value, quoted: true });
  }
  return serializeAuthParams('Digest', p);
}

/** `HA1 = H(username ":" realm ":" password)`: what a registrar stores instead of passwords. */
export function computeHa1(
  hash: DigestHash,
  algorithm: DigestAlgorithm,
  username: string,
  realm: string,
  password: string,
): string {
  return hash(algorithm, `${username}:${realm}:${password}`);
}

/** Formats a nonce-count as 8 lower-case hex digits. */
export function formatNc(count: number): string {
  if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) {
    throw new RangeError(`nonce-count out of range: ${count}`);
  }
  return count.toString(16).padStart(8, '0');
}

export interface ComputeResponseInput {
  readonly hash: DigestHash;
  readonly algorithm: DigestAlgorithm;
  readonly method: string;
  readonly uri: string;
  readonly nonce: string;
  /** Either `ha1` (stored) or `username` + `realm` + `password`. */
  readonly ha1?: string;
  readonly username?: string;
  readonly realm?: string;
  readonly password?: string;
  /** `auth`, or absent for the RFC 2069 form (client side only). */
  readonly qop?: 'auth';
  /** 8 hex digits; required with qop. */
  readonly nc?: string;
  readonly cnonce?: string;
}

/**
 * The request-digest of RFC 3261 §22.4 / RFC 2617 §3.2.2.1 with the algorithm of RFC 8760:
 *   qop=auth: KD(HA1, nonce ":" nc ":" cnonce ":" qop ":" HA2)
 *   no qop:   KD(HA1, nonce ":" HA2)            (RFC 2069 compatibility)
 * with HA2 = H(method ":" digest-uri) and KD(secret, data) = H(secret ":" data).
 */
export function computeResponse(input: ComputeResponseInput): string {
  const { hash, algorithm } = input;
  let ha1 = input.ha1;
  if (ha1 === undefined) {
    if (input.username === undefined || input.realm === undefined || input.password === undefined) {
      throw new TypeError('computeResponse needs ha1, or username, realm and password');
    }
    ha1 = computeHa1(hash, algorithm, input.username, input.realm, input.password);
  }
  const ha2 = hash(algorithm, `${input.method}:${input.uri}`);
  if (input.qop === undefined) return hash(algorithm, `${ha1}:${input.nonce}:${ha2}`);
  if (input.nc === undefined || input.cnonce === undefined) {
    throw new TypeError('qop=auth needs nc and cnonce');
  }
  return hash(algorithm, `${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`);
}

/**
 * Compares two strings in time that depends only on their lengths (the hex digests compared
 * here have public, fixed lengths), so a forger learns nothing from response timing.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const len = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let k = 0; k < len; k++) diff |= (a.charCodeAt(k) | 0) ^ (b.charCodeAt(k) | 0);
  return diff === 0;
}

/**
 * RFC 8760 §2.4 (UAC): the client picks the first challenge, in the order received, whose
 * algorithm it supports. Returns undefined when none fits (`-sess`, SHA-512/256, auth-int only).
 */
export function pickChallenge(
  challenges: readonly DigestChallenge[],
  supported: readonly DigestAlgorithm[] = DIGEST_ALGORITHMS,
): DigestChallenge | undefined {
  return challenges.find(
    (c) =>
      isDigestAlgorithm(c.algorithm) &&
      supported.includes(c.algorithm) &&
      (c.qop.length === 0 || c.qop.includes('auth')),
  );
}

export interface AnswerChallengeInput {
  readonly hash: DigestHash;
  readonly challenge: DigestChallenge;
  readonly method: string;
  readonly uri: string;
  readonly username: string;
  /** Either the password or a stored HA1 for the challenge's realm and algorithm. */
  readonly password?: string;
  readonly ha1?: string;
  /** Client nonce; the caller supplies randomness (keeps this pure). */
  readonly cnonce: string;
  /** nonce-count, starting at 1 for each new nonce. */
  readonly nc?: number;
}

/** Client side: builds the credentials answering `challenge` (for the B2BUA toward trunks). */
export function answerChallenge(input: AnswerChallengeInput): AuthResult<DigestCredentials> {
  const { challenge } = input;
  if (!isDigestAlgorithm(challenge.algorithm)) {
    return authError('unsupported-algorithm', `algorithm ${challenge.algorithm} not supported`);
  }
  // RFC 3261 §22.4: "If a client receives a "qop" parameter in a challenge header field, it
  // MUST send the "qop" parameter in any resulting authorization header field."
  const useQop = challenge.qop.length > 0;
  if (useQop && !challenge.qop.includes('auth')) {
    return authError('unsupported-qop', `qop ${challenge.qop.join(',')} not supported`);
  }
  const nc = useQop ? formatNc(input.nc ?? 1) : undefined;
  const response = computeResponse({
    hash: input.hash,
    algorithm: challenge.algorithm,
    method: input.method,
    uri: input.uri,
    nonce: challenge.nonce,
    ...(input.ha1 !== undefined
      ? { ha1: input.ha1 }
      : { username: input.username, realm: challenge.realm, password: input.password ?? '' }),
    ...(useQop && { qop: 'auth' as const, nc, cnonce: input.cnonce }),
  });
  return {
    ok: true,
    value: {
      username: input.username,
      realm: challenge.realm,
      nonce: challenge.nonce,
      uri: input.uri,
      response,
      algorithm: challenge.algorithm,
      ...(useQop && { qop: 'auth', nc, cnonce: input.cnonce }),
      ...(challenge.opaque !== undefined && { opaque: challenge.opaque }),
    },
  };
}
