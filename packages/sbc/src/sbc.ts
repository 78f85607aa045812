/**
 * The SBC: zones (each a SIP user agent on its own addresses), the routes between them, and the
 * live B2BUA calls. An INVITE entering a zone takes this path (the request route of the SBC):
 *
 *   limits (zone maxCalls: 503) → auth (407) → local (a user registered through a zone: its
 *     contacts, forked in parallel; anchor.ts decides direct or anchored media)
 *     → routing (zone → trunks: 404 when none)
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
  createResponse,
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
  type Clock,
  type ListenerInfo,
  type Logger,
  type ReceiveContext,
  type Ha1Lookup,
  type ServerInvite,
  type SipUri,
} from '@tfx/sip';
import {
  anchorPlan,
  directMedia,
  sdpKind,
  transportKind,
  webrtcProfile,
  type EndpointKind,
  type MediaPath,
} from './anchor.js';
import { SbcCall, sipStatusOf, type CallState, type EndReason } from './call.js';
import { ForkedInvite } from './fork.js';
import { LocalUsers, type LocalContact } from './local.js';
import { compileRules, normalizeUser, type CompiledRule } from './normalize.js';
import { compileRoutes, selectTrunks, type CompiledRoute } from './routing.js';
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
  /** INVITEs refused 488: a WebRTC side and an engine without WebRTC legs (anchor.ts). */
  webrtcRefused: number;
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
  /** The called user, normalized by the zone's rules. */
  readonly user: string | undefined;
  /** Set by the routing stage. */
  trunks: TrunkSpec[];
  readonly log: { readonly zone: string; readonly remote: string };
  /** Set by the auth stage: the digest user of an untrusted zone's caller. */
  authUser?: string;
}

/** Where a new call's leg B goes, and how its media is handled. */
interface CallDestination {
  readonly zone: ZoneAgent;
  /** The trunk's name, or `local:<user>` for a registered user's contacts. */
  readonly label: string;
  readonly aProfile: LegProfile;
  readonly bProfile: LegProfile;
  readonly media: MediaPath;
  readonly dial: (call: SbcCall, sdp: string) => void;
}

