/**
 * Server side of SIP digest authentication (registrar, proxy, SBC): issue challenges and judge
 * credentials. Pure apart from the injected hash, nonce manager and HA1 lookup.
 *
 * The verdict tells the caller what to answer, it never sends anything itself:
 * - `ok`: authenticated as `username`;
 * - `challenge`: answer 401/407 with {@link DigestServer.challenge} (`stale` set when the
 *   digest was right but the nonce expired or was reused, so the UAC retries silently);
 * - `reject`: answer `status` (400 for malformed credentials, 403 for wrong credentials).
 */
import type { ErrorCode } from '@tfx/protocol';
import {
  DIGEST_ALGORITHMS,
  computeResponse,
  constantTimeEqual,
  isDigestAlgorithm,
  parseCredentials,
  serializeChallenge,
  type DigestAlgorithm,
  type DigestChallenge,
  type DigestCredentials,
  type DigestHash,
} from './digest.js';
import { canonicalHost, parseUri, uriTextEquals } from '../syntax/index.js';
import type { NonceManager } from './nonce.js';
import type { AuthErrorReason } from './params.js';

export interface DigestServerOptions {
  /** The protection realm, usually the SIP domain. */
  readonly realm: string;
  readonly hash: DigestHash;
  readonly nonces: NonceManager;
  /**
   * Algorithms offered, most preferred first. Default `['SHA-256', 'MD5']`: RFC 8760 §2.4 has
   * the UAS add one challenge per algorithm, most preferred first, and SHA-256 is preferred over
   * the obsolete MD5.
   */
  readonly algorithms?: readonly DigestAlgorithm[];
  /** Proxy authentication (407, `Proxy-Authenticate`) instead of 401. Default false. */
  readonly proxy?: boolean;
}

export interface ChallengeToSend {
  readonly status: 401 | 407;
  readonly headerName: 'WWW-Authenticate' | 'Proxy-Authenticate';
  /** One header field value per algorithm, in order of preference. */
  readonly values: readonly string[];
  readonly challenges: readonly DigestChallenge[];
}

/** Looks up the stored HA1 for a user; undefined when the user is unknown. May be async. */
export type Ha1Lookup = (
  username: string,
  realm: string,
  algorithm: DigestAlgorithm,
) => string | undefined | Promise<string | undefined>;

export interface VerifyInput {
  /** The `Authorization` (or `Proxy-Authorization`) values of the request. */
  readonly header: string | readonly string[] | undefined;
  readonly method: string;
  /** The Request-URI as it appears on the request line. */
  readonly requestUri: string;
  readonly lookupHa1: Ha1Lookup;
  /**
   * Whether the credential's `uri` designates the Request-URI. Default: RFC 3261 §19.1.4 URI
   * equality (`uriTextEquals`), not byte equality.
   */
  readonly uriMatches?: (digestUri: string, requestUri: string) => boolean;
  /**
   * The local address and port the request was sent to. Some user agents (sipp's default, some
   * phones) put that address in the digest `uri` instead of the Request-URI; such credentials are
   * accepted too (Kamailio, OpenSIPS and Asterisk do the same) and the verdict says so
   * (`uriMatch: 'sent-to'`), so the element can count them.
   */
  readonly sentTo?: { readonly address: string; readonly port: number };
}

export type VerifyFailure =
  | AuthErrorReason
  | 'missing'
  | 'wrong-realm'
  | 'qop-required'
  | 'uri-mismatch'
  | 'invalid-nonce'
  | 'stale-nonce'
  | 'replay'
  | 'unknown-user'
  | 'wrong-response';

export type DigestVerdict =
  | {
      readonly ok: true;
      readonly username: string;
      readonly realm: string;
      readonly algorithm: DigestAlgorithm;
      /** Present when the credential's `uri` named the address the request was sent to. */
      readonly uriMatch?: 'sent-to';
    }
  | {
      readonly ok: false;
      readonly action: 'challenge';
      readonly stale: boolean;
      readonly reason: VerifyFailure;
    }
  | {
      readonly ok: false;
      readonly action: 'reject';
      readonly status: 400 | 403;
      readonly code: ErrorCode;
      readonly reason: VerifyFailure;
      /** Username claimed by the credentials, for logs and ban counting. */
      readonly username?: string;
    };

const DUMMY_HA1 = '0'.repeat(64);

export class DigestServer {
  readonly realm: string;
  readonly algorithms: readonly DigestAlgorithm[];
  readonly #hash: DigestHash;
  readonly #nonces: NonceManager;
  readonly #proxy: boolean;

  constructor(options: DigestServerOptions) {
    this.realm = options.realm;
    this.algorithms = options.algorithms ?? DIGEST_ALGORITHMS;
    if (this.algorithms.length === 0) throw new RangeError('offer at least one algorithm');
    this.#hash = options.hash;
    this.#nonces = options.nonces;
    this.#proxy = options.proxy ?? false;
  }

