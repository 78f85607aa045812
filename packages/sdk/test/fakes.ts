/**
 * Fakes for unit tests of the SDK's managers: an RTCPeerConnection that models the signalling
 * state machine of JSEP (RFC 8829 §3.2: stable / have-local-offer / have-remote-offer, implicit
 * rollback on setRemoteDescription(offer) in have-local-offer) and the negotiation-needed flag;
 * a manual clock; a network that holds signals until flushed, so tests can cross offers (glare);
 * a socket.io client socket whose server the test plays.
 */
import type { Clock } from '../src/clock.js';

type Listener = (ev: unknown) => void;

class FakeTarget {
  readonly #ls = new Map<string, Set<Listener>>();
  addEventListener(type: string, l: Listener): void {
    let set = this.#ls.get(type);
    if (!set) this.#ls.set(type, (set = new Set()));
    set.add(l);
  }
  removeEventListener(type: string, l: Listener): void {
    this.#ls.get(type)?.delete(l);
  }
  dispatch(type: string, ev: unknown = {}): void {
    for (const l of this.#ls.get(type) ?? []) l(ev);
  }
}

export class FakeChannel extends FakeTarget {
  readyState: RTCDataChannelState = 'connecting';
  readonly sent: string[] = [];
  send(text: string): void {
    this.sent.push(text);
  }
  close(): void {
    this.readyState = 'closed';
  }
  open(): void {
    this.readyState = 'open';
    this.dispatch('open');
  }
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

let seq = 0;

export class FakePeerConnection extends FakeTarget {
  readonly id = ++seq;
  signalingState: RTCSignalingState = 'stable';
  connectionState: RTCPeerConnectionState = 'new';
  localDescription: { type: RTCSdpType; sdp: string; toJSON(): RTCSessionDescriptionInit } | null =
    null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  config: RTCConfiguration;
  readonly candidates: Array<RTCIceCandidateInit | undefined> = [];
  readonly channels: FakeChannel[] = [];
  restarts = 0;
  rollbacks = 0;
  closed = false;
  #needed = false;
  #offers = 0;

  constructor(config: RTCConfiguration) {
    super();
    this.config = config;
  }

  getConfiguration(): RTCConfiguration {
    return this.config;
  }
  setConfiguration(c: RTCConfiguration): void {
    this.config = c;
  }
  getTransceivers(): RTCRtpTransceiver[] {
    return [];
  }
  addTransceiver(): RTCRtpTransceiver {
    this.#markNeeded();
    return {
      mid: null,
      direction: 'recvonly',
      currentDirection: null,
      sender: { track: null },
      receiver: { track: { kind: 'audio' } },
    } as unknown as RTCRtpTransceiver;
  }
  createDataChannel(): RTCDataChannel {
    const ch = new FakeChannel();
    this.channels.push(ch);
    this.#markNeeded();
    return ch as unknown as RTCDataChannel;
  }
  restartIce(): void {
    this.restarts++;
    this.#markNeeded();
  }

  async setLocalDescription(desc?: RTCSessionDescriptionInit): Promise<void> {
    await tick();
    if (desc?.type === 'rollback') {
      this.signalingState = 'stable';
      return;
    }
    if (this.signalingState === 'have-remote-offer') {
      this.#setLocal('answer', `answer-${this.id}`);
      this.#stable();
    } else {
      this.#setLocal('offer', `offer-${this.id}-${++this.#offers}`);
      this.#setState('have-local-offer');
    }
  }

  async setRemoteDescription(desc: RTCSessionDescriptionInit): Promise<void> {
    await tick();
    if (desc.type === 'offer') {
      if (this.signalingState === 'have-local-offer') {
        // JSEP §5.10 / W3C §4.4.1.6: implicit rollback of our own offer.
        this.rollbacks++;
        this.#setState('stable');
      } else if (this.signalingState !== 'stable') {
        throw Object.assign(new Error(`cannot apply an offer in ${this.signalingState}`), {
          name: 'InvalidStateError',
        });
      }
      this.remoteDescription = desc;
      this.#setState('have-remote-offer');
    } else if (desc.type === 'answer') {
      if (this.signalingState !== 'have-local-offer') {
        throw Object.assign(new Error(`cannot apply an answer in ${this.signalingState}`), {
          name: 'InvalidStateError',
        });
      }
      this.remoteDescription = desc;
      this.#needed = false;
      this.#stable();
    }
  }

