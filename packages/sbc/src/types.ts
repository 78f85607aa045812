import type { CdrSink } from './cdr.js';
/**
 * What the SBC is given: zones (each a SIP border with its own listeners and media address),
 * trunks (far ends inside a zone) and routes (which trunk a call from a zone goes to). Plain data,
 * already validated: the server validates `sbc.*` of its config file with zod and hands the
 * result here; this package loads no file and opens no HTTP.
 */
import type { LegProfile, MediaEngine } from '@tfx/media';
import type { Binder, Clock, DigestAlgorithm, Ha1Lookup, Logger, TlsIdentity } from '@tfx/sip';
import type { AclSpec } from './acl.js';
import type { FraudLimits } from './fraud.js';
import type { AdmissionSpec } from './admission.js';
import type { EmergencySpec } from './emergency.js';
import type { AnchorMedia } from './anchor.js';
import type { LocalRegistrar } from './local.js';
import type { NormalizeRule } from './normalize.js';
import type { ProbeSpec } from './probe.js';
// Routing on cost and quality (routing.ts, quality.ts): TrunkSpec/RouteSpec extend these.
import type { QualityWindow } from './quality.js';
import type { RouteRouting, TrunkRouting } from './routing.js';
import type { UpstreamSpec } from './upstream.js';
import type { CodecPolicy } from './codec-policy.js';
import type { CallStore } from './recovery.js';
import type { InterceptDelivery, InterceptTarget } from './intercept.js';
import type { InnerRegistrarSpec } from './registrar.js';
import type { ZoneSecurity } from './security.js';
import type { ZoneTones } from './tones.js';

/** One listener of a zone (`udp://127.0.0.20:5080`). */
export interface ZoneListen {
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly address: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
}

/** Per-zone limits (more arrive with the security stages). */
export interface ZoneLimits {
  /** Most concurrent calls entering or leaving through this zone; beyond it 503. 0 = no limit. */
  readonly maxCalls: number;
}

export interface ZoneSpec {
  /** `public`, `core`, … (a-z, 0-9, -). */
  readonly name: string;
  readonly listen: readonly ZoneListen[];
  readonly media: {
    /** Local address the media sockets toward this zone bind (never the wildcard). */
    readonly address: string;
    /** Address written into SDP toward this zone when it differs (1:1 NAT). */
    readonly advertisedAddress?: string;
  };
  /** A trusted zone skips the security stages (digest, flood ban, scanner drop). */
  readonly trusted: boolean;
  /** The platform's WSS `/sip` belongs to this zone (`SbcOptions.webSocket`; docs/sbc.md). */
  readonly webrtc: boolean;
  /**
   * Calls between users of TFX's own registrar whose media can meet directly pass with their SDP
   * untouched (`auto`, the default) or are anchored in the media engine anyway (`always`).
   */
  readonly anchorMedia?: AnchorMedia;
  readonly limits: ZoneLimits;
  /** Security stages of an untrusted zone; unset fields take `DEFAULT_SECURITY`'s. */
  readonly security?: Partial<ZoneSecurity>;
  /** Normalization of calls entering through this zone (users before routing; headers). */
  readonly normalize?: readonly NormalizeRule[];
  /**
   * Header fields of INVITEs entering through this zone that may cross to the other leg (names,
   * or prefixes like `X-*`); default `DEFAULT_ALLOW_HEADERS` (docs/sbc.md, "Normalization").
   */
  readonly allowHeaders?: readonly string[];
  /** Option tags this zone's far ends support; others are stripped toward it. Default: keep all. */
  readonly optionTags?: readonly string[];
  /**
   * An in-dialog REFER from a leg in this zone (docs/sbc.md, "Transfer"): `refuse` (default)
   * answers 403; `execute` makes the SBC place the new call itself and bridge it.
   */
  readonly refer?: ReferPolicy;
  /** RFC 4028 session timers of the legs in this zone (their own, never the other leg's). */
  readonly sessionTimer?: ZoneSessionTimer;
  /** CIDR allow/deny lists (every zone, trusted too): sources not let in are dropped silently. */
  readonly acl?: AclSpec;
  /** Toll-fraud limits per account of calls entering through this zone; off when unset. */
  readonly fraud?: FraudLimits;
  /** REGISTERs of this zone go to this inner registrar through the SBC (registrar.ts). */
  readonly registrar?: InnerRegistrarSpec;
  /** Ringback, busy/congestion tones and announcements toward callers of this zone (tones.ts). */
  readonly tones?: ZoneTones;
}

export type ReferPolicy = 'refuse' | 'execute';

/** RFC 4028 on a zone's legs; every field has the default shown. */
export interface ZoneSessionTimer {
  /** Off: no `timer` option tag, no Session-Expires (the legs run without session timers). */
  readonly enabled?: boolean;
  /** The Session-Expires the SBC asks for on its INVITEs into the zone, seconds (1800). */
  readonly expires?: number;
  /** The SBC's Min-SE: a request asking less gets 422 (90, RFC 4028 §5's floor). */
  readonly minSE?: number;
  /** How the SBC refreshes when it is the refresher: UPDATE without a body, or re-INVITE. */
  readonly refresh?: 'UPDATE' | 'INVITE';
}

