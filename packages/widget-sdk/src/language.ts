/**
 * The audio and language capabilities of a widget (docs/language.md), each granted by one key of
 * the manifest's `permissions.media`: `levels` (everyone's audio levels and frequency bins),
 * `translate` (texts translated by the server's provider), `language` (the user's language) and
 * `captions` (the call's live captions). The host does the work; the widget gets results.
 *
 * ```js
 * const stop = await tfx.audio.subscribeLevels(30, (levels) => draw(levels), { bins: 16 });
 * const [t] = await tfx.language.translate(['Hello'], { from: 'en' }); // into the user's language
 * tfx.language.onChange((lang) => retranslate(lang));
 * ```
 */
import type { HostToWidget, PeerLevel, TranslatedText } from '@tfx/protocol/widgets';

export type { PeerLevel, TranslatedText };

type MediaEvent<T extends string> = Extract<HostToWidget, { type: T }>;

/** What these capabilities need from the connected widget (TfxWidget provides it). */
export interface MediaChannel {
  /** Sends a media request; resolves with the answer carrying the same id (or rejects). */
  request(body: Record<string, unknown> & { type: string }): Promise<HostToWidget>;
  /** Media events the host pushes. */
  on<T extends HostToWidget['type']>(type: T, h: (m: MediaEvent<T>) => void): () => void;
}

export interface LanguageInfo {
  /** Translation is available in this room (configured and opted in). */
  readonly translation: boolean;
  readonly captions: boolean;
  readonly languages: readonly string[];
  /** The user's language. */
  readonly lang: string;
  /** The room's title and agenda, when its creator set them. */
  readonly title?: string;
  readonly agenda?: string;
}

export interface Caption {
  readonly peer: string;
  readonly name: string;
  readonly text: string;
  readonly lang: string;
  readonly original?: string;
  readonly at: number;
}

export class AudioApi {
  constructor(readonly ch: MediaChannel) {}

  /**
   * Everyone's audio (own microphone included), `hz` times a second (at most 30; the host
   * stops sending while the page is hidden). Resolves with a function that unsubscribes.
   */
  async subscribeLevels(
    hz: number,
    handler: (levels: readonly PeerLevel[], at: number) => void,
    options: { bins?: number } = {},
  ): Promise<() => void> {
    const off = this.ch.on('media.levels', (m) => handler(m.levels, m.at));
    try {
      await this.ch.request({
        type: 'media.levels.subscribe',
        hz,
        ...(options.bins !== undefined ? { bins: options.bins } : {}),
      });
    } catch (err) {
      off();
      throw err;
    }
    return () => {
      off();
      void this.ch.request({ type: 'media.levels.unsubscribe' }).catch(() => undefined);
    };
  }
}

export class LanguageApi {
  constructor(readonly ch: MediaChannel) {}

  /** What the server offers in this room and the user's language. */
  async info(): Promise<LanguageInfo> {
    const m = (await this.ch.request({ type: 'media.languages' })) as MediaEvent<'media.languages'>;
    return {
      translation: m.translation,
      captions: m.captions,
      languages: m.languages,
      lang: m.lang,
      ...(m.title !== undefined ? { title: m.title } : {}),
      ...(m.agenda !== undefined ? { agenda: m.agenda } : {}),
    };
  }

  /**
   * Translates `texts` (from `from`, or `auto`) into `to` (default: the user's language).
   * Rejects with a `TfxWidgetError` (`language-off`, `translation-unavailable`,
   * `language-unsupported`, `rate-limited`, `payload-too-large`): show the original then.
   */
  async translate(
    texts: readonly string[],
    options: { from?: string; to?: string } = {},
  ): Promise<readonly TranslatedText[]> {
    const m = (await this.ch.request({
      type: 'media.translate',
      texts: [...texts],
      from: options.from ?? 'auto',
      ...(options.to !== undefined ? { to: options.to } : {}),
    })) as MediaEvent<'media.translation'>;
    return m.translations;
  }

  /** Sets the user's language (for chat, captions and every widget). */
  async set(lang: string): Promise<void> {
    await this.ch.request({ type: 'media.language.set', lang });
  }

  /** The user's language changed (here or in another widget). */
  onChange(handler: (lang: string) => void): () => void {
    return this.ch.on('media.language', (m) => handler(m.lang));
  }

  /** The call's live captions, translated into the user's language when possible. */
  async subscribeCaptions(handler: (c: Caption) => void): Promise<() => void> {
    const off = this.ch.on('media.caption', (m) => {
      const { tfx: _t, v: _v, type: _ty, ...c } = m;
      handler(c);
    });
    await this.ch.request({ type: 'media.captions.subscribe' }).catch((err: unknown) => {
      off();
      throw err;
    });
    return () => {
      off();
      void this.ch.request({ type: 'media.captions.unsubscribe' }).catch(() => undefined);
    };
  }
}
