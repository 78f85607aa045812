/**
 * The SBC: zones (each a SIP user agent on its own addresses), the routes between them, and the
 * live B2BUA calls. An INVITE entering a zone takes this path (the request route of the SBC):
 *
 *   limits (zone maxCalls: 503) → routing (zone → trunks: 404 when none)
 *     → media (offer anchored in the engine: the zone's SDP for the far side)
 *     → bridge (leg B through the trunk's zone; 1xx/2xx/failures back to leg A)
 *
 * Ownership (docs/closures.md): Sbc → ZoneAgents (stack + dialog layers) and SbcCalls;
 * SbcCall → two legs (dialogs) + one media session. `close()` ends every call on both legs (BYE,
 * CANCEL or a final response), then closes the zones. Idempotent.
 */
import { randomBytes } from 'node:crypto';
import { TfxError } from '@tfx/protocol';
import type { LegProfile, MediaEngine } from '@tfx/media';
import {
  DONE,
  DigestServer,
  NEXT,
  NonceManager,
  Route,
  formatUri,
  nodeDigestHash,
  nodeNonceCrypto,
  parseUri,
  type Verdict,
  realClock,
  silentLogger,
  type AnyServerTransaction,
  type StackRequest,
  type Clock,
  type ListenerInfo,
  type Logger,
  type ReceiveContext,
  type Ha1Lookup,
  type ServerInvite,
  type SipUri,
} from '@tfx/sip';
import { SbcCall, sipStatusOf, type CallState, type EndReason } from './call.js';
import { compileRules, normalizeUser, type CompiledRule } from './normalize.js';
import { compileRoutes, selectTrunks, type CompiledRoute } from './routing.js';
import { CallJournal } from './recovery.js';
import { RegistrationRelay, resolveRegistrar } from './registrar.js';
import type { SbcOptions, TrunkSpec, ZoneSpec } from './types.js';
import { ZoneAgent } from './zone.js';

/** A plain RTP leg toward a zone: RTP/AVP, no ICE, strict latching, RFC 4733 DTMF. */
export function plainProfile(zone: ZoneSpec): LegProfile {
  return {
    zone: zone.name,
    mediaAddress: zone.media.address,
    ...(zone.media.advertisedAddress !== undefined && {
      advertisedAddress: zone.media.advertisedAddress,
    }),
    transport: 'RTP/AVP',
    ice: 'remove',
    dtls: 'off',
    rtcpMux: 'demux',
    latching: 'strict',
    dtmf: 'rfc4733',
  };
}

export interface SbcCounters {
  callsStarted: number;
  callsAnswered: number;
  /** Calls ended, by reason. */
  ended: Record<EndReason, number>;
  /** INVITEs refused before a leg B existed: no route, zone limit, media refused. */
  noRoute: number;
  overLimit: number;
  mediaRefused: number;
}

/** A live call as the REST API and the console list it. */
export interface CallView {
  readonly id: string;
  readonly state: CallState;
  readonly startedAt: number;
  readonly a: { readonly zone: string; readonly callId: string | undefined };
  readonly b: {
    readonly zone: string;
    readonly callId: string | undefined;
    readonly trunk: string;
  };
}

/** One INVITE on its way through the INVITE route. */
interface InviteContext {
  readonly zone: ZoneAgent;
  readonly invite: ServerInvite;
  readonly ctx: ReceiveContext;
  readonly now: number;
  /** The called user, normalized by the zone's rules (a registered phone's contact user). */
  user: string | undefined;
  /** Set by the routing stage. */
  trunks: TrunkSpec[];
  readonly log: { readonly zone: string; readonly remote: string };
}

