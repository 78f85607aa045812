/**
 * The MediaEngine contract: one interface, two backends (the built-in relay in `../builtin/` and
 * rtpengine over its ng protocol in `../rtpengine/`), run through one contract test suite
 * (`packages/media/test/contract/`).
 *
 * The shape follows rtpengine's ng commands (https://rtpengine.readthedocs.io/en/latest/ng_control_protocol.html):
 * a call is named by its SIP Call-ID; each party ("monologue" in rtpengine) by its SIP tag: the
 * From-tag of whoever sent the first offer, the To-tag of the answerer. `offer` takes the SDP one
 * party sent and returns the SDP to hand to the other; `answer` does the same the other way.
 * A re-INVITE is another `offer` (from either party: `fromTag` names who sends this offer).
 *
 * Stability: the SBC and both engines build on these types. Append; never rename or change the
 * meaning of a field. Errors are `TfxError`s with the `media-*` codes of the one catalogue
 * (`@tfx/protocol` errors.ts): `media-ports-exhausted` (SIP 503), `media-sdp-invalid` (400),
 * `media-not-acceptable` (488), `media-session-not-found` (481), `media-engine-unavailable` (503),
 * `media-engine-timeout` (503), `media-worker-failed` (500), `media-unsupported` (501).
 */

/** Transport protocols of an m= line that a leg may speak. */
export type MediaTransport =
  'RTP/AVP' | 'RTP/SAVP' | 'RTP/AVPF' | 'RTP/SAVPF' | 'UDP/TLS/RTP/SAVPF';

/**
 * How one side of a call is treated: what the engine writes into the SDP it hands to that side,
 * and how it relays media to and from it. `offer`/`answer` take a profile for each side.
 */
export interface LegProfile {
  /** The zone's name (for logs, stats and metrics): `public`, `core`, `webrtc`, … */
  readonly zone?: string;
  /** The local address media sockets for this side bind (never the wildcard), IPv4 or IPv6. */
  readonly mediaAddress: string;
  /** The address written into `c=`/`o=` when it differs from `mediaAddress` (1:1 NAT). */
  readonly advertisedAddress?: string;
  /** Address family written to this side (`IP4`↔`IP6` interworking). Default: that of mediaAddress. */
  readonly family?: 'IP4' | 'IP6';
  /** Transport written into the m= lines toward this side. */
  readonly transport: MediaTransport;
  /** ICE toward this side: `force` (full candidates), `lite`, `remove` (strip ICE attributes). */
  readonly ice: 'force' | 'lite' | 'remove';
  /** DTLS role toward this side (RFC 5763 `a=setup`); `off` for plain/SDES legs. */
  readonly dtls: 'off' | 'passive' | 'active' | 'actpass';
  /**
   * SDES-SRTP (RFC 4568 `a=crypto`) toward this side: `off` never offers or accepts it,
   * `offer` adds crypto lines to RTP/SAVP offers, `terminate` accepts an SAVP offer from this side
   * and terminates SRTP at the engine. Default `off`.
   */
  readonly sdes?: 'off' | 'offer' | 'terminate';
  /**
   * RTCP multiplexing (RFC 5761) toward this side: `require` (mux only), `offer` (offer mux and
   * a separate port), `demux` (separate ports only), `accept` (mux if the side offers it).
   */
  readonly rtcpMux: 'require' | 'offer' | 'demux' | 'accept';
  /** Codec policy toward this side; names are encoding names as in `a=rtpmap` (`PCMU`, `opus`). */
  readonly codecs?: {
    /** Offer only these, in this order (others are removed). */
    readonly offer?: readonly string[];
    /** Remove these. */
    readonly strip?: readonly string[];
    /** Add these to the offer and transcode when the other side picks them. */
    readonly transcode?: readonly string[];
  };
  /**
   * Where media to this side goes: `strict` learns the source from the first packets after each
   * signalling event, then locks it (a third address never takes over: RTP Bleed, CVE-2017-14114);
   * `off` sends to the SDP address only and drops packets from anywhere else.
   */
  readonly latching: 'strict' | 'off';
  /** How DTMF is carried toward this side: RFC 4733 events or SIP INFO (events raised only). */
  readonly dtmf: 'rfc4733' | 'info';
  /** Packetization time written as `a=ptime`, in ms. Default: what the other side sent. */
  readonly ptime?: number;
}

/** A call, named by its SIP Call-ID. */
export interface CallKey {
  readonly callId: string;
}

/** One party of a call, named by its SIP tag (From-tag or To-tag). */
export interface LegKey extends CallKey {
  readonly tag: string;
}

