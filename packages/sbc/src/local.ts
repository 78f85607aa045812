/**
 * TFX's own registrar in the SBC's zones (issue #17 item 4): a zone that names no inner registrar
 * serves REGISTERs from the platform's registrar and location service (`sip.domain`,
 * `sip.users`, the store the SIP server uses), after the zone's digest; a call from any zone to
 * a user registered through a zone goes to that user's contacts before `routes` are consulted.
 *
 *   REGISTER ─▶ domain (403) ─▶ auth (untrusted zone: 401 WWW-Authenticate, 403; the user may
 *               change only its own AOR, §10.3 step 4) ─▶ registrar (the injected policy: 200 with
 *               the bindings, 423, 400…) — each binding remembers its zone and flow
 *
 *   INVITE to user U ─▶ U's live bindings registered through a zone of this SBC ─▶ targets:
 *               the flow the contact registered over while it is open (RFC 5626 §5.3: TCP, TLS
 *               and WebSocket connection reuse), the UDP source of a NATed REGISTER (RFC 3581),
 *               else the Contact itself
 *
 * The registrar policy and the store are the platform's (packages/server): this file knows them
 * only through `LocalRegistrar`.
 */
import {
  canonicalHost,
  createResponse,
  hopOf,
  parseUri,
  type Endpoint,
  type Logger,
  type ReceiveContext,
  type SipRequest,
  type SipUri,
  type StackHop,
  type StackRequest,
  type TransportProtocol,
} from '@tfx/sip';
import type { AuthOutcome } from './auth.js';
import { transportKind, type EndpointKind } from './anchor.js';
import type { ZoneAgent } from './zone.js';

/** One live binding of an AOR, as the location service keeps it. */
export interface LocalBinding {
  /** The Contact URI as the UA wrote it. */
  readonly uri: string;
  readonly q: number;
  readonly registeredAt: number;
  readonly transport: TransportProtocol;
  readonly source: Endpoint;
  /** The UDP source of a REGISTER whose Via named another address (a NAT). */
  readonly received?: Endpoint;
  /** The flow the REGISTER came on (streams; UDP behind a NAT). */
  readonly flowToken?: string;
  /** The SBC zone the REGISTER came through; absent for the SIP server's own registrations. */
  readonly zone?: string;
}

/** What a REGISTER asks of the registrar policy. */
export interface LocalRegisterInput {
  readonly request: SipRequest;
  readonly aor: string;
  readonly transport: TransportProtocol;
  readonly source: Endpoint;
  readonly flowToken?: string;
  readonly now: number;
  readonly zone: string;
}

/** The platform's registrar (RFC 3261 §10.3 policy) and location service, injected. */
export interface LocalRegistrar {
  register(input: LocalRegisterInput): Promise<{
    readonly status: number;
    readonly reason?: string;
    readonly headers: ReadonlyArray<readonly [string, string]>;
  }>;
  lookup(aor: string, now: number): Promise<readonly LocalBinding[]>;
}

/** A contact to call: where to send, and what kind of endpoint answers there. */
export interface LocalContact {
  readonly zone: ZoneAgent;
  readonly uri: SipUri;
  readonly hop: StackHop;
  readonly kind: EndpointKind;
  readonly q: number;
}

export interface LocalUsersCounters {
  /** REGISTERs answered 2xx. */
  registered: number;
  /** REGISTERs challenged (401). */
  challenged: number;
  /** REGISTERs refused (403 by domain or credentials, other registrar failures). */
  refused: number;
  /** Calls that went to registered users' contacts (before routes). */
  calls: number;
  /** Of those, calls passed with their SDP untouched (anchor.ts: not anchored). */
  direct: number;
}

export interface LocalUsersOptions {
  readonly domain: string;
  readonly registrar: LocalRegistrar;
  /** The SBC's digest gate (auth.ts) for untrusted zones; without it their REGISTERs get 403. */
  readonly authorize?: (
    zone: ZoneAgent,
    request: SipRequest,
    ctx: ReceiveContext,
  ) => Promise<AuthOutcome>;
  readonly zones: ReadonlyMap<string, ZoneAgent>;
  readonly logger: Logger;
  readonly now: () => number;
}

export class LocalUsers {
  readonly counters: LocalUsersCounters = {
    registered: 0,
    challenged: 0,
    refused: 0,
    calls: 0,
    direct: 0,
  };
  readonly #o: LocalUsersOptions;

  constructor(o: LocalUsersOptions) {
    this.#o = o;
  }

  get domain(): string {
    return this.#o.domain;
  }

  aor(user: string): string {
    return `sip:${user}@${this.#o.domain}`;
  }