/** A trunk; `priority` and `weight` (routing.ts) order it among a route's trunks. */
export interface TrunkSpec extends TrunkRouting {
  readonly name: string;
  /** The zone whose listeners and media address reach this trunk. */
  readonly zone: string;
  /** Where calls go: `sip:127.0.0.11:5070` (`;transport=tcp` for TCP). An IP host: no DNS yet. */
  readonly uri: string;
  /** Normalization of calls leaving toward this trunk, after the zone's. */
  readonly normalize?: readonly NormalizeRule[];
  /** Option tags the trunk supports (instead of its zone's `optionTags`). */
  readonly optionTags?: readonly string[];
  /**
   * Seconds a call attempt waits for any response from the trunk before it is CANCELled and the
   * next trunk tried (no trunk left: 504). Unset or 0: the transaction's own timeout (Timer B).
   */
  readonly timeoutSeconds?: number;
  /** OPTIONS probes (probe.ts): a down trunk is skipped by routing. Unset: never probed. */
  readonly probe?: ProbeSpec;
  /** TFX registers to the trunk as to a carrier (upstream.ts). Unset: no registration. */
  readonly register?: UpstreamSpec;
  /** Codecs allowed in the SDP sent toward the trunk (codec-policy.ts). Unset: all. */
  readonly codecs?: CodecPolicy;
  /**
   * How the trunk carries DTMF (dtmf.ts): RFC 4733 events in RTP (default), or SIP INFO
   * (`application/dtmf-relay`), converted to and from RFC 4733 on the other leg.
   */
  readonly dtmf?: 'rfc4733' | 'info';
}

/**
 * The HTTP(S) server SIP over WebSocket rides on, as the SIP stack takes it (the SBC opens no HTTP
 * itself: the platform hands its server over).
 */
export type WebSocketHost = Parameters<Binder['attachWebSocket']>[0];

/** A route; `policy`, `rates`, `timezone` and `quality` (routing.ts) order its trunks. */
export interface RouteSpec extends RouteRouting {
  /** A call matches when it entered through this zone (and, if given, its user matches). */
  readonly match: {
    readonly zone: string;
    /** Regular expression on the Request-URI user (`^\+44`); default: any. */
    readonly user?: string;
  };
  /** Trunks tried in order: the next one on 408, 5xx, 6xx… before any provisional response. */
  readonly to: readonly string[];
}

export interface SbcConfig {
  readonly zones: readonly ZoneSpec[];
  readonly trunks: readonly TrunkSpec[];
  readonly routes: readonly RouteSpec[];
  /** Emergency numbers and their trunks (emergency.ts); absent or no numbers: off. */
  readonly emergency?: EmergencySpec;
  /** The live-quality window of every trunk (quality.ts); default `DEFAULT_QUALITY_WINDOW`. */
  readonly quality?: QualityWindow;
  /** Admission control (admission.ts): every limit off until configured. */
  readonly admission?: AdmissionSpec;
}

/** An SBC zone listens with TLS only when given an identity (the platform certificate). */
export interface SbcOptions extends SbcConfig {
  readonly engine: MediaEngine;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly tls?: TlsIdentity;
  /** SIP timers of every zone's stack (tests shorten them). */
  readonly timers?: { readonly T1?: number; readonly T2?: number; readonly T4?: number };
  /**
   * Digest authentication of out-of-dialog INVITEs in untrusted zones (407): the realm (the SIP
   * domain) and the users' HA1 (`sip.users`). Without it untrusted zones do not authenticate.
   */
  readonly auth?: {
    readonly realm: string;
    readonly lookupHa1: Ha1Lookup;
    /** Challenges offered, in order. Default MD5 (as `sip.digestAlgorithms`). */
    readonly algorithms?: readonly DigestAlgorithm[];
    /** The account an authenticated username bills (fraud limits); default the username. */
    readonly accountOf?: (username: string) => string;
  };
  /** Where confirmed calls are kept so that a restarted SBC ends them (recovery.ts). */
  readonly callStore?: CallStore;
  /** Where each call's CDR goes, synchronously at its end (cdr.ts; the server's file sink). */
  readonly cdr?: CdrSink;
  /**
   * TFX's own registrar for zones without an inner one: REGISTERs of such zones (UDP, TCP, TLS
   * and the WebSocket of a `webrtc` zone) are served from it after the zone's digest (401), and
   * a call from any zone to a user registered there goes to the user's contacts before `routes`.
   * Without it REGISTER gets 405.
   */
  readonly local?: {
    /** `sip.domain`: the AOR of a REGISTER's To user is `sip:user@domain`. */
    readonly domain: string;
    readonly registrar: LocalRegistrar;
  };
  /**
   * SIP over WebSocket (RFC 7118) on the platform's HTTP(S) server, carried by the zone with
   * `webrtc: true` (at most one): the server, its path (`/sip`) and whether it is WSS.
   */
  readonly webSocket?: {
    readonly server: WebSocketHost;
    readonly path: string;
    readonly secure: boolean;
  };
  /** Lawful intercept (intercept.ts): the targets in force and where copies go. */
  readonly intercept?: {
    readonly targets: () => readonly InterceptTarget[];
    readonly delivery: InterceptDelivery;
  };
  /** How each zone's media leg is described to the engine; default a plain RTP/AVP leg. */
  readonly profileOf?: (zone: ZoneSpec) => LegProfile;
  /** Uniform in [0, 1): the weighted order of trunks (routing.ts); default Math.random. */
  readonly random?: () => number;
  /** The media engine's free ports now (admission's `minFreeMediaPorts`); undefined: unknown. */
  readonly freeMediaPorts?: () => number | undefined;
}
