/**
 * A joined room: the mesh of peer links, local media sent to every peer, chat on the SDK data
 * channel, stats and quality, ICE restarts with fresh TURN credentials, and the signalling
 * connection's resume. Owns its links and its signalling connection; `leave()` closes them all.
 *
 * Ownership: Room → PeerLink (one per remote peer) → RTCPeerConnection + data channel.
 * `leave()` is idempotent; using a room after it is left throws a `closed` error.
 */
import type { VideoProcessorChain, VideoProcessorSpec } from '@tfx/protocol/widgets';
import type { IceServer, JoinResult, MediaState, PeerInfo, PeerLeft } from '@tfx/protocol';
import { Emitter } from './emitter.js';
import { realClock, type Clock } from './clock.js';
import { PeerLink, isPolite, type MediaSource, type PeerSignal, type RemoteTrack } from './peer.js';
import {
  ChatHistory,
  isLongestPresent,
  parseChannelMessage,
  type ChatMessage,
  type ChannelMessage,
} from './chat.js';
import { audioCaps, applyCaps, cameraCaps, screenCaps } from './bitrate.js';
import { computeQuality, summarizeStats, type PeerStats, type Quality } from './stats.js';
import { turnRefreshDelay } from './turn.js';
import { TfxSdkError, toSdkError } from './errors.js';
import type { SignallingConnection, SignallingState } from './signalling.js';
import type { LocalMedia } from './local.js';

/** A remote participant as the room sees it. */
export class RemotePeer {
  readonly id: string;
  name: string;
  /** Mute state the peer announces (`audio`/`video` false = muted, `screen` = sharing). */
  state: MediaState;
  connectionState: RTCPeerConnectionState = 'new';
  quality: Quality = 'connecting';
  /** Received tracks by source (`mic`, `camera`, `screen`, `screen-audio`). */
  readonly tracks = new Map<MediaSource, MediaStreamTrack>();
  stats: PeerStats | undefined;
  /** @internal */
  link: PeerLink | undefined;

  constructor(info: PeerInfo) {
    this.id = info.id;
    this.name = info.name;
    this.state = info.state;
  }
}

export interface TrackEvent {
  readonly peer: RemotePeer;
  readonly source: MediaSource;
  readonly track: MediaStreamTrack;
}

export type LeaveReason = 'left' | 'kicked' | 'session-closed' | 'lost';

export interface RoomEvents {
  [event: string]: unknown;
  'peer-joined': RemotePeer;
  'peer-left': { readonly peer: RemotePeer; readonly reason: PeerLeft['reason'] };
  'peer-updated': RemotePeer;
  track: TrackEvent;
  'track-removed': TrackEvent;
  /** A chat message (our own included, and those from an offered history). */
  message: ChatMessage;
  /** An application message from a peer (`Room.sendData`). */
  data: { readonly from: string; readonly data: unknown };
  'connection-state': { readonly peer: RemotePeer; readonly state: RTCPeerConnectionState };
  quality: { readonly peer: RemotePeer; readonly quality: Quality };
  stats: { readonly peer: RemotePeer; readonly stats: PeerStats };
  'signalling-state': SignallingState;
  /** Our own media changed: state (mute) or the screen track. */
  'local-state': MediaState;
  /** A moderator asked everybody to mute these kinds; the room already muted them. */
  'muted-by-moderator': readonly ('audio' | 'video' | 'screen')[];
  /** The room was left: by us, by a kick, or the connection was lost for good. */
  left: { readonly reason: LeaveReason; readonly error?: TfxSdkError };
  error: TfxSdkError;
}

export interface RoomOptions {
  readonly signalling: SignallingConnection;
  readonly joined: JoinResult;
  readonly local: LocalMedia;
  readonly name: string;
  readonly password?: string | undefined;
  readonly rtc?: RTCConfiguration | undefined;
  readonly createPeerConnection?: ((config: RTCConfiguration) => RTCPeerConnection) | undefined;
  readonly clock?: Clock | undefined;
  /** Stats and quality polling period, ms. Default 2000. */
  readonly statsIntervalMs?: number | undefined;
}