  /** A REGISTER that entered `zone`: answered here, whatever the outcome. */
  async register(zone: ZoneAgent, incoming: StackRequest): Promise<void> {
    const { request, ctx } = incoming;
    const reply = (status: number, reason?: string, headers: Array<[string, string]> = []) => {
      if (status >= 300 && status !== 401) this.counters.refused++;
      const r = createResponse(request, status, reason, { headers });
      const tx = incoming.transaction;
      if (tx && !tx.terminated) tx.respond(r);
    };
    const log = { zone: zone.name, remote: `${ctx.remote.address}:${ctx.remote.port}` };
    // §10.3 step 1: "The registrar inspects the Request-URI to determine whether it has access to
    // bindings for the domain identified in the Request-URI." Ours: sip.domain or the zone itself.
    const ruri = request.uri;
    if (
      ruri.kind !== 'sip' ||
      (canonicalHost(ruri.host) !== canonicalHost(this.#o.domain) && !zone.stack.isUs(ruri, false))
    ) {
      reply(403, 'Not Our Domain');
      return;
    }
    const to = request.headers.to()?.uri;
    if (!to || to.kind !== 'sip' || to.user === undefined) {
      reply(400, 'Bad To');
      return;
    }
    if (zone.security) {
      // §10.3 step 3 / §22.4: an untrusted zone authenticates the registering user (401), with
      // the SBC's one digest gate (auth.ts: its nonces, counters and bans).
      const authorize = this.#o.authorize;
      if (!authorize) {
        reply(403);
        return;
      }
      const r = await authorize(zone, request, ctx);
      if (!r.ok) {
        if (r.status === 401) this.counters.challenged++;
        else this.#o.logger.info(log, 'sbc: REGISTER authentication refused');
        reply(
          r.status,
          undefined,
          [...r.headers].map(([n, v]) => [n, v] as [string, string]),
        );
        return;
      }
      // §10.3 step 4: the authenticated user may change only the bindings of its own AOR.
      if (r.username !== to.user) {
        reply(403, 'Not Your Address');
        return;
      }
    }
    const flowToken = zone.stack.flowTokenFor(ctx);
    const out = await this.#o.registrar.register({
      request,
      aor: this.aor(to.user),
      transport: ctx.transport,
      source: ctx.remote,
      ...(flowToken !== undefined && { flowToken }),
      now: this.#o.now(),
      zone: zone.name,
    });
    if (out.status < 300) {
      this.counters.registered++;
      this.#o.logger.info({ ...log, user: to.user }, 'sbc: registered');
    }
    reply(
      out.status,
      out.reason,
      out.headers.map(([k, v]) => [k, v]),
    );
  }

  /**
   * The contacts a call to `user` goes to: live bindings registered through a zone of this SBC
   * that can be reached (a WebSocket contact only over its open flow), highest q first, then the
   * most recent. Bindings of the SIP server's own listeners are not the SBC's to reach.
   */
  async contacts(user: string, now: number): Promise<LocalContact[]> {
    const bindings = await this.#o.registrar.lookup(this.aor(user), now);
    const out: Array<LocalContact & { at: number }> = [];
    for (const b of bindings) {
      const zone = b.zone !== undefined ? this.#o.zones.get(b.zone) : undefined;
      if (!zone) continue;
      const parsed = parseUri(b.uri);
      if (!parsed.ok || parsed.value.kind !== 'sip') continue;
      const uri = parsed.value;
      const hop = this.#hopOf(zone, b, uri);
      if (!hop || (hop.flowToken === undefined && this.#isOwnListener(hop.remote))) continue;
      out.push({ zone, uri, hop, kind: transportKind(b.transport), q: b.q, at: b.registeredAt });
    }
    out.sort((x, y) => y.q - x.q || y.at - x.at);
    return out.map(({ at: _at, ...c }) => c);
  }

  /** Whether `user` has a binding registered in `zone` from `address` (a trusted zone's caller). */
  async registeredFrom(user: string, zone: string, address: string, now: number): Promise<boolean> {
    const bindings = await this.#o.registrar.lookup(this.aor(user), now);
    return bindings.some((b) => b.zone === zone && (b.received ?? b.source).address === address);
  }

  /**
   * A contact naming one of the SBC's own listeners would send the call back into the SBC, which
   * would look the user up again, for ever (a B2BUA starts every leg B with Max-Forwards 70):
   * such a contact is never called.
   */
  #isOwnListener(remote: Endpoint): boolean {
    for (const z of this.#o.zones.values()) {
      for (const l of z.listeners()) {
        if (l.port === remote.port && canonicalHost(l.address) === canonicalHost(remote.address))
          return true;
      }
    }
    return false;
  }

  #hopOf(zone: ZoneAgent, b: LocalBinding, uri: SipUri): StackHop | undefined {
    if (b.flowToken !== undefined) {
      // RFC 5626 §5.3: the flow the UA registered over, while it is open.
      const flow = zone.stack.resolveFlowToken(b.flowToken);
      if (flow && zone.stack.flowOpen(flow)) {
        return { transport: flow.transport, remote: flow.remote, flowToken: b.flowToken };
      }
    }
    // A WebSocket client is reachable only over its own connection (RFC 7118 §5).
    if (b.transport === 'ws' || b.transport === 'wss') return undefined;
    if (b.received !== undefined && b.transport === 'udp') {
      return { transport: 'udp', remote: b.received };
    }
    return hopOf(uri);
  }
}
