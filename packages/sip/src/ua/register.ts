/**
 * A REGISTER client (RFC 3261 §10.2): registers a Contact for an address of record, answers
 * 401/407 with digest (RFC 3261 §22, RFC 8760), follows 423 Interval Too Brief (§10.2.8),
 * refreshes before the binding expires, retries after a failure, and unregisters with
 * `Expires: 0`. An explicit state machine on an injected clock; it sends through the function
 * it is given (the UA core passes its stack's).
 *
 *   unregistered ─register()─▶ registering ─2xx─▶ registered ─(expires − max(5 s, 10 %))─▶ registering
 *        ▲                         │ 401/407 → digest, 423 → Min-Expires (same state)
 *        │                         └─ other final / timeout ─▶ failed ─(Retry-After or retry)─▶ registering
 *        └──── 2xx / any final ──── unregistering ◀─unregister()── registered
 */
import { TfxError } from '@tfx/protocol';
import {
  answerChallenge,
  parseChallenge,
  pickChallenge,
  serializeCredentials,
  type DigestChallenge,
  type DigestHash,
} from '../auth/index.js';
import { refreshDelay } from '../dialog/index.js';
import {
  createRequest,
  generateBranch,
  generateCallId,
  generateTag,
  type SipRequest,
  type SipResponse,
  type Uri,
} from '../syntax/index.js';
import type { Clock, TimerHandle } from '../time/index.js';

export type RegistrationState =
  'unregistered' | 'registering' | 'registered' | 'unregistering' | 'failed';

export interface RegistrationOptions {
  readonly clock: Clock;
  /** Request-URI of the REGISTER: the registrar's domain (§10.2: `sip:example.com`). */
  readonly registrar: string;
  /** The address of record (To and From), e.g. `sip:alice@example.com`. */
  readonly aor: string;
  /** Our Contact (a name-addr) and Via sent-by, read at each send (listeners may change). */
  readonly contact: () => string;
  readonly via: () => { transport: string; host: string; port?: number };
  /** Requested binding duration, seconds. Default 3600. */
  readonly expires?: number;
  /** Digest credentials (username defaults to the AOR's user). */
  readonly username?: string;
  readonly password?: string;
  /** Digest hash and client nonce source (the UA core passes Node's). */
  readonly hash?: DigestHash;
  readonly cnonce?: () => string;
  /** Seconds to wait before registering again after a failure without Retry-After. Default 60. */
  readonly retryAfter?: number;
  /**
   * Backoff: seconds before the next try after `failures` failures in a row (1, 2, …). When
   * given it replaces `retryAfter`, and a Retry-After shorter than it is not honoured (a hostile
   * `Retry-After: 0` makes no tight loop).
   */
  readonly retryDelay?: (failures: number) => number;
  /** Milliseconds from a 2xx granting `seconds` to the refresh. Default `refreshDelay`. */
  readonly refreshDelay?: (seconds: number) => number;
  /** Sends a request in a client transaction; `undefined` is a timeout or transport error. */
  readonly send: (request: SipRequest, onFinal: (r: SipResponse | undefined) => void) => void;
  readonly onStateChange?: (state: RegistrationState, info: RegistrationInfo) => void;
}

export interface RegistrationInfo {
  /** Status of the response that caused the change, when one did. */
  readonly status?: number;
  /** Seconds the registrar granted (registered). */
  readonly expires?: number;
  /** Why it failed: `auth` (credentials refused or missing), `timeout`, or `status`. */
  readonly reason?: 'auth' | 'timeout' | 'status';
}

export interface RegistrationCounters {
  sent: number;
  challenges: number;
  intervalTooBrief: number;
  refreshes: number;
  failures: number;
}

const MAX_AUTH = 2;
const MAX_423 = 3;

export class Registration {
  readonly counters: RegistrationCounters = {
    sent: 0,
    challenges: 0,
    intervalTooBrief: 0,
    refreshes: 0,
    failures: 0,
  };
  readonly #o: RegistrationOptions;
  /** §10.2: "A UA SHOULD use the same Call-ID for all registrations during a single boot cycle." */
  readonly callId: string;
  /** §10.2: the CSeq increases by one with each REGISTER of the same Call-ID. */
  #cseq = 1;
  readonly #fromTag = generateTag();
  #state: RegistrationState = 'unregistered';
  #expires: number;
  #granted: number | undefined;
  #timer: TimerHandle | undefined;
  #authTries = 0;
  #tooBrief = 0;
  /** Failures in a row (the backoff's input); a 2xx resets it. */
  #failuresInRow = 0;
  #nc = new Map<string, number>();
  #closed = false;
  /** Responses we ignore: those of requests that a newer one replaced. */
  #current: SipRequest | undefined;

