/**
 * The host side of the widgets' media capabilities (docs/effects.md). A widget never gets a
 * track: it asks, and the host acts on the user's own media —
 *   `media.processor.set`      → the built-in video processors (the user sees who changed them);
 *   `media.frames.subscribe`   → still `ImageBitmap`s of the user's own camera, ≤ 5/s, ≤ 640 wide;
 *   `media.overlay.set`        → sanitized vector shapes drawn into the outgoing video.
 * Each request is validated with the protocol's zod schema and must be granted by the widget's
 * manifest entry (`permissions.media`); a widget using a capability shows a badge in its header.
 */
import type { LocalMedia } from '@tfx/sdk';
import type { MediaEnvelope, WidgetErrorCode } from '@tfx/protocol/widgets';
import type { WidgetFrame } from './frame.js';

type Protocol = typeof import('@tfx/protocol');

interface FrameSub {
  timer: ReturnType<typeof setInterval>;
  video: HTMLVideoElement;
  busy: boolean;
}

export interface MediaHost {
  /** A media request from a widget frame (already routed by widget id). */
  readonly handle: (f: WidgetFrame, req: MediaEnvelope) => void;
  /** A frame was created: it gets the current processor state once ready. */
  attached(f: WidgetFrame): void;
  /** A widget closed: its frame subscription and shapes end. */
  release(id: string): void;
  destroy(): void;
}

export function createMediaHost(local: LocalMedia, frames: () => Iterable<WidgetFrame>): MediaHost {
  let proto: Promise<Protocol> | null = null;
  const subs = new Map<string, FrameSub>();
  const shapes = new Set<string>();
  const uses = new Map<string, Set<string>>();

  const grantsProcessor = (f: WidgetFrame): boolean =>
    f.entry?.permissions?.media?.processor === true;
  const processorState = () => ({
    type: 'media.processor' as const,
    chain: local.effects.chain,
    by: 'none' as const,
  });
  const offEffects = local.on('effects', (st) => {
    for (const f of frames())
      if (grantsProcessor(f))
        f.deliver({
          ...processorState(),
          ...(st.chain.length ? { by: 'user' as const } : {}),
          ...(st.notice ? { notice: st.notice.text } : {}),
        });
  });

  const fail = (f: WidgetFrame, id: number, code: WidgetErrorCode, message: string): void =>
    f.deliver({ type: 'error', id, code, message });

  const badge = (f: WidgetFrame, what: string, on: boolean): void => {
    const set = uses.get(f.id) ?? new Set<string>();
    if (on) set.add(what);
    else set.delete(what);
    uses.set(f.id, set);
    const head = f.el.querySelector('.widget-head');
    let b = head?.querySelector<HTMLElement>('.widget-media-badge') ?? null;
    if (!set.size) return b?.remove();
    if (!b && head) {
      b = document.createElement('span');
      b.className = 'widget-media-badge';
      b.setAttribute('role', 'status');
      head.insertBefore(b, head.lastChild);
    }
    if (b) {
      b.textContent = [...set].join(' · ');
      b.title = `This widget is using: ${[...set].join(', ')}`;
    }
  };

  const stopFrames = (id: string): void => {
    const s = subs.get(id);
    if (!s) return;
    clearInterval(s.timer);
    s.video.srcObject = null;
    subs.delete(id);
  };

  async function run(f: WidgetFrame, env: MediaEnvelope): Promise<void> {
    const p = await (proto ??= import('@tfx/protocol'));
    const r = p.parseMediaRequest(env.raw);
    if (!r.ok) return fail(f, env.id, 'bad-request', r.error);
    const req = r.request;
    if (!p.mediaRequestAllowed(f.entry?.permissions?.media, req.type))
      return fail(
        f,
        env.id,
        'forbidden',
        `the manifest does not grant permissions.media.${p.MEDIA_REQUEST_PERMISSION[req.type]}`,
      );
    switch (req.type) {
      case 'media.processor.set': {
        // The effects panel is loaded after the join path (room/main.ts); a widget asks later.
        const { setEffectsByWidget } = await import('../effects/panel.js');
        await setEffectsByWidget(local, { id: f.id, title: f.entry?.title ?? f.id }, req.spec);
        badge(f, 'changing your video', req.spec.length > 0);
        break;
      }
      case 'media.frames.subscribe': {
        stopFrames(f.id);
        const video = document.createElement('video');
        video.muted = true;
        video.playsInline = true;
        const sub: FrameSub = {
          video,
          busy: false,
          timer: setInterval(() => grab(), 1000 / req.fps),
        };
        const grab = (): void => {
          const track = local.videoTrack;
          if (!track || sub.busy) return;
          const cur = (video.srcObject as MediaStream | null)?.getVideoTracks()[0];
          if (cur !== track) {
            video.srcObject = new MediaStream([track]);
            void video.play().catch(() => undefined);
          }
          if (video.videoWidth === 0) return;
          const width = Math.min(req.maxWidth ?? 640, video.videoWidth);
          const height = Math.max(1, Math.round((width * video.videoHeight) / video.videoWidth));
          sub.busy = true;
          createImageBitmap(video, { resizeWidth: width, resizeHeight: height })
            .then((bitmap) =>
              f.deliver(
                { type: 'media.frame', peer: 'self', bitmap, width, height, at: performance.now() },
                [bitmap],
              ),
            )
            .catch(() => undefined)
            .finally(() => (sub.busy = false));
        };
        subs.set(f.id, sub);
        badge(f, 'seeing your camera', true);
        break;
      }
      case 'media.frames.unsubscribe':
        stopFrames(f.id);
        badge(f, 'seeing your camera', false);
        break;
      case 'media.overlay.set':
        await local.setOverlayShapes(f.id, req.shapes);
        if (req.shapes.length) shapes.add(f.id);
        else shapes.delete(f.id);
        badge(f, 'drawing on your video', req.shapes.length > 0);
        break;
    }
    f.deliver({ type: 'media.ack', id: env.id });
  }

  return {
    handle: (f, env) => {
      run(f, env).catch((err: unknown) =>
        fail(f, env.id, 'unavailable', err instanceof Error ? err.message : String(err)),
      );
    },
    attached: (f) => {
      if (grantsProcessor(f)) f.deliver(processorState());
    },
    release: (id) => {
      stopFrames(id);
      uses.delete(id);
      if (shapes.delete(id)) void local.setOverlayShapes(id, []).catch(() => undefined);
    },
    destroy: () => {
      offEffects();
      for (const id of [...subs.keys()]) stopFrames(id);
      for (const id of shapes) void local.setOverlayShapes(id, []).catch(() => undefined);
      shapes.clear();
    },
  };
}
