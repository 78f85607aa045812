/**
 * The SBC's digest gate (RFC 3261 §22), one function for every out-of-dialog request an
 * untrusted zone authenticates: INVITE, MESSAGE and SUBSCRIBE as a proxy would (§22.3: 407 with
 * Proxy-Authenticate, credentials in Proxy-Authorization), REGISTER as a registrar (§22.2 and
 * §10.3 step 3: 401 with WWW-Authenticate, credentials in Authorization). Whoever serves the
 * request after the gate (the B2BUA for INVITE, a registrar for REGISTER) calls `authorize` and
 * answers the refusal it returns.
 *
 * With the stack's DigestServer: a `uri` naming the Request-URI or the address the request was
 * sent to is accepted. Answers are the same for known and unknown users (the server checks an
 * unknown user against a dummy HA1: same 403, same headers). Failures count in the zone's Gate
 * per (source, user) and per source; a user banned from a source is answered like a wrong
 * password (its lookup gives nothing), and a banned source lands on the blacklist (its `onBan`).
 */
import { randomBytes } from 'node:crypto';
import {
  DigestServer,
  NonceManager,
  nodeDigestHash,
  nodeNonceCrypto,
  type DigestAlgorithm,
  type Ha1Lookup,
  type Logger,
  type ReceiveContext,
  type SipRequest,
} from '@tfx/sip';
import type { ZoneSecurityRoute } from './security.js';

/** Methods the gate challenges out of dialog (REGISTER with 401, the others with 407). */
export const AUTHENTICATED_METHODS: ReadonlySet<string> = new Set([
  'INVITE',
  'MESSAGE',
  'SUBSCRIBE',
  'REGISTER',
]);

export type AuthOutcome =
  | { readonly ok: true; readonly username: string }
  | {
      readonly ok: false;
      readonly status: number;
      readonly headers: ReadonlyArray<readonly [string, string]>;
    };

export interface SbcAuthOptions {
  readonly realm: string;
  readonly lookupHa1: Ha1Lookup;
  readonly algorithms?: readonly DigestAlgorithm[];
  readonly logger: Logger;
}

export class SbcAuth {
  readonly #proxy: DigestServer;
  readonly #registrar: DigestServer;
  readonly #lookup: Ha1Lookup;
  readonly #log: Logger;

  constructor(o: SbcAuthOptions) {
    // One nonce secret for both: a nonce of a 401 is as good as one of a 407.
    const nonces = new NonceManager({
      secret: randomBytes(32).toString('hex'),
      crypto: nodeNonceCrypto,
    });
    const base = {
      realm: o.realm,
      hash: nodeDigestHash,
      nonces,
      algorithms: o.algorithms ?? (['MD5'] as const),
    };
    this.#proxy = new DigestServer({ ...base, proxy: true });
    this.#registrar = new DigestServer({ ...base, proxy: false });
    this.#lookup = o.lookupHa1;
    this.#log = o.logger;
  }

  get realm(): string {
    return this.#proxy.realm;
  }

  /**
   * Judges the request's credentials for the zone whose security stages it passed. Counts the
   * outcome (`security.counters.auth`) and the failures (the zone's Gate).
   */
  async authorize(
    zone: string,
    security: ZoneSecurityRoute,
    request: SipRequest,
    ctx: ReceiveContext,
    now: number,
  ): Promise<AuthOutcome> {
    const registrar = request.method === 'REGISTER';
    const server = registrar ? this.#registrar : this.#proxy;
    const ip = ctx.remote.address;
    const gate = security.authGate;
    const verdict = await server.verify({
      header: request.headers.getAll(registrar ? 'authorization' : 'proxy-authorization'),
      method: request.method,
      requestUri: request.uriText,
      sentTo: ctx.local,
      lookupHa1: (username, realm, algorithm) =>
        gate.bannedUser(ip, username, now) ? undefined : this.#lookup(username, realm, algorithm),
    });
    const c = security.counters.auth;
    if (verdict.ok) {
      gate.recordSuccess(ip, verdict.username);
      c.passed++;
      return { ok: true, username: verdict.username };
    }
    const log = { zone, source: ip, method: request.method };
    if (verdict.action === 'challenge') {
      if (verdict.reason !== 'missing' && !verdict.stale) {
        c.failed++;
        gate.recordFailure(ip, undefined, now);
        this.#log.info({ ...log, reason: verdict.reason }, 'sbc: authentication failed');
      }
      c.challenged++;
      const ch = server.challenge(verdict.stale);
      return {
        ok: false,
        status: ch.status,
        headers: ch.values.map((v) => [ch.headerName, v] as const),
      };
    }
    c.failed++;
    this.#log.info(
      { ...log, user: verdict.username, reason: verdict.reason },
      'sbc: authentication refused',
    );
    // A `uri` naming another resource is a client bug, not a guess: not counted toward bans.
    if (verdict.reason !== 'uri-mismatch') gate.recordFailure(ip, verdict.username, now);
    return { ok: false, status: verdict.status, headers: [] };
  }
}
