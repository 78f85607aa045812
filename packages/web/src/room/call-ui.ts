/**
 * The call UI: the pre-join view, and the call screen with its widget host, call features
 * (recording, stats, moderation), captions and effects control. A chunk of its own that main.ts
 * loads while the camera opens, so the page's first script is the SDK and the loading screen
 * (docs/benchmarks.md, "Call").
 */
import type { Room } from '@tfx/sdk';
import type { MediaEnvelope } from '@tfx/protocol/widgets';
import type { DebugLog } from '../debug.js';
import type { EmbedBridge } from '../embed/bridge.js';
import { mountWidgets } from '../widgets/host.js';
import type { WidgetFrame } from '../widgets/frame.js';
import { isLanguageRequest } from '../language/requests.js';
import type { LanguageView } from '../language/index.js';
import { renderCall } from './call.js';
import { mountCallFeatures } from './features.js';
import { responsiveWidgets } from './layout.js';
// After the call's other styles, which its phone rules override (features.css, widgets.css).
import './mobile.css';

export { renderPrejoin } from './prejoin.js';

export interface CallScreen {
  readonly el: HTMLElement;
  destroy(): void;
}

export interface CallScreenOptions {
  readonly name: string;
  readonly log: DebugLog;
  /** The embed bridge, once it knows whether the page is embedded (main.ts). */
  readonly embed: Promise<EmbedBridge | null>;
  readonly effects: () => Promise<typeof import('../effects/panel.js')>;
  readonly onLeave: () => void;
}

/**
 * Builds the call screen for a joined room, listening from the first call on (no room event is
 * missed); the caller inserts `el` when it chooses (main.ts: after the first offers are out).
 */
export async function mountCallScreen(room: Room, o: CallScreenOptions): Promise<CallScreen> {
  const call = renderCall(room, o.log, o.onLeave);
  // The widget bar and panels (packages/web/src/widgets, docs/widgets.md).
  const stage = call.el.querySelector<HTMLElement>('.stage');
  // Audio levels, captions, the user's language, the tour (packages/web/src/language): loaded
  // once the call screen is fully shown (call.started: the first remote frame, at most 1.5 s),
  // not while the first offer and answer are under way: its chunk and its first audio-level
  // timer took 15–30 ms of the newcomer's main thread there (docs/benchmarks.md, "Call").
  // Widget requests for it that arrive before it are held, not handed to the effects host.
  let language: LanguageView | null = null;
  let languageGone = false;
  const heldForLanguage: Array<[WidgetFrame, MediaEnvelope]> = [];
  const later = call.started;
  void later
    .then(() => (languageGone ? null : import('../language/index.js')))
    .then((m) => {
      if (!m) return;
      const { mountLanguage } = m;
      if (languageGone) return;
      language = mountLanguage(room, call.el);
      for (const [f, r] of heldForLanguage.splice(0)) language.onMedia(f, r);
    });
  const widgets = stage
    ? mountWidgets(room, {
        name: o.name,
        stage,
        onMedia: (f, r) => {
          if (language) return language.onMedia(f, r);
          if (!isLanguageRequest(r.type)) return false;
          heldForLanguage.push([f, r]);
          return true;
        },
      })
    : null;
  // On a phone the widget bar lives in the More sheet and widgets fill the screen (layout.ts).
  const unwidgets =
    stage && widgets
      ? responsiveWidgets(stage, call.controls.section('more-widgets', 'Widgets'))
      : null;
  // Recording, stats, moderation and the embed bridge (features.ts).
  const features = mountCallFeatures(room, call.el, await o.embed);
  let effects: { destroy(): void } | null = null;
  let effectsGone = false;
  // The effects control, likewise after the call screen is fully shown.
  void later
    .then(() => (effectsGone ? null : o.effects()))
    .then((m) => {
      if (m && !effectsGone) effects = m.mountEffectsInCall(room.local, call.el);
    });
  return {
    el: call.el,
    destroy(): void {
      effectsGone = true;
      effects?.destroy();
      features.destroy();
      unwidgets?.();
      widgets?.destroy();
      languageGone = true;
      heldForLanguage.length = 0;
      language?.destroy();
      call.destroy();
    },
  };
}
