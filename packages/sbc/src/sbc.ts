/**
 * The SBC: zones (each a SIP user agent on its own addresses), the routes between them, and the
 * live B2BUA calls. An INVITE entering a zone takes this path (the request route of the SBC):
 *
 *   emergency (emergency.ts: past limits, auth and fraud, to the emergency trunks)
 *     → limits (zone maxCalls: 503) → auth (407) → local (a user registered through a zone: its
 *     contacts, forked in parallel; anchor.ts decides direct or anchored media)
 *     → routing (zone → trunks: 404 when none)
 *     → media (offer anchored in the engine: the zone's SDP for the far side)
 *     → bridge (leg B through the trunk's zone; 1xx/2xx/failures back to leg A)
 *   and as each call starts, admission control (admission.ts via admit.ts: 503/486; emergency
 *   calls never refused, the newest ordinary call preempted at capacity), released in #ended.
 *
 * Ownership (docs/closures.md): Sbc → ZoneAgents (stack + dialog layers) and SbcCalls;
 * SbcCall → two legs (dialogs) + one media session. `close()` ends every call on both legs (BYE,
 * CANCEL or a final response), then closes the zones. Idempotent.
 */
import { randomBytes } from 'node:crypto';
import { TfxError } from '@tfx/protocol';
import type { CallStats, LegProfile, MediaEngine } from '@tfx/media';
import {
  DONE,
  createResponse,
  NEXT,
  Route,
  formatUri,
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
  type IncomingRefer,
  type ServerInvite,
  type SipRequest,
  type SipUri,
  type TimerHandle,
} from '@tfx/sip';
import { SbcCall, callOf, sipStatusOf, type CallState, type EndReason, type Leg } from './call.js';
import { SbcAuth, type AuthOutcome } from './auth.js';
import { Blacklist, type BlacklistAdd, type BlacklistEntry } from './blacklist.js';
import { normalizeUser } from './normalize.js';
import { FraudGuard } from './fraud.js';
import { onRefer } from './refer-policy.js';
import type { TransferCounters } from './transfer.js';
import { selectTrunks, type SelectContext } from './routing.js';
import { DEFAULT_QUALITY_WINDOW, QualityMeter, QualityTracker } from './quality.js';
import { noTrunkLeft, trunkProbes, type TrunkProbes } from './probe.js';
import { compileRuleSet, legBRequest, reloadPlan, type RuleSet } from './rules.js';
import type { SbcConfig, SbcOptions, TrunkSpec, ZoneSpec } from './types.js';
import { CallJournal } from './recovery.js';
import { RegistrationRelay, resolveRegistrar } from './registrar.js';
import {
  anchorPlan,
  directMedia,
  sdpKind,
  transportKind,
  webrtcProfile,
  type EndpointKind,
  type MediaPath,
} from './anchor.js';
import { ForkedInvite } from './fork.js';
import { LocalUsers, type LocalContact } from './local.js';
import { ZoneAgent } from './zone.js';
import { CdrTracker } from './cdr.js';
import { SignalRecord } from './signals.js';
import { LawfulIntercept, factsOf } from './intercept.js';
import { emergencyStage, withResourcePriority, type EmergencySpec } from './emergency.js';
import { UpstreamRegistrations } from './upstream.js';
import { trunkLegProfile, trunkMedia, trunkOffer } from './trunk-media.js';
import { AdmissionLedger } from './admission.js';
import { admitCall, PREEMPTION_REASON } from './admit.js';
import { DtmfInterworking, callerDtmf, withDtmf } from './dtmf.js';
import { announcementDurations, type CallTones } from './tones.js';

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
  /** Calls answered 504: every trunk of the route down or failed (docs/sbc.md, "Trunks"). */
  noTrunk: number;
  overLimit: number;
  mediaRefused: number;
  /** REFERs refused (policy, Replaces, busy), executed and failed (docs/sbc.md, "Transfer"). */
  transfers: TransferCounters;
  /** INVITEs refused 488: a WebRTC side and an engine without WebRTC legs (anchor.ts). */
  webrtcRefused: number;
  /** INVITEs to an emergency number (emergency.ts), admitted past limits, auth and fraud. */
  emergencyCalls: number;
}

/** A live call as the REST API and the console list it. */
export interface CallView {
  readonly id: string;
  readonly state: CallState;
  readonly startedAt: number;
  /** The media session's id in the engine (a transfer makes a new one). */
  readonly media: string;
  readonly a: { readonly zone: string; readonly callId: string | undefined };
  readonly b: {
    readonly zone: string;
    readonly callId: string | undefined;
    readonly trunk: string;
  };
  /** A call to an emergency number (emergency.ts). */
  readonly emergency: boolean;
}

/** One INVITE on its way through the INVITE route. */
interface InviteContext {
  readonly zone: ZoneAgent;
  readonly invite: ServerInvite;
  readonly ctx: ReceiveContext;
  readonly now: number;
  /** The rules this call keeps for its whole life (a reload swaps the SBC's, not these). */
  readonly rules: RuleSet;
  /** The called user, normalized by the zone's rules (a registered phone's contact user). */
  user: string | undefined;
  /** Set by the routing stage. */
  trunks: TrunkSpec[];
  /** The account (auth stage: the authenticated user; else the From user), for fraud limits. */
  account: string | undefined;
  /** Set by the fraud stage when the call counts toward its account's limits. */
  fraudKey?: string;
  readonly log: { readonly zone: string; readonly remote: string };
  /** Set by the auth stage: the digest user of an untrusted zone's caller. */
  authUser?: string;
  /** Set by the emergency stage: limits, auth and fraud let the call pass (emergency.ts). */
  emergency?: boolean;
}

