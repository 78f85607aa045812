/**
 * The routing policy of the SIP server, read top to bottom like Kamailio's kamailio.cfg:
 *
 *   request ─▶ reqInit ─▶ withinDialog ─▶ auth ─▶ registrar ─▶ location ─▶ relay
 *                 │            │             │         │            │
 *               483/482/    in-dialog:    401/407/   REGISTER:    404 / local
 *               420 …       Route → relay  403        200/423…    OPTIONS 200
 *
 *   response from a branch ─▶ onReply          every branch of a group failed ─▶ onFailure
 *                                               (next located server, 3xx recursion, next
 *                                                q-group, or pass up)
 *
 * A next hop named by a host name (a trunk, another domain) is located by RFC 3263 (NAPTR, SRV,
 * A/AAAA): the first target gets the request; on a 503, a timeout or a transport failure the
 * next one does (§4.3). No target at all: 478 Unresolvable Destination.
 *
 * Each stage answers (`DONE`) or lets the request go on (`NEXT`). Before the pipeline, the
 * SIP stack's gate drops requests over the per-source rate and refuses banned sources. The
 * mechanics (copies, Via, Record-Route, branches, CANCEL, §16.7) are the proxy core's
 * (@tfx/sip `proxy/`); this file is the policy.
 */
import {
  DONE,
  NEXT,
  Route,
  canonicalHost,
  hasLooped,
  hopOf,
  isSipUri,
  parseCredentials,
  parseUri,
  type Branch,
  type Final,
  type Gate,
  type Hop,
  type ProxyCore,
  type ProxyRequest,
  type ResponseContext,
  type SipStack,
  type SipRequest,
  type SipResponse,
  type Target,
  type Verdict,
  type DigestServer,
  type DigestVerdict,
  type SipUri,
} from '@tfx/sip';
import { isIP } from 'node:net';
import type { LocationStore } from './location.js';
import type { Registrar } from './registrar.js';
import type { SipMetrics } from './metrics.js';
import type { SipUsers } from './users.js';

/** One request on its way through the pipeline. Stages read and change it. */
export interface RequestContext extends ProxyRequest {
  readonly now: number;
  /** Flow tokens found in our Route entries (in-dialog requests toward a WS/TCP client). */
  readonly flowTokens: string[];
  /** Set by the auth stage. */
  authUser: string | undefined;
}

/**
 * What the pipeline uses of its SIP stack: which URIs are us (`isUs`), flows, RFC 3263
 * (`locate`). A `SipStack`, or in unit tests a stand-in on the in-memory network.
 */
export type PipelineStack = Pick<
  SipStack,
  'isUs' | 'flowTokenFor' | 'resolveFlowToken' | 'flowOpen' | 'locate'
>;

export interface PipelineDeps {
  readonly core: ProxyCore;
  readonly stack: PipelineStack;
  readonly registrar: Registrar;
  readonly location: LocationStore;
  readonly users: SipUsers;
  readonly guard: Gate;
  readonly metrics: SipMetrics;
  readonly registrarAuth: DigestServer;
  readonly proxyAuth: DigestServer;
  readonly domain: string;
  readonly recurse3xx: boolean;
}

/** Methods that establish dialogs, so the proxy stays on the path (Record-Route, §16.6 step 4). */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'NOTIFY']);
const ALLOW =
  'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, INFO, UPDATE, PRACK, SUBSCRIBE, NOTIFY, REFER';

export class Pipeline {
  /** The request route: these stages, in this order (the policy in one list). */
  readonly route: Route<RequestContext>;

  constructor(private readonly d: PipelineDeps) {
    this.route = new Route<RequestContext>([
      ['reqInit', (rc) => this.reqInit(rc)],
      ['withinDialog', (rc) => this.withinDialog(rc)],
      ['auth', (rc) => this.auth(rc)],
      ['registrar', (rc) => this.registrarStage(rc)],
      ['location', (rc) => this.location(rc)],
      ['relay', (rc) => this.relay(rc)],
    ]);
  }

  /**
   * Requests answered without a server transaction, as Kamailio answers them with `sl`: OPTIONS
   * to the server itself (keep-alives, probes), which the location stage answers 200. The route
   * is the same; only no transaction is made, none lingers 32 s, and a retransmission is
   * answered again (with the same To tag, §8.2.7).
   */
  statelessly(request: SipRequest): boolean {
    if (request.method !== 'OPTIONS') return false;
    const uri = request.uri;
    const h = request.headers;
    return (
      isSipUri(uri) &&
      uri.user === undefined &&
      this.#isOurDomain(uri) &&
      h.to()?.tag === undefined &&
      !h.has('route') &&
      !h.has('proxy-require')
    );
  }