export interface ScreenShareOptions {
  /** An already captured stream (default: ask the browser with `getDisplayMedia`). */
  readonly stream?: MediaStream;
  /** `add` (default) sends the screen as an extra track; `replace` swaps it for the camera. */
  readonly mode?: 'add' | 'replace';
}

/** How long fetched ICE servers count as fresh when an ICE restart asks for new ones, ms. */
const ICE_SERVERS_FRESH_MS = 30_000;
/**
 * How long after a link first connects its sender caps are set, ms. Bandwidth estimation starts
 * below every cap and takes seconds to ramp up, so nothing is sent uncapped that would matter.
 */
const FIRST_CAPS_DELAY_MS = 1000;

export class Room extends Emitter<RoomEvents> {
  readonly name: string;
  readonly signalling: SignallingConnection;
  readonly local: LocalMedia;
  readonly peers = new Map<string, RemotePeer>();
  readonly chat = new ChatHistory();
  #peerId: string;
  #sessionId: string;
  #moderatorToken: string | undefined;
  #iceServers: IceServer[];
  #iceServersAt: number;
  #refreshing: Promise<void> | null = null;
  #turnTimer: unknown = null;
  #statsTimer: unknown = null;
  /** Peers present when we joined: they are older than us (for the chat history rule). */
  #olderThanMe = new Set<string>();
  #screen: { stream: MediaStream; track: MediaStreamTrack; mode: 'add' | 'replace' } | null = null;
  #hand = false;
  /** Open widget ids, once the page has said (undefined: never said, not sent). */
  #widgets: readonly string[] | undefined;
  #chatSeq = 0;
  #audioOnly = false;
  #cameraBeforeAudioOnly = false;
  #closed = false;
  /** The first offers of the calls this room placed (see `offersSent`); how to end a link's wait. */
  #offers: Array<Promise<void>> = [];
  readonly #descriptionWaits = new Map<PeerLink, () => void>();
  /** Each peer's first description sent: our offer, or our answer to theirs (`descriptionSent`). */
  readonly #described = new WeakMap<RemotePeer, Promise<void>>();
  /** Links whose sender caps are set (from FIRST_CAPS_DELAY_MS after they first connect). */
  readonly #capped = new WeakSet<PeerLink>();
  readonly #displayName: string;
  readonly #password: string | undefined;
  readonly #rtc: RTCConfiguration;
  readonly #createPc: (config: RTCConfiguration) => RTCPeerConnection;
  readonly #clock: Clock;
  readonly #statsMs: number;
  readonly #offs: Array<() => void> = [];
  /** holdEvents(): how many holds are on, and the events held back meanwhile, in order. */
  #holds = 0;
  #delivering = false;
  readonly #held: Array<{ event: keyof RoomEvents; payload: unknown }> = [];
  #unlistenAfterHeld = false;

  constructor(o: RoomOptions) {
    super();
    this.signalling = o.signalling;
    this.local = o.local;
    this.name = o.joined.room;
    this.#displayName = o.name;
    this.#password = o.password;
    this.#rtc = o.rtc ?? {};
    this.#createPc = o.createPeerConnection ?? ((c) => new RTCPeerConnection(c));
    this.#clock = o.clock ?? realClock;
    this.#statsMs = o.statsIntervalMs ?? 2000;
    this.#peerId = o.joined.peerId;
    this.#sessionId = o.joined.sessionId;
    this.#moderatorToken = o.joined.moderatorToken;
    this.#iceServers = [...o.joined.iceServers];
    this.#iceServersAt = this.#clock.now();
    this.#wireSignalling();
    this.#wireLocal();
    this.#adopt(o.joined, true);
    this.#scheduleTurnRefresh();
    this.#scheduleStats();
  }