  constructor(o: RegistrationOptions) {
    this.#o = o;
    this.#expires = o.expires ?? 3600;
    this.callId = generateCallId(o.via().host);
  }

  get state(): RegistrationState {
    return this.#state;
  }

  /** Seconds the registrar granted in its last 2xx. */
  get expires(): number | undefined {
    return this.#granted;
  }

  /** Registers (or refreshes now). */
  register(): void {
    this.#open();
    this.#clearTimer();
    this.#authTries = 0;
    this.#tooBrief = 0;
    this.#set('registering', {});
    this.#send(this.#expires, []);
  }

  /** §10.2.2: removes our binding with `Expires: 0`; ends in `unregistered` on any final. */
  unregister(): void {
    this.#open();
    this.#clearTimer();
    if (this.#state === 'unregistered') return;
    this.#authTries = 0;
    this.#set('unregistering', {});
    this.#send(0, []);
  }

  /** Stops timers and ignores further responses (no request sent). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    this.#current = undefined;
  }

  #send(expires: number, auth: Array<readonly [string, string]>): void {
    const request = createRequest({
      method: 'REGISTER',
      uri: this.#o.registrar,
      from: `<${this.#o.aor}>;tag=${this.#fromTag}`,
      to: `<${this.#o.aor}>`,
      callId: this.callId,
      cseq: this.#cseq++,
      via: { ...this.#o.via(), branch: generateBranch() },
      contact: this.#o.contact(),
      headers: [['Expires', String(expires)], ...auth],
    });
    this.#current = request;
    this.counters.sent++;
    this.#o.send(request, (r) => {
      if (this.#current !== request || this.#closed) return;
      this.#onFinal(request, expires, r);
    });
  }

  #onFinal(request: SipRequest, expires: number, r: SipResponse | undefined): void {
    const unregistering = this.#state === 'unregistering';
    if (r === undefined) {
      this.#fail({ reason: 'timeout' }, unregistering);
      return;
    }
    if (r.status === 401 || r.status === 407) {
      const auth = this.#answer(request, r);
      if (auth) {
        this.counters.challenges++;
        this.#send(expires, [auth]);
      } else this.#fail({ status: r.status, reason: 'auth' }, unregistering);
      return;
    }
    // §10.2.8: "If a UA receives a 423 (Interval Too Brief) response, it MAY retry the
    // registration after making the expiration interval of all contact addresses in the
    // REGISTER request equal to or greater than the expiration interval within the
    // Min-Expires header field of the 423 (Interval Too Brief) response."
    if (r.status === 423 && !unregistering) {
      const min = Number(r.headers.get('min-expires') ?? NaN);
      if (Number.isInteger(min) && min > expires && this.#tooBrief++ < MAX_423) {
        this.counters.intervalTooBrief++;
        this.#expires = min;
        this.#authTries = 0; // a new request: its challenge is answered afresh
        this.#send(min, []);
        return;
      }
    }
    if (r.status >= 300) {
      this.#fail({ status: r.status, reason: 'status' }, unregistering, r);
      return;
    }
    this.#authTries = 0;
    this.#tooBrief = 0;
    this.#failuresInRow = 0;
    if (unregistering) {
      this.#granted = undefined;
      this.#set('unregistered', { status: r.status });
      return;
    }
    // §10.2.4: the 2xx lists the bindings with their expiry; ours is the one of our Contact.
    const granted = this.#grantedBy(r) ?? expires;
    this.#granted = granted;
    this.#set('registered', { status: r.status, expires: granted });
    // Refresh before the binding lapses: at expires − max(5 s, 10 %).
    this.#timer = this.#o.clock.setTimer((this.#o.refreshDelay ?? refreshDelay)(granted), () => {
      this.#timer = undefined;
      this.counters.refreshes++;
      this.register();
    });
  }

  #grantedBy(r: SipResponse): number | undefined {
    const ours = uriKey(parseContactUri(this.#o.contact()));
    const contacts = r.headers.contact().filter((c) => !c.star);
    const mine =
      contacts.find((c) => uriKey(c.uri) === ours) ??
      (contacts.length === 1 ? contacts[0] : undefined);
    const p = mine?.params.get('expires');
    if (typeof p === 'string' && /^\d{1,10}$/.test(p)) return Number(p);
    return r.headers.expires();
  }

  /**
   * §22.2: "the client SHOULD retry the request [...] with credentials"; a second challenge for
   * the same request means the credentials are wrong, unless it says `stale=true` (§22.4: the
   * nonce expired, the credentials were right).
   */
  #answer(request: SipRequest, r: SipResponse): readonly [string, string] | undefined {
    const { password, hash } = this.#o;
    if (password === undefined || hash === undefined) return undefined;
    const challenge = challengeOf(r);
    if (!challenge) return undefined;
    if (this.#authTries >= 1 && !challenge.stale) return undefined;
    if (this.#authTries++ >= MAX_AUTH) return undefined;
    return answerDigest(request, r, {
      username: this.#o.username ?? userOf(this.#o.aor),
      password,
      hash,
      cnonce: this.#o.cnonce?.() ?? generateTag(),
      nc: this.#nc,
    });
  }

  #fail(info: RegistrationInfo, unregistering: boolean, r?: SipResponse): void {
    this.counters.failures++;
    if (unregistering) {
      this.#granted = undefined;
      this.#set('unregistered', info);
      return;
    }
    this.#set('failed', info);
    const retry = Number(r?.headers.get('retry-after')?.match(/^\s*(\d{1,10})/)?.[1] ?? NaN);
    const n = ++this.#failuresInRow;
    const backoff = this.#o.retryDelay?.(n);
    const wait =
      backoff !== undefined
        ? Math.max(backoff, Number.isFinite(retry) ? retry : 0)
        : Number.isFinite(retry)
          ? retry
          : (this.#o.retryAfter ?? 60);
    this.#timer = this.#o.clock.setTimer(Math.max(1, wait) * 1000, () => {
      this.#timer = undefined;
      this.register();
    });
  }

