/**
 * The widget host on the call page: the widget bar (icons from the manifest), the panels of open
 * widgets, and the relay between widget frames and the peers (over the SDK's widget transport).
 *
 *   widget frame ──port──► WidgetFrame ──► host (checks, limits) ──► WidgetTransport ──► peers
 *   peers ──► WidgetTransport (re-validates frames) ──► host ──► WidgetFrame ──port──► widget
 *
 * Opening or closing a widget opens or closes it for everyone (the transport's open state);
 * a late joiner learns what is open when its channels open.
 */
import type { Room } from '@tfx/sdk';
import { attachWidgetTransport, TfxSdkError, type WidgetTransport } from '@tfx/sdk';
import type {
  MediaEnvelope,
  WidgetErrorCode,
  WidgetList,
  WidgetManifestEntry,
  WidgetPeer,
} from '@tfx/protocol';
import { planFrame } from './policy.js';
import { WidgetFrame, setIcon, type HostCounters, type WidgetRequest } from './frame.js';
import { createMediaHost } from './media-host.js';
import './widgets.css';

export interface WidgetHostOptions {
  /** Our display name (what widgets show as `self().name`). */
  readonly name: string;
  /** Where the bar and the panels go (the call page's stage). */
  readonly stage: HTMLElement;
  /** The manifest and limits (default: `GET /api/v1/widgets`). */
  readonly loadCatalog?: () => Promise<WidgetList>;
  /**
   * Handles the audio/language `media.*` requests of widgets (docs/language.md) and answers true
   * for those it took; the rest go to the effects host (docs/effects.md).
   */
  readonly onMedia?: (frame: WidgetFrame, req: MediaEnvelope) => boolean;
}

export interface WidgetHostView {
  readonly transport: WidgetTransport;
  /** The open widget frames now. */
  frames(): readonly WidgetFrame[];
  destroy(): void;
}

export interface TfxWidgetsDebugHandle {
  readonly counters: HostCounters;
  readonly transport: WidgetTransport;
  open(): string[];
  frames(): Array<{ id: string; state: string; sandbox: string | null; allow: string | null }>;
}

declare global {
  interface Window {
    __tfxWidgets?: TfxWidgetsDebugHandle;
  }
}

async function fetchCatalog(): Promise<WidgetList> {
  // The manifest's schema is zod: loaded with the catalogue, not with the call page's first script.
  const [res, { checkManifest }] = await Promise.all([
    fetch('/api/v1/widgets', { headers: { accept: 'application/json' } }),
    import('@tfx/protocol'),
  ]);
  if (!res.ok) throw new Error(`GET /api/v1/widgets: ${res.status}`);
  const body = (await res.json()) as WidgetList;
  const checked = checkManifest(body.widgets);
  if (!checked.ok) throw new Error(`widget manifest: ${checked.error}`);
  return { ...body, widgets: checked.manifest };
}

/**
 * Resolves once the call has got going: the first remote track has arrived (at most `maxMs` after
 * joining, for a room where nobody sends media), plus a moment for its first frame, then an idle
 * period. The catalogue and the zod chunk that checks it load then, not while the page is
 * negotiating and drawing its first frames (docs/benchmarks.md, "Call").
 */
function afterCallStarts(room: Room, maxMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const go = (): void => {
      if (done) return;
      done = true;
      off();
      clearTimeout(timer);
      // Safari has no requestIdleCallback.
      if (typeof requestIdleCallback === 'function')
        requestIdleCallback(() => resolve(), { timeout: 500 });
      else setTimeout(resolve, 0);
    };
    const off = room.once('track', () => setTimeout(go, 300));
    const timer = setTimeout(go, room.peers.size === 0 ? 0 : maxMs);
  });
}

const SDK_TO_WIDGET: Record<string, WidgetErrorCode> = {
  'widget-message-too-large': 'widget-message-too-large',
  'peer-unavailable': 'peer-unavailable',
  closed: 'closed',
};

/** "Not available" panels shown at most for widgets peers open that the manifest lacks. */
const MAX_UNKNOWN_PANELS = 2;

