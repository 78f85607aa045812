/**
 * One peer connection of the mesh, negotiated with **perfect negotiation** (W3C WebRTC 1.0,
 * §10.7 "Perfect Negotiation Example"): either side may renegotiate at any moment; on an offer
 * collision the *polite* peer rolls back its own offer and answers, the *impolite* peer ignores
 * the colliding offer. Trickle ICE; ICE restart is requested from the owner when the connection
 * fails or stays disconnected.
 *
 * No I/O of its own (STYLE.md practice 10): signals go out as `signal` events and come in through
 * `handleSignal`; the RTCPeerConnection comes from an injected factory; timers from a `Clock`.
 */
import { Emitter } from './emitter.js';
import { realClock, type Clock } from './clock.js';

/** What a track carries, as the sending side declares it. */
export type MediaSource = 'mic' | 'camera' | 'screen' | 'screen-audio';

/** Sources by transceiver mid, as the sender of a description declares them. */
export type SourceMap = Readonly<Record<string, MediaSource>>;

/** The signals one link sends to its remote peer (carried by the signalling relay). */
export type PeerSignal =
  | { readonly type: 'description'; readonly description: RTCSessionDescriptionInit }
  | { readonly type: 'candidate'; readonly candidate: RTCIceCandidateInit }
  /**
   * What we send on which mid. Sent just before each description; it may arrive after it (it
   * travels as an application message), so received tracks are re-classified when it lands.
   */
  | { readonly type: 'sources'; readonly sources: SourceMap };

export interface RemoteTrack {
  readonly peerId: string;
  readonly mid: string;
  readonly source: MediaSource;
  readonly track: MediaStreamTrack;
}

/** Counters of negotiation events, for tests and diagnostics. */
export interface NegotiationCounters {
  offersSent: number;
  answersSent: number;
  /** Offers that collided with our own (glare). */
  collisions: number;
  /** Collisions where we (the polite side) rolled our offer back. */
  rollbacks: number;
  /** Collisions where we (the impolite side) ignored the remote offer. */
  ignoredOffers: number;
  iceRestarts: number;
}

export interface PeerLinkEvents {
  [event: string]: unknown;
  signal: PeerSignal;
  'connection-state': RTCPeerConnectionState;
  track: RemoteTrack;
  'track-removed': RemoteTrack;
  /** The link wants an ICE restart (the owner fetches fresh ICE servers and calls `restartIce`). */
  'ice-restart-needed': { readonly attempt: number };
  /** A negotiation round finished (signalling state back to stable). */
  negotiated: void;
  'channel-open': void;
  'channel-message': string;
  'channel-close': void;
  /** The widget data channel was created (see `widgetChannel`; widget-transport.ts uses it). */
  'widget-channel': RTCDataChannel;
  error: Error;
}

export interface PeerLinkOptions {
  readonly localId: string;
  readonly remoteId: string;
  /** The polite side rolls back on glare. By convention the peer with the smaller id is polite. */
  readonly polite: boolean;
  readonly config: RTCConfiguration;
  readonly createPeerConnection: (config: RTCConfiguration) => RTCPeerConnection;
  readonly clock?: Clock;
  /** How long `disconnected` may last before an ICE restart is requested, ms. Default 3000. */
  readonly disconnectedRestartMs?: number;
  /** Delay between repeated ICE restart requests while still not connected, ms. Default 5000. */
  readonly restartRetryMs?: number;
}

/** Perfect negotiation's politeness rule: the smaller peer id is polite. */
export function isPolite(localId: string, remoteId: string): boolean {
  return localId < remoteId;
}

interface LocalSlot {
  track: MediaStreamTrack | null;
  stream: MediaStream | null;
}

const KIND: Record<MediaSource, 'audio' | 'video'> = {
  mic: 'audio',
  camera: 'video',
  screen: 'video',
  'screen-audio': 'audio',
};

export class PeerLink extends Emitter<PeerLinkEvents> {
  readonly localId: string;
  readonly remoteId: string;
  readonly polite: boolean;
  readonly pc: RTCPeerConnection;
  readonly counters: NegotiationCounters = {
    offersSent: 0,
    answersSent: 0,
    collisions: 0,
    rollbacks: 0,
    ignoredOffers: 0,
    iceRestarts: 0,
  };

  readonly #clock: Clock;
  readonly #disconnectedRestartMs: number;
  readonly #restartRetryMs: number;
  // Perfect negotiation state (names as in the W3C example).
  #makingOffer = false;
  #ignoreOffer = false;
  #isSettingRemoteAnswerPending = false;
  /** Incoming signals are applied one at a time, in arrival order. */
  #chain: Promise<void> = Promise.resolve();
  #mediaAttached = false;
  #receiveVideo = true;
  readonly #local = new Map<MediaSource, LocalSlot>();
  readonly #roles = new Map<RTCRtpTransceiver, MediaSource>();
  #remoteSources: SourceMap = {};
  readonly #remote = new Map<string, RemoteTrack>();
  #channel: RTCDataChannel | null = null;
  #widgetChannel: RTCDataChannel | null = null;
  #restartTimer: unknown = null;
  #restartAttempt = 0;
  #closed = false;