  /** Our display name, as the others see it. */
  get displayName(): string {
    return this.#displayName;
  }
  /** Our peer id (stable across resumes; a new one after a failed resume). */
  get peerId(): string {
    return this.#peerId;
  }
  get sessionId(): string {
    return this.#sessionId;
  }
  get moderatorToken(): string | undefined {
    return this.#moderatorToken;
  }
  get iceServers(): readonly IceServer[] {
    return this.#iceServers;
  }
  get closed(): boolean {
    return this.#closed;
  }
  /**
   * Resolves once the calls placed to the peers present at join have sent their offers (at once
   * when there were none; a call that fails or ends first counts as done). The offer goes out
   * when the page's main thread is next free, so a page can hold back work it does not need yet
   * until then — the call page inserts its call screen after it (docs/benchmarks.md, "Call").
   */
  get offersSent(): Promise<void> {
    return Promise.all(this.#offers).then(() => undefined);
  }
  /**
   * Resolves once the link to this peer has sent its first description — our offer, or our
   * answer to theirs — or has failed or been closed (at once for a peer not in this room). Someone
   * who joins waits for our answer before any media flows, so a page can hold back its own work
   * on `peer-joined` (a tile, a notice, lists) until then (docs/benchmarks.md, "Call").
   */
  descriptionSent(peer: RemotePeer): Promise<void> {
    return this.#described.get(peer) ?? Promise.resolve();
  }
  /**
   * Holds back the room's events until the returned function is called, which delivers them in
   * order to the listeners there are then (calling it again does nothing). The room's own work
   * goes on meanwhile: signals are applied, offers and answers go out. A page can so let the
   * call start before it builds what listens to it — the call page builds its call screen once
   * the first offers have gone out (docs/benchmarks.md, "Call") — and miss no event.
   */
  holdEvents(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      if (this.#holds > 0 || this.#delivering) return;
      this.#delivering = true;
      try {
        // Events the listeners cause meanwhile queue behind the held ones.
        while (this.#holds === 0 && this.#held.length > 0) {
          const next = this.#held.shift() as { event: keyof RoomEvents; payload: unknown };
          super.emit(next.event, next.payload as never);
        }
      } finally {
        this.#delivering = false;
      }
      if (this.#holds === 0 && this.#unlistenAfterHeld) {
        this.#unlistenAfterHeld = false;
        this.removeAllListeners();
      }
    };
  }

  protected override emit<K extends keyof RoomEvents>(event: K, payload: RoomEvents[K]): void {
    if (this.#holds > 0 || this.#delivering) this.#held.push({ event, payload });
    else super.emit(event, payload);
  }

  /** The screen track we share, if any. */
  get screenTrack(): MediaStreamTrack | null {
    return this.#screen?.track ?? null;
  }
  /** What peers are told about our media (and our raised hand). */
  get localState(): MediaState {
    return {
      ...this.local.state,
      screen: this.#screen !== null,
      hand: this.#hand,
      ...(this.#widgets ? { widgets: [...this.#widgets] } : {}),
    };
  }
  /** Whether our hand is raised (peers see `state.hand`). */
  get handRaised(): boolean {
    return this.#hand;
  }

  // --- local controls ------------------------------------------------------------------------

  /** Raises or lowers our hand: asking to speak. Peers get `peer-updated` with `state.hand`. */
  setHandRaised(on: boolean): void {
    this.#assertOpen();
    if (this.#hand === on) return;
    this.#hand = on;
    this.#publishState();
  }

  /**
   * Tells the server (and peers, in `state.widgets`) which widgets are open on this page: the
   * operator console shows which rooms use which widget. At most 32 ids, duplicates dropped.
   */
  setOpenWidgets(ids: readonly string[]): void {
    this.#assertOpen();
    const next = [...new Set(ids)].slice(0, 32);
    const prev = this.#widgets;
    if (prev && prev.length === next.length && prev.every((id, i) => id === next[i])) return;
    this.#widgets = next;
    this.#publishState();
  }

  setMicEnabled(on: boolean): void {
    this.#assertOpen();
    this.local.setAudioEnabled(on);
  }

  async setCameraEnabled(on: boolean): Promise<void> {
    this.#assertOpen();
    await this.local.setVideoEnabled(on);
  }

  /** Switches microphone or camera mid-call with `replaceTrack` on every peer (no renegotiation). */
  async switchDevice(
    kind: 'audioinput' | 'videoinput',
    deviceId: string,
  ): Promise<MediaStreamTrack> {
    this.#assertOpen();
    return this.local.switchDevice(kind, deviceId);
  }

  /**
   * Video effects on our camera: a step, a chain of steps, or `null` for none (docs/effects.md).
   * The processed track goes to every peer by `replaceTrack` (no renegotiation) and to the
   * self-view. Also settable before joining, on `LocalMedia`.
   */
  async setVideoProcessor(spec: VideoProcessorSpec): Promise<VideoProcessorChain> {
    this.#assertOpen();
    return this.local.setVideoProcessor(spec);
  }

  /** Whether audio-only mode is on (no video sent or received). */
  get audioOnly(): boolean {
    return this.#audioOnly;
  }

  /**
   * Audio-only mode, for poor connections: the camera is released and no peer sends us video
   * (transceiver directions change, so each peer connection renegotiates). Turning it off opens
   * the camera again if it was on.
   */
  async setAudioOnly(on: boolean): Promise<void> {
    this.#assertOpen();
    if (on === this.#audioOnly) return;
    this.#audioOnly = on;
    if (on) {
      this.#cameraBeforeAudioOnly = this.local.state.video;
      if (this.#screen) await this.stopScreenShare();
      this.local.releaseVideo();
      for (const p of this.peers.values()) p.link?.setReceiveVideo(false);
    } else {
      for (const p of this.peers.values()) p.link?.setReceiveVideo(true);
      if (this.#cameraBeforeAudioOnly)
        await this.local.setVideoEnabled(true).catch(() => undefined);
    }
    this.#publishState();
  }

  /** Shares a screen; stopping it (or the browser's "stop sharing") restores the camera. */
  async startScreenShare(options: ScreenShareOptions = {}): Promise<MediaStreamTrack> {
    this.#assertOpen();
    if (this.#screen) return this.#screen.track;
    const stream = options.stream ?? (await this.local.devices.captureScreen());
    const track = stream.getVideoTracks()[0];
    if (!track) throw new TfxSdkError('screen-share-failed', 'the captured stream has no video');
    const mode = options.mode ?? 'add';
    this.#screen = { stream, track, mode };
    track.addEventListener('ended', () => void this.stopScreenShare());
    await Promise.all(
      [...this.peers.values()].map((p) =>
        mode === 'add'
          ? p.link?.setLocalTrack('screen', track, stream)
          : p.link?.setLocalTrack('camera', track, stream),
      ),
    );
    this.#publishState();
    return track;
  }

  async stopScreenShare(): Promise<void> {
    const screen = this.#screen;
    if (!screen || this.#closed) return;
    this.#screen = null;
    await Promise.all(
      [...this.peers.values()].map((p) =>
        screen.mode === 'add'
          ? p.link?.setLocalTrack('screen', null)
          : p.link?.setLocalTrack('camera', this.local.videoTrack),
      ),
    );
    for (const t of screen.stream.getTracks()) t.stop();
    this.#publishState();
  }

  /** Sends a chat message to everyone (over the data channels) and records it. */
  sendChat(text: string): ChatMessage {
    this.#assertOpen();
    const msg: ChatMessage = {
      id: `${this.#peerId}-${Date.now().toString(36)}-${++this.#chatSeq}`,
      from: this.#peerId,
      name: this.#displayName,
      text: text.slice(0, 4000),
      ts: Date.now(),
    };
    this.chat.add(msg);
    this.#broadcast({ t: 'chat', msg });
    this.emit('message', msg);
    return msg;
  }

  /** Sends an application message to one peer or everyone over the data channels. */
  sendData(data: unknown, to?: string): void {
    this.#assertOpen();
    const frame = JSON.stringify({ t: 'app', data } satisfies ChannelMessage);
    for (const p of this.peers.values()) if (!to || p.id === to) p.link?.send(frame);
  }

  /** A fresh stats summary for one peer. */
  async getStats(peerId: string): Promise<PeerStats | undefined> {
    const link = this.peers.get(peerId)?.link;
    if (!link) return undefined;
    return summarizeStats(await link.pc.getStats());
  }

  /** Leaves the room and closes every connection. Idempotent. */
  async leave(): Promise<void> {
    if (this.#closed) return;
    await this.signalling.leave().catch(() => undefined);
    this.#close('left');
  }

  // --- signalling ----------------------------------------------------------------------------

  #wireSignalling(): void {
    const s = this.signalling;
    this.#offs.push(
      s.on('state', (st) => this.emit('signalling-state', st)),
      s.on('peer-joined', (info) => {
        if (info.id === this.#peerId || this.peers.has(info.id)) return;
        const peer = this.#addPeer(info, false);
        this.emit('peer-joined', peer);
      }),
      s.on('peer-left', (left) => this.#removePeer(left.peerId, left.reason)),
      s.on('peer-updated', (info) => {
        const peer = this.peers.get(info.id);
        if (!peer) return;
        peer.name = info.name;
        peer.state = info.state;
        this.emit('peer-updated', peer);
      }),
      s.on('signal', (d) => {
        const link = this.#linkFor(d.from);
        if (!link) return;
        if (d.kind === 'candidate') {
          if (d.data)
            void link.handleSignal({ type: 'candidate', candidate: d.data as RTCIceCandidateInit });
        } else {
          // SignalDelivery omits `to` from a union, which loses the kind→data link in the type.
          void link.handleSignal({
            type: 'description',
            description: d.data as RTCSessionDescriptionInit,
          });
        }
      }),
      s.on('message', (m) => {
        const data = m.data as { t?: unknown; sources?: unknown } | null;
        if (
          data &&
          data.t === 'sources' &&
          typeof data.sources === 'object' &&
          data.sources !== null
        ) {
          void this.#linkFor(m.from)?.handleSignal({
            type: 'sources',
            sources: sanitizeSources(data.sources),
          });
        } else {
          this.emit('data', { from: m.from, data: m.data });
        }
      }),
      s.on('resumed', (r) => this.#adopt(r, false)),
      s.on('resume-failed', () => void this.#rejoin()),
      s.on('kicked', (k) =>
        this.#close(k.reason === 'session-closed' ? 'session-closed' : 'kicked'),
      ),
      s.on('lost', (err) => this.#close('lost', err)),
      s.on('muted-by-moderator', (m) => {
        if (m.kinds.includes('audio')) this.local.setAudioEnabled(false);
        if (m.kinds.includes('video')) void this.local.setVideoEnabled(false);
        if (m.kinds.includes('screen')) void this.stopScreenShare();
        this.emit('muted-by-moderator', m.kinds);
      }),
      s.on('event-error', (e) => {
        // A signal to a peer that went away is not an error worth showing.
        if (e.error.code !== 'peer-unavailable')
          this.emit('error', new TfxSdkError(e.error.code, e.error.message));
      }),
    );
  }

  /** Applies a join or resume result: ICE servers, the peers present. */
  #adopt(r: JoinResult, initial: boolean): void {
    this.#peerId = r.peerId;
    this.#sessionId = r.sessionId;
    if (r.moderatorToken) this.#moderatorToken = r.moderatorToken;
    this.#iceServers = [...r.iceServers];
    this.#iceServersAt = this.#clock.now();
    for (const p of this.peers.values()) p.link?.setIceServers(this.#iceServers as RTCIceServer[]);
    this.#scheduleTurnRefresh();
    if (initial) this.#olderThanMe = new Set(r.peers.map((p) => p.id));
    const present = new Set(r.peers.map((p) => p.id));
    // Peers that left while we were away.
    for (const id of [...this.peers.keys()]) if (!present.has(id)) this.#removePeer(id, 'left');
    for (const info of r.peers) {
      const known = this.peers.get(info.id);
      if (known) {
        known.name = info.name;
        known.state = info.state;
        continue;
      }
      // After a fresh join we call everyone; peers that joined during a resume call us.
      const peer = this.#addPeer(info, initial);
      this.emit('peer-joined', peer);
    }
    if (!initial) this.#publishState();
  }

  /** The resume failed (grace period over): join again as a new peer and call everyone. */
  async #rejoin(): Promise<void> {
    if (this.#closed) return;
    for (const id of [...this.peers.keys()]) this.#removePeer(id, 'timeout');
    try {
      await this.signalling.open();
      const r = await this.signalling.join({
        room: this.name,
        name: this.#displayName,
        state: this.localState,
        ...(this.#password ? { password: this.#password } : {}),
      });
      this.#adopt(r, true);
    } catch (err) {
      this.#close('lost', toSdkError(err, 'signalling-lost'));
    }
  }

  #publishState(): void {
    const state = this.localState;
    this.emit('local-state', state);
    if (this.signalling.state === 'connected') {
      this.signalling
        .update({ state })
        .catch((err: unknown) => this.emit('error', toSdkError(err, 'signalling-failed')));
    }
  }

  // --- peers and links -----------------------------------------------------------------------

  #addPeer(info: PeerInfo, initiate: boolean): RemotePeer {
    const peer = new RemotePeer(info);
    this.peers.set(peer.id, peer);
    const link = this.#createLink(peer);
    const described = this.#firstDescription(link);
    this.#described.set(peer, described);
    if (initiate) {
      this.#offers.push(described);
      link.start();
    }
    // The others' caps follow the mesh size; this link gets its own once connected (below).
    this.#applyAllCaps();
    return peer;
  }

  /** Settles when the link sends its first description, fails, or is closed. */
  #firstDescription(link: PeerLink): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        for (const off of offs) off();
        this.#descriptionWaits.delete(link);
        resolve();
      };
      const offs = [
        link.on('signal', (sig) => {
          if (sig.type === 'description') done();
        }),
        link.on('error', done),
      ];
      this.#descriptionWaits.set(link, done);
    });
  }

  /** The link for a signal's sender; a peer we have not heard of yet is added. */
  #linkFor(from: string): PeerLink | undefined {
    if (this.#closed || from === this.#peerId) return undefined;
    let peer = this.peers.get(from);
    if (!peer) {
      peer = this.#addPeer({ id: from, name: from, state: { audio: false, video: false } }, false);
      this.emit('peer-joined', peer);
    }
    return peer.link;
  }

  #createLink(peer: RemotePeer): PeerLink {
    const link = new PeerLink({
      localId: this.#peerId,
      remoteId: peer.id,
      polite: isPolite(this.#peerId, peer.id),
      config: { ...this.#rtc, iceServers: this.#iceServers as RTCIceServer[] },
      createPeerConnection: this.#createPc,
      clock: this.#clock,
    });
    peer.link = link;
    if (this.#audioOnly) link.setReceiveVideo(false);
    const local = this.local;
    void link.setLocalTrack('mic', local.audioTrack, local.stream);
    void link.setLocalTrack(
      'camera',
      this.#screen?.mode === 'replace' ? this.#screen.track : local.videoTrack,
      local.stream,
    );
    if (this.#screen?.mode === 'add')
      void link.setLocalTrack('screen', this.#screen.track, this.#screen.stream);
    link.on('signal', (sig) => this.#sendSignal(peer.id, sig));
    link.on('connection-state', (state) => {
      peer.connectionState = state;
      this.emit('connection-state', { peer, state });
      this.#setQuality(peer, computeQuality(state, undefined, peer.stats));
      if (state === 'connected' && !this.#capped.has(link)) {
        this.#capped.add(link);
        this.#clock.setTimeout(() => {
          if (!link.closed && !this.#closed) void this.#applyCaps(link);
        }, FIRST_CAPS_DELAY_MS);
      }
    });
    link.on('track', (t) => this.#onTrack(peer, t, true));
    link.on('track-removed', (t) => this.#onTrack(peer, t, false));
    // Until it first connects a link sends nothing, and its first caps wait until its media
    // flows: setParameters costs ~5 ms of main thread per sender, which the first frames need.
    link.on('negotiated', () => {
      if (this.#capped.has(link)) void this.#applyCaps(link);
    });
    link.on('ice-restart-needed', () => void this.#restartIce(link));
    link.on('channel-open', () => {
      if (this.chat.size > 0 && isLongestPresent(this.#olderThanMe, this.peers.keys())) {
        link.send(
          JSON.stringify({ t: 'history', msgs: this.chat.messages() } satisfies ChannelMessage),
        );
      }
    });
    link.on('channel-message', (raw) => this.#onChannelMessage(peer, raw));
    link.on('error', (err) => this.emit('error', toSdkError(err, 'negotiation-failed')));
    return link;
  }

  #sendSignal(to: string, sig: PeerSignal): void {
    if (this.#closed) return;
    if (sig.type === 'sources') {
      this.signalling.message(to, { t: 'sources', sources: sig.sources });
    } else if (sig.type === 'candidate') {
      const c = sig.candidate;
      this.signalling.signal({
        to,
        kind: 'candidate',
        data: {
          candidate: c.candidate ?? '',
          sdpMid: c.sdpMid ?? null,
          sdpMLineIndex: c.sdpMLineIndex ?? null,
          usernameFragment: c.usernameFragment ?? null,
        },
      });
    } else if (sig.description.type === 'offer') {
      this.signalling.signal({
        to,
        kind: 'offer',
        data: { type: 'offer', sdp: sig.description.sdp ?? '' },
      });
    } else if (sig.description.type === 'answer') {
      this.signalling.signal({
        to,
        kind: 'answer',
        data: { type: 'answer', sdp: sig.description.sdp ?? '' },
      });
    }
  }

  #onTrack(peer: RemotePeer, t: RemoteTrack, added: boolean): void {
    if (added) peer.tracks.set(t.source, t.track);
    else if (peer.tracks.get(t.source) === t.track) peer.tracks.delete(t.source);
    this.emit(added ? 'track' : 'track-removed', { peer, source: t.source, track: t.track });
  }

  #onChannelMessage(peer: RemotePeer, raw: string): void {
    const m = parseChannelMessage(raw);
    if (!m) return;
    if (m.t === 'chat') {
      // The author is the channel's peer, whatever the frame says.
      const msg = { ...m.msg, from: peer.id };
      if (this.chat.add(msg)) this.emit('message', msg);
    } else if (m.t === 'history') {
      for (const msg of this.chat.merge(m.msgs)) this.emit('message', msg);
    } else if (m.t === 'app') {
      this.emit('data', { from: peer.id, data: m.data });
    }
  }

  #broadcast(m: ChannelMessage): void {
    const frame = JSON.stringify(m);
    for (const p of this.peers.values()) p.link?.send(frame);
  }

  #removePeer(id: string, reason: PeerLeft['reason']): void {
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    this.#olderThanMe.delete(id);
    if (peer.link) this.#descriptionWaits.get(peer.link)?.();
    peer.link?.close();
    peer.link = undefined;
    for (const [source, track] of peer.tracks) this.emit('track-removed', { peer, source, track });
    peer.tracks.clear();
    this.emit('peer-left', { peer, reason });
    this.#applyAllCaps();
  }

  // --- caps, stats, ICE ----------------------------------------------------------------------

  /** Caps of every link that has them (see FIRST_CAPS_DELAY_MS), for the current mesh size. */
  #applyAllCaps(): void {
    for (const p of this.peers.values())
      if (p.link && this.#capped.has(p.link)) void this.#applyCaps(p.link);
  }

  async #applyCaps(link: PeerLink): Promise<void> {
    const n = Math.max(1, this.peers.size);
    const audio = audioCaps(n);
    const jobs: Array<Promise<unknown>> = [];
    const mic = link.senderFor('mic');
    const cam = link.senderFor('camera');
    const screen = link.senderFor('screen');
    const camIsScreen = this.#screen?.mode === 'replace';
    if (mic) jobs.push(applyCaps(mic, { video: cameraCaps(n), audio }));
    if (cam)
      jobs.push(applyCaps(cam, { video: camIsScreen ? screenCaps(n) : cameraCaps(n), audio }));
    if (screen) jobs.push(applyCaps(screen, { video: screenCaps(n), audio }));
    await Promise.allSettled(jobs);
  }

  #scheduleStats(): void {
    this.#statsTimer = this.#clock.setTimeout(() => {
      void this.#pollStats().finally(() => {
        if (!this.#closed) this.#scheduleStats();
      });
    }, this.#statsMs);
  }

  async #pollStats(): Promise<void> {
    await Promise.all(
      [...this.peers.values()].map(async (peer) => {
        const link = peer.link;
        if (!link || link.closed) return;
        try {
          const cur = summarizeStats(await link.pc.getStats());
          const q = computeQuality(link.connectionState, peer.stats, cur);
          peer.stats = cur;
          this.emit('stats', { peer, stats: cur });
          this.#setQuality(peer, q);
        } catch {
          // the connection closed meanwhile
        }
      }),
    );
  }

  #setQuality(peer: RemotePeer, q: Quality): void {
    if (peer.quality === q) return;
    peer.quality = q;
    this.emit('quality', { peer, quality: q });
  }

  /** ICE restart with fresh credentials (fetched through a signalling resume when stale). */
  async #restartIce(link: PeerLink): Promise<void> {
    if (this.#closed || link.closed) return;
    const hasTurn = this.#iceServers.some((s) => s.username !== undefined);
    if (hasTurn && this.#clock.now() - this.#iceServersAt > ICE_SERVERS_FRESH_MS)
      await this.#refreshIceServers();
    if (!link.closed) link.restartIce(this.#iceServers as RTCIceServer[]);
  }

  #refreshIceServers(): Promise<void> {
    if (this.signalling.state !== 'connected') return Promise.resolve();
    this.#refreshing ??= this.signalling
      .refresh()
      .then(() => undefined)
      .catch(() => undefined)
      .finally(() => {
        this.#refreshing = null;
      });
    return this.#refreshing;
  }

  #scheduleTurnRefresh(): void {
    if (this.#turnTimer !== null) this.#clock.clearTimeout(this.#turnTimer);
    this.#turnTimer = null;
    const delay = turnRefreshDelay(this.#iceServers, Date.now());
    if (delay === null || this.#closed) return;
    this.#turnTimer = this.#clock.setTimeout(
      () => {
        this.#turnTimer = null;
        void this.#refreshIceServers();
      },
      Math.min(delay, 2_147_000_000),
    );
  }

  // --- local media wiring --------------------------------------------------------------------

  #wireLocal(): void {
    this.#offs.push(
      this.local.on('track-changed', ({ source, track }) => {
        if (source === 'camera' && this.#screen?.mode === 'replace') return;
        for (const p of this.peers.values())
          void p.link?.setLocalTrack(source, track, this.local.stream);
      }),
      this.local.on('state', () => this.#publishState()),
    );
  }

  #close(reason: LeaveReason, error?: TfxSdkError): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs) off();
    if (this.#turnTimer !== null) this.#clock.clearTimeout(this.#turnTimer);
    if (this.#statsTimer !== null) this.#clock.clearTimeout(this.#statsTimer);
    for (const done of [...this.#descriptionWaits.values()]) done();
    for (const p of this.peers.values()) p.link?.close();
    if (this.#screen) for (const t of this.#screen.stream.getTracks()) t.stop();
    this.#screen = null;
    this.signalling.close();
    this.emit('left', error ? { reason, error } : { reason });
    // Held, 'left' reaches the listeners there are when the hold ends; they go after it.
    if (this.#holds > 0 || this.#delivering) this.#unlistenAfterHeld = true;
    else this.removeAllListeners();
  }

  #assertOpen(): void {
    if (this.#closed) throw new TfxSdkError('closed', 'this room was left');
  }
}

const SOURCES = new Set<string>(['mic', 'camera', 'screen', 'screen-audio']);

/** Keeps only `mid → known source` entries of an untrusted sources map. */
export function sanitizeSources(raw: object): Record<string, MediaSource> {
  const out: Record<string, MediaSource> = {};
  for (const [mid, v] of Object.entries(raw)) {
    if (mid.length <= 32 && typeof v === 'string' && SOURCES.has(v)) out[mid] = v as MediaSource;
  }
  return out;
}