export function mountWidgets(room: Room, o: WidgetHostOptions): WidgetHostView {
  const transport = attachWidgetTransport(room);
  const counters: HostCounters = {
    forged: 0,
    malformed: 0,
    outsidePort: 0,
    blocked: 0,
    undelivered: 0,
    handshakes: 0,
    unknownHidden: 0,
  };
  let entries: WidgetManifestEntry[] = [];
  let maxBytes = transport.maxMessageBytes;
  const frames = new Map<string, WidgetFrame>();
  // Media capabilities of widgets (docs/effects.md): processors, still frames, overlay shapes.
  const media = createMediaHost(room.local, () => frames.values());
  let destroyed = false;
  let lastViolation: { origin: string; at: number } | undefined;

  const bar = document.createElement('nav');
  bar.className = 'widget-bar';
  bar.id = 'widget-bar';
  bar.setAttribute('aria-label', 'Widgets');
  const area = document.createElement('div');
  area.className = 'widget-area';
  area.id = 'widget-area';
  area.hidden = true;
  o.stage.classList.add('has-widget-bar');
  o.stage.prepend(bar, area);

  const self = (): WidgetPeer => ({ id: room.peerId, name: o.name });
  const peers = (): WidgetPeer[] =>
    [...room.peers.values()].map((p) => ({ id: p.id, name: p.name.slice(0, 128) }));
  const nameOf = (id: string): string => room.peers.get(id)?.name ?? id;

  // --- the bar ----------------------------------------------------------------------------------
  const renderBar = (): void => {
    bar.replaceChildren(
      ...entries.map((e) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'widget-btn';
        b.dataset.widget = e.id;
        b.title = e.description ? `${e.title}: ${e.description}` : e.title;
        b.setAttribute('aria-label', e.title);
        b.setAttribute('aria-pressed', String(transport.isOpen(e.id)));
        const i = document.createElement('span');
        i.className = 'widget-btn-icon';
        setIcon(i, e);
        // The title shows beside the icon where there is room (the More sheet on a phone).
        const label = document.createElement('span');
        label.className = 'widget-btn-label';
        label.textContent = e.title;
        b.append(i, label);
        b.addEventListener('click', () => toggle(e.id));
        return b;
      }),
    );
  };
  const toggle = (id: string): void => {
    if (destroyed || room.closed) return;
    transport.setOpen(id, !transport.isOpen(id));
  };

  // --- panels -----------------------------------------------------------------------------------
  let catalogLoaded = false;
  const reconcile = (): void => {
    // Panels wait for the manifest (a widget opened by a peer meanwhile opens when it arrives).
    if (destroyed || !catalogLoaded) return;
    const open = transport.openWidgets();
    // The server keeps the open widgets of the manifest in our state, for the operator console.
    if (!room.closed) room.setOpenWidgets(open.filter((id) => entries.some((e) => e.id === id)));
    for (const [id, f] of frames)
      if (!open.includes(id)) {
        f.close();
        frames.delete(id);
        media.release(id);
      }
    // Widgets this deployment does not know get a "not available" panel, but only a few: the
    // open set comes from peers, and a peer could open hundreds of made-up ids.
    let unknownShown = [...frames.values()].filter((f) => !f.known).length;
    let unknownHidden = 0;
    for (const id of open) {
      if (frames.has(id)) continue;
      const entry = entries.find((e) => e.id === id);
      if (!entry && unknownShown >= MAX_UNKNOWN_PANELS) {
        unknownHidden++;
        continue;
      }
      if (!entry) unknownShown++;
      const decision = entry ? planFrame(entry, location.origin) : undefined;
      const f = new WidgetFrame({
        id,
        entry,
        plan: decision ? (decision.ok ? decision.plan : decision) : undefined,
        counters,
        maxMessageBytes: maxBytes,
        self,
        peers,
        onRequest: handleRequest,
        // Audio and language requests go to their host first (it answers true when it took
        // one); processor, frames and overlay requests to the effects host (media-host.ts).
        onMedia: (frame, req) => {
          if (o.onMedia?.(frame, req) === true) return;
          media.handle(frame, req);
        },
        onClose: (wid) => transport.setOpen(wid, false),
        lastBlockedNavigation: () =>
          lastViolation && performance.now() - lastViolation.at < 10_000
            ? lastViolation.origin
            : undefined,
      });
      frames.set(id, f);
      area.append(f.el);
      media.attached(f);
    }
    counters.unknownHidden = unknownHidden;
    area.hidden = frames.size === 0;
    area.dataset.count = String(frames.size);
    o.stage.classList.toggle('with-widgets', frames.size > 0);
    for (const b of bar.querySelectorAll<HTMLButtonElement>('.widget-btn'))
      b.setAttribute('aria-pressed', String(open.includes(b.dataset.widget ?? '')));
  };

  // --- widget → peers ---------------------------------------------------------------------------
  const fail = (f: WidgetFrame, id: number, err: unknown): void => {
    const code =
      err instanceof TfxSdkError ? (SDK_TO_WIDGET[err.code] ?? 'bad-request') : 'bad-request';
    f.deliver({
      type: 'error',
      id,
      code,
      message: err instanceof Error ? err.message : String(err),
    });
  };
  function handleRequest(f: WidgetFrame, req: WidgetRequest): void {
    if (!transport.isOpen(f.id)) return;
    if (req.type === 'state-request') {
      void transport
        .send(f.id, 'state-request', { encoding: 'json', text: '{}' })
        .catch(() => undefined);
      return;
    }
    const to = req.to;
    if (to !== undefined && !room.peers.has(to)) {
      fail(f, req.id, new TfxSdkError('peer-unavailable', `no peer ${to} in the room`));
      return;
    }
    transport
      .send(f.id, req.type === 'send' ? 'message' : 'state-offer', req.data, to)
      .then(() => f.deliver({ type: 'sent', id: req.id }))
      .catch((err: unknown) => fail(f, req.id, err));
  }

  // --- peers → widget ---------------------------------------------------------------------------
  const offs: Array<() => void> = [
    transport.on('open-state', reconcile),
    transport.on('message', (m) => {
      const f = frames.get(m.widget);
      if (!f) return;
      const from = { id: m.from, name: nameOf(m.from) };
      const transfer = m.data.encoding === 'binary' ? [m.data.bytes] : [];
      if (m.type === 'message') f.deliver({ type: 'message', from, data: m.data }, transfer);
      else if (m.type === 'state-request') f.deliver({ type: 'state-request', from });
      else if (m.directed) f.deliver({ type: 'state-offer', from, data: m.data }, transfer);
    }),
    room.on('peer-joined', () => broadcastPeers()),
    room.on('peer-left', () => broadcastPeers()),
    room.on('peer-updated', () => broadcastPeers()),
    room.on('left', () => destroy()),
  ];
  function broadcastPeers(): void {
    const ps = peers();
    for (const f of frames.values()) f.deliver({ type: 'peers', peers: ps });
  }

  // Window messages: only from one of our frames (matched by event.source, never by content).
  const onWindowMessage = (ev: MessageEvent): void => {
    for (const f of frames.values()) {
      if (f.iframe && ev.source === f.iframe.contentWindow) {
        f.handleWindowMessage(ev);
        return;
      }
    }
  };
  window.addEventListener('message', onWindowMessage);
  const onViolation = (ev: SecurityPolicyViolationEvent): void => {
    if (ev.effectiveDirective !== 'frame-src') return;
    try {
      lastViolation = { origin: new URL(ev.blockedURI).origin, at: performance.now() };
    } catch {
      lastViolation = { origin: ev.blockedURI || 'unknown', at: performance.now() };
    }
  };
  document.addEventListener('securitypolicyviolation', onViolation);

  const handle: TfxWidgetsDebugHandle = Object.freeze({
    counters,
    transport,
    open: () => transport.openWidgets(),
    frames: () =>
      [...frames.values()].map((f) => ({
        id: f.id,
        state: f.state,
        sandbox: f.iframe?.getAttribute('sandbox') ?? null,
        allow: f.iframe?.getAttribute('allow') ?? null,
      })),
  });
  Object.defineProperty(window, '__tfxWidgets', {
    value: handle,
    writable: false,
    configurable: true,
  });

  void afterCallStarts(room)
    .then(() => (o.loadCatalog ?? fetchCatalog)())
    .then((c) => {
      if (destroyed) return;
      entries = c.widgets;
      maxBytes = c.maxMessageBytes;
      transport.maxMessageBytes = c.maxMessageBytes;
      renderBar();
      catalogLoaded = true;
      reconcile();
    })
    .catch(() => {
      bar.dataset.error = 'manifest';
      bar.title = 'Widgets are not available right now';
      // Widgets others open show as not available.
      catalogLoaded = true;
      reconcile();
    });

  function destroy(): void {
    if (destroyed) return;
    destroyed = true;
    for (const off of offs) off();
    window.removeEventListener('message', onWindowMessage);
    document.removeEventListener('securitypolicyviolation', onViolation);
    for (const f of frames.values()) f.close();
    frames.clear();
    media.destroy();
    bar.remove();
    area.remove();
    o.stage.classList.remove('has-widget-bar', 'with-widgets');
  }

  return { transport, destroy, frames: () => [...frames.values()] };
}