export interface OfferRequest extends CallKey {
  /** Tag of the party that sent this offer (the From-tag of the first INVITE; either tag later). */
  readonly fromTag: string;
  /** Tag of the party receiving it, once known (re-offers). */
  readonly toTag?: string;
  /**
   * The offer SDP as received. A late offer (INVITE without SDP) is an offer from the callee in
   * its 200 OK: call `offer` with the callee's tag as `fromTag` and the caller's as `toTag`.
   */
  readonly sdp: string;
  /** Profile of the side that sent this SDP. */
  readonly from: LegProfile;
  /** Profile of the side the returned SDP goes to. */
  readonly to: LegProfile;
  /** SIP Via branch, for rtpengine's branch (fork) handling; optional. */
  readonly viaBranch?: string;
}

export interface AnswerRequest extends CallKey {
  /** Tag of the party that sent the offer this answers. */
  readonly fromTag: string;
  /** Tag of the answering party. */
  readonly toTag: string;
  /** The answer SDP as received from the answering party. */
  readonly sdp: string;
  /** Profiles: default to those of the offer, swapped (`from` = the answering side). */
  readonly from?: LegProfile;
  readonly to?: LegProfile;
  readonly viaBranch?: string;
}

export interface SdpResult {
  /** The rewritten SDP to hand to the other party. */
  readonly sdp: string;
}

/** Transport address of a media socket or peer. */
export interface MediaAddress {
  readonly address: string;
  readonly port: number;
}

/** Statistics of one direction of media as seen by the engine at one party's socket. */
export interface LegStats {
  /** The party's tag. */
  readonly tag: string;
  readonly zone?: string;
  /** The engine's socket for this party (RTP). */
  readonly local: MediaAddress;
  /** Where media to this party goes (latched or from SDP), if known. */
  readonly remote?: MediaAddress;
  /** Whether strict latching has locked the source. */
  readonly latched: boolean;
  /** SDP direction this party last declared. */
  readonly direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  /** Codec this party sends (`PCMU/8000`), if known. */
  readonly codec?: string;
  /** Packets/bytes received from this party (RTP only). */
  readonly packetsIn: number;
  readonly bytesIn: number;
  /** Packets/bytes sent to this party. */
  readonly packetsOut: number;
  readonly bytesOut: number;
  /** Packets dropped at this party's socket (wrong source, garbage, blocked, flood). */
  readonly dropped: number;
  /** Packets from this party lost on the way (sequence gaps), cumulative. */
  readonly packetsLost: number;
  /** Interarrival jitter of this party's stream (RFC 3550 §6.4.1), in ms. */
  readonly jitterMs: number;
  /** Round-trip time from RTCP (RFC 3550 §6.4.1 LSR/DLSR), in ms, if measured. */
  readonly rttMs?: number;
  /** E-model MOS (ITU-T G.107, as rtpengine computes it) of this party's stream, if computed. */
  readonly mos?: number;
  /** SSRC seen from this party, and the SSRC the engine sends to it. */
  readonly ssrcIn?: number;
  readonly ssrcOut?: number;
}

export interface CallStats extends CallKey {
  /** Unix ms when the engine created the call. */
  readonly createdAt: number;
  readonly legs: readonly LegStats[];
}

/** What a backend can do; the contract suite skips what a backend declares it lacks. */
export interface MediaCapabilities {
  /** ICE + DTLS-SRTP legs (`UDP/TLS/RTP/SAVPF`). */
  readonly webrtc: boolean;
  /** SDES-SRTP termination (`RTP/SAVP` with `a=crypto`). */
  readonly sdes: boolean;
  /** Codecs it can transcode between (`PCMU`, `PCMA`, `opus`); empty if none. */
  readonly transcode: readonly string[];
  /** Recording formats. */
  readonly record: readonly ('wav' | 'pcap')[];
  readonly forward: boolean;
  readonly playMedia: boolean;
  readonly playDtmf: boolean;
  /** Raises `dtmf` events for RFC 4733 events it relays. */
  readonly detectDtmf: boolean;
  readonly block: boolean;
  readonly ipv6: boolean;
  /**
   * One egress SSRC per party with a monotonic sequence and timestamp, whatever the sender does
   * (an SSRC switch, a sequence restart, media played in between): what an SRTP context toward a
   * browser needs (janus PR #3640). rtpengine forwards each ingress SSRC as a stream of its own.
   */
  readonly resequence: boolean;
  /**
   * Per-party payload-type maps: a telephone-event PT changed by one party is remapped to the
   * other party's (janus-gateway#1591). rtpengine 10.5 drops telephone-event from such an answer.
   */
  readonly remapPayloadTypes: boolean;
}

/** What `playMedia` plays. Tones follow ITU-T E.180 (ringback 425 Hz in the EU plan, …). */
export type PlaySource =
  | { readonly wav: string }
  | { readonly tone: 'ringback' | 'busy' | 'congestion' }
  | { readonly tone: 'sine'; readonly frequency: number };