  /** Fresh challenges, one per algorithm (same nonce), SHA-256 first by default. */
  challenge(stale = false): ChallengeToSend {
    const nonce = this.#nonces.issue();
    // RFC 3261 §22.4: "Servers MUST always send a "qop" parameter in WWW-Authenticate and
    // Proxy-Authenticate header field values."
    const challenges: DigestChallenge[] = this.algorithms.map((algorithm) => ({
      realm: this.realm,
      nonce,
      algorithm,
      qop: ['auth'],
      stale,
    }));
    return {
      status: this.#proxy ? 407 : 401,
      headerName: this.#proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate',
      values: challenges.map(serializeChallenge),
      challenges,
    };
  }

  /** Judges the credentials of a request. Never throws on hostile input. */
  async verify(input: VerifyInput): Promise<DigestVerdict> {
    const headers =
      input.header === undefined
        ? []
        : typeof input.header === 'string'
          ? [input.header]
          : input.header;
    if (headers.length === 0) return challenge('missing');

    // RFC 8760 §2.4: a request may carry one Authorization per realm/algorithm; use the first
    // one for our realm.
    let creds: DigestCredentials | undefined;
    let parseFailure: AuthErrorReason | undefined;
    for (const h of headers) {
      const parsed = parseCredentials(h);
      if (!parsed.ok) {
        parseFailure ??= parsed.error.reason;
        continue;
      }
      if (parsed.value.realm === this.realm) {
        creds = parsed.value;
        break;
      }
    }
    if (!creds) {
      if (parseFailure && parseFailure !== 'bad-scheme') {
        return reject(400, 'sip-parse-error', parseFailure);
      }
      return challenge(parseFailure ?? 'wrong-realm');
    }
    const { username } = creds;
    const algorithm = creds.algorithm;
    if (!isDigestAlgorithm(algorithm) || !this.algorithms.includes(algorithm)) {
      return challenge('unsupported-algorithm');
    }
    // RFC 3261 §22.4: "If a client receives a "qop" parameter in a challenge header field, it
    // MUST send the "qop" parameter in any resulting authorization header field." We always
    // send qop, so credentials without it (or with auth-int) do not answer our challenge.
    if (creds.qop !== 'auth' || creds.nc === undefined || creds.cnonce === undefined) {
      return reject(403, 'sip-auth-failed', 'qop-required', username);
    }
    // RFC 2617 §3.2.2.5: "The authenticating server must assure that the resource designated
    // by the "uri" directive is the same as the resource specified in the Request-Line; if they
    // are not, the server SHOULD return a 400 Bad Request error."
    // Compared as URIs (RFC 3261 §19.1.4); the address the request was sent to is accepted too.
    const uriMatches = input.uriMatches ?? uriTextEquals;
    let sentTo = false;
    if (!uriMatches(creds.uri, input.requestUri)) {
      if (!input.sentTo || !namesAddress(creds.uri, input.sentTo)) {
        return reject(400, 'bad-request', 'uri-mismatch', username);
      }
      sentTo = true;
    }
    const nonceStatus = this.#nonces.inspect(creds.nonce);
    if (nonceStatus === 'invalid') return challenge('invalid-nonce');

    let ha1: string | undefined;
    try {
      ha1 = await input.lookupHa1(username, this.realm, algorithm);
    } catch {
      ha1 = undefined;
    }
    const expected = computeResponse({
      hash: this.#hash,
      algorithm,
      ha1: ha1 ?? DUMMY_HA1.slice(0, algorithm === 'MD5' ? 32 : 64),
      method: input.method,
      uri: creds.uri,
      nonce: creds.nonce,
      qop: 'auth',
      nc: creds.nc,
      cnonce: creds.cnonce,
    });
    const matches = constantTimeEqual(expected, creds.response) && ha1 !== undefined;
    if (!matches) {
      return reject(
        403,
        'sip-auth-failed',
        ha1 === undefined ? 'unknown-user' : 'wrong-response',
        username,
      );
    }
    // RFC 7616 §3.3 (stale): "indicating that the previous request from the client was rejected
    // because the nonce value was stale" — only said when the digest itself was right.
    if (nonceStatus === 'stale') return challenge('stale-nonce', true);
    const use = this.#nonces.consume(creds.nonce, creds.nc);
    if (use === 'replay') return challenge('replay', true);
    if (use === 'stale') return challenge('stale-nonce', true);
    if (use === 'invalid') return challenge('invalid-nonce');
    const ok = { ok: true, username, realm: this.realm, algorithm } as const;
    return sentTo ? { ...ok, uriMatch: 'sent-to' } : ok;
  }
}

/** Whether a SIP URI (with no user part or any) names `address:port` (its default port if none). */
function namesAddress(
  text: string,
  at: { readonly address: string; readonly port: number },
): boolean {
  const parsed = parseUri(text);
  if (!parsed.ok || parsed.value.kind !== 'sip') return false;
  const uri = parsed.value;
  const port = uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060);
  return canonicalHost(uri.host) === canonicalHost(at.address) && port === at.port;
}

function challenge(reason: VerifyFailure, stale = false): DigestVerdict {
  return { ok: false, action: 'challenge', stale, reason };
}

function reject(
  status: 400 | 403,
  code: ErrorCode,
  reason: VerifyFailure,
  username?: string,
): DigestVerdict {
  return username === undefined
    ? { ok: false, action: 'reject', status, code, reason }
    : { ok: false, action: 'reject', status, code, reason, username };
}