  async addIceCandidate(c?: RTCIceCandidateInit): Promise<void> {
    await tick();
    if (!this.remoteDescription)
      throw Object.assign(new Error('no remote description'), { name: 'InvalidStateError' });
    this.candidates.push(c);
  }

  getStats(): Promise<Map<string, unknown>> {
    return Promise.resolve(new Map());
  }

  close(): void {
    this.closed = true;
    this.signalingState = 'closed';
  }

  /** Test helper: moves the connection state and fires the event. */
  setConnectionState(s: RTCPeerConnectionState): void {
    this.connectionState = s;
    this.dispatch('connectionstatechange');
  }

  /** Test helper: emits a local ICE candidate. */
  emitCandidate(candidate: string): void {
    this.dispatch('icecandidate', {
      candidate: { toJSON: () => ({ candidate, sdpMid: '0', sdpMLineIndex: 0 }) },
    });
  }

  #setLocal(type: RTCSdpType, sdp: string): void {
    this.localDescription = { type, sdp, toJSON: () => ({ type, sdp }) };
  }
  #setState(s: RTCSignalingState): void {
    this.signalingState = s;
    this.dispatch('signalingstatechange');
  }
  #stable(): void {
    this.#setState('stable');
    if (this.#needed) this.#fireNeeded();
  }
  #markNeeded(): void {
    // Media and channels added while answering ride on the remote offer's m-lines (as addTrack
    // reusing the offer's transceivers does in a browser), so they need no new round.
    if (this.#needed || this.signalingState === 'have-remote-offer') return;
    this.#needed = true;
    this.#fireNeeded();
  }
  #fireNeeded(): void {
    setTimeout(() => {
      if (this.#needed && this.signalingState === 'stable' && !this.closed)
        this.dispatch('negotiationneeded');
    }, 0);
  }
}

type Fn = (...args: unknown[]) => void;

/** A socket.io client socket stand-in: the test plays the server. */
export class FakeSocket {
  connected = false;
  id = 'sock-1';
  auth: unknown = {};
  readonly connects: unknown[] = [];
  readonly emitted: Array<{ event: string; payload: unknown }> = [];
  readonly #handlers = new Map<string, Set<Fn>>();
  /** Answers acks: event → ack payload. */
  readonly acks = new Map<string, (payload: unknown) => unknown>();
  readonly io = { engine: { close: () => this.drop('transport close') } };

  on(event: string, fn: Fn): this {
    let set = this.#handlers.get(event);
    if (!set) this.#handlers.set(event, (set = new Set()));
    set.add(fn);
    return this;
  }
  off(event: string, fn: Fn): this {
    this.#handlers.get(event)?.delete(fn);
    return this;
  }
  emit(event: string, payload: unknown, ack?: Fn): this {
    this.emitted.push({ event, payload });
    const answer = this.acks.get(event);
    if (ack && answer) queueMicrotask(() => ack(answer(payload)));
    return this;
  }
  connect(): this {
    this.connects.push(this.auth);
    return this;
  }
  disconnect(): this {
    if (this.connected) this.drop('io client disconnect');
    return this;
  }
  fire(event: string, ...args: unknown[]): void {
    for (const fn of [...(this.#handlers.get(event) ?? [])]) fn(...args);
  }
  /** The server accepts the connection. */
  accept(id = this.id): void {
    this.id = id;
    this.connected = true;
    this.fire('connect');
  }
  /** The server refuses the connection with a catalogue code. */
  refuse(code: string): void {
    this.fire('connect_error', Object.assign(new Error(code), { data: { code, message: code } }));
  }
  drop(reason: string): void {
    this.connected = false;
    this.fire('disconnect', reason);
  }
}

/** A manual clock: timers run when `advance` passes them. */
export class ManualClock implements Clock {
  #now = 0;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #id = 0;
  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#id;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
  }
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = [...this.#timers.entries()].sort((a, b) => a[1].at - b[1].at)[0];
      if (!next || next[1].at > end) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
    }
    this.#now = end;
  }
  get pending(): number {
    return this.#timers.size;
  }
}

export const settle = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i++) await tick();
};