  /** Runs the route until a stage answers. Synchronous stages cost no promise. */
  run(rc: RequestContext): void | Promise<void> {
    return this.route.run(rc);
  }

  // --- stage 1 ---------------------------------------------------------------------------------

  /** Sanity of a request the proxy is about to handle (§16.3) and CANCEL. */
  reqInit(rc: RequestContext): Verdict {
    const { request } = rc;
    this.d.metrics.request(request.method);
    // §16.3 step 3: "If the request contains a Max-Forwards header field with a field value of
    // zero (0), the element MUST NOT forward the request [...] the element MUST return a 483
    // (Too many hops) response."
    const mf = request.headers.maxForwards();
    if (mf === 0 && !(request.method === 'OPTIONS' && this.#toUs(rc))) {
      this.d.core.reply(rc, 483);
      return DONE;
    }
    // §16.6 step 3: "If the copy contains a Max-Forwards header field, the proxy MUST decrement
    // its value by one (1). If the copy does not contain a Max-Forwards header field, the proxy
    // MUST add one with a field value, which SHOULD be 70."
    request.headers.set('Max-Forwards', String(mf === undefined ? 70 : Math.max(0, mf - 1)));
    // §16.3 step 4 (loop detection); a looped request gets 482 (Loop Detected).
    if (request.method !== 'ACK' && request.method !== 'CANCEL' && hasLooped(request)) {
      this.d.core.reply(rc, 482);
      return DONE;
    }
    // §16.3 step 5: "If the request contains a Proxy-Require header field [...] with one or more
    // option-tags this element does not understand, the element MUST return a 420".
    const proxyRequire = request.headers.getAll('proxy-require');
    if (proxyRequire.length > 0 && request.method !== 'ACK' && request.method !== 'CANCEL') {
      this.d.core.reply(rc, 420, undefined, [['Unsupported', proxyRequire.join(', ')]]);
      return DONE;
    }
    // §16.10: CANCEL is hop-by-hop: answered here, the branches cancelled by the context.
    if (request.method === 'CANCEL') {
      this.d.core.cancel(rc);
      return DONE;
    }
    return NEXT;
  }

  // --- stage 2 ---------------------------------------------------------------------------------

  /** §16.4: loose routing; in-dialog requests follow their Route set. */
  withinDialog(rc: RequestContext): Verdict | Promise<Verdict> {
    const { request } = rc;
    // §16.4: "If the first value in the Route header field indicates this proxy, the proxy
    // MUST remove that value from the request." (Both of a double Record-Route.)
    let routedByUs = false;
    for (;;) {
      const top = request.headers.route()[0];
      if (!top || !isSipUri(top.uri) || !this.d.stack.isUs(top.uri, true)) break;
      if (top.uri.user !== undefined) rc.flowTokens.push(top.uri.user);
      request.headers.shift('route');
      routedByUs = true;
    }
    const inDialog = request.headers.to()?.tag !== undefined;
    if (!inDialog) return NEXT;
    const hop = routedByUs ? this.#nextHop(rc) : undefined;
    if (!hop) {
      // An in-dialog request that did not come through our Record-Route: we are not on that
      // dialog's path, and relaying it would make us an open relay (ACKs are dropped).
      this.d.core.reply(rc, 404);
      return DONE;
    }
    if (!rc.tx) {
      if (this.d.core.forwardStateless(rc, hop)) this.d.metrics.forwarded.labels('stateless').inc();
      return DONE;
    }
    return this.#relayLocated(rc, hop);
  }

  // --- stage 3 ---------------------------------------------------------------------------------

  /** Digest authentication: 401 for REGISTER, 407 for calls from our domain, no open relay. */
  auth(rc: RequestContext): Verdict | Promise<Verdict> {
    const { request } = rc;
    if (request.method === 'ACK') return NEXT;
    if (request.method === 'REGISTER') {
      // §10.3 step 1: "The registrar inspects the Request-URI to determine whether it has
      // access to bindings for the domain identified in the Request-URI." A domain is a host:
      // ours on any port is ours (so a scanner aimed at a non-default port meets the digest).
      const ruri = request.uri;
      if (
        !isSipUri(ruri) ||
        !(
          canonicalHost(ruri.host) === canonicalHost(this.d.domain) ||
          this.d.stack.isUs(ruri, false)
        )
      ) {
        this.d.core.reply(rc, 403, 'Not Our Domain');
        return DONE;
      }
      // With no users at all, nobody can register (and no challenge tells a scanner anything).
      if (this.d.users.size === 0) {
        this.d.core.reply(rc, 403);
        return DONE;
      }
      return this.#authRegister(rc);
    }
    const from = request.headers.from()?.uri;
    const fromUs = from !== undefined && isSipUri(from) && this.#isOurDomain(from);
    const toUs = this.#toUs(rc, false);
    if (fromUs && (request.method === 'INVITE' || !toUs)) return this.#authProxy(rc, from.user);
    // No open relay: a foreign destination needs an authenticated user of ours.
    if (!toUs) {
      this.d.core.reply(rc, 403, 'Relaying Denied');
      return DONE;
    }
    return NEXT;
  }

  async #authRegister(rc: RequestContext): Promise<Verdict> {
    const user = await this.#authenticate(rc, this.d.registrarAuth, 'authorization');
    if (user === undefined) return DONE;
    // §10.3 step 4: the authenticated user must be allowed to change this AOR (its own).
    const to = rc.request.headers.to()?.uri;
    if (!to || !isSipUri(to) || to.user !== user) {
      this.d.core.reply(rc, 403, 'Not Your Address');
      return DONE;
    }
    return NEXT;
  }