/** Where a new call's leg B goes, and how its media is handled. */
interface CallDestination {
  readonly zone: ZoneAgent;
  /** The trunk's name, or `local:<user>` for a registered user's contacts. */
  readonly label: string;
  readonly aProfile: LegProfile;
  readonly bProfile: LegProfile;
  readonly media: MediaPath;
  /** `sdp` undefined: a late offer (the caller's INVITE had none). */
  readonly dial: (call: SbcCall, sdp: string | undefined) => void;
}

const decoder = new TextDecoder();
/** How long a BYE's 2xx waits for the engine's stats of the call (call.ts `finalStats`). */
const FINAL_STATS_TIMEOUT_MS = 500;

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
      'session-expired': 0,
      'transfer-failed': 0,
      shutdown: 0,
      'max-duration': 0,
      preempted: 0,
    },
    noRoute: 0,
    noTrunk: 0,
    overLimit: 0,
    mediaRefused: 0,
    transfers: { refused: 0, executed: 0, failed: 0 },
    webrtcRefused: 0,
    emergencyCalls: 0,
  };
  /** TFX's own registrar in the zones (`SbcOptions.local`): REGISTERs, calls to its users. */
  readonly local: LocalUsers | undefined;
  readonly #o: SbcOptions;
  readonly #engine: MediaEngine;
  readonly #log: Logger;
  readonly #clock: Clock;
  /** Routes, trunks, normalization: swapped whole by `reload` (docs/sbc.md, "Reload"). */
  #rules: RuleSet;
  readonly #calls = new Map<string, SbcCall>();
  /** OPTIONS probes of the trunks (probe.ts): rebuilt on start and reload. */
  probes: TrunkProbes | undefined;
  /** Registrations of TFX to the trunks with `register` (upstream.ts): kept across reloads. */
  upstream: UpstreamRegistrations | undefined;
  /** The trunks in force (those of the last reload). */
  trunks: readonly TrunkSpec[] = [];
  /** Which trunk each call's leg B is on. */
  readonly #trunkOf = new Map<SbcCall, TrunkSpec>();
  /** Leg B's destination label of calls to registered users (`local:<user>`). */
  readonly #labelOf = new Map<SbcCall, string>();
  /** Emergency calls (emergency.ts) and the emergency settings in force (reloaded). */
  readonly #emergencyCalls = new WeakSet<SbcCall>();
  #emergency: EmergencySpec | undefined;
  /** Admission control (admission.ts): live calls per scope, checked as each call starts. */
  readonly admission: AdmissionLedger;
  readonly #byInvite = new Map<AnyServerTransaction, SbcCall>();
  readonly #unsubscribe: Array<() => void> = [];
  readonly #auth: SbcAuth | undefined;
  /** Sources every zone drops (by hand, flood and auth bans). */
  readonly blacklist: Blacklist;
  /** Toll-fraud limits per zone (only zones that configure some). */
  readonly fraud = new Map<string, FraudGuard>();
  /** Per call: its account and zone guard (released at the end), its max-duration timer. */
  readonly #fraudOf = new Map<
    SbcCall,
    { guard: FraudGuard; account: string; key: string; timer?: object }
  >();
  /** Inner registrars by the zone their phones register from (registrar.ts). */
  readonly relays = new Map<string, RegistrationRelay>();
  /** Confirmed calls kept in the call store (recovery.ts), when one is given. */
  journal: CallJournal | undefined;
  /** The CDRs' bookkeeping (`SbcOptions.cdr`): totals by final status class. */
  readonly cdr: CdrTracker | undefined;
  /** Live quality per trunk (quality.ts): ASR, PDD, ACD, MOS over a sliding window. */
  readonly quality: QualityTracker;
  /** Every zone's SIP messages by Call-ID, for a call's PCAP (signals.ts). */
  readonly signals = new SignalRecord();
  /** Lawful intercept (`SbcOptions.intercept`): copies of matching calls (intercept.ts). */
  readonly intercept: LawfulIntercept | undefined;
  /** SIP INFO ↔ RFC 4733 per trunk (dtmf.ts), with its counters. */
  readonly dtmf: DtmfInterworking;
  /** Tones and announcements toward callers (tones.ts), with their counters. */
  readonly tones: CallTones;
  /** Ends the previous process's calls (after start): resolves with how many. */
  recovered: Promise<number> = Promise.resolve(0);
  #started = false;
  #closing: Promise<void> | undefined;

  constructor(o: SbcOptions) {
    this.#o = o;
    this.#engine = o.engine;
    this.#log = o.logger ?? silentLogger;
    this.#clock = o.clock ?? realClock;
    const clock = this.#clock;
    const durations = announcementDurations(o.zones); // a bad WAV: config-invalid, here
    this.tones = {
      engine: this.#engine,
      clock: this.#clock,
      spec: (zone) => o.zones.find((z) => z.name === zone)?.tones,
      durationOf: (path) => durations.get(path) ?? 0,
      counters: { ringback: 0, failure: 0, failed: 0 },
    };
    this.dtmf = new DtmfInterworking(this.#engine, (level, obj, msg) => this.#log[level](obj, msg));
    this.cdr =
      o.cdr &&
      new CdrTracker(
        o.cdr,
        () => clock.now(),
        (err) => this.#log.warn({ err }, 'sbc: CDR not written'),
      );
    this.quality = new QualityTracker(
      new QualityMeter(o.quality ?? DEFAULT_QUALITY_WINDOW, () => clock.now()),
      () => clock.now(),
    );
    this.#rules = compileRuleSet(o);
    this.#emergency = o.emergency;
    this.intercept =
      o.intercept &&
      new LawfulIntercept({
        ...o.intercept,
        engine: o.engine,
        signals: this.signals,
        legs: legCallIds,
        clock,
        logger: this.#log,
      });
    this.admission = new AdmissionLedger(o.admission, o.emergency?.reserved ?? 0);
    this.#auth =
      o.auth &&
      new SbcAuth({
        realm: o.auth.realm,
        lookupHa1: o.auth.lookupHa1,
        algorithms: o.auth.algorithms ?? ['MD5'],
        logger: this.#log,
      });
    this.blacklist = new Blacklist(this.#clock);
    this.blacklist.onAdd = (e) =>
      this.#log.warn(
        { cidr: e.cidr, zone: e.zone, origin: e.origin, reason: e.reason, until: e.until },
        'sbc: blacklisted',
      );
    for (const z of o.zones) {
      const guard = z.fraud && new FraudGuard(z.fraud, `sbc.zones.${z.name}.fraud`);
      if (guard && !guard.off) this.fraud.set(z.name, guard);
    }
    for (const z of o.zones) if (z.registrar) resolveRegistrar(z, o.zones, o.trunks);
    if (o.webSocket && o.zones.filter((z) => z.webrtc).length > 1) {
      throw new TypeError('sbc.zones: one zone at most is webrtc (it carries /sip)');
    }
    this.local =
      o.local &&
      new LocalUsers({
        domain: o.local.domain,
        registrar: o.local.registrar,
        ...(this.#auth && {
          authorize: (z: ZoneAgent, req: SipRequest, ctx: ReceiveContext) =>
            this.authorize(z, req, ctx),
        }),
        zones: this.zones,
        logger: this.#log,
        now: () => this.#clock.now(),
      });
  }

  /**
   * Swaps in new routes, trunks and normalization rules, atomically: everything is compiled and
   * checked first, and a problem throws a TypeError naming the key (the running rules stay).
   * Calls in progress keep the rules they started with; the next INVITE takes the new ones. The
   * zones themselves (listeners, media, trust, security, limits) are not changed: those that
   * differ are returned in `restartNeeded`; adding or removing a zone is refused.
   */
  reload(cfg: SbcConfig): { generation: number; restartNeeded: string[] } {
    const { restartNeeded } = reloadPlan(this.#o.zones, cfg);
    const next = compileRuleSet(cfg, this.#rules.generation + 1);
    this.#rules = next;
    this.#emergency = cfg.emergency;
    this.quality.meter.setWindow(cfg.quality ?? DEFAULT_QUALITY_WINDOW);
    this.admission.configure(cfg.admission ?? {}, cfg.emergency?.reserved ?? 0);
    if (this.#started && !this.#closing) {
      this.#startProbes(cfg.trunks);
      this.upstream?.apply(cfg.trunks);
    }
    this.#log.debug({ generation: next.generation, restartNeeded }, 'sbc: rules swapped');
    return { generation: next.generation, restartNeeded };
  }

  /** The generation of the rules new calls take (1 at start, +1 per reload). */
  get rulesGeneration(): number {
    return this.#rules.generation;
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
          blacklist: this.blacklist,
          tap: this.intercept?.wrap(this.signals.tap) ?? this.signals.tap,
          ...(this.#auth && {
            authorize: (z: ZoneAgent, req: SipRequest, ctx: ReceiveContext) =>
              this.authorize(z, req, ctx),
          }),
          resolveHop: (uri) => this.relays.get(spec.name)?.hopFor(uri),
          // The platform's /sip (the zone's own options, not an event handler).
          ...(spec.webrtc && this.#o.webSocket && { webSocket: this.#o.webSocket }),
          events: {
            onInvite: (z, inv, ctx) => this.#onInvite(z, inv, ctx),
            onCancel: (_z, tx) => this.#byInvite.get(tx)?.onCancel(),
            onRefer: (z, refer) => this.#onRefer(z, refer),
            ...((this.local || spec.registrar !== undefined) && {
              onRegister: (z, inc) => this.#onRegister(z, inc),
            }),
          },
        });
        this.zones.set(spec.name, zone);
        out.push(...(await zone.start()));
      }
      this.#startRelays();
      this.#startProbes(this.#o.trunks);
      this.upstream = new UpstreamRegistrations({
        zones: this.zones,
        clock: this.#clock,
        logger: this.#log,
      });
      this.upstream.apply(this.#o.trunks);
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
      this.#engine.on('dtmf', (e) => {
        const call = this.#calls.get(e.callId);
        if (call) this.dtmf.onEvent(call, e.tag, e.digit, e.durationMs);
      }),
      this.#engine.on('stats', (e) => {
        if (e.final === false && this.#calls.has(e.stats.callId)) this.#liveStats(e.stats);
      }),
    );
    return out;
  }

  /**
   * A live call's media stats (the engine's periodic event, or its `query` at a BYE: call.ts),
   * kept for the CDR and the trunk's quality while the call lives (both drop them at its end).
   */
  #liveStats(stats: CallStats): void {
    this.cdr?.stats(stats.callId, stats.legs);
    this.quality.stats(stats.callId, stats.legs);
  }

  /** Live calls. */
  calls(): CallView[] {
    return [...this.#calls.values()].map((c) => ({
      id: c.id,
      state: c.state,
      startedAt: c.startedAt,
      media: c.mediaId,
      a: {
        zone: c.a.zone.name,
        callId: c.a.session?.dialog.id.callId ?? c.incoming.request.headers.callId(),
      },
      b: {
        zone: c.b.zone.name,
        callId: c.b.session?.dialog.id.callId ?? c.outgoing?.request.headers.callId(),
        trunk: this.#trunkOf.get(c)?.name ?? this.#labelOf.get(c) ?? '',
      },
      emergency: this.#emergencyCalls.has(c),
    }));
  }

  /** A live or recently ended call's PCAP of both legs' signalling; undefined: unknown id. */
  callPcap(id: string): Uint8Array | undefined {
    const live = this.#calls.get(id);
    const legs = live ? legCallIds(live) : this.signals.endedLegs(id);
    return legs && this.signals.pcap(legs);
  }

  get callCount(): number {
    return this.#calls.size;
  }

  // --- security operations (REST, console) -------------------------------------------------------

  /**
   * The digest gate for an out-of-dialog request of a zone (auth.ts): INVITE, MESSAGE, SUBSCRIBE
   * (407) and REGISTER (401). In a trusted zone or without `auth` it is `ok` with the username
   * `''` (nobody authenticated); otherwise the caller answers a refusal with its status and
   * headers. MESSAGE, SUBSCRIBE and REGISTER of an untrusted zone have passed it already when the
   * zone's dialog layer sees them (zone.ts).
   */
  authorize(zone: ZoneAgent, request: SipRequest, ctx: ReceiveContext): Promise<AuthOutcome> {
    const sec = zone.security;
    if (!this.#auth || !sec) return Promise.resolve({ ok: true, username: '' });
    return this.#auth.authorize(zone.name, sec, request, ctx, this.#clock.now());
  }

  /** Blacklists an address or CIDR (a TypeError for a malformed one or a bad duration). */
  addToBlacklist(a: Omit<BlacklistAdd, 'origin'>): BlacklistEntry {
    if (a.zone !== undefined && !this.#o.zones.some((z) => z.name === a.zone))
      throw new TypeError(`no zone named ${a.zone}`);
    return this.blacklist.add({ ...a, origin: 'manual' });
  }

  /**
   * Lifts the blacklist entries of an address or CIDR, and the zones' own flood and source bans
   * of that address (so its next request starts afresh). Returns how many entries went.
   */
  liftFromBlacklist(address: string, zone?: string): number {
    const n = this.blacklist.lift(address, zone);
    const host = address.replace(/\/(32|128)$/, '');
    for (const z of this.zones.values()) {
      if (zone !== undefined && z.name !== zone) continue;
      z.security?.lift(host);
    }
    this.#log.info({ address, zone, lifted: n }, 'sbc: blacklist entry lifted');
    return n;
  }

  /** Bans of one user from one source (failed authentications) in force, by zone. */
  userBans(): Array<{
    zone: string;
    user: string;
    source: string;
    reason: string;
    since: number;
    until: number;
  }> {
    const now = this.#clock.now();
    const out: Array<{
      zone: string;
      user: string;
      source: string;
      reason: string;
      since: number;
      until: number;
    }> = [];
    for (const z of this.zones.values()) {
      for (const b of z.security?.authGate.list(now) ?? []) {
        if (b.kind !== 'user') continue;
        out.push({
          zone: z.name,
          user: b.value,
          source: b.source ?? '',
          reason: b.reason,
          since: b.since,
          until: b.until,
        });
      }
    }
    return out;
  }

  /** What routing is given (routing.ts): the clock, the random source, the trunks' quality. */
  #select(): SelectContext {
    const random = this.#o.random ?? Math.random;
    return { now: this.#clock.now(), random, quality: (t) => this.quality.meter.of(t) };
  }

  /** (Re)starts the trunks' OPTIONS probes; states restart up (probe.ts). */
  #startProbes(trunks: readonly TrunkSpec[]): void {
    this.probes?.close();
    this.trunks = trunks;
    this.probes = trunkProbes(trunks, this.zones, { clock: this.#clock, logger: this.#log });
    this.probes.start();
  }

  /** Ends every call on both legs, then closes the zones. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const u of this.#unsubscribe.splice(0)) u();
      this.probes?.close();
      for (const r of this.relays.values()) r.close();
      const live = [...this.#calls.values()];
      for (const c of live) c.end('shutdown', 503);
      // After the calls: each ended call left the store (nothing for the next start to end).
      this.journal?.close();
      // The BYEs, CANCELs and 503s are handed to the transports before the sockets close; the
      // upstream bindings are removed (Expires: 0, a bounded wait for the carriers' answers).
      if (live.length > 0) await new Promise((r) => setTimeout(r, 100));
      await this.upstream?.close();
      await Promise.all([...this.zones.values()].map((z) => z.close()));
      this.intercept?.close();
    })();
    return this.#closing;
  }

  // --- the INVITE route ------------------------------------------------------------------------

  /** The INVITE route: these stages, in this order (the SBC's policy in one list). */
  readonly inviteRoute = new Route<InviteContext>([
    [
      'emergency',
      emergencyStage(
        () => this.#emergency,
        () => this.trunks,
        (c) => {
          this.counters.emergencyCalls++;
          this.#log.warn({ ...(c as InviteContext).log, user: c.user }, 'sbc: emergency call');
        },
      ),
    ],
    ['limits', (c) => this.#limits(c)],
    ['auth', (c) => this.#authStage(c)],
    ['fraud', (c) => this.#fraudStage(c)],
    ['registered', (c) => this.#registered(c)],
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
    const rules = this.#rules;
    const c: InviteContext = {
      zone,
      invite,
      ctx,
      now: this.#clock.now(),
      rules,
      user: normalizeUser(
        rules.zones.get(zone.name)?.rules ?? [],
        'ruri',
        uri.kind === 'sip' ? uri.user : undefined,
      ),
      trunks: [],
      account: undefined,
      log: { zone: zone.name, remote: `${ctx.remote.address}:${ctx.remote.port}` },
    };
    const pending = this.inviteRoute.run(c);
    if (pending)
      pending.catch((err: unknown) => {
        this.#log.warn({ ...c.log, err }, 'sbc: INVITE route failed');
        // A fraud slot taken before the failure is given back (release is idempotent).
        if (c.fraudKey !== undefined)
          this.fraud.get(zone.name)?.release(c.account ?? '', c.fraudKey);
        invite.reject(500);
      });
  }

  /** Zone call limit (503). */
  #limits(c: InviteContext): Verdict {
    const max = c.zone.spec.limits.maxCalls;
    if (max > 0 && !c.emergency && this.#zoneCalls(c.zone.name) >= max) {
      this.counters.overLimit++;
      this.#log.info(c.log, 'sbc: zone call limit reached (503)');
      c.invite.reject(503);
      return DONE;
    }
    return NEXT;
  }

  /**
   * Digest in an untrusted zone (auth.ts; RFC 3261 §22.3): no credentials or stale ones → 407
   * with Proxy-Authenticate; bad ones → 403 (the same for unknown users) and counted toward the
   * Gate's bans. A trusted zone, or an SBC given no `auth`, skips this stage. The account of the
   * fraud limits is the authenticated user, else the From user.
   */
  async #authStage(c: InviteContext): Promise<Verdict> {
    if (c.emergency) return NEXT; // placed unauthenticated (emergency.ts)
    // A phone registered through the zone's inner registrar was authenticated there (registrar.ts).
    if (this.relays.get(c.zone.name)?.fromBinding(c.ctx)) {
      const from = c.invite.request.headers.from();
      c.account = from?.uri.kind === 'sip' ? from.uri.user : undefined;
      return NEXT;
    }
    const r = await this.authorize(c.zone, c.invite.request, c.ctx);
    if (!r.ok) {
      c.invite.reject(r.status, { headers: r.headers });
      return DONE;
    }
    if (r.username) c.authUser = r.username;
    const from = c.invite.request.headers.from();
    c.account =
      (r.username && (this.#o.auth?.accountOf?.(r.username) ?? r.username)) ||
      (from?.uri.kind === 'sip' ? from.uri.user : undefined);
    return NEXT;
  }

  /**
   * Toll-fraud limits of the zone (fraud.ts), per account: a denied destination → 403, the
   * account's calls per minute → 503 with Retry-After, its concurrent calls → 486. Off when the
   * zone configures none.
   */
  #fraudStage(c: InviteContext): Verdict {
    const guard = this.fraud.get(c.zone.name);
    if (!guard || c.emergency) return NEXT;
    const account = c.account ?? '';
    const key = `${c.zone.name}:${c.invite.request.headers.callId() ?? ''}:${c.now}`;
    const d = guard.admit(account, key, c.user, c.now);
    if (!d.ok) {
      this.#log.info(
        { ...c.log, account, user: c.user, reason: d.reason, rule: d.rule, status: d.status },
        'sbc: call refused by the fraud limits',
      );
      c.invite.reject(d.status, {
        headers: d.retryAfter !== undefined ? [['Retry-After', String(d.retryAfter)]] : [],
      });
      return DONE;
    }
    c.fraudKey = key;
    return NEXT;
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
    const all = selectTrunks(c.rules.routes, c.zone.name, c.user, this.#select());
    c.trunks = all.filter((t) => this.probes?.isUp(t.name) ?? true);
    if (c.trunks.length === 0 && all.length > 0) {
      // Every trunk of the route is down (probe.ts): 504, the original design's "no trunk left".
      if (c.fraudKey !== undefined)
        this.fraud.get(c.zone.name)?.release(c.account ?? '', c.fraudKey);
      this.counters.noTrunk++;
      this.#log.info({ ...c.log, user: c.user }, 'sbc: every trunk down (504)');
      c.invite.reject(504, { headers: noTrunkLeft() });
      return DONE;
    }
    if (c.trunks.length === 0) {
      if (c.fraudKey !== undefined)
        this.fraud.get(c.zone.name)?.release(c.account ?? '', c.fraudKey);
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
    if (!local || c.user === undefined || c.emergency) return NEXT;
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
    const { zone, trunks, user, rules } = ic;
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
      aProfile: withDtmf(
        this.#profile(zone.spec, aKind),
        callerDtmf(this.#o.trunks, zone.name, ic.ctx.remote.address),
      ),
      bProfile: withDtmf(
        trunkLegProfile(this.#profile(bZone.spec, 'rtp'), trunks, this.#engine),
        first.dtmf,
      ),
      media: trunkMedia(this.#engine, trunks, (id) => this.#trunkOfId(id)),
      dial: (call, sdp) => this.#dial(call, [...trunks], sdp, user, rules),
    });
    return DONE;
  }

  /** A new call: leg A's offer through the media path, then leg B by `dest.dial`. */
  #startCall(ic: InviteContext, dest: CallDestination): void {
    const { zone, invite } = ic;
    const log = ic.log;
    const id = `sbc-${randomBytes(8).toString('hex')}`;
    // Admission control (admission.ts): released in #ended, on every end path.
    const admitted = admitCall(this.admission, {
      key: id,
      invite,
      zones: [zone.name, dest.zone.name],
      destination: dest.label,
      account: ic.account,
      emergency: ic.emergency === true,
      now: ic.now,
      freePorts: this.#o.freeMediaPorts?.(),
      log: this.#log,
      logContext: log,
      preempt: (key) => this.#calls.get(key)?.end('preempted', 503, [PREEMPTION_REASON]),
    });
    if (!admitted) {
      if (ic.fraudKey !== undefined)
        this.fraud.get(zone.name)?.release(ic.account ?? '', ic.fraudKey);
      return;
    }
    const call = new SbcCall(
      id,
      invite,
      { zone, mediaTag: 'a', profile: dest.aProfile },
      { zone: dest.zone, mediaTag: 'b', profile: dest.bProfile },
      {
        engine: dest.media,
        onEnded: (c, reason) => this.#ended(c, reason),
        onEnding: (c, reason, status) => {
          this.quality.ended(c);
          this.cdr?.ending(
            c,
            reason,
            status,
            this.#trunkOf.get(c)?.name ?? this.#labelOf.get(c) ?? '',
          );
        },
        finalStats: {
          clock: this.#clock,
          timeoutMs: FINAL_STATS_TIMEOUT_MS,
          onStats: (_c, stats) => this.#liveStats(stats),
        },
        log: (level, obj, msg) => this.#log[level](obj, msg),
        dtmf: this.dtmf,
        tones: this.tones,
      },
      this.#clock.now(),
    );
    this.#calls.set(call.id, call);
    if (invite.transaction) this.#byInvite.set(invite.transaction, call);
    const guard = this.fraud.get(zone.name);
    if (guard && ic.fraudKey !== undefined)
      this.#fraudOf.set(call, { guard, account: ic.account ?? '', key: ic.fraudKey });
    if (dest.label.startsWith('local:')) this.#labelOf.set(call, dest.label);
    if (ic.emergency) {
      this.#emergencyCalls.add(call);
      this.cdr?.emergency(call);
    }
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
    const offered = call.offerFromA();
    this.intercept?.consider(
      call,
      factsOf(invite.request, ic.user, ic.authUser, ic.ctx.remote.address),
      dest.media === this.#engine ? offered : undefined,
    );
    offered.then(
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
  #dialContacts(
    call: SbcCall,
    targets: readonly LocalContact[],
    sdp: string | undefined,
    user: string,
  ): void {
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
              ...(sdp !== undefined
                ? { body: sdp, contentType: 'application/sdp' }
                : // A late offer: each branch goes without SDP (as in #dial); the winner's 2xx
                  // offers and A's ACK answers.
                  {
                    deferAck: true,
                    headers: withoutReliable([['Supported', t.zone.supported.join(', ')]]),
                  }),
            },
            events,
          );
        }),
        {
          onProgress: (r, s) => {
            if (r.status === 180 || r.status === 183) this.cdr?.ringing(call);
            void call.onProgress(r, s);
          },
          onAccepted: (s, r) => {
            this.counters.callsAnswered++;
            this.cdr?.answered(call);
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

  /**
   * A REGISTER out of dialog: to the zone's inner registrar (registrar.ts) when it names one,
   * else served by TFX's own registrar (local.ts); each authenticates it its own way.
   */
  #onRegister(zone: ZoneAgent, incoming: StackRequest): void {
    if (this.#closing) return;
    const relay = this.relays.get(zone.name);
    if (relay) {
      relay.onRegister(incoming);
      return;
    }
    const local = this.local;
    if (!local) {
      const tx = incoming.transaction;
      if (tx && !tx.terminated) tx.respond(createResponse(incoming.request, 405));
      return;
    }
    local.register(zone, incoming).catch((err: unknown) => {
      this.#log.warn({ zone: zone.name, err }, 'sbc: REGISTER failed');
      const tx = incoming.transaction;
      if (tx && !tx.terminated) tx.respond(createResponse(incoming.request, 500));
    });
  }

  /** Leg B toward the first trunk left; on an early failure (no 1xx) the next trunk is tried. */
  #dial(
    call: SbcCall,
    trunks: TrunkSpec[],
    sdp: string | undefined,
    user: string | undefined,
    rules: RuleSet,
  ): void {
    if (call.state === 'ended') return;
    const trunk = trunks.shift() as TrunkSpec;
    const zone = this.zones.get(trunk.zone) as ZoneAgent;
    if (zone !== call.b.zone) {
      // Failover to a trunk of another zone needs a new media leg: not done, the call fails.
      call.end('rejected', 503);
      return;
    }
    this.#trunkOf.set(call, trunk);
    // The trunk's codec policy on the offer (codec-policy.ts): none left → the next trunk, or 488.
    const offer = trunkOffer(sdp, trunk, call.a.zone.host); // the Warning names the caller's side
    if (!offer.ok) {
      this.cdr?.trying(call, trunk.name, { from: undefined, to: undefined, ruri: undefined });
      this.cdr?.tried(call, 488);
      this.#log.info({ call: call.id, trunk: trunk.name, reason: offer.reason }, 'sbc: codecs');
      if (trunks.length > 0) this.#dial(call, trunks, sdp, user, rules);
      else call.end('rejected', 488, offer.headers);
      return;
    }
    const base = (parseUri(trunk.uri) as { value: SipUri }).value;
    const from = call.incoming.request.headers.from();
    const out = legBRequest(rules, {
      zone: call.a.zone.name,
      trunk,
      user,
      fromUser: from?.uri.kind === 'sip' ? from.uri.user : undefined,
      fields: call.incoming.request.headers.entries(),
      supported: zone.supported,
    });
    if (out.strippedTags.length > 0)
      this.#log.debug(
        { call: call.id, trunk: trunk.name, tags: out.strippedTags },
        'sbc: option tags stripped',
      );
    const { fromUser } = out;
    const headers = this.#emergencyCalls.has(call)
      ? withResourcePriority(out.headers, this.#emergency?.resourcePriority)
      : out.headers;
    const target: SipUri = { ...base, ...(out.ruriUser !== undefined && { user: out.ruriUser }) };
    this.cdr?.trying(call, trunk.name, { from: fromUser, to: out.toUser, ruri: out.ruriUser });
    this.quality.trying(call, trunk.name);
    const toUri: SipUri = {
      ...target,
      ...(out.toUser !== undefined && { user: out.toUser }),
      params: new Map(),
      headers: [],
    };
    let provisional = false;
    // The per-try timeout (trunks[].timeoutSeconds, Kamailio's fr_timer): no response at all
    // in time → CANCEL (sent once a provisional arrives, §9.1) and the next trunk, or 504.
    let abandoned = false;
    let timer: TimerHandle | undefined;
    const stopTimer = (): void => {
      if (timer !== undefined) this.#clock.clearTimer(timer);
      timer = undefined;
    };
    try {
      call.outgoing = zone.invite(
        {
          target,
          uri: target,
          from: `<sip:${fromUser !== undefined ? `${escapeUser(fromUser)}@` : ''}${zone.host}>`,
          to: `<${formatUri(toUri)}>`,
          ...(offer.sdp !== undefined
            ? { headers, body: offer.sdp, contentType: 'application/sdp' }
            : // A late offer (docs/sbc.md): leg B goes without SDP too; its 2xx offers, A's ACK
              // answers and the SBC sends B's ACK itself. No 100rel toward B: an offer in a
              // reliable 18x would need its answer in our PRACK.
              { deferAck: true, headers: withoutReliable(headers) }),
        },
        {
          onProgress: (r, s) => {
            if (abandoned) return;
            stopTimer();
            if (r.status > 100) provisional = true;
            this.quality.progress(call, r.status);
            if (r.status === 180 || r.status === 183) this.cdr?.ringing(call);
            void call.onProgress(r, s);
          },
          onAccepted: (s, r) => {
            stopTimer();
            this.counters.callsAnswered++;
            this.cdr?.answered(call);
            this.quality.answered(call);
            void call.onAccepted(s, r).then(() => {
              this.#answered(call);
              this.journal?.confirmed(call);
            });
          },
          onFailed: (r, err) => {
            stopTimer();
            if (abandoned) return;
            this.cdr?.tried(call, r?.status ?? (err ? sipStatusOf(err) : 500));
            this.quality.failed(call);
            const retry =
              !provisional &&
              trunks.length > 0 &&
              call.state !== 'ended' &&
              (r === undefined || r.status === 408 || r.status >= 500);
            if (retry) this.#dial(call, trunks, sdp, user, rules);
            else if (
              !provisional &&
              !trunk.name.startsWith('registered:') &&
              (r === undefined || r.status === 408 || (r.status >= 500 && r.status < 600))
            ) {
              // The last trunk failed as the others did: no trunk left (docs/sbc.md).
              if (call.state !== 'ended') this.counters.noTrunk++;
              call.failWith(504, 504, noTrunkLeft());
            } else call.onFailed(r, err);
          },
        },
      );
      const attempt = call.outgoing;
      const ms = (trunk.timeoutSeconds ?? 0) * 1000;
      if (ms > 0)
        timer = this.#clock.setTimer(ms, () => {
          timer = undefined;
          if (call.state === 'ended' || call.outgoing !== attempt) return;
          abandoned = true;
          attempt.cancel();
          this.cdr?.tried(call, 408);
          this.quality.failed(call);
          this.#log.info({ call: call.id, trunk: trunk.name }, 'sbc: trunk timed out');
          if (trunks.length > 0) this.#dial(call, trunks, sdp, user, rules);
          else {
            this.counters.noTrunk++;
            call.end('rejected', 504, noTrunkLeft());
          }
        });
    } catch (err) {
      this.#log.warn({ call: call.id, err }, 'sbc: leg B could not be sent');
      call.end('leg-failed', sipStatusOf(err));
    }
  }

  /** A REFER in a call's dialog: the zone's policy (refer-policy.ts) refuses or executes it. */
  #onRefer(zone: ZoneAgent, refer: IncomingRefer): void {
    const call = callOf(refer.session);
    onRefer(zone, call, refer, {
      engine: this.#engine,
      counters: this.counters.transfers,
      log: this.#log,
      profileOf: (z) => (this.#o.profileOf ?? plainProfile)(z.spec),
      newMediaId: () => `sbc-${randomBytes(8).toString('hex')}`,
      route: (from, user, transferee) => {
        const rules = this.#rules;
        const u = normalizeUser(rules.zones.get(from.name)?.rules ?? [], 'ruri', user);
        const trunk = selectTrunks(rules.routes, from.name, u, this.#select())[0];
        const tz = trunk && this.zones.get(trunk.zone);
        if (!trunk || !tz) return undefined;
        const base = (parseUri(trunk.uri) as { value: SipUri }).value;
        const toUser = normalizeUser(rules.trunks.get(trunk.name)?.rules ?? [], 'ruri', u);
        const target: SipUri = { ...base, ...(toUser !== undefined && { user: toUser }) };
        return {
          zone: tz,
          trunk,
          invite: {
            target,
            uri: target,
            // The new call is the transferee's (RFC 5589 §6): its user, our zone's host.
            from: `<sip:${fromUserOf(transferee)}${tz.host}>`,
            to: `<${formatUri({ ...target, params: new Map(), headers: [] })}>`,
          },
        };
      },
    });
  }

  /** The call is confirmed: the zone's maximum duration starts (fraud.ts). */
  #answered(call: SbcCall): void {
    const f = this.#fraudOf.get(call);
    const ms = f?.guard.maxDurationMs ?? 0;
    if (!f || ms <= 0 || call.state !== 'confirmed') return;
    f.timer = this.#clock.setTimer(ms, () => {
      if (call.state === 'ended') return;
      f.guard.counters.maxDuration++;
      this.#log.info(
        { call: call.id, account: f.account, maxDurationMs: ms },
        'sbc: maximum call duration reached: BYE on both legs',
      );
      call.end('max-duration');
    });
  }

  #ended(call: SbcCall, reason: EndReason): void {
    this.admission.release(call.id);
    const f = this.#fraudOf.get(call);
    if (f) {
      this.#fraudOf.delete(call);
      f.guard.release(f.account, f.key);
      if (f.timer) this.#clock.clearTimer(f.timer);
    }
    this.signals.ended(call.id, legCallIds(call));
    this.intercept?.ended(call);
    this.#calls.delete(call.id);
    this.#trunkOf.delete(call);
    this.journal?.ended(call);
    this.#labelOf.delete(call);
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

  /** The trunk leg B of the call with this media id is on (codec policy of later SDP). */
  #trunkOfId(mediaId: string): TrunkSpec | undefined {
    const call = this.#calls.get(mediaId); // a call's first media id is its own id
    if (call) return this.#trunkOf.get(call);
    for (const [c, t] of this.#trunkOf) if (c.mediaId === mediaId) return t; // after a transfer
    return undefined;
  }

  /** A REGISTER: relayed to the zone's inner registrar, if it names one (else 405). */
  #zoneCalls(zone: string): number {
    let n = 0;
    for (const c of this.#calls.values()) if (c.a.zone.name === zone || c.b.zone.name === zone) n++;
    return n;
  }
}

/** The transferee's user as its own dialog names it (`user@`), or nothing. */
function fromUserOf(leg: Leg): string {
  const uri = leg.session?.dialog.remoteUri.uri;
  return uri?.kind === 'sip' && uri.user !== undefined ? `${escapeUser(uri.user)}@` : '';
}

/** Leg B's header fields for a late offer: its Supported without `100rel` (an empty one stays). */
function withoutReliable(headers: readonly (readonly [string, string])[]): [string, string][] {
  const own = /^(supported|k)$/i;
  const out = headers.filter(([n]) => !own.test(n)).map(([n, v]) => [n, v] as [string, string]);
  const tags = headers
    .filter(([n]) => own.test(n))
    .flatMap(([, v]) => v.split(','))
    .map((t) => t.trim())
    .filter((t) => t !== '' && t.toLowerCase() !== '100rel');
  return [['Supported', tags.join(', ')], ...out];
}

/** §25.1 user part: unreserved, escaped, and user-unreserved; everything else %-escaped. */
function escapeUser(user: string): string {
  return user.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) =>
    [...new TextEncoder().encode(c)]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
      .join(''),
  );
}

/** The SIP Call-IDs of a call's legs (A's, B's current try). */
function legCallIds(c: SbcCall): string[] {
  return [
    c.a.session?.dialog.id.callId ?? c.incoming.request.headers.callId(),
    c.b.session?.dialog.id.callId ?? c.outgoing?.request.headers.callId(),
  ].filter((x): x is string => x !== undefined);
}
