/**
 * The inner registrar of a zone (`zones[].registrar`): REGISTERs from the zone's phones reach an
 * inner registrar (a PBX, Kamailio, a hosted registrar) through the SBC, leaving through the inner
 * zone with nothing of the public side in them, like OpenSIPS' `mid_registrar` or Kamailio with
 * nathelper + topoh:
 *
 *   phone ──REGISTER──▶ outer zone ─┬─ refresh within half the inner expiry: 200 here (throttled)
 *                                   └─ else: REGISTER from the inner zone (own Call-ID, From tag,
 *                                      CSeq, Via; Contact `sip:<token>@<inner zone address>`)
 *                                      ──▶ inner registrar; its 401/407 and final answer relayed
 *   inner side ──INVITE sip:<token>@inner zone──▶ SBC ──▶ the phone's contact on its flow
 *
 * - Contact rewriting: each phone contact is bound to a random token; the inner registrar stores
 *   `sip:<token>@<inner zone address>:<port>` and calls there reach the phone through the SBC on the
 *   flow its REGISTER came on (RFC 5626 §5.3: "the proxy MUST send the request over the flow").
 * - Authentication is the inner registrar's: its challenge is relayed to the phone (RFC 3261
 *   §22.2: the phone answers it), and the phone's Authorization passes unchanged. Failures (a 403
 *   to a REGISTER with credentials) count toward the zone's authentication bans.
 * - Throttling: the SBC asks the inner registrar for `expires` seconds and grants the phone what
 *   it asked (never past the inner binding). A refresh from the same flow, same Call-ID, a higher
 *   CSeq and the same contacts is answered here until half of the inner expiry has passed; then it
 *   goes to the inner registrar (Kamailio's/OpenSIPS' registration throttling).
 * - A phone that stops refreshing: when its binding expires the SBC removes the inner binding
 *   (REGISTER with `expires=0`, the phone's last credentials replayed), so calls stop going to a
 *   dead phone; a registrar that refuses the replay keeps it until its own expiry (`expires`).
 * - NAT keep-alives (RFC 5626 §4.4; Kamailio nathelper's "SIP ping"): every `keepAliveMs` each
 *   bound flow gets an OPTIONS (`options`, UDP) or a CRLFCRLF (`crlf`; always on TCP/TLS flows,
 *   RFC 5626 §4.4.1), which keeps the phone's NAT binding open for calls toward it.
 * - A registrar that never answers: the phone gets 408 when the SBC's transaction times out
 *   (Timer F), and a registration that never succeeded is forgotten (no stuck state).
 *
 * Ownership: Sbc → RegistrationRelay (per zone) → registrations (timers on one sweep). close() stops
 * the sweep and forgets the bindings (the inner registrar's expire on their own).
 */
import { randomBytes } from 'node:crypto';
import {
  canonicalHost,
  createRequest,
  createResponse,
  formatUri,
  generateCallId,
  generateTag,
  hopOf,
  parseUri,
  silentLogger,
  type Clock,
  type Contact,
  type Gate,
  type Logger,
  type ReceiveContext,
  type SipResponse,
  type SipUri,
  type StackHop,
  type StackRequest,
  type TimerHandle,
  type TransportProtocol,
  type Uri,
} from '@tfx/sip';
import type { ZoneAgent } from './zone.js';

/** `zones[].registrar`: where REGISTERs of the zone go, and how they are relayed. */
export interface InnerRegistrarSpec {
  /** A trunk name (its zone and URI) or a SIP URI (leaving through `zone`). */
  readonly target: string;
  /** For a SIP URI target: the zone REGISTERs leave through (resolved by the SBC). */
  readonly zone?: string;
  /** Seconds asked of the inner registrar (throttling: refreshes until half of it are local). */
  readonly expires: number;
  /** Shortest expiry a phone may ask (RFC 3261 §10.3 step 7: else 423 with Min-Expires). */
  readonly minExpires: number;
  /** NAT keep-alives: `options` (a SIP OPTIONS on UDP flows) or `crlf`; 0 ms = off. */
  readonly keepAlive: { readonly method: 'options' | 'crlf'; readonly intervalMs: number };
  /**
   * How long the inner registrar has to answer before the phone gets 408 (shorter than the
   * phone's own Timer F, 32 s, so the 408 reaches it; RFC 4320 §2 on late 408s). Default 10 s.
   */
  readonly timeoutMs?: number;
}