const decoder = new TextDecoder();

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
    webrtcRefused: 0,
  };
  /** TFX's own registrar in the zones (`SbcOptions.local`): REGISTERs, calls to its users. */
  readonly local: LocalUsers | undefined;
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
  /** Leg B's destination label of calls to registered users (`local:<user>`). */
  readonly #labelOf = new Map<SbcCall, string>();
  readonly #byInvite = new Map<AnyServerTransaction, SbcCall>();
  readonly #unsubscribe: Array<() => void> = [];
  readonly #digest: { server: DigestServer; lookupHa1: Ha1Lookup } | undefined;
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
    if (o.webSocket && o.zones.filter((z) => z.webrtc).length > 1) {
      throw new TypeError('sbc.zones: one zone at most is webrtc (it carries /sip)');
    }
    this.local =
      o.local &&
      new LocalUsers({
        domain: o.local.domain,
        registrar: o.local.registrar,
        auth: o.auth,
        zones: this.zones,
        logger: this.#log,
        now: () => this.#clock.now(),
      });
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
          ...(spec.webrtc && this.#o.webSocket && { webSocket: this.#o.webSocket }),
          events: {
            onInvite: (z, inv, ctx) => this.#onInvite(z, inv, ctx),
            onCancel: (_z, tx) => this.#byInvite.get(tx)?.onCancel(),
            ...(this.local && { onRegister: (z, inc) => this.#onRegister(z, inc) }),
          },
        });
        this.zones.set(spec.name, zone);
        out.push(...(await zone.start()));
      }
    } catch (err) {
      await this.close();
      throw err;
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
        trunk: this.#trunkOf.get(c)?.name ?? this.#labelOf.get(c) ?? '',
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
      const live = [...this.#calls.values()];
      for (const c of live) c.end('shutdown', 503);
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
    ['local', (c) => this.#localUser(c)],
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
      c.authUser = verdict.username;
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

  /** Routes: zone (and user) → trunks (404 when none). */
  #routing(c: InviteContext): Verdict {
    c.trunks = [...selectTrunks(this.#routes, c.zone.name, c.user)];
    if (c.trunks.length === 0) {
      this.counters.noRoute++;
      this.#log.info({ ...c.log, user: c.user }, 'sbc: no route (404)');
      c.invite.reject(404);
      return DONE;
    }
    return NEXT;
  }

  /**
   * A call to a user registered through a zone goes to the user's contacts before any route
   * (issue #17 item 4): those of the best contact's zone and kind, forked in parallel. Its media
   * is direct or anchored as `anchorPlan` says (488 when a WebRTC side meets an engine without
   * WebRTC legs). No live contact: the routes decide.
   */
  async #localUser(c: InviteContext): Promise<Verdict> {
    const local = this.local;
    if (!local || c.user === undefined) return NEXT;
    let contacts: LocalContact[];
    try {
      contacts = await local.contacts(c.user, c.now);
    } catch (err) {
      // The location store is down (Redis): the routes still carry calls to trunks.
      this.#log.warn({ ...c.log, err }, 'sbc: location lookup failed; routes decide');
      return NEXT;
    }
    const first = contacts[0];
    if (!first) return NEXT;
    if (this.#closing || c.invite.answered) return DONE;
    const targets = contacts.filter((x) => x.zone === first.zone && x.kind === first.kind);
    const from = c.invite.request.headers.from()?.uri;
    const fromUser = from?.kind === 'sip' ? from.user : undefined;
    const localCaller =
      c.authUser !== undefined ||
      (c.zone.security === undefined &&
        fromUser !== undefined &&
        (await local
          .registeredFrom(fromUser, c.zone.name, c.ctx.remote.address, c.now)
          .catch(() => false)));
    const aKind = this.#callerKind(c);
    const plan = anchorPlan(
      { zone: c.zone.spec, kind: aKind, localUser: localCaller },
      { zone: first.zone.spec, kind: first.kind, localUser: true },
      this.#engine.capabilities.webrtc,
    );
    if (plan.mode === 'refuse') {
      this.#refuseWebrtc(c, plan.warning);
      return DONE;
    }
    local.counters.calls++;
    if (plan.mode === 'direct') local.counters.direct++;
    const user = c.user;
    this.#startCall(c, {
      zone: first.zone,
      label: `local:${user}`,
      aProfile: this.#profile(c.zone.spec, aKind),
      bProfile: this.#profile(first.zone.spec, first.kind),
      media: plan.mode === 'direct' ? directMedia : this.#engine,
      dial: (call, sdp) => this.#dialContacts(call, targets, sdp, user),
    });
    return DONE;
  }

  /** The call: media offer anchored in the engine, then leg B toward the first trunk. */
  #bridge(ic: InviteContext): Verdict {
    const { zone, trunks, user } = ic;
    const first = trunks[0] as TrunkSpec;
    const bZone = this.zones.get(first.zone) as ZoneAgent;
    const aKind = this.#callerKind(ic);
    // A trunk is plain RTP: a WebRTC caller is bridged through the engine's WebRTC leg.
    const plan = anchorPlan(
      { zone: zone.spec, kind: aKind, localUser: false },
      { zone: bZone.spec, kind: 'rtp', localUser: false },
      this.#engine.capabilities.webrtc,
    );
    if (plan.mode === 'refuse') {
      this.#refuseWebrtc(ic, plan.warning);
      return DONE;
    }
    this.#startCall(ic, {
      zone: bZone,
      label: first.name,
      aProfile: this.#profile(zone.spec, aKind),
      bProfile: this.#profile(bZone.spec, 'rtp'),
      media: this.#engine,
      dial: (call, sdp) => this.#dial(call, [...trunks], sdp, user),
    });
    return DONE;
  }

  /** A new call: leg A's offer through the media path, then leg B by `dest.dial`. */
  #startCall(ic: InviteContext, dest: CallDestination): void {
    const { zone, invite } = ic;
    const log = ic.log;
    const call = new SbcCall(
      `sbc-${randomBytes(8).toString('hex')}`,
      invite,
      { zone, mediaTag: 'a', profile: dest.aProfile },
      { zone: dest.zone, mediaTag: 'b', profile: dest.bProfile },
      {
        engine: dest.media,
        onEnded: (c, reason) => this.#ended(c, reason),
        log: (level, obj, msg) => this.#log[level](obj, msg),
      },
      this.#clock.now(),
    );
    this.#calls.set(call.id, call);
    if (invite.transaction) this.#byInvite.set(invite.transaction, call);
    if (dest.label.startsWith('local:')) this.#labelOf.set(call, dest.label);
    this.counters.callsStarted++;
    this.#log.info(
      {
        ...log,
        call: call.id,
        to: dest.label,
        media: dest.media === directMedia ? 'direct' : 'anchored',
      },
      'sbc: call',
    );
    call.offerFromA().then(
      (sdp) => dest.dial(call, sdp),
      (err: unknown) => {
        this.counters.mediaRefused++;
        this.#log.info({ ...log, call: call.id, err }, 'sbc: media offer refused');
        call.end('media-failed', sipStatusOf(err));
      },
    );
  }

  /** The caller's kind: by its offer's SDP, else (no offer) by the transport it came over. */
  #callerKind(c: InviteContext): EndpointKind {
    const body = c.invite.request.body;
    return body.length > 0 ? sdpKind(decoder.decode(body)) : transportKind(c.ctx.transport);
  }

  /** How a zone's leg is described to the engine: a WebRTC leg, or the zone's plain profile. */
  #profile(zone: ZoneSpec, kind: EndpointKind): LegProfile {
    return kind === 'webrtc' ? webrtcProfile(zone) : (this.#o.profileOf ?? plainProfile)(zone);
  }

  /** 488 with a Warning (RFC 3261 §20.43) rather than a call whose media cannot flow. */
  #refuseWebrtc(c: InviteContext, warning: string): void {
    this.counters.webrtcRefused++;
    this.#log.info({ ...c.log, user: c.user }, 'sbc: WebRTC leg needed, engine has none (488)');
    c.invite.reject(488, { headers: [['Warning', `399 ${c.zone.host} "${warning}"`]] });
  }

  /** Leg B toward a registered user's contacts, all at once (fork.ts). */
  #dialContacts(call: SbcCall, targets: readonly LocalContact[], sdp: string, user: string): void {
    if (call.state === 'ended') return;
    const from = call.incoming.request.headers.from();
    const fromUser = from?.uri.kind === 'sip' ? from.uri.user : undefined;
    const domain = (this.local as LocalUsers).domain;
    try {
      call.outgoing = new ForkedInvite(
        targets.map((t) => (events) => {
          // §16.6 step 6 as a proxy would: the Request-URI is the contact; it is reached over
          // the flow it registered on (pinned for the dialog's later requests too).
          t.zone.pin(t.uri, t.hop);
          return t.zone.invite(
            {
              target: t.uri,
              uri: t.uri,
              from: `<sip:${fromUser !== undefined ? `${escapeUser(fromUser)}@` : ''}${t.zone.host}>`,
              to: `<sip:${escapeUser(user)}@${domain}>`,
              body: sdp,
              contentType: 'application/sdp',
            },
            events,
          );
        }),
        {
          onProgress: (r, s) => void call.onProgress(r, s),
          onAccepted: (s, r) => {
            this.counters.callsAnswered++;
            void call.onAccepted(s, r);
          },
          onFailed: (r, err) => call.onFailed(r, err),
        },
      );
    } catch (err) {
      this.#log.warn({ call: call.id, err }, 'sbc: leg B could not be sent');
      call.end('leg-failed', sipStatusOf(err));
    }
  }

  /** A REGISTER in a zone without an inner registrar: TFX's own registrar (local.ts). */
  #onRegister(zone: ZoneAgent, incoming: Parameters<LocalUsers['register']>[1]): void {
    const local = this.local as LocalUsers;
    if (this.#closing) return;
    local.register(zone, incoming).catch((err: unknown) => {
      this.#log.warn({ zone: zone.name, err }, 'sbc: REGISTER failed');
      const tx = incoming.transaction;
      if (tx && !tx.terminated) tx.respond(createResponse(incoming.request, 500));
    });
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
            void call.onAccepted(s, r);
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
    this.#labelOf.delete(call);
    if (call.incoming.transaction) this.#byInvite.delete(call.incoming.transaction);
    this.counters.ended[reason]++;
    this.#log.info({ call: call.id, reason }, 'sbc: call ended');
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