  async #authProxy(rc: RequestContext, fromUser: string | undefined): Promise<Verdict> {
    const user = await this.#authenticate(rc, this.d.proxyAuth, 'proxy-authorization');
    if (user === undefined) return DONE;
    if (fromUser !== user) {
      this.d.core.reply(rc, 403, 'From Does Not Match Credentials');
      return DONE;
    }
    return NEXT;
  }

  // --- stage 4 ---------------------------------------------------------------------------------

  // The stages answer synchronously when they have nothing to wait for: a stage that returns a
  // promise costs the route a promise and a microtask per request (issue #14).
  registrarStage(rc: RequestContext): Verdict | Promise<Verdict> {
    return rc.request.method === 'REGISTER' ? this.#register(rc) : NEXT;
  }

  async #register(rc: RequestContext): Promise<Verdict> {
    const { request } = rc;
    const to = request.headers.to()?.uri;
    if (!to || !isSipUri(to) || to.user === undefined) {
      this.d.core.reply(rc, 400, 'Bad To');
      return DONE;
    }
    const transport = rc.ctx.transport;
    const outcome = await this.d.registrar.register({
      request,
      aor: this.aor(to.user),
      transport,
      source: rc.ctx.remote,
      flowToken: this.d.stack.flowTokenFor(rc.ctx),
      now: rc.now,
    });
    this.d.core.reply(rc, outcome.status, outcome.reason, outcome.headers);
    return DONE;
  }

  // --- stage 5 ---------------------------------------------------------------------------------

  /** Requests for our domain: local answers (OPTIONS to the server) or a location lookup. */
  location(rc: RequestContext): Verdict | Promise<Verdict> {
    const { request } = rc;
    const uri = request.uri;
    if (!isSipUri(uri) || !this.#isOurDomain(uri)) return NEXT;
    if (request.headers.route().length > 0) return NEXT;
    if (uri.user === undefined) {
      if (request.method === 'OPTIONS') {
        this.d.core.reply(rc, 200, undefined, [
          ['Allow', ALLOW],
          ['Accept', 'application/sdp'],
        ]);
      } else if (request.method !== 'ACK') this.d.core.reply(rc, 404);
      return DONE;
    }
    if (request.method === 'ACK') return DONE;
    return this.#locate(rc, uri.user);
  }

  async #locate(rc: RequestContext, user: string): Promise<Verdict> {
    const { request } = rc;
    // Unknown users and known users with no contact get the same 404 (no enumeration).
    const bindings = await this.d.location.lookup(this.aor(user), rc.now);
    const targets: Target[] = [];
    for (const b of bindings) {
      const t = this.#targetOf(b.uri, b.flowToken, b.q, b.received);
      if (t) targets.push(t);
    }
    if (targets.length === 0) {
      this.d.core.reply(rc, 404);
      return DONE;
    }
    rc.recordRoute = DIALOG_CREATING.has(request.method);
    this.d.core.relay(rc, targets);
    return DONE;
  }

  // --- stage 6 ---------------------------------------------------------------------------------

  /** Anything left goes where its Route or Request-URI says (authenticated users only). */
  relay(rc: RequestContext): Verdict | Promise<Verdict> {
    const hop = this.#nextHop(rc);
    if (!hop) {
      this.d.core.reply(rc, 416);
      return DONE;
    }
    if (!rc.tx) {
      if (this.d.core.forwardStateless(rc, hop)) this.d.metrics.forwarded.labels('stateless').inc();
      return DONE;
    }
    rc.recordRoute = DIALOG_CREATING.has(rc.request.method);
    return this.#relayLocated(rc, hop);
  }

  /** Hops still to try per forwarded request, after the located first one (RFC 3263 §4.3). */
  readonly #alternates = new WeakMap<object, Hop[]>();

  /**
   * Relays to `hop`, or — when it names a host rather than an address or a flow — to the first
   * server RFC 3263 locates for the URI it came from, keeping the others for `onFailure`.
   */
  #relayLocated(rc: RequestContext, hop: Hop): Verdict | Promise<Verdict> {
    const target = (h: Hop): Target => ({ uri: rc.request.uri, hop: h, q: 1 });
    const route = rc.request.headers.route()[0];
    const uri = route ? route.uri : rc.request.uri;
    if (hop.flowToken !== undefined || isIP(hop.remote.address) !== 0 || !isSipUri(uri)) {
      this.d.core.relay(rc, [target(hop)]);
      return DONE;
    }
    return this.d.stack.locate(uri).then((hops) => {
      const [first, ...rest] = hops;
      if (!first) {
        this.d.metrics.unresolvable.inc();
        this.d.core.reply(rc, 478, 'Unresolvable Destination');
        return DONE;
      }
      if (rest.length > 0) this.#alternates.set(rc.request, rest);
      this.d.core.relay(rc, [target(first)]);
      return DONE;
    });
  }

  // --- hooks -----------------------------------------------------------------------------------

  /**
   * onReply: every response a branch receives, before §16.7 handles it. Counted by class; a
   * 503 from a located server is logged (onFailure then moves to the next one, RFC 3263 §4.3).
   */
  onReply(rctx: ResponseContext, branch: Branch, response: SipResponse): void {
    this.d.metrics.response(response.status);
    if (response.status >= 500 && this.#alternates.has(rctx.request)) {
      this.d.core.log.debug(
        { status: response.status, hop: branch.target.hop, callId: rctx.request.headers.callId() },
        'sip: located server failed',
      );
    }
  }

  /**
   * onFailure: every branch of a q-group ended without a 2xx. §16.7 step 4: a 3xx's Contacts
   * may be added to the target set ("recursion"); contacts already tried are not tried again.
   */
  onFailure(call: ResponseContext, best: Final | undefined): Target[] | undefined {
    // RFC 3263 §4.3: a 503 or no answer (timeout, transport failure) → the next located server.
    const alternates = this.#alternates.get(call.request);
    if (alternates && alternates.length > 0 && (best?.status === 503 || best?.status === 408)) {
      const hop = alternates.shift()!;
      this.d.metrics.failovers.inc();
      return [{ uri: call.request.uri, hop, q: 1 }];
    }
    const response = best?.response;
    if (!this.d.recurse3xx || !response || response.status < 300 || response.status >= 400) {
      return undefined;
    }
    const tried = new Set(call.branches.map((b) => JSON.stringify(b.target.hop)));
    const out: Target[] = [];
    for (const c of response.headers.contact()) {
      if (c.star || !isSipUri(c.uri)) continue;
      const t = this.#targetOf(c.uri, undefined, c.q ?? 1);
      if (!t || tried.has(JSON.stringify(t.hop)) || call.branches.length + out.length >= 16) {
        continue;
      }
      out.push(t);
    }
    return out.length > 0 ? out : undefined;
  }

  // --- helpers ---------------------------------------------------------------------------------

  aor(user: string): string {
    return `sip:${user}@${this.d.domain}`;
  }

  #targetOf(
    uriText: string | SipUri,
    flowToken: string | undefined,
    q: number,
    received?: { readonly address: string; readonly port: number },
  ): Target | undefined {
    let uri: SipUri;
    if (typeof uriText === 'string') {
      const parsed = parseUri(uriText);
      if (!parsed.ok || !isSipUri(parsed.value)) return undefined;
      uri = parsed.value;
    } else uri = uriText;
    let hop: Hop | undefined = hopOf(uri);
    // A UDP UA behind a NAT: where its REGISTER came from, not the address in its Contact.
    if (received !== undefined && hop?.transport === 'udp') {
      hop = { transport: 'udp', remote: received };
    }
    if (flowToken !== undefined) {
      // The UA's own flow while it is open (WS, TCP, UDP behind a NAT); else its Contact (a TCP
      // UA that closed). With a flow the proxy record-routes it, so in-dialog requests follow.
      const flow = this.d.stack.resolveFlowToken(flowToken);
      if (flow && this.d.stack.flowOpen(flow))
        hop = { transport: flow.transport, remote: flow.remote, flowToken };
    }
    return hop ? { uri, hop, q } : undefined;
  }

  /** The next hop of a request: its first Route, else its Request-URI (§16.6 steps 6–7). */
  #nextHop(rc: RequestContext): Hop | undefined {
    const { request } = rc;
    const route = request.headers.route()[0];
    const uri = route ? route.uri : request.uri;
    const hop = hopOf(uri);
    // A flow token from our own Route entry wins, unless it names the flow the request came on.
    for (const token of rc.flowTokens) {
      const flow = this.d.stack.resolveFlowToken(token);
      if (!flow) continue;
      const sameFlow = rc.ctx.connection
        ? flow.connectionId === rc.ctx.connection.id
        : flow.transport === rc.ctx.transport &&
          flow.remote.address === rc.ctx.remote.address &&
          flow.remote.port === rc.ctx.remote.port;
      if (!sameFlow && !route)
        return { transport: flow.transport, remote: flow.remote, flowToken: token };
    }
    return hop;
  }

  #isOurDomain(uri: SipUri): boolean {
    return canonicalHost(uri.host) === canonicalHost(this.d.domain) || this.d.stack.isUs(uri, true);
  }

  #toUs(rc: RequestContext, requireNoUser = true): boolean {
    const uri = rc.request.uri;
    if (!isSipUri(uri)) return false;
    if (requireNoUser && uri.user !== undefined) return false;
    return this.#isOurDomain(uri);
  }

  /**
   * Digest check: answers the challenge or the refusal itself and returns undefined, or the
   * authenticated username. Unknown users and wrong passwords take the same path and get the
   * same answer (DigestServer computes a digest against a dummy HA1 for unknown users).
   */
  async #authenticate(
    rc: RequestContext,
    server: DigestServer,
    header: 'authorization' | 'proxy-authorization',
  ): Promise<string | undefined> {
    const { request } = rc;
    const ip = rc.ctx.remote.address;
    const verdict: DigestVerdict = await server.verify({
      header: request.headers.getAll(header),
      method: request.method,
      requestUri: request.uriText,
      // The address the request was sent to: some phones (and sipp) name it in the digest uri.
      sentTo: rc.ctx.local,
      lookupHa1: (username, _realm, algorithm) =>
        this.d.guard.bannedUser(ip, username, rc.now)
          ? undefined
          : this.d.users.ha1(username, algorithm),
    });
    if (verdict.ok) {
      this.d.guard.recordSuccess(ip, verdict.username);
      if (verdict.uriMatch === 'sent-to') this.d.metrics.digestUriSentTo.inc();
      rc.authUser = verdict.username;
      if (header === 'proxy-authorization') consumeCredentials(request.headers, server.realm);
      return verdict.username;
    }
    if (verdict.action === 'challenge') {
      // Credentials that do not answer our challenge (forged nonce, other realm or algorithm)
      // count as a failure too; only "no credentials yet" and a stale nonce do not.
      if (verdict.reason !== 'missing' && !verdict.stale) {
        this.d.metrics.authFailures.labels(verdict.reason).inc();
        this.d.guard.recordFailure(ip, undefined, rc.now);
      }
      const c = server.challenge(verdict.stale);
      this.d.core.reply(
        rc,
        c.status,
        undefined,
        c.values.map((v) => [c.headerName, v] as const),
      );
      return undefined;
    }
    this.d.metrics.authFailures.labels(verdict.reason).inc();
    this.d.core.log.info(
      {
        remote: rc.ctx.remote,
        user: verdict.username,
        reason: verdict.reason,
        callId: request.headers.callId(),
      },
      'sip: authentication refused',
    );
    // A digest uri naming another resource is a client's mistake, never a failed password: it
    // is counted (auth failures, uri-mismatch) but brings no ban.
    if (verdict.reason !== 'uri-mismatch') this.d.guard.recordFailure(ip, verdict.username, rc.now);
    this.d.core.reply(rc, verdict.status);
    return undefined;
  }
}

/**
 * §22.3: credentials for this proxy's realm have been consumed here and are removed before the
 * request is forwarded (a callee never sees the caller's digest); values for other realms —
 * meant for proxies further on — are kept untouched.
 */
function consumeCredentials(headers: RequestContext['request']['headers'], realm: string): void {
  const values = headers.getAll('proxy-authorization');
  const keep = values.filter((v) => {
    const c = parseCredentials(v);
    return !c.ok || c.value.realm !== realm;
  });
  if (keep.length === values.length) return;
  headers.remove('proxy-authorization');
  for (const v of keep) headers.append('proxy-authorization', v);
}

export { ALLOW };