export const REGISTRATION_DEFAULTS = {
  expires: 600,
  minExpires: 60,
  keepAlive: { method: 'options' as const, intervalMs: 30_000 },
  timeoutMs: 10_000,
};

/** What the relay counts (Prometheus: `tfx_sbc_register_total{zone,outcome}`). */
export interface RegistrationCounters {
  /** Forwarded to the inner registrar. */
  forwarded: number;
  /** Refreshes answered by the SBC (throttled). */
  throttled: number;
  /** 401/407 of the inner registrar relayed to the phone. */
  challenged: number;
  /** 2xx relayed. */
  registered: number;
  /** Other final answers of the inner registrar relayed. */
  refused: number;
  /** The inner registrar did not answer (408 to the phone) or could not be reached. */
  timeouts: number;
  /** Refused here: 423 (too brief), 400 (malformed). */
  rejected: number;
  /** Bindings removed because the phone stopped refreshing. */
  expired: number;
  keepAlives: number;
}

/** One bound contact of a phone. */
interface Bound {
  readonly token: string;
  /** The contact as the phone wrote it (answered back to it, called on inbound calls). */
  readonly phone: SipUri;
  readonly phoneText: string;
  /** What the phone was granted; the binding lives until then. */
  expiresAt: number;
}

/** One registration of a phone: its AOR and Call-ID, and our own REGISTER dialog inward. */
interface Registration {
  readonly key: string;
  readonly aor: string;
  readonly to: SipUri;
  readonly from: SipUri;
  readonly innerCallId: string;
  readonly innerFromTag: string;
  innerCSeq: number;
  /** Highest CSeq seen from the phone. */
  phoneCSeq: number;
  /** The flow to reach the phone (its REGISTER's source / connection). */
  hop: StackHop;
  readonly contacts: Map<string, Bound>;
  /** When the inner registrar last accepted, and for how long (ms); 0 = never yet. */
  innerAt: number;
  innerMs: number;
  /** A REGISTER of ours is on its way. */
  pending: boolean;
  /** The phone's credentials of its last accepted REGISTER (replayed by the unREGISTER). */
  creds: ReadonlyArray<readonly [string, string]>;
  /** Its keys in the relay's indexes (flow, contact addresses). */
  indexed: { hop: string; addrs: string[] } | undefined;
}

export interface RegistrationRelayOptions {
  readonly spec: InnerRegistrarSpec;
  /** The zone the phones register from. */
  readonly outer: ZoneAgent;
  /** The zone REGISTERs leave through, and the inner registrar's URI. */
  readonly inner: ZoneAgent;
  readonly registrar: SipUri;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** The outer zone's authentication bans (a 403 to credentials counts as a failure). */
  readonly authGate?: Gate;
}

/** A binding an inbound call is for: the phone's contact and the flow to it. */
export interface BindingTarget {
  readonly aor: string;
  readonly contact: SipUri;
  readonly hop: StackHop;
}

const MAX_REGISTRATIONS = 100_000;

export class RegistrationRelay {
  readonly counters: RegistrationCounters = {
    forwarded: 0,
    throttled: 0,
    challenged: 0,
    registered: 0,
    refused: 0,
    timeouts: 0,
    rejected: 0,
    expired: 0,
    keepAlives: 0,
  };
  readonly spec: InnerRegistrarSpec;
  readonly #o: RegistrationRelayOptions;
  readonly #log: Logger;
  readonly #regs = new Map<string, Registration>();
  readonly #byToken = new Map<string, { reg: Registration; bound: Bound }>();
  /** Registrations by flow, and by the address of their phone contacts. */
  readonly #byHop = new Map<string, Set<Registration>>();
  readonly #byAddr = new Map<string, Registration>();
  #sweep: TimerHandle | undefined;
  #closed = false;

