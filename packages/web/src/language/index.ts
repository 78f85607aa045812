/**
 * Audio and language on the call page (docs/language.md): audio levels and the active-speaker
 * ring, the widgets' audio/language capabilities, live captions (button, bar, transcript), the
 * user's language, and the first-visit tour. `mountLanguage` is the one hook main.ts calls.
 */
import type { Room } from '@tfx/sdk';
import type { MediaEnvelope } from '@tfx/protocol/widgets';
import { h, icon } from '../dom.js';
import type { WidgetFrame } from '../widgets/frame.js';
import { languageApi, storeLanguage, storedLanguage } from './api.js';
import { AudioLevels, mountSpeakerRing } from './levels.js';
import { Captions, type CaptionLine } from './captions.js';
import { WidgetMedia, isLanguageRequest } from './widget-media.js';
import { mountTour } from './tour.js';
import './language.css';

export interface LanguageView {
  /** For `mountWidgets({ onMedia })`: audio and language requests of widgets. */
  onMedia(frame: WidgetFrame, req: MediaEnvelope): boolean;
  destroy(): void;
}

export interface TfxLanguageDebugHandle {
  levels(): ReturnType<AudioLevels['sample']>;
  lang(): string;
  captionUploads(): number;
  transcript(): readonly CaptionLine[];
}

declare global {
  interface Window {
    __tfxLanguage?: TfxLanguageDebugHandle;
  }
}

export function mountLanguage(room: Room, callEl: HTMLElement): LanguageView {
  const api = languageApi(room);
  let lang = storedLanguage();
  const levels = new AudioLevels(room);
  const stopRing = mountSpeakerRing(levels, callEl, () => room.peerId);
  const media = new WidgetMedia({
    api,
    levels,
    lang: () => lang,
    setLang: (l) => {
      if (l === lang) return;
      lang = l;
      storeLanguage(l);
      media.languageChanged(l);
    },
  });
  const captions = new Captions({ room, api, lang: () => lang, onLine: (l) => media.caption(l) });
  callEl.querySelector('.stage')?.append(captions.el);

  // The captions button: only where the server has a provider and the room opted in.
  const btn = h(
    'button',
    { type: 'button', class: 'ctl', id: 'captions', 'aria-pressed': 'false', hidden: true },
    icon('chat'),
    h('span', { class: 'ctl-label' }, 'Captions'),
  );
  btn.title = 'Live captions: your microphone audio is sent to the server to be transcribed';
  // The control bar's priority (docs/browsers.md, Phones): beside screen share, so on a phone it
  // goes to the More sheet before chat and the microphone do.
  btn.dataset.priority = '4';
  btn.addEventListener('click', () => {
    if (captions.sending) captions.stop();
    else void captions.start().catch(() => undefined);
    btn.setAttribute('aria-pressed', String(captions.sending));
  });
  const leave = callEl.querySelector('#leave');
  leave?.parentElement?.insertBefore(btn, leave);
  void api
    .room()
    .then((r) => {
      btn.hidden = !r.captions;
    })
    .catch(() => undefined);

  const closeTour = mountTour(callEl);
  Object.defineProperty(window, '__tfxLanguage', {
    value: Object.freeze({
      levels: () => levels.sample(16),
      lang: () => lang,
      captionUploads: () => captions.uploads,
      transcript: () => captions.transcript,
    } satisfies TfxLanguageDebugHandle),
    configurable: true,
  });

  let destroyed = false;
  return {
    onMedia(frame, req) {
      if (!isLanguageRequest(req.type)) return false;
      void media.handle(frame, req).catch((err: unknown) =>
        frame.deliver({
          type: 'error',
          id: req.id,
          code: 'bad-request',
          message: err instanceof Error ? err.message : String(err),
        }),
      );
      return true;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      closeTour();
      stopRing();
      media.close();
      captions.close();
      levels.close();
      btn.remove();
    },
  };
}