  #set(state: RegistrationState, info: RegistrationInfo): void {
    this.#state = state;
    this.#o.onStateChange?.(state, info);
  }

  #clearTimer(): void {
    if (this.#timer) this.#o.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #open(): void {
    if (this.#closed) throw new TfxError('shutting-down', 'the registration is closed');
  }
}

function challengeOf(r: SipResponse): DigestChallenge | undefined {
  const values = r.headers.getAll(r.status === 407 ? 'proxy-authenticate' : 'www-authenticate');
  const challenges: DigestChallenge[] = [];
  for (const v of values) {
    const p = parseChallenge(v);
    if (p.ok) challenges.push(p.value);
  }
  return pickChallenge(challenges);
}

/**
 * §22.2 / RFC 8760: the Authorization (401) or Proxy-Authorization (407) header answering the
 * first supported challenge of `r` for `request`; `nc` counts uses per nonce. Undefined when no
 * challenge fits.
 */
export function answerDigest(
  request: SipRequest,
  r: SipResponse,
  o: {
    username: string;
    password: string;
    hash: DigestHash;
    cnonce: string;
    nc?: Map<string, number>;
  },
): readonly [string, string] | undefined {
  const challenge = challengeOf(r);
  if (!challenge) return undefined;
  const nc = (o.nc?.get(challenge.nonce) ?? 0) + 1;
  o.nc?.set(challenge.nonce, nc);
  const answered = answerChallenge({
    hash: o.hash,
    challenge,
    method: request.method,
    uri: request.uriText,
    username: o.username,
    password: o.password,
    cnonce: o.cnonce,
    nc,
  });
  if (!answered.ok) return undefined;
  return [
    r.status === 407 ? 'Proxy-Authorization' : 'Authorization',
    serializeCredentials(answered.value),
  ];
}

function userOf(aor: string): string {
  return /^sips?:([^@;>]+)@/.exec(aor)?.[1] ?? aor;
}

function parseContactUri(contact: string): string {
  return /<([^>]+)>/.exec(contact)?.[1] ?? contact;
}

function uriKey(uri: Uri | string): string {
  if (typeof uri === 'string') {
    const m = /^sips?:(?:([^@]+)@)?([^;:?>]+|\[[^\]]+\])(?::(\d+))?/i.exec(uri);
    return m ? `${m[1] ?? ''}@${(m[2] ?? '').toLowerCase()}:${m[3] ?? ''}` : uri;
  }
  if (uri.kind !== 'sip') return '';
  return `${uri.user ?? ''}@${uri.host.toLowerCase()}:${uri.port ?? ''}`;
}