  constructor(o: RegistrationRelayOptions) {
    this.#o = o;
    this.spec = o.spec;
    this.#log = o.logger ?? silentLogger;
    this.#arm();
  }

  get outerZone(): string {
    return this.#o.outer.name;
  }

  get innerZone(): string {
    return this.#o.inner.name;
  }

  /** Live bindings (contacts), for metrics and tests. */
  get bindingCount(): number {
    return this.#byToken.size;
  }

  /** The registrations as the SBC's status shows them (no tokens). */
  bindings(): Array<{ aor: string; contact: string; expiresAt: number; transport: string }> {
    const out: Array<{ aor: string; contact: string; expiresAt: number; transport: string }> = [];
    for (const r of this.#regs.values()) {
      for (const b of r.contacts.values())
        out.push({
          aor: r.aor,
          contact: b.phoneText,
          expiresAt: b.expiresAt,
          transport: r.hop.transport,
        });
    }
    return out;
  }

  // --- REGISTER from the phone --------------------------------------------------------------------

  /** RFC 3261 §10.3 as a relay: answered here (throttled, 423, 400) or forwarded inward. */
  onRegister(incoming: StackRequest): void {
    const { request, ctx } = incoming;
    const respond = (status: number, headers: ReadonlyArray<readonly [string, string]> = []) =>
      this.#respond(incoming, status, headers);
    if (this.#closed) return respond(503);
    const to = request.headers.to();
    const from = request.headers.from();
    const callId = request.headers.callId();
    const cseq = request.headers.cseq()?.seq;
    if (!to || to.uri.kind !== 'sip' || !from || from.uri.kind !== 'sip' || !callId || !cseq) {
      this.counters.rejected++;
      return respond(400);
    }
    const now = this.#o.clock.now();
    const contacts = request.headers.contact();
    const headerExpires = request.headers.expires();
    const star = contacts.some((c) => c.star);
    // §10.3 step 6: "*" only with Expires: 0 and alone.
    if (star && (contacts.length !== 1 || headerExpires !== 0)) {
      this.counters.rejected++;
      return respond(400);
    }
    const asked = new Map<string, { uri: SipUri; expires: number }>();
    for (const c of contacts as Array<Exclude<Contact, { star: true }>>) {
      if (c.star) continue;
      if (c.uri.kind !== 'sip') {
        this.counters.rejected++;
        return respond(400);
      }
      // §10.2.1.1: the contact's expires, else the Expires header, else 3600.
      const expires = c.expires ?? headerExpires ?? 3600;
      // §10.3 step 7: "If the [...] expiration interval [...] is less than the minimum [...], the
      // registrar MAY reject the registration with a response of 423 (Interval Too Brief)".
      if (expires > 0 && expires < this.spec.minExpires) {
        this.counters.rejected++;
        return respond(423, [['Min-Expires', String(this.spec.minExpires)]]);
      }
      asked.set(formatUri(c.uri), { uri: c.uri, expires });
    }
    const aor = formatUri(bare(to.uri));
    const key = `${aor}\n${callId}`;
    let reg = this.#regs.get(key);
    const hop = this.#hopOf(ctx);
    if (reg && this.#throttle(reg, asked, hop, cseq, now)) {
      reg.phoneCSeq = cseq;
      const lines: Array<readonly [string, string]> = [];
      for (const [text, a] of asked) {
        const b = reg.contacts.get(text) as Bound;
        const grant = Math.min(a.expires, Math.floor((reg.innerAt + reg.innerMs - now) / 1000));
        b.expiresAt = now + grant * 1000;
        lines.push(['Contact', `<${text}>;expires=${grant}`]);
      }
      this.counters.throttled++;
      return respond(200, lines);
    }
    if (!reg) {
      if (this.#regs.size >= MAX_REGISTRATIONS) return respond(503, [['Retry-After', '60']]);
      reg = {
        key,
        aor,
        to: bare(to.uri),
        from: bare(from.uri),
        innerCallId: generateCallId(),
        innerFromTag: generateTag(),
        innerCSeq: 0,
        phoneCSeq: 0,
        hop,
        contacts: new Map(),
        innerAt: 0,
        innerMs: 0,
        pending: false,
        creds: [],
        indexed: undefined,
      };
      this.#regs.set(key, reg);
    } else if (cseq <= reg.phoneCSeq && sameHop(reg.hop, hop)) {
      // §10.3 step 7: an old CSeq on the same Call-ID does not change anything.
      this.counters.rejected++;
      return respond(500, [['Retry-After', '1']]);
    }
    // The flow and CSeq of the registration change only once the inner registrar accepted the
    // request (its credentials): a forged refresh from elsewhere moves nothing (#answer).
    this.#forward(reg, incoming, star, asked, { hop, cseq });
  }

  /** A refresh the SBC answers itself: nothing changes but the time, within half the inner life. */
  #throttle(
    reg: Registration,
    asked: Map<string, { uri: SipUri; expires: number }>,
    hop: StackHop,
    cseq: number,
    now: number,
  ): boolean {
    if (reg.pending || reg.innerAt === 0 || cseq <= reg.phoneCSeq) return false;
    if (now >= reg.innerAt + reg.innerMs / 2) return false;
    if (!sameHop(reg.hop, hop)) return false; // a new flow: the inner registrar checks it again
    if (asked.size === 0 || asked.size !== reg.contacts.size) return false;
    for (const [text, a] of asked) if (a.expires === 0 || !reg.contacts.has(text)) return false;
    return true;
  }

  /** Our REGISTER toward the inner registrar (§10.2: one Call-ID per registration, CSeq up). */
  #forward(
    reg: Registration,
    incoming: StackRequest,
    star: boolean,
    asked: Map<string, { uri: SipUri; expires: number }>,
    from: { readonly hop: StackHop; readonly cseq: number },
  ): void {
    const { request } = incoming;
    const inner = this.#o.inner;
    const registrar = this.#o.registrar;
    const hop = hopOf(registrar);
    const sentBy = hop && inner.stack.sentBy(hop.transport);
    if (!hop || !sentBy) {
      this.counters.timeouts++;
      this.#forgetIfNew(reg);
      return this.#respond(incoming, 503);
    }
    const transport = hop.transport;
    const host = sentBy.host.includes(':') ? `[${sentBy.host}]` : sentBy.host;
    const tparam = transport === 'udp' ? '' : `;transport=${transport}`;
    const contactLines: Array<readonly [string, string]> = [];
    const tokens = new Map<string, Bound>();
    if (star) contactLines.push(['Contact', '*']);
    for (const [text, a] of asked) {
      let b = reg.contacts.get(text);
      if (!b) b = { token: newToken(), phone: a.uri, phoneText: text, expiresAt: 0 };
      tokens.set(text, b);
      const expires = a.expires === 0 ? 0 : this.spec.expires;
      contactLines.push([
        'Contact',
        `<sip:${b.token}@${host}:${sentBy.port}${tparam}>;expires=${expires}`,
      ]);
    }
    const creds: Array<readonly [string, string]> = [];
    for (const name of ['Authorization', 'Proxy-Authorization'])
      for (const v of request.headers.getAll(name)) creds.push([name, v]);
    reg.innerCSeq++;
    reg.pending = true;
    const req = createRequest({
      method: 'REGISTER',
      uri: this.#inward(request.uri),
      from: `<${formatUri(this.#inward(reg.from))}>;tag=${reg.innerFromTag}`,
      to: `<${formatUri(this.#inward(reg.to))}>`,
      callId: reg.innerCallId,
      cseq: reg.innerCSeq,
      via: { transport: transport.toUpperCase(), host: sentBy.host, port: sentBy.port },
      headers: [...contactLines, ...(star ? [['Expires', '0'] as const] : []), ...creds],
    });
    this.counters.forwarded++;
    let done = false;
    const timer = this.#o.clock.setTimer(
      this.spec.timeoutMs ?? REGISTRATION_DEFAULTS.timeoutMs,
      () => finish(undefined),
    );
    const finish = (r: SipResponse | undefined): void => {
      if (done) return;
      done = true;
      this.#o.clock.clearTimer(timer);
      reg.pending = false;
      if (this.#closed) return;
      if (!r) {
        // The inner registrar never answered (Timer F) or could not be reached: 408 (§10.2.1).
        this.counters.timeouts++;
        this.#log.info({ zone: this.outerZone, aor: reg.aor }, 'sbc: inner registrar timeout');
        this.#forgetIfNew(reg);
        this.#respond(incoming, 408);
        return;
      }
      if (r.status < 300) {
        reg.creds = creds;
        reg.hop = from.hop;
        reg.phoneCSeq = Math.max(reg.phoneCSeq, from.cseq);
      }
      this.#answer(reg, incoming, r, tokens, asked, star);
    };
    try {
      inner.stack.sendRequest(req, hop, {
        onResponse: (r) => {
          if (r.status >= 200) finish(r);
        },
        onError: () => finish(undefined),
        onTerminated: () => finish(undefined),
      });
    } catch (err) {
      this.#log.warn({ zone: this.outerZone, err }, 'sbc: REGISTER could not be sent inward');
      finish(undefined);
    }
  }

