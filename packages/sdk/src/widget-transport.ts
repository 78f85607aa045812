/**
 * Widget frames between peers: one multiplexed, ordered, binary RTCDataChannel per peer
 * connection (`tfx-widgets`, negotiated id 1), every frame tagged with its widget id
 * (docs/widgets.md explains the choice). The transport
 *
 * - cuts each widget message into frames of at most 16 KiB (`@tfx/protocol/widgets` wire format),
 * - queues them per peer and per widget and sends round-robin across widgets (a 20 MB file does not
 *   hold a chat line back by more than a few frames), pausing while the channel's `bufferedAmount`
 *   is above a high-water mark until `bufferedamountlow` — so `send()` resolves only once the
 *   message has been handed to every channel: that is the widget's back-pressure,
 * - re-validates everything a peer sends (frame header, sender, chunk order, size, JSON) and
 *   drops and counts what fails, never throws,
 * - keeps which widgets are open in the room: a last-writer-wins register per widget id
 *   (Lamport clock, ties by peer id), exchanged in full when a channel opens, so late joiners
 *   learn what is open.
 *
 * No DOM of its own beyond the channels it is given (STYLE.md practice 10); a fake channel and
 * a fake clock drive it in tests.
 */
import {
  Reassembler,
  chunkMessage,
  decodeFrame,
  isWidgetId,
  chunkCount,
  type FrameError,
  type ReassemblyDrop,
  type WireType,
} from '@tfx/protocol/widgets';
import { Emitter } from './emitter.js';
import { realClock, type Clock } from './clock.js';
import { TfxSdkError } from './errors.js';
import type { Room } from './room.js';

/** What the transport needs of an RTCDataChannel. */
export interface WidgetChannelLike {
  readonly readyState: string;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  binaryType: string;
  send(data: Uint8Array<ArrayBuffer>): void;
  addEventListener(type: string, listener: (ev: Event) => void): void;
  removeEventListener(type: string, listener: (ev: Event) => void): void;
}

/** A widget message's content as the envelope carries it. */
export type WidgetPayload =
  | { readonly encoding: 'json'; readonly text: string }
  | { readonly encoding: 'binary'; readonly bytes: ArrayBuffer };

export type WidgetFrameType = Exclude<WireType, 'control'>;

export interface WidgetInbound {
  readonly from: string;
  readonly widget: string;
  readonly type: WidgetFrameType;
  readonly directed: boolean;
  readonly data: WidgetPayload;
}

export type WidgetDropReason =
  FrameError | ReassemblyDrop | 'sender-mismatch' | 'not-open' | 'malformed-json' | 'bad-control';

export interface WidgetTransportCounters {
  framesSent: number;
  framesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Frames or messages from peers that were refused, by reason. */
  readonly dropped: Partial<Record<WidgetDropReason, number>>;
}

export interface WidgetOpenEntry {
  readonly open: boolean;
  readonly clock: number;
  readonly by: string;
}

export interface WidgetTransportEvents {
  [event: string]: unknown;
  message: WidgetInbound;
  /** The set of open widget ids changed (by us or a peer). */
  'open-state': readonly string[];
  /** A peer's widget channel opened (it can receive widget frames now). */
  'peer-ready': string;
  /** A peer's widget channel closed or the peer left. */
  'peer-gone': string;
  dropped: { readonly from: string; readonly reason: WidgetDropReason };
}

export interface WidgetTransportOptions {
  readonly localId: () => string;
  readonly clock?: Clock;
  /** Largest widget message, bytes (widgets.maxMessageBytes). Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Pause sending while a channel buffers more than this, bytes. Default 256 KiB. */
  readonly highWaterBytes?: number;
  /** Resume at `bufferedamountlow` below this, bytes. Default 64 KiB. */
  readonly lowWaterBytes?: number;
}

const CONTROL_MAX_BYTES = 64 * 1024;
const MAX_OPEN_ENTRIES = 256;
const PEER_ID = /^[A-Za-z0-9_-]{1,64}$/;

interface OutItem {
  readonly widget: string;
  readonly frames: Iterator<Uint8Array>;
  remaining: number;
  readonly done: () => void;
  readonly fail: (err: TfxSdkError) => void;
}

/** One peer's channel: the send queues (round-robin across widgets) and the reassembler. */
class PeerChannel {
  readonly peerId: string;
  readonly channel: WidgetChannelLike;
  readonly reassembler: Reassembler;
  readonly #queues = new Map<string, OutItem[]>();
  #control: OutItem[] = [];
  #order: string[] = [];
  #next = 0;
  #pumping = false;
  #timer: unknown = null;
  readonly #high: number;
  readonly #clock: Clock;
  readonly #onSent: (bytes: number) => void;
  readonly #offs: Array<() => void> = [];