export interface PlayOptions {
  /** Times to play (0 = until stopMedia). Default 1. */
  readonly repeat?: number;
}

export interface DtmfOptions {
  /** Duration of each digit in ms (RFC 4733 event duration). Default 100. */
  readonly durationMs?: number;
  /** Pause between digits in ms. Default 50. */
  readonly pauseMs?: number;
  /** Volume in -dBm0 (0-63). Default 10. */
  readonly volume?: number;
}

export interface RecordOptions {
  /** `wav`: stereo, the from-tag party left, the to-tag party right; `pcap`: RTP both ways. */
  readonly format: 'wav' | 'pcap';
  /** File to write (builtin) or the engine's own path template (rtpengine). Default: engine's. */
  readonly path?: string;
}

export interface RecordResult {
  /** Where the recording is written, when the engine knows. */
  readonly path?: string;
}

/** A digit relayed (or detected) from a party. */
export interface DtmfEvent extends LegKey {
  /** `0`-`9`, `*`, `#`, `A`-`D` (RFC 4733 §3.2 events 0-15). */
  readonly digit: string;
  readonly durationMs: number;
  readonly volume: number;
}

/** No media from a party for the configured time, while the call was not on hold. */
export interface MediaTimeoutEvent extends CallKey {
  readonly tag: string;
  readonly idleMs: number;
}

/**
 * A call's per-leg stats: periodically while it runs (`final: false`, every `statsInterval`) and
 * once when it is deleted (`final: true`, the same stats `delete` returns).
 */
export interface StatsEvent {
  readonly stats: CallStats;
  /** True for the last stats of a deleted call. Absent is read as true (older emitters). */
  readonly final?: boolean;
}

/**
 * The engine ended a call on its own (a media worker died, an rtpengine instance was lost).
 * The SBC sends BYE on both legs.
 */
export interface CallFailedEvent extends CallKey {
  readonly code: 'media-worker-failed' | 'media-engine-unavailable';
  readonly message: string;
}

export interface MediaEngineEvents {
  dtmf: DtmfEvent;
  'media-timeout': MediaTimeoutEvent;
  stats: StatsEvent;
  'call-failed': CallFailedEvent;
}

export type MediaEngineEventName = keyof MediaEngineEvents;

export interface MediaEngine {
  readonly kind: 'builtin' | 'rtpengine';
  readonly capabilities: MediaCapabilities;

  /** Rewrites an offer for the other party and allocates (or keeps) the media sockets. */
  offer(req: OfferRequest): Promise<SdpResult>;
  /** Rewrites the answer for the offerer; media flows both ways afterwards. */
  answer(req: AnswerRequest): Promise<SdpResult>;
  /**
   * Ends the whole call and returns its last stats (also as a final `stats` event). `tag` (the
   * From-tag of the BYE) may be given; the whole call still ends, as rtpengine's `delete` with
   * a from-tag and no to-tag does.
   */
  delete(key: CallKey & { readonly tag?: string }): Promise<CallStats>;
  /** Current stats of a call. */
  query(key: CallKey): Promise<CallStats>;
  /** Call-IDs of the calls the engine holds. */
  list(): Promise<readonly string[]>;

  /** Plays audio toward the party `tag` (it hears it) instead of what the other party sends. */
  playMedia(key: LegKey, src: PlaySource, opts?: PlayOptions): Promise<void>;
  /** Stops `playMedia` toward `tag`; the relayed media resumes. */
  stopMedia(key: LegKey): Promise<void>;
  /** Sends RFC 4733 events toward the party `tag`. Digits: `0-9*#A-D`. */
  playDtmf(key: LegKey, digits: string, opts?: DtmfOptions): Promise<void>;
  /** Starts (or with `on: false` stops) recording the call. */
  record(key: CallKey, on: boolean, opts?: RecordOptions): Promise<RecordResult>;
  /** Sends a copy of both directions' RTP to `dest` (lawful intercept), or stops with `null`. */
  forward(key: CallKey, dest: MediaAddress | null): Promise<void>;
  /** Drops media (or only DTMF events) sent BY the party `tag` while `on`. */
  block(key: LegKey, what: 'media' | 'dtmf', on: boolean): Promise<void>;

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends MediaEngineEventName>(
    event: E,
    listener: (e: MediaEngineEvents[E]) => void,
  ): () => void;

  /** Ends every call and releases sockets and workers. Idempotent. */
  close(): Promise<void>;
}

/** A factory both backends export, so the server picks one by `media.engine`. */
export type MediaEngineFactory<Options> = (opts: Options) => Promise<MediaEngine>;
