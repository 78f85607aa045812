/**
 * One open widget on the call page: its panel, its sandboxed frame, the handshake and the
 * `MessagePort` that is the widget's only line to the host. The host (host.ts) routes peers'
 * messages in through `deliver` and takes the widget's requests from `onRequest`.
 *
 * Trust: the frame is untrusted. Its window messages count only when `event.source` is this
 * frame and `event.origin` the origin the manifest allows; after the handshake only the port
 * counts, and every envelope must carry this widget's id (another id is forged: ignored and
 * counted). A frame that loads again (a navigation) must say hello again from an allowed origin,
 * or it is unloaded with "Widget blocked: origin X not allowed".
 */
import {
  ENVELOPE_TAG,
  peekMediaEnvelope,
  parseWidgetToHost,
  pickVersion,
  type MediaEnvelope,
  type HostToWidget,
  type WidgetManifestEntry,
  type WidgetPeer,
  type WidgetToHost,
} from '@tfx/protocol/widgets';
import type { ErrorCode } from '@tfx/protocol';
import { blockedText, type FramePlan } from './policy.js';
import { iconFor, WIDGET_ICONS } from './icons.js';

export interface HostCounters {
  /** Envelopes carrying another widget's id (ignored). */
  forged: number;
  /** Envelopes from a widget that failed validation (ignored). */
  malformed: number;
  /** Envelopes from a widget outside its port after the handshake (ignored). */
  outsidePort: number;
  /** Frames unloaded for an origin the manifest does not allow. */
  blocked: number;
  /** Messages for a widget that was not ready and whose buffer was full. */
  undelivered: number;
  handshakes: number;
  /**
   * Widgets peers have open that this deployment does not know, beyond the few shown as
   * "not available" panels (a peer cannot flood the page with panels).
   */
  unknownHidden: number;
}

export type WidgetRequest = Exclude<WidgetToHost, { type: 'hello' }>;

export interface WidgetFrameOptions {
  readonly entry: WidgetManifestEntry | undefined;
  readonly id: string;
  readonly plan: FramePlan | { readonly blockedOrigin: string } | undefined;
  readonly counters: HostCounters;
  readonly maxMessageBytes: number;
  readonly self: () => WidgetPeer;
  readonly peers: () => WidgetPeer[];
  readonly onRequest: (frame: WidgetFrame, req: WidgetRequest) => void;
  /** A `media.*` request (routing checked only: the handler validates it and the permission). */
  readonly onMedia?: (frame: WidgetFrame, req: MediaEnvelope) => void;
  readonly onClose: (id: string) => void;
  /** The origin of the last frame-src CSP violation, if recent (a navigation CSP stopped). */
  readonly lastBlockedNavigation: () => string | undefined;
}

const PENDING_MAX = 512;
const REHELLO_MS = 5000;

export class WidgetFrame {
  readonly id: string;
  readonly el: HTMLElement;
  readonly #o: WidgetFrameOptions;
  /** False for a widget the manifest does not list (a "not available" panel). */
  get known(): boolean {
    return this.#o.entry !== undefined;
  }
  /** The widget's manifest entry (its permissions), if the deployment knows it. */
  get entry(): WidgetManifestEntry | undefined {
    return this.#o.entry;
  }
  readonly #body: HTMLElement;
  #iframe: HTMLIFrameElement | null = null;
  #port: MessagePort | null = null;
  #loads = 0;
  #rehello: ReturnType<typeof setTimeout> | null = null;
  #pending: Array<{ m: HostToWidget; transfer: Transferable[] }> = [];
  #version = 1;
  #nonce = '';
  #state: 'loading' | 'ready' | 'blocked' | 'unavailable' | 'closed' = 'loading';

