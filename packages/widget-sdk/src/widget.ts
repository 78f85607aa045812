/**
 * A connected widget: what a widget's code talks to after the handshake. Everything goes over
 * the `MessagePort` the host handed over in `welcome`; nothing else in the page can inject.
 */
import {
  ENVELOPE_TAG,
  parseHostToWidget,
  type HostToWidget,
  type WidgetData,
  type WidgetPeer,
  type WidgetToHost,
  type OverlayShape,
  type ProcessorSetBy,
  type VideoProcessorChain,
  type VideoProcessorSpec,
  type WidgetMediaToHost,
} from '@tfx/protocol/widgets';
import { TfxWidgetError } from './errors.js';
import { byteLength, decodeData, encodeData } from './codec.js';
import { createStateSync, type StateSync, type StateSyncOptions } from './state-sync.js';
import { AudioApi, LanguageApi, type MediaChannel } from './language.js';

export interface SendOptions {
  /** A peer id: send to that peer's instance only (default: every instance in the room). */
  readonly to?: string;
}

export type MessageHandler = (data: unknown, from: WidgetPeer) => void;
export type PeersHandler = (peers: readonly WidgetPeer[]) => void;

/** What a `TfxWidget` needs from its environment (a real `MessagePort` and timers in a page). */
export interface WidgetPortLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (ev: MessageEvent) => void): void;
  start(): void;
  close(): void;
}

interface Pending {
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (err: TfxWidgetError) => void;
}

type Handler<T extends unknown[]> = (...args: T) => void;

interface Handlers {
  message: Handler<[unknown, WidgetPeer]>;
  peers: Handler<[readonly WidgetPeer[]]>;
  self: Handler<[WidgetPeer]>;
  request: Handler<[WidgetPeer]>;
  offer: Handler<[unknown, WidgetPeer]>;
}