  constructor(options: PeerLinkOptions) {
    super();
    this.localId = options.localId;
    this.remoteId = options.remoteId;
    this.polite = options.polite;
    this.#clock = options.clock ?? realClock;
    this.#disconnectedRestartMs = options.disconnectedRestartMs ?? 3000;
    this.#restartRetryMs = options.restartRetryMs ?? 5000;
    const pc = options.createPeerConnection(options.config);
    this.pc = pc;
    pc.addEventListener('negotiationneeded', () => void this.#onNegotiationNeeded());
    pc.addEventListener('icecandidate', (ev: RTCPeerConnectionIceEvent) => {
      // End-of-candidates (null) is not sent: every browser copes without it.
      if (this.#closed || !ev.candidate) return;
      this.emit('signal', { type: 'candidate', candidate: ev.candidate.toJSON() });
    });
    pc.addEventListener('connectionstatechange', () => this.#onConnectionState());
    pc.addEventListener('signalingstatechange', () => {
      if (pc.signalingState === 'stable') this.#afterNegotiation();
    });
  }

  get connectionState(): RTCPeerConnectionState {
    return this.pc.connectionState;
  }

  get channelOpen(): boolean {
    return this.#channel?.readyState === 'open';
  }

  /** The binary channel that carries widget frames (null until media is attached). */
  get widgetChannel(): RTCDataChannel | null {
    return this.#widgetChannel;
  }

  /** Remote tracks currently received, by mid. */
  remoteTracks(): readonly RemoteTrack[] {
    return [...this.#remote.values()];
  }

  /**
   * Sets what we send for one source. The link's own camera and microphone switch with
   * `replaceTrack` (no renegotiation); a screen share adds (or re-enables) its own transceiver,
   * which renegotiates. Before media is attached the track is only remembered.
   */
  async setLocalTrack(
    source: MediaSource,
    track: MediaStreamTrack | null,
    stream: MediaStream | null = null,
  ): Promise<void> {
    this.#assertOpen();
    this.#local.set(source, { track, stream });
    if (!this.#mediaAttached) return;
    const t = this.#transceiverFor(source);
    if (!t) {
      if (track) this.#addTransceiver(source, track, stream);
      return;
    }
    await t.sender.replaceTrack(track);
    if (stream && track) t.sender.setStreams?.(stream);
    const wanted = this.#direction(KIND[source], track !== null);
    if (t.direction !== wanted && !isStopped(t)) t.direction = wanted;
  }

  /**
   * Audio-only mode: stop (or resume) receiving video from this peer. Changes transceiver
   * directions, so it renegotiates.
   */
  setReceiveVideo(on: boolean): void {
    this.#assertOpen();
    if (this.#receiveVideo === on) return;
    this.#receiveVideo = on;
    if (this.#mediaAttached) this.#syncDirections();
  }

  get receivingVideo(): boolean {
    return this.#receiveVideo;
  }

  /** The RTP sender for a source, if any (for bitrate caps and tests). */
  senderFor(source: MediaSource): RTCRtpSender | undefined {
    return this.#transceiverFor(source)?.sender;
  }

  /** Adds our local tracks and starts negotiating (the side that initiates calls this at once). */
  start(): void {
    this.#attachMedia();
    // Offer at once rather than on the `negotiationneeded` task, which waits behind whatever the
    // page renders next (measured: ~50–80 ms earlier first frame, bench/call).
    void this.#onNegotiationNeeded();
  }

  /** Input: one signal from the remote peer, applied in order. */
  handleSignal(signal: PeerSignal): Promise<void> {
    const run = this.#chain.then(() => this.#apply(signal));
    this.#chain = run.catch((err: unknown) => {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    });
    return this.#chain;
  }

  /** Restarts ICE, optionally with new ICE servers (fresh TURN credentials). */
  restartIce(iceServers?: RTCIceServer[]): void {
    if (this.#closed) return;
    if (iceServers) this.setIceServers(iceServers);
    this.counters.iceRestarts++;
    this.pc.restartIce();
  }

  /** Replaces the ICE servers (fresh TURN credentials) for future gathering. */
  setIceServers(iceServers: RTCIceServer[]): void {
    if (this.#closed) return;
    this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
  }

  /** Sends a text frame on the SDK data channel; false when it is not open. */
  send(text: string): boolean {
    if (this.#channel?.readyState !== 'open') return false;
    this.#channel.send(text);
    return true;
  }

  /** Closes the connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearRestartTimer();
    for (const r of this.#remote.values()) this.emit('track-removed', r);
    this.#remote.clear();
    try {
      this.#channel?.close();
      this.#widgetChannel?.close();
    } catch {
      // already closed
    }
    this.pc.close();
    this.removeAllListeners();
  }

  get closed(): boolean {
    return this.#closed;
  }

  // --- negotiation -------------------------------------------------------------------------

  async #onNegotiationNeeded(): Promise<void> {
    // Not while an offer is being made or answered: the round under way carries the change, and
    // the browser fires `negotiationneeded` again afterwards if anything is left.
    if (this.#closed || this.#makingOffer || this.pc.signalingState !== 'stable') return;
    try {
      this.#makingOffer = true;
      // setLocalDescription() without arguments creates the right description (§4.4.1.5).
      await this.pc.setLocalDescription();
      const description = this.pc.localDescription;
      if (!description || description.type !== 'offer' || this.#closed) return;
      this.counters.offersSent++;
      this.#sendDescription(description);
    } catch (err) {
      this.emit('error', err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#makingOffer = false;
    }
  }

  async #apply(signal: PeerSignal): Promise<void> {
    if (this.#closed) return;
    const pc = this.pc;
    if (signal.type === 'sources') {
      this.#remoteSources = { ...this.#remoteSources, ...signal.sources };
      this.#afterNegotiation();
    } else if (signal.type === 'description') {
      const description = signal.description;
      // W3C §10.7: an offer collides unless we are stable (or about to be, applying an answer).
      const readyForOffer =
        !this.#makingOffer &&
        (pc.signalingState === 'stable' || this.#isSettingRemoteAnswerPending);
      const offerCollision = description.type === 'offer' && !readyForOffer;
      this.#ignoreOffer = !this.polite && offerCollision;
      if (offerCollision) this.counters.collisions++;
      if (this.#ignoreOffer) {
        this.counters.ignoredOffers++;
        return;
      }
      if (offerCollision) this.counters.rollbacks++;
      this.#isSettingRemoteAnswerPending = description.type === 'answer';
      try {
        // The polite side's pending offer is rolled back implicitly by setRemoteDescription(offer).
        await pc.setRemoteDescription(description);
      } finally {
        this.#isSettingRemoteAnswerPending = false;
      }
      if (description.type === 'offer') {
        if (!this.#mediaAttached) this.#attachMedia();
        // Transceivers the offer just created receive by default; audio-only mode says no.
        if (!this.#receiveVideo) this.#syncDirections();
        await pc.setLocalDescription();
        const answer = pc.localDescription;
        if (answer && !this.#closed) {
          this.counters.answersSent++;
          this.#sendDescription(answer);
        }
      }
      this.#afterNegotiation();
    } else {
      try {
        await pc.addIceCandidate(signal.candidate ?? undefined);
      } catch (err) {
        // Candidates of an offer we ignored fail to apply; that is expected.
        if (!this.#ignoreOffer) throw err;
      }
    }
  }

  #sendDescription(description: RTCSessionDescription): void {
    this.emit('signal', { type: 'sources', sources: this.#sources() });
    this.emit('signal', {
      type: 'description',
      description: description.toJSON() as RTCSessionDescriptionInit,
    });
  }

  #attachMedia(): void {
    if (this.#mediaAttached) return;
    this.#mediaAttached = true;
    // One SDK channel, negotiated out of band (same id on both sides): no "datachannel" race.
    const channel = this.pc.createDataChannel('tfx', { negotiated: true, id: 0, ordered: true });
    channel.addEventListener('open', () => this.emit('channel-open', undefined));
    channel.addEventListener('close', () => this.emit('channel-close', undefined));
    channel.addEventListener('message', (ev: MessageEvent) => {
      if (typeof ev.data === 'string') this.emit('channel-message', ev.data);
    });
    this.#channel = channel;
    // Widget frames: a second negotiated channel, binary and ordered (docs/widgets.md).
    const widgets = this.pc.createDataChannel('tfx-widgets', {
      negotiated: true,
      id: 1,
      ordered: true,
    });
    widgets.binaryType = 'arraybuffer';
    this.#widgetChannel = widgets;
    this.emit('widget-channel', widgets);
    for (const source of ['mic', 'camera'] as const) {
      const slot = this.#local.get(source) ?? { track: null, stream: null };
      // Reuse a transceiver the remote offer created for this kind, so no extra round is needed.
      const reusable = this.pc
        .getTransceivers()
        .find(
          (t) =>
            !this.#roles.has(t) &&
            !isStopped(t) &&
            t.receiver.track.kind === KIND[source] &&
            t.sender.track === null,
        );
      if (reusable) {
        this.#roles.set(reusable, source);
        if (slot.track) {
          void reusable.sender.replaceTrack(slot.track);
          if (slot.stream) reusable.sender.setStreams?.(slot.stream);
        }
        reusable.direction = this.#direction(KIND[source], slot.track !== null);
      } else if (slot.track) {
        this.#addTransceiver(source, slot.track, slot.stream);
      } else {
        const t = this.pc.addTransceiver(KIND[source], {
          direction: this.#direction(KIND[source], false),
        });
        this.#roles.set(t, source);
      }
    }
    for (const source of ['screen', 'screen-audio'] as const) {
      const slot = this.#local.get(source);
      if (slot?.track) this.#addTransceiver(source, slot.track, slot.stream);
    }
  }

  #addTransceiver(source: MediaSource, track: MediaStreamTrack, stream: MediaStream | null): void {
    const t = this.pc.addTransceiver(track, {
      direction: this.#direction(KIND[source], true),
      streams: stream ? [stream] : [],
    });
    this.#roles.set(t, source);
  }

  /** The direction a transceiver of this kind should have (audio-only mode receives no video). */
  #direction(kind: 'audio' | 'video', sending: boolean): RTCRtpTransceiverDirection {
    const recv = kind === 'audio' || this.#receiveVideo;
    if (sending) return recv ? 'sendrecv' : 'sendonly';
    return recv ? 'recvonly' : 'inactive';
  }

  #syncDirections(): void {
    for (const t of this.pc.getTransceivers()) {
      if (isStopped(t)) continue;
      const kind = t.receiver.track.kind === 'audio' ? 'audio' : 'video';
      const wanted = this.#direction(kind, t.sender.track !== null);
      if (t.direction !== wanted) t.direction = wanted;
    }
  }

  #transceiverFor(source: MediaSource): RTCRtpTransceiver | undefined {
    for (const [t, role] of this.#roles) if (role === source && !isStopped(t)) return t;
    return undefined;
  }

  #sources(): SourceMap {
    const out: Record<string, MediaSource> = {};
    for (const [t, role] of this.#roles) if (t.mid !== null && t.sender.track) out[t.mid] = role;
    return out;
  }

  /** After each negotiation: diff the tracks we receive against what we announced. */
  #afterNegotiation(): void {
    if (this.#closed || this.pc.signalingState !== 'stable') return;
    const seen = new Set<string>();
    for (const t of this.pc.getTransceivers()) {
      if (isStopped(t) || t.mid === null) continue;
      const dir = t.currentDirection;
      if (dir !== 'sendrecv' && dir !== 'recvonly') continue;
      const track = t.receiver.track;
      const source = this.#remoteSources[t.mid] ?? (track.kind === 'audio' ? 'mic' : 'camera');
      seen.add(t.mid);
      const prev = this.#remote.get(t.mid);
      if (prev && prev.source === source && prev.track === track) continue;
      if (prev) this.emit('track-removed', prev);
      const next: RemoteTrack = { peerId: this.remoteId, mid: t.mid, source, track };
      this.#remote.set(t.mid, next);
      this.emit('track', next);
    }
    for (const [mid, prev] of [...this.#remote]) {
      if (seen.has(mid)) continue;
      this.#remote.delete(mid);
      this.emit('track-removed', prev);
    }
    this.emit('negotiated', undefined);
  }

  // --- connection state and ICE restart ----------------------------------------------------------

  #onConnectionState(): void {
    if (this.#closed) return;
    const state = this.pc.connectionState;
    this.emit('connection-state', state);
    if (state === 'connected') {
      this.#restartAttempt = 0;
      this.#clearRestartTimer();
    } else if (state === 'failed') {
      this.#clearRestartTimer();
      this.#requestRestart();
    } else if (state === 'disconnected' && this.#restartTimer === null) {
      this.#restartTimer = this.#clock.setTimeout(() => {
        this.#restartTimer = null;
        this.#requestRestart();
      }, this.#disconnectedRestartMs);
    }
  }

  #requestRestart(): void {
    if (this.#closed || this.pc.connectionState === 'connected') return;
    this.#restartAttempt++;
    this.emit('ice-restart-needed', { attempt: this.#restartAttempt });
    // Keep trying while not connected (a TURN server may come back later).
    const delay = Math.min(this.#restartRetryMs * Math.max(1, this.#restartAttempt / 2), 20_000);
    this.#restartTimer = this.#clock.setTimeout(() => {
      this.#restartTimer = null;
      this.#requestRestart();
    }, delay);
  }

  #clearRestartTimer(): void {
    if (this.#restartTimer !== null) this.#clock.clearTimeout(this.#restartTimer);
    this.#restartTimer = null;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`peer link to ${this.remoteId} is closed`);
  }
}

function isStopped(t: RTCRtpTransceiver): boolean {
  return t.direction === 'stopped' || t.currentDirection === 'stopped';
}