  constructor(o: WidgetFrameOptions) {
    this.#o = o;
    this.id = o.id;
    const title = o.entry?.title ?? o.id;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'widget-close';
    close.setAttribute('aria-label', `Close ${title} for everyone`);
    close.title = 'Close for everyone';
    close.innerHTML = WIDGET_ICONS.close as string;
    close.addEventListener('click', () => o.onClose(this.id));
    const head = document.createElement('header');
    head.className = 'widget-head';
    const icon = document.createElement('span');
    icon.className = 'widget-head-icon';
    if (o.entry) setIcon(icon, o.entry);
    const h = document.createElement('h2');
    h.textContent = title;
    head.append(icon, h, close);
    this.#body = document.createElement('div');
    this.#body.className = 'widget-body';
    this.el = document.createElement('section');
    this.el.className = 'widget-panel';
    this.el.dataset.widget = o.id;
    this.el.setAttribute('aria-label', title);
    this.el.append(head, this.#body);

    if (!o.entry) {
      this.#state = 'unavailable';
      this.#notice(
        `Widget “${o.id}” is not available`,
        'widget-unavailable',
        'widget-not-available',
      );
    } else if (!o.plan || 'blockedOrigin' in o.plan) {
      this.#block(o.plan && 'blockedOrigin' in o.plan ? o.plan.blockedOrigin : 'unknown');
    } else this.#load(o.entry, o.plan);
  }

  get state(): string {
    return this.#state;
  }

  get iframe(): HTMLIFrameElement | null {
    return this.#iframe;
  }

  get plan(): FramePlan | undefined {
    const p = this.#o.plan;
    return p && !('blockedOrigin' in p) ? p : undefined;
  }