  /** The inner registrar's final answer, relayed to the phone with the phone's own contacts. */
  #answer(
    reg: Registration,
    incoming: StackRequest,
    r: SipResponse,
    tokens: Map<string, Bound>,
    asked: Map<string, { uri: SipUri; expires: number }>,
    star: boolean,
  ): void {
    const now = this.#o.clock.now();
    if (r.status === 401 || r.status === 407) {
      // §22.2/§22.3: the phone answers the inner registrar's challenge itself.
      this.counters.challenged++;
      const name = r.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
      this.#forgetIfNew(reg);
      this.#respond(
        incoming,
        r.status,
        r.headers.getAll(name).map((v) => [name, v] as const),
      );
      return;
    }
    if (r.status >= 300) {
      this.counters.refused++;
      const auth = incoming.request.headers.get('authorization');
      if (r.status === 403 && auth !== undefined) {
        const user = /username\s*=\s*"([^"]*)"/i.exec(auth)?.[1];
        this.#o.authGate?.recordFailure(incoming.ctx.remote.address, user, now);
      }
      this.#forgetIfNew(reg);
      const extra: Array<readonly [string, string]> = [];
      const min = r.headers.get('min-expires');
      if (r.status === 423 && min !== undefined) extra.push(['Min-Expires', min]);
      // A 3xx names inner contacts: not for the public side (480).
      this.#respond(incoming, r.status < 400 ? 480 : r.status, extra);
      return;
    }
    this.counters.registered++;
    // §10.3 step 8: the 200 lists every current binding with its expiry; ours are the tokens.
    const granted = new Map<string, number>();
    const header = r.headers.expires();
    for (const c of r.headers.contact()) {
      if (c.star || c.uri.kind !== 'sip' || c.uri.user === undefined) continue;
      const e = c.expires ?? header;
      if (e !== undefined) granted.set(c.uri.user, e);
    }
    if (star) for (const b of [...reg.contacts.values()]) this.#unbind(reg, b);
    for (const [text, b] of tokens) {
      const a = asked.get(text) as { expires: number };
      const g = granted.get(b.token);
      if (a.expires === 0 || g === undefined || g === 0) {
        this.#unbind(reg, b);
        continue;
      }
      reg.contacts.set(text, b);
      this.#byToken.set(b.token, { reg, bound: b });
      b.expiresAt = now + Math.min(a.expires, g) * 1000;
    }
    // Other bindings of ours the registrar no longer lists are gone there too.
    for (const b of [...reg.contacts.values()])
      if (!granted.has(b.token) || granted.get(b.token) === 0) this.#unbind(reg, b);
    let innerMs = Infinity;
    for (const b of reg.contacts.values())
      innerMs = Math.min(innerMs, (granted.get(b.token) ?? 0) * 1000);
    reg.innerAt = now;
    reg.innerMs = Number.isFinite(innerMs) ? innerMs : 0;
    const lines: Array<readonly [string, string]> = [];
    for (const b of reg.contacts.values())
      lines.push([
        'Contact',
        `<${b.phoneText}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`,
      ]);
    if (reg.contacts.size === 0) this.#regs.delete(reg.key);
    this.#reindex(reg);
    this.#respond(incoming, 200, lines);
  }

  // --- calls toward the phones ----------------------------------------------------------------------

  /** An INVITE of the inner zone to `sip:<token>@…`: the phone's contact and flow, if bound. */
  target(uri: Uri): BindingTarget | undefined {
    if (uri.kind !== 'sip' || uri.user === undefined) return undefined;
    const hit = this.#byToken.get(uri.user);
    if (!hit || hit.bound.expiresAt <= this.#o.clock.now()) return undefined;
    const { reg, bound } = hit;
    let contact = bound.phone;
    // The flow's transport decides the dialog layer the INVITE leaves on.
    if (reg.hop.transport !== 'udp' && !contact.params.has('transport')) {
      const params = new Map(contact.params);
      params.set('transport', reg.hop.transport);
      contact = { ...contact, params };
    }
    return { aor: reg.aor, contact, hop: reg.hop };
  }

  /** The flow to a bound contact's address (requests to it go there, RFC 5626 §5.3). */
  hopFor(uri: Uri): StackHop | undefined {
    if (uri.kind !== 'sip' || this.#byAddr.size === 0) return undefined;
    return this.#byAddr.get(addrKey(uri))?.hop;
  }

  /** Whether a request came on the flow of a live binding (a registered phone). */
  fromBinding(ctx: ReceiveContext): boolean {
    const regs = this.#byHop.get(hopKey(this.#hopOf(ctx), false));
    if (!regs) return false;
    const now = this.#o.clock.now();
    for (const reg of regs)
      for (const b of reg.contacts.values()) if (b.expiresAt > now) return true;
    return false;
  }

  /** Keeps the flow and address indexes of a registration current (after any change). */
  #reindex(reg: Registration): void {
    const old = reg.indexed;
    if (old) {
      const set = this.#byHop.get(old.hop);
      set?.delete(reg);
      if (set?.size === 0) this.#byHop.delete(old.hop);
      for (const a of old.addrs) if (this.#byAddr.get(a) === reg) this.#byAddr.delete(a);
      reg.indexed = undefined;
    }
    if (reg.contacts.size === 0 || this.#regs.get(reg.key) !== reg) return;
    const hop = hopKey(reg.hop, false);
    let set = this.#byHop.get(hop);
    if (!set) this.#byHop.set(hop, (set = new Set()));
    set.add(reg);
    const addrs = [...reg.contacts.values()].map((b) => addrKey(b.phone));
    for (const a of addrs) this.#byAddr.set(a, reg);
    reg.indexed = { hop, addrs };
  }

  // --- timers: expiry and keep-alives ---------------------------------------------------------------

  #arm(): void {
    if (this.#closed) return;
    const ka = this.spec.keepAlive.intervalMs;
    const every = ka > 0 ? Math.min(ka, 5000) : 5000;
    let sinceKeepAlive = 0;
    const tick = (): void => {
      if (this.#closed) return;
      sinceKeepAlive += every;
      this.#expire();
      if (ka > 0 && sinceKeepAlive >= ka) {
        sinceKeepAlive = 0;
        this.#keepAlive();
      }
      this.#sweep = this.#o.clock.setTimer(every, tick);
    };
    this.#sweep = this.#o.clock.setTimer(every, tick);
  }

  /** Bindings the phone stopped refreshing: removed here and at the inner registrar. */
  #expire(): void {
    const now = this.#o.clock.now();
    for (const reg of [...this.#regs.values()]) {
      if (reg.pending) continue;
      const dead = [...reg.contacts.values()].filter((b) => b.expiresAt <= now);
      if (dead.length === 0) continue;
      this.counters.expired += dead.length;
      this.#log.info(
        { zone: this.outerZone, aor: reg.aor, n: dead.length },
        'sbc: binding expired',
      );
      this.#unregister(reg, dead);
      for (const b of dead) this.#unbind(reg, b);
      if (reg.contacts.size === 0) this.#regs.delete(reg.key);
      this.#reindex(reg);
    }
  }

  /** A REGISTER with `expires=0` for the given contacts (fire and forget). */
  #unregister(reg: Registration, dead: readonly Bound[]): void {
    const hop = hopOf(this.#o.registrar);
    const sentBy = hop && this.#o.inner.stack.sentBy(hop.transport);
    if (!hop || !sentBy) return;
    const tparam = hop.transport === 'udp' ? '' : `;transport=${hop.transport}`;
    const host = sentBy.host.includes(':') ? `[${sentBy.host}]` : sentBy.host;
    reg.innerCSeq++;
    const req = createRequest({
      method: 'REGISTER',
      uri: this.#o.registrar,
      from: `<${formatUri(this.#inward(reg.from))}>;tag=${reg.innerFromTag}`,
      to: `<${formatUri(this.#inward(reg.to))}>`,
      callId: reg.innerCallId,
      cseq: reg.innerCSeq,
      via: { transport: hop.transport.toUpperCase(), host: sentBy.host, port: sentBy.port },
      // The phone's last accepted credentials, replayed: a registrar that accepts a nonce more
      // than once (no qop, no one-time nonces: Kamailio's default) takes it; else its 401 leaves
      // the binding to expire there on its own (`expires`).
      headers: [
        ...dead.map(
          (b) => ['Contact', `<sip:${b.token}@${host}:${sentBy.port}${tparam}>;expires=0`] as const,
        ),
        ...reg.creds,
      ],
    });
    try {
      this.#o.inner.stack.sendRequest(req, hop, { onResponse: () => undefined });
    } catch (err) {
      this.#log.debug({ zone: this.outerZone, err }, 'sbc: unREGISTER could not be sent');
    }
  }

  /**
   * RFC 5626 §4.4.1: keep-alives keep the phone's NAT binding (and connection) open. UDP flows get
   * an OPTIONS (nathelper's "SIP ping", answered by the phone) or a CRLFCRLF; connection flows a
   * CRLFCRLF (§3.5.1: "the double-CRLF ping").
   */
  #keepAlive(): void {
    const outer = this.#o.outer;
    const transport = outer.stack.transport;
    if (!transport) return;
    const ping = new TextEncoder().encode('\r\n\r\n');
    const seen = new Set<string>();
    for (const reg of this.#regs.values()) {
      const first = reg.contacts.values().next().value;
      if (!first) continue;
      const k = hopKey(reg.hop);
      if (seen.has(k)) continue;
      seen.add(k);
      this.counters.keepAlives++;
      const udp = reg.hop.transport === 'udp';
      if (udp && this.spec.keepAlive.method === 'options') {
        const sentBy = outer.stack.sentBy('udp');
        if (!sentBy) continue;
        const host = sentBy.host.includes(':') ? `[${sentBy.host}]` : sentBy.host;
        const req = createRequest({
          method: 'OPTIONS',
          uri: first.phone,
          from: `<sip:sbc@${host}>;tag=${generateTag()}`,
          to: `<${formatUri(bare(first.phone))}>`,
          via: { transport: 'UDP', host: sentBy.host, port: sentBy.port },
          maxForwards: 1,
        });
        outer.stack.forward(req, reg.hop).catch(() => undefined);
      } else {
        const target =
          reg.hop.flowToken !== undefined
            ? { flowToken: reg.hop.flowToken }
            : {
                transport: reg.hop.transport,
                address: reg.hop.remote.address,
                port: reg.hop.remote.port,
              };
        transport.send(ping, target).catch(() => undefined);
      }
    }
  }

  /** Stops the sweep and forgets every binding (the inner registrar's expire on their own). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweep) this.#o.clock.clearTimer(this.#sweep);
    this.#regs.clear();
    this.#byToken.clear();
    this.#byHop.clear();
    this.#byAddr.clear();
  }

  // --- helpers ------------------------------------------------------------------------------------

  #unbind(reg: Registration, b: Bound): void {
    reg.contacts.delete(b.phoneText);
    this.#byToken.delete(b.token);
  }

  #forgetIfNew(reg: Registration): void {
    if (reg.innerAt === 0 && reg.contacts.size === 0) this.#regs.delete(reg.key);
  }

  /** A URI naming the SBC's outer zone (its own address) names the inner registrar instead. */
  #inward(uri: Uri): SipUri {
    const u = uri.kind === 'sip' ? bare(uri) : bare(this.#o.registrar);
    if (this.#o.outer.stack.isUs(u, false)) {
      const r = this.#o.registrar;
      return {
        ...u,
        host: r.host,
        hostKind: r.hostKind,
        ...(r.port !== undefined ? { port: r.port } : { port: undefined }),
      } as SipUri;
    }
    return u;
  }

  #hopOf(ctx: ReceiveContext): StackHop {
    const flowToken = ctx.transport !== 'udp' ? this.#o.outer.stack.flowTokenFor(ctx) : undefined;
    return {
      transport: ctx.transport as TransportProtocol,
      remote: { address: ctx.remote.address, port: ctx.remote.port },
      ...(flowToken !== undefined && { flowToken }),
    };
  }

  #respond(
    incoming: StackRequest,
    status: number,
    headers: ReadonlyArray<readonly [string, string]> = [],
  ): void {
    const response = createResponse(incoming.request, status, undefined, { headers });
    const tx = incoming.transaction;
    if (tx && !tx.terminated) tx.respond(response);
    else this.#o.outer.stack.respond(response, incoming.ctx).catch(() => undefined);
  }
}

