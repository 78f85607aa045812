/**
 * Messages between the built-in engine (main thread) and its media workers. The main thread
 * negotiates SDP and tells a worker what each "side" does; a side is one party of one stream, with
 * the relay's socket pair facing that party. The worker owns the sockets and every packet.
 */
import type { MediaAddress, PlaySource } from '../engine/types.js';

export interface WorkerInit {
  readonly index: number;
  /** The worker's own slice of the media port range (even RTP ports, RTCP = RTP + 1). */
  readonly portMin: number;
  readonly portMax: number;
  /** Packets per second one side accepts before the guard drops (and recovers). */
  readonly floodPps: number;
  /** Interval of generated RTCP reports, ms (RFC 3550 §6.2: 5 s minimum for small sessions). */
  readonly rtcpIntervalMs: number;
  /** Interval of periodic per-side stats sent to the main thread (one message), ms; 0 = none. */
  readonly statsIntervalMs: number;
  readonly cname: string;
  /** The engine's DTLS certificate for WebRTC legs (one per engine, RFC 8827 §6.5). */
  readonly dtls?: {
    readonly certPem: string;
    readonly keyPem: string;
    readonly fingerprint: string;
    readonly signatureHash: { hash: number; signature: number };
  };
}

/** A WebRTC side: ICE-lite credentials and the DTLS role chosen from `a=setup`. */
export interface SideWebRtc {
  readonly localUfrag: string;
  readonly localPwd: string;
  /** The browser's ufrag, once its SDP came (checked in STUN USERNAME). */
  readonly remoteUfrag?: string;
  /** DTLS client (`a=setup:active` on our side) or server; unknown until both SDPs are in. */
  readonly role?: 'client' | 'server';
  readonly remoteFingerprints: readonly { readonly algorithm: string; readonly value: string }[];
  /**
   * The peer is ICE-lite too (RFC 8445 §6.1.1: no checks from either side): media and DTLS go to
   * its best candidate from the SDP.
   */
  readonly liteRemote?: MediaAddress;
}

/**
 * Packets from this side to its peer change codec on the way (Opus ↔ G.711) and/or have their
 * telephone-events rescaled between clock rates (RFC 4733 §2.3.5, rtpengine#963).
 */
export interface SideTranscode {
  readonly from: CodecRef;
  readonly to: CodecRef;
  readonly teFrom?: CodecRef;
  readonly teTo?: CodecRef;
}

export interface CodecRef {
  readonly pt: number;
  readonly encoding: string;
  readonly clockRate: number;
}

export interface SideConfig {
  readonly id: number;
  readonly callId: string;
  readonly tag: string;
  readonly peer: number | null;
  /** Where the party said it receives (SDP), or null when unknown/rejected. */
  readonly remote: MediaAddress | null;
  readonly rtcpRemote: MediaAddress | null;
  /** A signalling event happened: learn the source again (strict latching). */
  readonly relearn: boolean;
  readonly latching: 'strict' | 'off';
  readonly rtcpMux: boolean;
  /** The party's SDP direction allows it to send / to receive. */
  readonly sends: boolean;
  readonly receives: boolean;
  /** Incoming payload type (as this party sends it) → payload type for the peer; others dropped. */
  readonly ptMap: readonly (readonly [number, number])[];
  /** Payload types from this party that are telephone-event (RFC 4733). */
  readonly telephoneEvent: readonly number[];
  /**
   * DTMF toward this party goes as SIP INFO (its profile's `dtmf: 'info'`): telephone-events
   * from the peer are detected (a `dtmf` event the SBC turns into INFO) but not relayed here.
   */
  readonly dtmfInfo?: boolean;
  /** What this party receives: its audio codec and telephone-event PT (for playback and DTMF). */
  readonly outCodec: CodecRef | null;
  readonly outTelephoneEvent: CodecRef | null;
  readonly clockRate: number;
  /** No RTP from a sending party for this long raises media-timeout (0 = never). */
  readonly timeoutMs: number;
  /** Set on a WebRTC (ICE + DTLS-SRTP) side. */
  readonly webrtc?: SideWebRtc;
  /** Set when this side's packets must be transcoded for the peer. */
  readonly transcode?: SideTranscode;
}

export interface SideStats {
  readonly id: number;
  readonly local: MediaAddress;
  readonly remote?: MediaAddress;
  readonly latched: boolean;
  readonly packetsIn: number;
  readonly bytesIn: number;
  readonly packetsOut: number;
  readonly bytesOut: number;
  readonly dropped: number;
  readonly packetsLost: number;
  readonly jitterMs: number;
  readonly lossPercent: number;
  readonly rttMs?: number;
  readonly ssrcIn?: number;
  readonly ssrcOut: number;
  /** WebRTC sides: DTLS state and the selected ICE pair's remote address. */
  readonly dtls?: string;
}

export type WorkerCommand =
  | { readonly cmd: 'open'; readonly id: number; readonly address: string }
  | { readonly cmd: 'configure'; readonly sides: readonly SideConfig[] }
  | { readonly cmd: 'close'; readonly ids: readonly number[] }
  | { readonly cmd: 'stats'; readonly ids: readonly number[] }
  | {
      readonly cmd: 'play';
      readonly id: number;
      readonly source: PlaySource;
      readonly repeat: number;
    }
  | { readonly cmd: 'stop-play'; readonly id: number }
  | {
      readonly cmd: 'dtmf';
      readonly id: number;
      readonly digits: string;
      readonly durationMs: number;
      readonly pauseMs: number;
      readonly volume: number;
    }
  | {
      readonly cmd: 'record';
      readonly callId: string;
      /** Left channel (the caller) and right channel (the callee) sides, stream 0. */
      readonly left: number;
      readonly right: number;
      readonly on: boolean;
      readonly format: 'wav' | 'pcap';
      readonly path: string;
    }
  | {
      readonly cmd: 'forward';
      readonly ids: readonly number[];
      readonly dest: MediaAddress | null;
    }
  | {
      readonly cmd: 'block';
      readonly id: number;
      readonly what: 'media' | 'dtmf';
      readonly on: boolean;
    }
  | { readonly cmd: 'counters' };

export interface WorkerRequest {
  readonly rid: number;
  readonly command: WorkerCommand;
}

export type WorkerReply =
  | { readonly rid: number; readonly ok: true; readonly result: unknown }
  | {
      readonly rid: number;
      readonly ok: false;
      readonly error: { readonly code: string; readonly message: string };
    };

export type WorkerEvent =
  | {
      readonly event: 'dtmf';
      readonly callId: string;
      readonly tag: string;
      readonly digit: string;
      readonly durationMs: number;
      readonly volume: number;
    }
  | {
      readonly event: 'timeout';
      readonly callId: string;
      readonly tag: string;
      readonly idleMs: number;
    }
  /** Periodic stats of every configured side, in one message per interval. */
  | { readonly event: 'stats'; readonly sides: readonly SideStats[] };

/** Worker-wide counters (for Prometheus). */
export interface WorkerCounters {
  readonly packetsRelayed: number;
  readonly bytesRelayed: number;
  readonly dropped: Readonly<Record<string, number>>;
  readonly portsInUse: number;
  readonly sides: number;
}