export class Sbc {
  readonly zones = new Map<string, ZoneAgent>();
  readonly counters: SbcCounters = {
    callsStarted: 0,
    callsAnswered: 0,
    ended: {
      'caller-bye': 0,
      'callee-bye': 0,
      'caller-cancel': 0,
      rejected: 0,
      'no-route': 0,
      'media-failed': 0,
      'leg-failed': 0,
      'media-timeout': 0,
      shutdown: 0,
    },
    noRoute: 0,
    overLimit: 0,
    mediaRefused: 0,
  };
  readonly #o: SbcOptions;
  readonly #engine: MediaEngine;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #routes: CompiledRoute[];
  /** Normalization rules by zone name and by trunk name. */
  readonly #zoneRules = new Map<string, CompiledRule[]>();
  readonly #trunkRules = new Map<string, CompiledRule[]>();
  readonly #calls = new Map<string, SbcCall>();
  /** Which trunk each call's leg B is on. */
  readonly #trunkOf = new Map<SbcCall, TrunkSpec>();
  readonly #byInvite = new Map<AnyServerTransaction, SbcCall>();
  readonly #unsubscribe: Array<() => void> = [];
  readonly #digest: { server: DigestServer; lookupHa1: Ha1Lookup } | undefined;
  /** Inner registrars by the zone their phones register from (registrar.ts). */
  readonly relays = new Map<string, RegistrationRelay>();
  /** Confirmed calls kept in the call store (recovery.ts), when one is given. */
  journal: CallJournal | undefined;
  /** Ends the previous process's calls (after start): resolves with how many. */
  recovered: Promise<number> = Promise.resolve(0);
  #started = false;
  #closing: Promise<void> | undefined;

