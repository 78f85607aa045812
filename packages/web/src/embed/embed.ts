/**
 * `/embed.js`: put a TFX call in any web page. Load it from the TFX server, then:
 *
 *   const call = TfxEmbed.mount('#call', { room: 'team-standup', name: 'Ann', video: false });
 *   call.on('joined', (d) => …); call.on('participants', (d) => …);
 *   call.command('mute');
 *   TfxEmbed.launch({ room: 'team-standup', name: 'Ann' }); // the call in its own window
 *
 * Events are accepted only from the TFX origin this script came from, and only from the frame
 * it made; commands are addressed to that origin. The call page checks the host page's origin
 * against `embed.allowedOrigins` in turn. See docs/embed.md.
 */
import { parseEvent, type HostEvent, type HostEventName } from './events.js';

interface EmbedOptions {
  /** The room name (the `/r/<room>` part). */
  readonly room: string;
  /** Display name; with it the call starts at once, without it the pre-join screen shows. */
  readonly name?: string;
  /** Join with the microphone / camera on (default true). */
  readonly audio?: boolean;
  readonly video?: boolean;
  readonly width?: string;
  readonly height?: string;
  /** Extra query parameters for the call page (e.g. `{ cam: '320x240@15' }`). */
  readonly params?: Readonly<Record<string, string>>;
}

type Handler = (data: Readonly<Record<string, unknown>>, event: HostEventName) => void;

interface EmbeddedCall {
  readonly iframe: HTMLIFrameElement;
  on(event: HostEventName | '*', handler: Handler): () => void;
  command(command: string, id?: string): void;
  destroy(): void;
}

/** Permissions the call needs from the host page, for the iframe's `allow` attribute. */
const ALLOW = 'camera; microphone; display-capture; autoplay; fullscreen';

const script = document.currentScript as HTMLScriptElement | null;
const TFX_ORIGIN = new URL(script?.src ?? location.href).origin;

function callUrl(o: EmbedOptions, embedded: boolean): string {
  const q = new URLSearchParams(o.params ?? {});
  if (o.name) {
    q.set('name', o.name);
    q.set('autojoin', '1');
  }
  if (o.audio === false) q.set('audio', '0');
  if (o.video === false) q.set('video', '0');
  if (embedded) q.set('parent', location.origin);
  return `${TFX_ORIGIN}/r/${encodeURIComponent(o.room)}?${q.toString()}`;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** The iframe markup for a call, to paste into a page (no script needed, no events). */
function snippet(o: EmbedOptions): string {
  return `<iframe src="${escapeAttr(callUrl(o, false))}" allow="${ALLOW}" allowfullscreen style="width:${escapeAttr(o.width ?? '100%')};height:${escapeAttr(o.height ?? '600px')};border:0"></iframe>`;
}

function mount(target: string | HTMLElement, o: EmbedOptions): EmbeddedCall {
  const host = typeof target === 'string' ? document.querySelector<HTMLElement>(target) : target;
  if (!host) throw new Error(`TfxEmbed: no element ${String(target)}`);
  const iframe = document.createElement('iframe');
  iframe.src = callUrl(o, true);
  iframe.allow = ALLOW;
  iframe.allowFullscreen = true;
  iframe.title = `Call ${o.room}`;
  iframe.style.cssText = `width:${o.width ?? '100%'};height:${o.height ?? '600px'};border:0`;
  const handlers = new Map<string, Set<Handler>>();
  const onMessage = (ev: MessageEvent): void => {
    if (ev.origin !== TFX_ORIGIN || ev.source !== iframe.contentWindow) return;
    const e: HostEvent | undefined = parseEvent(ev.data);
    if (!e) return;
    for (const key of [e.event, '*'])
      for (const h of handlers.get(key) ?? []) {
        try {
          h(e.data, e.event);
        } catch (err) {
          setTimeout(() => {
            throw err;
          });
        }
      }
  };
  window.addEventListener('message', onMessage);
  host.append(iframe);
  return {
    iframe,
    on(event, handler) {
      let set = handlers.get(event);
      if (!set) handlers.set(event, (set = new Set()));
      set.add(handler);
      return () => set.delete(handler);
    },
    command(command, id) {
      iframe.contentWindow?.postMessage(
        id === undefined ? { tfx: 'command', command } : { tfx: 'command', command, id },
        TFX_ORIGIN,
      );
    },
    destroy() {
      window.removeEventListener('message', onMessage);
      iframe.remove();
    },
  };
}

/** Opens the call in its own window (a launcher for a website's "Join the call" button). */
function launch(o: EmbedOptions): Window | null {
  const w = window.open(callUrl(o, false), `tfx-${o.room}`, 'popup,width=1100,height=720');
  return w;
}

const api = { mount, launch, snippet, origin: TFX_ORIGIN, allow: ALLOW };
(globalThis as unknown as { TfxEmbed: typeof api }).TfxEmbed = api;

// Declarative use: <div data-tfx-room="team" data-tfx-name="Ann"></div> mounts on load.
for (const el of document.querySelectorAll<HTMLElement>('[data-tfx-room]')) {
  const d = el.dataset;
  mount(el, {
    room: d.tfxRoom ?? '',
    ...(d.tfxName ? { name: d.tfxName } : {}),
    ...(d.tfxAudio === '0' ? { audio: false } : {}),
    ...(d.tfxVideo === '0' ? { video: false } : {}),
  });
}