export class TfxWidget {
  /** The widget id in the manifest. */
  readonly widgetId: string;
  /** The envelope version agreed in the handshake. */
  readonly version: number;
  /** Largest message, bytes (the deployment's widgets.maxMessageBytes). */
  readonly maxMessageBytes: number;
  #self: WidgetPeer;
  #peers: readonly WidgetPeer[];
  readonly #port: WidgetPortLike;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  /** Sends waiting for room under the in-flight window (back-pressure). */
  readonly #waiting: Array<() => void> = [];
  #inflight = 0;
  readonly #window: number;
  readonly #handlers: { [K in keyof Handlers]: Set<Handlers[K]> } = {
    message: new Set(),
    peers: new Set(),
    self: new Set(),
    request: new Set(),
    offer: new Set(),
  };
  #closed = false;
  /** Media requests awaiting their answer (`media.*` or `error` with the same id). */
  readonly #mediaPending = new Map<
    number,
    { resolve: (m: HostToWidget) => void; reject: (e: TfxWidgetError) => void }
  >();
  readonly #mediaHandlers = new Map<string, Set<(m: HostToWidget) => void>>();
  /** Audio levels (`permissions.media.levels`), docs/language.md. */
  readonly audio: AudioApi;
  /** Translation, the user's language and captions (`permissions.media.translate|language|captions`). */
  readonly language: LanguageApi;
  #onFrame: FrameHandler | null = null;
  readonly #processorHandlers = new Set<ProcessorHandler>();

  /** @internal — use `connect()`. */
  constructor(port: WidgetPortLike, welcome: Extract<HostToWidget, { type: 'welcome' }>) {
    this.#port = port;
    this.widgetId = welcome.widget;
    this.version = welcome.v;
    this.maxMessageBytes = welcome.maxMessageBytes;
    this.#window = Math.max(welcome.maxMessageBytes, 1_048_576) * 2;
    this.#self = welcome.self;
    this.#peers = welcome.peers;
    port.addEventListener('message', (ev) => this.#onEnvelope(ev.data));
    port.start();
    const ch: MediaChannel = {
      request: (body) => this.#mediaRequest(body),
      on: (type, h) => {
        let set = this.#mediaHandlers.get(type);
        if (!set) this.#mediaHandlers.set(type, (set = new Set()));
        const fn = h as (m: HostToWidget) => void;
        set.add(fn);
        return () => set.delete(fn);
      },
    };
    this.audio = new AudioApi(ch);
    this.language = new LanguageApi(ch);
  }

  #mediaRequest(body: Record<string, unknown> & { type: string }): Promise<HostToWidget> {
    if (this.#closed) return Promise.reject(new TfxWidgetError('closed', 'widget closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#mediaPending.set(id, { resolve, reject });
      this.#port.postMessage(
        { tfx: ENVELOPE_TAG, v: this.version, widget: this.widgetId, id, ...body },
        [],
      );
    });
  }

  /** Who we are in the room: peer id and display name. */
  self(): WidgetPeer {
    return this.#self;
  }

  /** The other participants in the room (their instance of this widget may or may not be open). */
  peers(): readonly WidgetPeer[] {
    return this.#peers;
  }

  onPeers(handler: PeersHandler): () => void {
    return this.#sub('peers', handler);
  }

  onSelf(handler: (self: WidgetPeer) => void): () => void {
    return this.#sub('self', handler);
  }

  /** Messages from this widget's instances on other peers: data, and who sent it. */
  onMessage(handler: MessageHandler): () => void {
    return this.#sub('message', handler);
  }

  /**
   * Sends `data` (JSON-serializable, or an `ArrayBuffer` / typed array) to every other instance
   * of this widget in the room, or to one peer's. Resolves when the host has handed the whole
   * message to the data channel(s) — await it to pace a stream to the network. Rejects with a
   * `TfxWidgetError`: `widget-message-too-large`, `peer-unavailable`, `bad-request`, `closed`.
   */
  sendMessage(data: unknown, options: SendOptions = {}): Promise<void> {
    return this.#send(data, options.to, 'send');
  }

  /** Late joiners and late openers receive the current state from a peer that has it. */
  stateSync<S>(options: StateSyncOptions<S>): StateSync {
    return createStateSync(
      {
        peers: () => this.#peers,
        requestState: () => this.#post({ type: 'state-request', widget: this.widgetId }),
        offerState: (to, state) => this.#send(state, to, 'state-offer'),
        onStateRequest: (h) => this.#sub('request', h),
        onStateOffer: (h) => this.#sub('offer', h),
        onPeers: (h) => this.#sub('peers', h),
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
      },
      options,
    );
  }

  // --- media capabilities (docs/effects.md; granted by the manifest's permissions.media) ---------

  /**
   * Picks and tunes the built-in video processors for this user (`permissions.media.processor`):
   * a step, a chain, or `null` for none. The user sees that this widget changed the video and can
   * turn it off. Rejects with `forbidden` when the manifest does not grant it, `bad-request` for
   * an invalid spec.
   */
  setVideoProcessor(spec: VideoProcessorSpec): Promise<void> {
    return this.#media({ type: 'media.processor.set', widget: this.widgetId, id: 0, spec });
  }

  /** The processor chain running on this user's camera, whenever it changes (and who set it). */
  onProcessor(handler: ProcessorHandler): () => void {
    this.#processorHandlers.add(handler);
    return () => this.#processorHandlers.delete(handler);
  }

  /**
   * Still frames of this user's own camera as `ImageBitmap`s (`permissions.media.frames:
   * "self"`), at most 5 per second and 640 wide. The handler owns each bitmap (close it).
   */
  async subscribeFrames(
    options: { fps: number; maxWidth?: number },
    handler: FrameHandler,
  ): Promise<void> {
    this.#onFrame = handler;
    await this.#media({
      type: 'media.frames.subscribe',
      widget: this.widgetId,
      id: 0,
      peer: 'self',
      fps: options.fps,
      ...(options.maxWidth !== undefined ? { maxWidth: options.maxWidth } : {}),
    });
  }

  async unsubscribeFrames(): Promise<void> {
    this.#onFrame = null;
    await this.#media({ type: 'media.frames.unsubscribe', widget: this.widgetId, id: 0 });
  }

  /**
   * Vector shapes the host draws into this user's outgoing video (`permissions.media.overlay`);
   * `[]` removes them. Coordinates are fractions of the frame, or of the tracked face box.
   */
  setOverlay(shapes: readonly OverlayShape[]): Promise<void> {
    return this.#media({
      type: 'media.overlay.set',
      widget: this.widgetId,
      id: 0,
      peer: 'self',
      shapes: [...shapes],
    });
  }

  #media(body: DistributiveOmit<WidgetMediaToHost, 'tfx' | 'v'>): Promise<void> {
    if (this.#closed) return Promise.reject(new TfxWidgetError('closed', 'widget closed'));
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      this.#mediaPending.set(id, { resolve: () => resolve(), reject });
      this.#port.postMessage({ ...body, tfx: ENVELOPE_TAG, v: this.version, id }, []);
    });
  }

  /** Detaches from the host; pending sends fail with `closed`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#port.close();
    for (const p of this.#pending.values()) p.reject(new TfxWidgetError('closed', 'widget closed'));
    this.#pending.clear();
    for (const p of this.#mediaPending.values())
      p.reject(new TfxWidgetError('closed', 'widget closed'));
    this.#mediaPending.clear();
    this.#onFrame = null;
    for (const w of this.#waiting.splice(0)) w();
  }

  get closed(): boolean {
    return this.#closed;
  }

  // ---------------------------------------------------------------------------------------------

  async #send(data: unknown, to: string | undefined, type: 'send' | 'state-offer'): Promise<void> {
    if (this.#closed) throw new TfxWidgetError('closed', 'widget closed');
    const d = encodeData(data);
    const bytes = byteLength(d);
    if (bytes > this.maxMessageBytes)
      throw new TfxWidgetError(
        'widget-message-too-large',
        `${bytes} bytes is more than the ${this.maxMessageBytes} allowed`,
      );
    // Back-pressure: at most #window bytes handed to the host and not yet sent.
    while (this.#inflight > 0 && this.#inflight + bytes > this.#window) {
      await new Promise<void>((r) => this.#waiting.push(r));
      if (this.#closed) throw new TfxWidgetError('closed', 'widget closed');
    }
    const id = this.#nextId++;
    this.#inflight += bytes;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { bytes, resolve, reject });
      const transfer = d.encoding === 'binary' ? [d.bytes] : [];
      if (type === 'send')
        this.#post(
          { type: 'send', widget: this.widgetId, id, data: d, ...(to !== undefined ? { to } : {}) },
          transfer,
        );
      else if (to !== undefined)
        this.#post({ type: 'state-offer', widget: this.widgetId, id, to, data: d }, transfer);
    });
  }

  #post(body: DistributiveOmit<WidgetToHost, 'tfx' | 'v'>, transfer: Transferable[] = []): void {
    if (this.#closed) return;
    this.#port.postMessage({ tfx: ENVELOPE_TAG, v: this.version, ...body }, transfer);
  }

  #settle(id: number, err?: TfxWidgetError): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    this.#inflight -= p.bytes;
    if (err) p.reject(err);
    else p.resolve();
    const next = this.#waiting.shift();
    next?.();
  }

  #onEnvelope(raw: unknown): void {
    const m = parseHostToWidget(raw);
    if (!m || this.#closed) return;
    switch (m.type) {
      case 'message':
        return this.#emitData('message', m.data, m.from);
      case 'state-offer':
        return this.#emitData('offer', m.data, m.from);
      case 'state-request':
        for (const h of [...this.#handlers.request]) safe(() => h(m.from));
        return;
      case 'peers':
        this.#peers = m.peers;
        for (const h of [...this.#handlers.peers]) safe(() => h(m.peers));
        return;
      case 'self':
        this.#self = m.self;
        for (const h of [...this.#handlers.self]) safe(() => h(m.self));
        return;
      case 'sent':
        return this.#settle(m.id);
      case 'error': {
        if (m.id === undefined) return;
        const mp = this.#mediaPending.get(m.id);
        if (mp) {
          this.#mediaPending.delete(m.id);
          return mp.reject(new TfxWidgetError(m.code, m.message));
        }
        return this.#settle(m.id, new TfxWidgetError(m.code, m.message));
      }
      case 'media.frame': {
        const h = this.#onFrame;
        if (!h) {
          m.bitmap.close();
          return;
        }
        safe(() =>
          h(m.bitmap as unknown as ImageBitmap, { width: m.width, height: m.height, at: m.at }),
        );
        return;
      }
      case 'media.processor': {
        const info = {
          chain: m.chain,
          by: m.by,
          ...(m.widget ? { widget: m.widget } : {}),
          ...(m.notice ? { notice: m.notice } : {}),
        };
        for (const h of [...this.#processorHandlers]) safe(() => h(info));
        return;
      }
      default: {
        // Media answers carry the request id; pushes go to their handlers.
        const id = 'id' in m && typeof m.id === 'number' ? m.id : undefined;
        const mp = id !== undefined ? this.#mediaPending.get(id) : undefined;
        if (mp && id !== undefined) {
          this.#mediaPending.delete(id);
          mp.resolve(m);
          return;
        }
        for (const h of [...(this.#mediaHandlers.get(m.type) ?? [])]) safe(() => h(m));
        return;
      }
    }
  }

  #emitData(kind: 'message' | 'offer', d: WidgetData, from: WidgetPeer): void {
    let value: unknown;
    try {
      value = decodeData(d);
    } catch {
      return; // the host validated JSON; a bad one here is dropped
    }
    for (const h of [...this.#handlers[kind]]) safe(() => h(value, from));
  }

  #sub<K extends keyof Handlers>(kind: K, h: Handlers[K]): () => void {
    const set = this.#handlers[kind] as Set<Handlers[K]>;
    set.add(h);
    return () => set.delete(h);
  }
}

/** A still frame of the user's camera (the handler owns the bitmap: close it when done). */
export type FrameHandler = (
  bitmap: ImageBitmap,
  info: { readonly width: number; readonly height: number; readonly at: number },
) => void;
/** The processor chain on the user's camera changed. */
export type ProcessorHandler = (info: {
  readonly chain: VideoProcessorChain;
  readonly by: ProcessorSetBy;
  readonly widget?: string;
  readonly notice?: string;
}) => void;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A handler that throws must not break the others; its error surfaces asynchronously. */
function safe(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