  /** A window message from this frame (the host matched `event.source`). */
  handleWindowMessage(ev: MessageEvent): void {
    const plan = this.plan;
    if (!plan || this.#state === 'blocked' || this.#state === 'closed') return;
    if (ev.origin !== plan.messageOrigin) {
      // The frame now holds a document from an origin the manifest does not list.
      this.#block(ev.origin);
      return;
    }
    const m = parseWidgetToHost(ev.data, this.#o.maxMessageBytes);
    if (!m) {
      this.#o.counters.malformed++;
      return;
    }
    if (m.type !== 'hello') {
      if ('widget' in m && m.widget !== this.id) this.#o.counters.forged++;
      else this.#o.counters.outsidePort++;
      return;
    }
    // The SDK repeats its hello until answered: answer each document (nonce) once.
    if (m.nonce !== '' && m.nonce === this.#nonce) return;
    this.#nonce = m.nonce;
    const v = pickVersion(m.versions);
    const target = plan.messageOrigin === 'null' ? '*' : plan.messageOrigin;
    const source = ev.source as Window | null;
    if (v === null) {
      source?.postMessage(
        {
          tfx: ENVELOPE_TAG,
          v: 1,
          type: 'reject',
          code: 'version-mismatch',
          message: 'no common widget protocol version',
        },
        target,
      );
      return;
    }
    this.#version = v;
    this.#port?.close();
    const channel = new MessageChannel();
    this.#port = channel.port1;
    this.#port.onmessage = (e: MessageEvent) => this.#onPortMessage(e.data);
    this.#port.onmessageerror = () => this.#o.counters.malformed++;
    const welcome: HostToWidget = {
      tfx: ENVELOPE_TAG,
      v,
      type: 'welcome',
      widget: this.id,
      self: this.#o.self(),
      peers: this.#o.peers(),
      maxMessageBytes: this.#o.maxMessageBytes,
    };
    source?.postMessage(welcome, target, [channel.port2]);
    if (this.#rehello) clearTimeout(this.#rehello);
    this.#rehello = null;
    this.#o.counters.handshakes++;
    this.#state = 'ready';
    this.el.dataset.state = 'ready';
    for (const p of this.#pending.splice(0)) this.#post(p.m, p.transfer);
  }

  /** Sends an envelope to the widget (buffered until its handshake is done). */
  deliver(body: DistributiveOmit<HostToWidget, 'tfx' | 'v'>, transfer: Transferable[] = []): void {
    if (this.#state === 'closed' || this.#state === 'blocked' || this.#state === 'unavailable')
      return;
    const m = { tfx: ENVELOPE_TAG, v: this.#version, ...body } as HostToWidget;
    if (this.#state === 'ready' && this.#port) this.#post(m, transfer);
    else if (this.#pending.length < PENDING_MAX) this.#pending.push({ m, transfer });
    else this.#o.counters.undelivered++;
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#teardown();
    this.el.remove();
  }

  // ---------------------------------------------------------------------------------------------

  #post(m: HostToWidget, transfer: Transferable[]): void {
    try {
      this.#port?.postMessage(m, transfer);
    } catch {
      this.#o.counters.undelivered++;
    }
  }

  #onPortMessage(raw: unknown): void {
    if (this.#state !== 'ready') return;
    const media = peekMediaEnvelope(raw);
    if (media) {
      if (media.widget !== this.id) this.#o.counters.forged++;
      else if (this.#o.onMedia) this.#o.onMedia(this, media);
      else this.#o.counters.malformed++;
      return;
    }
    const m = parseWidgetToHost(raw, this.#o.maxMessageBytes);
    if (!m) {
      this.#o.counters.malformed++;
      return;
    }
    if (m.type === 'hello') return;
    if (m.widget !== this.id) {
      this.#o.counters.forged++;
      return;
    }
    this.#o.onRequest(this, m);
  }

  #load(entry: WidgetManifestEntry, plan: FramePlan): void {
    const f = document.createElement('iframe');
    f.className = 'widget-frame';
    f.title = entry.title;
    f.setAttribute('sandbox', plan.sandbox);
    if (plan.allow) f.setAttribute('allow', plan.allow);
    f.referrerPolicy = 'no-referrer';
    f.addEventListener('load', () => this.#onLoad());
    f.src = plan.src;
    this.#iframe = f;
    this.el.dataset.state = 'loading';
    this.#body.replaceChildren(f);
  }

  #onLoad(): void {
    if (++this.#loads === 1 || this.#state === 'blocked' || this.#state === 'closed') return;
    // A second load is a navigation (or a reload): the new document must shake hands again.
    this.#port?.close();
    this.#port = null;
    this.#nonce = '';
    this.#state = 'loading';
    this.el.dataset.state = 'loading';
    if (this.#rehello) clearTimeout(this.#rehello);
    this.#rehello = setTimeout(() => {
      this.#rehello = null;
      if (this.#state === 'loading') this.#block(this.#o.lastBlockedNavigation() ?? 'unknown');
    }, REHELLO_MS);
  }

  #block(origin: string): void {
    this.#o.counters.blocked++;
    this.#state = 'blocked';
    this.#teardown();
    this.#notice(blockedText(origin), 'widget-blocked', 'widget-origin-blocked');
  }

  #teardown(): void {
    if (this.#rehello) clearTimeout(this.#rehello);
    this.#rehello = null;
    this.#port?.close();
    this.#port = null;
    this.#pending = [];
    if (this.#iframe) {
      this.#iframe.src = 'about:blank';
      this.#iframe.remove();
      this.#iframe = null;
    }
  }

  #notice(text: string, cls: string, code: ErrorCode): void {
    const p = document.createElement('p');
    p.className = `widget-notice ${cls}`;
    p.dataset.code = code;
    p.setAttribute('role', 'alert');
    const i = document.createElement('span');
    i.innerHTML = WIDGET_ICONS.alert as string;
    p.append(i, document.createTextNode(text));
    this.el.dataset.state = this.#state;
    this.#body.replaceChildren(p);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Draws an entry's icon: a built-in name as inline SVG, a URL as an <img>. */
export function setIcon(el: HTMLElement, entry: WidgetManifestEntry): void {
  if (/^[a-z][a-z0-9-]*$/.test(entry.icon)) {
    el.innerHTML = iconFor(entry.icon, entry.plugintype);
    return;
  }
  const img = document.createElement('img');
  img.src = entry.icon;
  img.alt = '';
  img.width = 24;
  img.height = 24;
  img.referrerPolicy = 'no-referrer';
  img.addEventListener('error', () => {
    el.innerHTML = iconFor(entry.plugintype, entry.plugintype);
  });
  el.replaceChildren(img);
}
