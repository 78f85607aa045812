/**
 * The host side of the audio and language capabilities of widgets: validates each `media.*`
 * request (the zod schema from `@tfx/protocol`, loaded with the widget catalogue), checks the
 * manifest grants it (`permissions.media.levels|translate|language|captions`), then acts:
 * level samples at the widget's rate (≤ 30 Hz, none while the page is hidden), translations
 * through the server, the user's language, live captions.
 */
import type { MediaEnvelope, WidgetErrorCode } from '@tfx/protocol/widgets';
import type { WidgetFrame } from '../widgets/frame.js';
import { LanguageError, type LanguageApiClient } from './api.js';
import type { AudioLevels } from './levels.js';
import type { CaptionLine } from './captions.js';

export { isLanguageRequest } from './requests.js';

const CODES = new Set<WidgetErrorCode>([
  'forbidden',
  'rate-limited',
  'payload-too-large',
  'language-off',
  'language-unsupported',
  'translation-unavailable',
  'bad-request',
]);

export interface WidgetMediaOptions {
  readonly api: LanguageApiClient;
  readonly levels: AudioLevels;
  readonly lang: () => string;
  readonly setLang: (lang: string) => void;
}

export class WidgetMedia {
  readonly #o: WidgetMediaOptions;
  readonly #levelTimers = new Map<WidgetFrame, ReturnType<typeof setInterval>>();
  readonly #captionSubs = new Set<WidgetFrame>();
  readonly #langSubs = new Set<WidgetFrame>();

  constructor(o: WidgetMediaOptions) {
    this.#o = o;
  }

  async handle(frame: WidgetFrame, req: MediaEnvelope): Promise<void> {
    const { parseMediaRequest, mediaRequestAllowed } = await import('@tfx/protocol');
    const fail = (code: WidgetErrorCode, message: string): void =>
      frame.deliver({ type: 'error', id: req.id, code, message });
    const checked = parseMediaRequest(req.raw);
    if (!checked.ok) return fail('bad-request', checked.error);
    const r = checked.request;
    if (!mediaRequestAllowed(frame.entry?.permissions?.media, r.type))
      return fail('forbidden', `the manifest does not grant ${r.type}`);
    this.#langSubs.add(frame);
    const ack = (): void => frame.deliver({ type: 'media.ack', id: req.id });
    switch (r.type) {
      case 'media.levels.subscribe': {
        this.#stopLevels(frame);
        const bins = r.bins ?? 0;
        this.#levelTimers.set(
          frame,
          setInterval(
            () => {
              if (frame.state === 'closed') return this.#stopLevels(frame);
              if (document.hidden) return; // pauses while hidden
              frame.deliver({
                type: 'media.levels',
                at: performance.now(),
                levels: this.#o.levels.sample(bins),
              });
            },
            1000 / Math.min(30, r.hz),
          ),
        );
        return ack();
      }
      case 'media.levels.unsubscribe':
        this.#stopLevels(frame);
        return ack();
      case 'media.translate':
        try {
          const res = await this.#o.api.translate(r.texts, r.from, r.to ?? this.#o.lang());
          frame.deliver({ type: 'media.translation', id: req.id, translations: res.translations });
        } catch (err) {
          const code =
            err instanceof LanguageError && CODES.has(err.code as WidgetErrorCode)
              ? (err.code as WidgetErrorCode)
              : 'translation-unavailable';
          fail(code, (err as Error).message);
        }
        return;
      case 'media.languages': {
        const [info, room] = await Promise.all([
          this.#o.api.info().catch(() => null),
          this.#o.api.room().catch(() => null),
        ]);
        frame.deliver({
          type: 'media.languages',
          id: req.id,
          translation: !!room?.translation,
          captions: !!room?.captions,
          languages: info?.translation.languages ?? [],
          lang: this.#o.lang(),
          ...(room?.title !== undefined ? { title: room.title } : {}),
          ...(room?.agenda !== undefined ? { agenda: room.agenda } : {}),
        });
        return;
      }
      case 'media.language.set':
        this.#o.setLang(r.lang);
        return ack();
      case 'media.captions.subscribe':
        this.#captionSubs.add(frame);
        return ack();
      case 'media.captions.unsubscribe':
        this.#captionSubs.delete(frame);
        return ack();
      default:
        return fail('bad-request', 'not an audio or language request');
    }
  }

  /** The user's language changed: every widget that used these capabilities hears it. */
  languageChanged(lang: string): void {
    for (const f of [...this.#langSubs]) {
      if (f.state === 'closed') this.#langSubs.delete(f);
      else f.deliver({ type: 'media.language', lang });
    }
  }

  caption(line: CaptionLine): void {
    for (const f of [...this.#captionSubs]) {
      if (f.state === 'closed') {
        this.#captionSubs.delete(f);
        continue;
      }
      f.deliver({
        type: 'media.caption',
        peer: line.peer,
        name: line.name,
        text: line.text,
        lang: line.lang,
        ...(line.original ? { original: line.original } : {}),
        at: line.at,
      });
    }
  }

  #stopLevels(frame: WidgetFrame): void {
    const t = this.#levelTimers.get(frame);
    if (t !== undefined) clearInterval(t);
    this.#levelTimers.delete(frame);
  }

  close(): void {
    for (const t of this.#levelTimers.values()) clearInterval(t);
    this.#levelTimers.clear();
    this.#captionSubs.clear();
    this.#langSubs.clear();
  }
}