  constructor(o: SbcOptions) {
    this.#o = o;
    this.#engine = o.engine;
    this.#log = o.logger ?? silentLogger;
    this.#clock = o.clock ?? realClock;
    const names = new Set<string>();
    for (const z of o.zones) {
      if (names.has(z.name)) throw new TypeError(`sbc.zones: zone ${z.name} named twice`);
      names.add(z.name);
    }
    for (const t of o.trunks) {
      if (!names.has(t.zone)) throw new TypeError(`sbc.trunks.${t.name}: no zone ${t.zone}`);
      const u = parseUri(t.uri);
      if (!u.ok || u.value.kind !== 'sip')
        throw new TypeError(`sbc.trunks.${t.name}: ${t.uri} is not a SIP URI`);
    }
    this.#routes = compileRoutes(o.routes, o.trunks);
    o.zones.forEach((z) =>
      this.#zoneRules.set(z.name, compileRules(z.normalize, `sbc.zones.${z.name}`)),
    );
    o.trunks.forEach((t) =>
      this.#trunkRules.set(t.name, compileRules(t.normalize, `sbc.trunks.${t.name}`)),
    );
    this.#digest = o.auth && {
      server: new DigestServer({
        realm: o.auth.realm,
        hash: nodeDigestHash,
        nonces: new NonceManager({
          secret: randomBytes(32).toString('hex'),
          crypto: nodeNonceCrypto,
        }),
        algorithms: o.auth.algorithms ?? ['MD5'],
        proxy: true,
      }),
      lookupHa1: o.auth.lookupHa1,
    };
    for (const r of o.routes) {
      if (!names.has(r.match.zone)) throw new TypeError(`sbc.routes: no zone ${r.match.zone}`);
    }
    for (const z of o.zones) if (z.registrar) resolveRegistrar(z, o.zones, o.trunks);
  }

  /** Binds every zone's listeners; a zone that cannot bind stops the start (others closed). */
  async start(): Promise<ListenerInfo[]> {
    if (this.#started) throw new TfxError('conflict', 'the SBC is already started');
    this.#started = true;
    const out: ListenerInfo[] = [];
    try {
      for (const spec of this.#o.zones) {
        const zone = new ZoneAgent({
          spec,
          logger: this.#log,
          ...(this.#o.clock && { clock: this.#o.clock }),
          ...(this.#o.tls && { tls: this.#o.tls }),
          ...(this.#o.timers && { timers: this.#o.timers }),
          resolveHop: (uri) => this.relays.get(spec.name)?.hopFor(uri),
          events: {
            onInvite: (z, inv, ctx) => this.#onInvite(z, inv, ctx),
            onCancel: (_z, tx) => this.#byInvite.get(tx)?.onCancel(),
            onRegister: (z, incoming) => this.#onRegister(z, incoming),
          },
        });
        this.zones.set(spec.name, zone);
        out.push(...(await zone.start()));
      }
      this.#startRelays();
    } catch (err) {
      await this.close();
      throw err;
    }
    if (this.#o.callStore) {
      const journal = new CallJournal({
        store: this.#o.callStore,
        zones: this.zones,
        clock: this.#clock,
        logger: this.#log,
      });
      this.journal = journal;
      this.recovered = journal.recover();
    }
    this.#unsubscribe.push(
      this.#engine.on('media-timeout', (e) => this.#calls.get(e.callId)?.end('media-timeout')),
      this.#engine.on('call-failed', (e) => this.#calls.get(e.callId)?.end('media-failed')),
    );
    return out;
  }

  /** Live calls. */
  calls(): CallView[] {
    return [...this.#calls.values()].map((c) => ({
      id: c.id,
      state: c.state,
      startedAt: c.startedAt,
      a: {
        zone: c.a.zone.name,
        callId: c.a.session?.dialog.id.callId ?? c.incoming.request.headers.callId(),
      },
      b: {
        zone: c.b.zone.name,
        callId: c.b.session?.dialog.id.callId ?? c.outgoing?.request.headers.callId(),
        trunk: this.#trunkOf.get(c)?.name ?? '',
      },
    }));
  }

  get callCount(): number {
    return this.#calls.size;
  }

  /** Ends every call on both legs, then closes the zones. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const u of this.#unsubscribe.splice(0)) u();
      for (const r of this.relays.values()) r.close();
      const live = [...this.#calls.values()];
      for (const c of live) c.end('shutdown', 503);
      // After the calls: each ended call left the store (nothing for the next start to end).
      this.journal?.close();
      // The BYEs, CANCELs and 503s are handed to the transports before the sockets close.
      if (live.length > 0) await new Promise((r) => setTimeout(r, 100));
      await Promise.all([...this.zones.values()].map((z) => z.close()));
    })();
    return this.#closing;
  }

  // --- the INVITE route ------------------------------------------------------------------------

  /** The INVITE route: these stages, in this order (the SBC's policy in one list). */
  readonly inviteRoute = new Route<InviteContext>([
    ['limits', (c) => this.#limits(c)],
    ['auth', (c) => this.#auth(c)],
    ['registered', (c) => this.#registered(c)],
    ['routing', (c) => this.#routing(c)],
    ['bridge', (c) => this.#bridge(c)],
  ]);

  #onInvite(zone: ZoneAgent, invite: ServerInvite, ctx: ReceiveContext): void {
    if (this.#closing) {
      invite.reject(503);
      return;
    }
    const uri = invite.request.uri;
    const zoneRules = this.#zoneRules.get(zone.name) ?? [];
    const c: InviteContext = {
      zone,
      invite,
      ctx,
      now: this.#clock.now(),
      user: normalizeUser(zoneRules, 'ruri', uri.kind === 'sip' ? uri.user : undefined),
      trunks: [],
      log: { zone: zone.name, remote: `${ctx.remote.address}:${ctx.remote.port}` },
    };
    const pending = this.inviteRoute.run(c);
    if (pending)
      pending.catch((err: unknown) => {
        this.#log.warn({ ...c.log, err }, 'sbc: INVITE route failed');
        invite.reject(500);
      });
  }

  /** Zone call limit (503). */
  #limits(c: InviteContext): Verdict {
    const max = c.zone.spec.limits.maxCalls;
    if (max > 0 && this.#zoneCalls(c.zone.name) >= max) {
      this.counters.overLimit++;
      this.#log.info(c.log, 'sbc: zone call limit reached (503)');
      c.invite.reject(503);
      return DONE;
    }
    return NEXT;
  }

  /**
   * Digest in an untrusted zone (RFC 3261 §22.3, with the stack's DigestServer: a `uri` naming
   * the Request-URI or the address the request was sent to is accepted): no credentials or stale
   * ones → 407 with Proxy-Authenticate; bad ones → 403 and counted toward the Gate's bans.
   * Unknown users and wrong passwords get the same answers. A trusted zone, or an SBC given no
   * `auth`, skips this stage.
   */
  async #auth(c: InviteContext): Promise<Verdict> {
    const auth = this.#digest;
    const sec = c.zone.security;
    if (!auth || !sec) return NEXT;
    // A phone registered through the zone's inner registrar was authenticated there (registrar.ts).
    if (this.relays.get(c.zone.name)?.fromBinding(c.ctx)) return NEXT;
    const { request } = c.invite;
    const ip = c.ctx.remote.address;
    const verdict = await auth.server.verify({
      header: request.headers.getAll('proxy-authorization'),
      method: request.method,
      requestUri: request.uriText,
      sentTo: c.ctx.local,
      lookupHa1: (username, realm, algorithm) =>
        sec.authGate.bannedUser(ip, username, c.now)
          ? undefined
          : auth.lookupHa1(username, realm, algorithm),
    });
    if (verdict.ok) {
      sec.authGate.recordSuccess(ip, verdict.username);
      sec.counters.auth.passed++;
      return NEXT;
    }
    if (verdict.action === 'challenge') {
      if (verdict.reason !== 'missing' && !verdict.stale) {
        sec.counters.auth.failed++;
        sec.authGate.recordFailure(ip, undefined, c.now);
      }
      sec.counters.auth.challenged++;
      const ch = auth.server.challenge(verdict.stale);
      c.invite.reject(ch.status, { headers: ch.values.map((v) => [ch.headerName, v] as const) });
      return DONE;
    }
    sec.counters.auth.failed++;
    this.#log.info(
      { ...c.log, user: verdict.username, reason: verdict.reason },
      'sbc: authentication refused',
    );
    if (verdict.reason !== 'uri-mismatch') sec.authGate.recordFailure(ip, verdict.username, c.now);
    c.invite.reject(verdict.status);
    return DONE;
  }

  /**
   * An INVITE from an inner registrar's zone to a contact the SBC registered there
   * (`sip:<token>@<zone address>`) goes to the phone behind it, on its flow (registrar.ts).
   */
  #registered(c: InviteContext): Verdict {
    for (const relay of this.relays.values()) {
      if (relay.innerZone !== c.zone.name) continue;
      const t = relay.target(c.invite.request.uri);
      if (!t) continue;
      c.trunks = [
        { name: `registered:${t.aor}`, zone: relay.outerZone, uri: formatUri(t.contact) },
      ];
      c.user = t.contact.user;
      return NEXT;
    }
    return NEXT;
  }

  /** Routes: zone (and user) → trunks (404 when none). */
  #routing(c: InviteContext): Verdict {
    if (c.trunks.length > 0) return NEXT; // a registered phone (#registered)
    c.trunks = [...selectTrunks(this.#routes, c.zone.name, c.user)];
    if (c.trunks.length === 0) {
      this.counters.noRoute++;
      this.#log.info({ ...c.log, user: c.user }, 'sbc: no route (404)');
      c.invite.reject(404);
      return DONE;
    }
    return NEXT;
  }

  /** The call: media offer anchored in the engine, then leg B toward the first trunk. */
  #bridge(ic: InviteContext): Verdict {
    const { zone, invite, trunks, user } = ic;
    const log = ic.log;
    const first = trunks[0] as TrunkSpec;
    const bZone = this.zones.get(first.zone) as ZoneAgent;
    const profileOf = this.#o.profileOf ?? plainProfile;
    const call = new SbcCall(
      `sbc-${randomBytes(8).toString('hex')}`,
      invite,
      { zone, mediaTag: 'a', profile: profileOf(zone.spec) },
      { zone: bZone, mediaTag: 'b', profile: profileOf(bZone.spec) },
      {
        engine: this.#engine,
        onEnded: (c, reason) => this.#ended(c, reason),
        log: (level, obj, msg) => this.#log[level](obj, msg),
      },
      this.#clock.now(),
    );
    this.#calls.set(call.id, call);
    if (invite.transaction) this.#byInvite.set(invite.transaction, call);
    this.counters.callsStarted++;
    this.#log.info({ ...log, call: call.id, trunk: first.name }, 'sbc: call');
    call.offerFromA().then(
      (sdp) => this.#dial(call, [...trunks], sdp, user),
      (err: unknown) => {
        this.counters.mediaRefused++;
        this.#log.info({ ...log, call: call.id, err }, 'sbc: media offer refused');
        call.end('media-failed', sipStatusOf(err));
      },
    );
    return DONE;
  }

  /** Leg B toward the first trunk left; on an early failure (no 1xx) the next trunk is tried. */
  #dial(call: SbcCall, trunks: TrunkSpec[], sdp: string, user: string | undefined): void {
    if (call.state === 'ended') return;
    const trunk = trunks.shift() as TrunkSpec;
    const zone = this.zones.get(trunk.zone) as ZoneAgent;
    if (zone !== call.b.zone) {
      // Failover to a trunk of another zone needs a new media leg: not done, the call fails.
      call.end('rejected', 503);
      return;
    }
    this.#trunkOf.set(call, trunk);
    const base = (parseUri(trunk.uri) as { value: SipUri }).value;
    const rules = this.#trunkRules.get(trunk.name) ?? [];
    const toUser = normalizeUser(rules, 'ruri', user);
    const target: SipUri = { ...base, ...(toUser !== undefined && { user: toUser }) };
    const from = call.incoming.request.headers.from();
    const fromUser = normalizeUser(
      [...(this.#zoneRules.get(call.a.zone.name) ?? []), ...rules],
      'from',
      from?.uri.kind === 'sip' ? from.uri.user : undefined,
    );
    let provisional = false;
    try {
      call.outgoing = zone.invite(
        {
          target,
          uri: target,
          from: `<sip:${fromUser !== undefined ? `${escapeUser(fromUser)}@` : ''}${zone.host}>`,
          to: `<${formatUri({ ...target, params: new Map(), headers: [] })}>`,
          body: sdp,
          contentType: 'application/sdp',
        },
        {
          onProgress: (r, s) => {
            if (r.status > 100) provisional = true;
            void call.onProgress(r, s);
          },
          onAccepted: (s, r) => {
            this.counters.callsAnswered++;
            void call.onAccepted(s, r).then(() => this.journal?.confirmed(call));
          },
          onFailed: (r, err) => {
            const retry =
              !provisional &&
              trunks.length > 0 &&
              call.state !== 'ended' &&
              (r === undefined || r.status === 408 || r.status >= 500);
            if (retry) this.#dial(call, trunks, sdp, user);
            else call.onFailed(r, err);
          },
        },
      );
    } catch (err) {
      this.#log.warn({ call: call.id, err }, 'sbc: leg B could not be sent');
      call.end('leg-failed', sipStatusOf(err));
    }
  }

  #ended(call: SbcCall, reason: EndReason): void {
    this.#calls.delete(call.id);
    this.#trunkOf.delete(call);
    this.journal?.ended(call);
    if (call.incoming.transaction) this.#byInvite.delete(call.incoming.transaction);
    this.counters.ended[reason]++;
    this.#log.info({ call: call.id, reason }, 'sbc: call ended');
  }

  /** The inner registrars of the zones that name one (after the zones listen). */
  #startRelays(): void {
    for (const spec of this.#o.zones) {
      if (!spec.registrar) continue;
      const via = resolveRegistrar(spec, this.#o.zones, this.#o.trunks);
      const outer = this.zones.get(spec.name) as ZoneAgent;
      this.relays.set(
        spec.name,
        new RegistrationRelay({
          spec: spec.registrar,
          outer,
          inner: this.zones.get(via.zone) as ZoneAgent,
          registrar: via.uri,
          clock: this.#clock,
          logger: this.#log,
          ...(outer.security && { authGate: outer.security.authGate }),
        }),
      );
    }
  }

  /** A REGISTER: relayed to the zone's inner registrar, if it names one (else 405). */
  #onRegister(zone: ZoneAgent, incoming: StackRequest): boolean {
    const relay = this.relays.get(zone.name);
    if (!relay) return false;
    if (this.#closing) return false;
    relay.onRegister(incoming);
    return true;
  }

  #zoneCalls(zone: string): number {
    let n = 0;
    for (const c of this.#calls.values()) if (c.a.zone.name === zone || c.b.zone.name === zone) n++;
    return n;
  }
}

/** §25.1 user part: unreserved, escaped, and user-unreserved; everything else %-escaped. */
function escapeUser(user: string): string {
  return user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) =>
    [...new TextEncoder().encode(c)]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
}