/** scheme, user, host and port: no parameters or headers (an AOR, a To URI). */
function bare(u: SipUri): SipUri {
  return { ...u, params: new Map(), headers: [] };
}

function newToken(): string {
  return `r${randomBytes(9).toString('hex')}`;
}

function hopKey(h: StackHop, withFlow = true): string {
  const flow = withFlow ? `|${h.flowToken ?? ''}` : '';
  return `${h.transport}|${canonicalHost(h.remote.address)}|${h.remote.port}${flow}`;
}

/** A contact's address: host and port (a request to it goes on its phone's flow). */
function addrKey(u: SipUri): string {
  return `${canonicalHost(u.host)}|${u.port ?? ''}`;
}

function sameHop(a: StackHop, b: StackHop): boolean {
  return (
    a.transport === b.transport &&
    canonicalHost(a.remote.address) === canonicalHost(b.remote.address) &&
    a.remote.port === b.remote.port
  );
}

/**
 * Where a zone's REGISTERs go: a trunk (its zone and URI), or a SIP URI leaving through
 * `spec.zone`, else the first trusted zone that is not this one. Throws a TypeError naming the key.
 */
export function resolveRegistrar(
  zone: { readonly name: string; readonly registrar?: InnerRegistrarSpec },
  zones: ReadonlyArray<{ readonly name: string; readonly trusted: boolean }>,
  trunks: ReadonlyArray<{ readonly name: string; readonly zone: string; readonly uri: string }>,
): { zone: string; uri: SipUri } {
  const spec = zone.registrar as InnerRegistrarSpec;
  const key = `sbc.zones.${zone.name}.registrar`;
  const trunk = trunks.find((t) => t.name === spec.target);
  const text = trunk ? trunk.uri : spec.target;
  const r = parseUri(text);
  if (!r.ok || r.value.kind !== 'sip')
    throw new TypeError(`${key}: ${spec.target} is neither a trunk nor a SIP URI`);
  const via =
    trunk?.zone ?? spec.zone ?? zones.find((z) => z.trusted && z.name !== zone.name)?.name;
  if (via === undefined || !zones.some((z) => z.name === via))
    throw new TypeError(`${key}: no zone to reach ${spec.target} through (name a trunk)`);
  if (via === zone.name)
    throw new TypeError(`${key}: the inner registrar must be reached through another zone`);
  if (!hopOf(r.value)) throw new TypeError(`${key}: ${spec.target} names no transport`);
  return { zone: via, uri: r.value };
}