  constructor(
    peerId: string,
    channel: WidgetChannelLike,
    o: {
      maxBytes: () => number;
      high: number;
      low: number;
      clock: Clock;
      onSent: (n: number) => void;
    },
  ) {
    this.peerId = peerId;
    this.channel = channel;
    this.reassembler = new Reassembler(o.maxBytes);
    this.#high = o.high;
    this.#clock = o.clock;
    this.#onSent = o.onSent;
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = o.low;
    const low = (): void => this.pump();
    channel.addEventListener('bufferedamountlow', low);
    this.#offs.push(() => channel.removeEventListener('bufferedamountlow', low));
  }

  get open(): boolean {
    return this.channel.readyState === 'open';
  }

  /** Bytes waiting in our queues (not yet handed to the channel) are not counted here. */
  get queued(): number {
    let n = this.#control.length;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  enqueue(item: OutItem, control = false): void {
    if (control) this.#control.push(item);
    else {
      let q = this.#queues.get(item.widget);
      if (!q) {
        q = [];
        this.#queues.set(item.widget, q);
        this.#order.push(item.widget);
      }
      q.push(item);
    }
    this.pump();
  }

  /** Sends frames while the channel has room; fair across widgets, control frames first. */
  pump(): void {
    if (this.#pumping || !this.open) return;
    this.#pumping = true;
    try {
      while (this.open && this.channel.bufferedAmount < this.#high) {
        const item = this.#pick();
        if (!item) break;
        const r = item.frames.next();
        if (r.done) {
          this.#finish(item);
          continue;
        }
        try {
          this.channel.send(r.value as Uint8Array<ArrayBuffer>);
        } catch (err) {
          this.failAll(new TfxSdkError('peer-unavailable', `widget channel: ${String(err)}`));
          return;
        }
        this.#onSent(r.value.length);
        if (--item.remaining === 0) this.#finish(item);
      }
      // Still work to do and the channel is full: `bufferedamountlow` resumes us; a timer too, in
      // case the event is lost (a channel that never drains below the threshold again).
      if (this.#hasWork() && this.open && this.#timer === null) {
        this.#timer = this.#clock.setTimeout(() => {
          this.#timer = null;
          this.pump();
        }, 50);
      }
    } finally {
      this.#pumping = false;
    }
  }

  failAll(err: TfxSdkError): void {
    const items = [...this.#control, ...[...this.#queues.values()].flat()];
    this.#control = [];
    this.#queues.clear();
    this.#order = [];
    for (const it of items) it.fail(err);
  }

  close(err: TfxSdkError): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
    for (const off of this.#offs) off();
    this.failAll(err);
    this.reassembler.clear();
  }

  #hasWork(): boolean {
    return this.#control.length > 0 || this.#order.length > 0;
  }

  #pick(): OutItem | undefined {
    if (this.#control.length > 0) return this.#control[0];
    if (this.#order.length === 0) return undefined;
    this.#next %= this.#order.length;
    const widget = this.#order[this.#next++] as string;
    return this.#queues.get(widget)?.[0];
  }

  #finish(item: OutItem): void {
    if (this.#control[0] === item) this.#control.shift();
    else {
      const q = this.#queues.get(item.widget);
      q?.shift();
      if (q && q.length === 0) {
        this.#queues.delete(item.widget);
        const i = this.#order.indexOf(item.widget);
        this.#order.splice(i, 1);
        if (i < this.#next) this.#next--;
      }
    }
    item.done();
  }
}

export class WidgetTransport extends Emitter<WidgetTransportEvents> {
  readonly counters: WidgetTransportCounters = {
    framesSent: 0,
    framesReceived: 0,
    messagesSent: 0,
    messagesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    dropped: {},
  };
  #maxBytes: number;
  readonly #high: number;
  readonly #low: number;
  readonly #clock: Clock;
  readonly #localId: () => string;
  readonly #peers = new Map<string, PeerChannel>();
  readonly #seq = new Map<string, number>();
  readonly #open = new Map<string, WidgetOpenEntry>();
  #lamport = 0;
  #closed = false;

  constructor(o: WidgetTransportOptions) {
    super();
    this.#localId = o.localId;
    this.#clock = o.clock ?? realClock;
    this.#maxBytes = o.maxMessageBytes ?? 1_048_576;
    this.#high = o.highWaterBytes ?? 256 * 1024;
    this.#low = o.lowWaterBytes ?? 64 * 1024;
  }

  get maxMessageBytes(): number {
    return this.#maxBytes;
  }
  /** Applies widgets.maxMessageBytes (from `GET /api/v1/widgets`) to new channels and sends. */
  set maxMessageBytes(n: number) {
    this.#maxBytes = n;
  }

  /** Peers whose widget channel is open. */
  readyPeers(): string[] {
    return [...this.#peers.values()].filter((p) => p.open).map((p) => p.peerId);
  }

  /** Widget ids open in the room. */
  openWidgets(): string[] {
    return [...this.#open].filter(([, e]) => e.open).map(([id]) => id);
  }

  isOpen(widget: string): boolean {
    return this.#open.get(widget)?.open === true;
  }

  /** Opens (or closes) a widget for everyone in the room. */
  setOpen(widget: string, open: boolean): void {
    this.#assertOpen();
    if (!isWidgetId(widget)) throw new TfxSdkError('bad-request', `invalid widget id: ${widget}`);
    if (this.isOpen(widget) === open) return;
    const entry: WidgetOpenEntry = { open, clock: ++this.#lamport, by: this.#localId() };
    this.#open.set(widget, entry);
    this.#sendControl([[widget, entry]]);
    this.emit('open-state', this.openWidgets());
  }

  /**
   * Sends one widget message to every ready peer, or to `to`. Resolves once every frame has been
   * handed to the channel(s); rejects with `widget-message-too-large` or `peer-unavailable`.
   */
  send(widget: string, type: WidgetFrameType, data: WidgetPayload, to?: string): Promise<void> {
    if (this.#closed) return Promise.reject(new TfxSdkError('closed', 'the room was left'));
    if (!isWidgetId(widget))
      return Promise.reject(new TfxSdkError('bad-request', `invalid widget id: ${widget}`));
    const payload =
      data.encoding === 'json' ? new TextEncoder().encode(data.text) : new Uint8Array(data.bytes);
    if (payload.length > this.#maxBytes)
      return Promise.reject(
        new TfxSdkError(
          'widget-message-too-large',
          `${payload.length} bytes is more than widgets.maxMessageBytes (${this.#maxBytes})`,
        ),
      );
    let targets: PeerChannel[];
    if (to !== undefined) {
      const p = this.#peers.get(to);
      if (!p?.open)
        return Promise.reject(
          new TfxSdkError('peer-unavailable', `peer ${to} has no open widget channel`),
        );
      targets = [p];
    } else targets = [...this.#peers.values()].filter((p) => p.open);
    const seq = (this.#seq.get(widget) ?? 0) + 1;
    this.#seq.set(widget, seq);
    this.counters.messagesSent++;
    if (targets.length === 0) return Promise.resolve();
    const sender = this.#localId();
    return new Promise<void>((resolve, reject) => {
      let pending = targets.length;
      const one = (): void => {
        if (--pending === 0) resolve();
      };
      for (const p of targets) {
        const frames = chunkMessage({
          type,
          encoding: data.encoding,
          directed: to !== undefined,
          widget,
          sender,
          seq,
          payload,
        });
        const count = chunkCount(payload.length, widget, sender);
        p.enqueue({
          widget,
          frames,
          remaining: count,
          done: one,
          // A broadcast to a peer that leaves meanwhile still counts as done for the others.
          fail: to !== undefined ? reject : one,
        });
      }
    });
  }

  /** Attaches a peer's widget channel (from `PeerLink`'s `widget-channel` event). */
  attach(peerId: string, channel: WidgetChannelLike): void {
    if (this.#closed) return;
    this.detach(peerId);
    const p = new PeerChannel(peerId, channel, {
      maxBytes: () => this.#maxBytes,
      high: this.#high,
      low: this.#low,
      clock: this.#clock,
      onSent: (n) => {
        this.counters.framesSent++;
        this.counters.bytesSent += n;
      },
    });
    this.#peers.set(peerId, p);
    const onOpen = (): void => {
      if (this.#peers.get(peerId) !== p) return;
      // Tell the newcomer everything we know of what is open (it merges by clock).
      if (this.#open.size > 0) this.#sendControl([...this.#open], p);
      this.emit('peer-ready', peerId);
      p.pump();
    };
    const onClose = (): void => {
      if (this.#peers.get(peerId) === p) this.detach(peerId);
    };
    const onMessage = (ev: Event): void => this.#receive(p, (ev as MessageEvent).data);
    channel.addEventListener('open', onOpen);
    channel.addEventListener('close', onClose);
    channel.addEventListener('message', onMessage);
    if (channel.readyState === 'open') onOpen();
  }

  /** Forgets a peer: its queued sends fail (`peer-unavailable`), its partial messages go. */
  detach(peerId: string): void {
    const p = this.#peers.get(peerId);
    if (!p) return;
    this.#peers.delete(peerId);
    p.close(new TfxSdkError('peer-unavailable', `peer ${peerId} left`));
    this.emit('peer-gone', peerId);
  }

  /** Closes the transport (the room was left). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of [...this.#peers.keys()]) this.detach(id);
    this.removeAllListeners();
  }

  // --- receiving --------------------------------------------------------------------------------

  #drop(from: string, reason: WidgetDropReason): void {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
    this.emit('dropped', { from, reason });
  }

  #receive(p: PeerChannel, raw: unknown): void {
    const d = decodeFrame(raw);
    if (!d.ok) return this.#drop(p.peerId, d.error);
    const f = d.frame;
    this.counters.framesReceived++;
    this.counters.bytesReceived += f.payload.length;
    // The channel tells who sent it; a frame claiming someone else is forged.
    if (f.sender !== p.peerId) return this.#drop(p.peerId, 'sender-mismatch');
    if (f.type === 'control' && f.total > CONTROL_MAX_BYTES)
      return this.#drop(p.peerId, 'too-large');
    const r = p.reassembler.push(f);
    if (r === null) return;
    if ('drop' in r) return this.#drop(p.peerId, r.drop);
    if (r.type === 'control') return this.#onControl(p.peerId, r.payload);
    if (!this.isOpen(r.widget)) return this.#drop(p.peerId, 'not-open');
    let data: WidgetPayload;
    if (r.encoding === 'json') {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(r.payload);
        JSON.parse(text);
      } catch {
        return this.#drop(p.peerId, 'malformed-json');
      }
      data = { encoding: 'json', text };
    } else {
      const bytes =
        r.payload.buffer.byteLength === r.payload.length && r.payload.byteOffset === 0
          ? (r.payload.buffer as ArrayBuffer)
          : (r.payload.slice().buffer as ArrayBuffer);
      data = { encoding: 'binary', bytes };
    }
    this.counters.messagesReceived++;
    this.emit('message', {
      from: p.peerId,
      widget: r.widget,
      type: r.type,
      directed: r.directed,
      data,
    });
  }

  // --- open/close registry ------------------------------------------------------------------------

  #sendControl(entries: Array<[string, WidgetOpenEntry]>, only?: PeerChannel): void {
    const text = JSON.stringify({
      t: 'open',
      entries: entries.map(([id, e]) => [id, e.open, e.clock, e.by]),
    });
    const payload = new TextEncoder().encode(text);
    const sender = this.#localId();
    for (const p of only ? [only] : this.#peers.values()) {
      if (!p.open) continue;
      const frames = chunkMessage({
        type: 'control',
        encoding: 'json',
        directed: false,
        widget: '',
        sender,
        seq: 0,
        payload,
      });
      const count = chunkCount(payload.length, '', sender);
      p.enqueue(
        { widget: '', frames, remaining: count, done: () => undefined, fail: () => undefined },
        true,
      );
    }
  }

  #onControl(from: string, payload: Uint8Array): void {
    let v: unknown;
    try {
      v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    } catch {
      return this.#drop(from, 'bad-control');
    }
    const o = v as { t?: unknown; entries?: unknown };
    if (!o || o.t !== 'open' || !Array.isArray(o.entries) || o.entries.length > MAX_OPEN_ENTRIES)
      return this.#drop(from, 'bad-control');
    let changed = false;
    for (const raw of o.entries) {
      if (!Array.isArray(raw) || raw.length !== 4) return this.#drop(from, 'bad-control');
      const [id, open, clock, by] = raw as unknown[];
      if (
        !isWidgetId(id) ||
        typeof open !== 'boolean' ||
        typeof clock !== 'number' ||
        !Number.isInteger(clock) ||
        clock < 0 ||
        clock > 2 ** 31 ||
        typeof by !== 'string' ||
        !PEER_ID.test(by)
      )
        return this.#drop(from, 'bad-control');
      this.#lamport = Math.max(this.#lamport, clock);
      const cur = this.#open.get(id);
      if (cur && (cur.clock > clock || (cur.clock === clock && cur.by >= by))) continue;
      if (cur?.open !== open) changed = true;
      this.#open.set(id, { open, clock, by });
    }
    if (changed) this.emit('open-state', this.openWidgets());
  }

  #assertOpen(): void {
    if (this.#closed) throw new TfxSdkError('closed', 'the room was left');
  }
}

/**
 * A widget transport for a room: attaches every peer link's widget channel as it appears and
 * detaches it when the peer leaves; closes with the room.
 */
export function attachWidgetTransport(
  room: Room,
  options: Omit<WidgetTransportOptions, 'localId'> = {},
): WidgetTransport {
  const t = new WidgetTransport({ ...options, localId: () => room.peerId });
  const hook = (id: string): void => {
    const link = room.peers.get(id)?.link;
    if (!link) return;
    if (link.widgetChannel) t.attach(id, link.widgetChannel);
    link.on('widget-channel', (ch) => t.attach(id, ch));
  };
  for (const id of room.peers.keys()) hook(id);
  const offs = [
    room.on('peer-joined', (p) => hook(p.id)),
    room.on('peer-left', ({ peer }) => t.detach(peer.id)),
    room.on('left', () => {
      for (const off of offs) off();
      t.close();
    }),
  ];
  return t;
}
