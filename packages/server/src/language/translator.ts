/**
 * The translation service behind `POST /api/v1/language/translate`: the checks in front of the
 * provider and what saves calls to it.
 *
 * Per text, in order: length cap (`payload-too-large`) → per-peer rate limit (`rate-limited`,
 * cache hits count too: they still cost the server) → source language (given, or detected: by the
 * provider when it can, else by the offline detector) → same language: returned unchanged →
 * cache by (text, from, to) → one in-flight call per key (every receiver of one chat message asks
 * at once) → the provider. Provider failures become `translation-unavailable`, a pair it lacks
 * `language-unsupported`; the caller (the call page) then shows the original with a notice.
 */
import { TfxError, baseLanguage, type LanguagePair } from '@tfx/protocol';
import { LruCache, RateLimiter, type Now } from './limits.js';
import { ProviderFailure } from './http.js';
import { UnsupportedPair, type TranslationProvider } from './providers.js';

export type TranslateOutcome =
  'ok' | 'cached' | 'unchanged' | 'failed' | 'unsupported' | 'limited' | 'too-large';

export interface TranslatorOptions {
  readonly provider: TranslationProvider | null;
  readonly maxTextChars: number;
  readonly cacheEntries: number;
  readonly perPeerPerMinute: number;
  readonly now: Now;
  /** Offline language detection: a code, or undefined when unsure. */
  readonly detect: (text: string) => string | undefined;
  /** How long the provider's pair list is kept (a failed fetch is retried after a tenth). */
  readonly pairsTtlMs?: number;
  readonly onOutcome?: (outcome: TranslateOutcome) => void;
}

export interface Translation {
  readonly text: string;
  readonly from: string;
  readonly unchanged: boolean;
}

export class Translator {
  private readonly cache: LruCache<string>;
  private readonly limiter: RateLimiter;
  private readonly inflight = new Map<string, Promise<string>>();
  private pairsCache: { pairs: LanguagePair[]; until: number } | null = null;
  private pairsLoading: Promise<LanguagePair[]> | null = null;

  constructor(private readonly o: TranslatorOptions) {
    this.cache = new LruCache(o.cacheEntries);
    this.limiter = new RateLimiter(o.perPeerPerMinute, o.now);
  }

  get enabled(): boolean {
    return this.o.provider !== null;
  }

  /** The provider's pairs (cached); empty when off or unreachable. */
  async pairs(): Promise<LanguagePair[]> {
    const p = this.o.provider;
    if (!p) return [];
    const t = this.o.now();
    if (this.pairsCache && t < this.pairsCache.until) return this.pairsCache.pairs;
    const ttl = this.o.pairsTtlMs ?? 300_000;
    this.pairsLoading ??= p
      .pairs()
      .then((pairs) => {
        this.pairsCache = { pairs, until: this.o.now() + ttl };
        return pairs;
      })
      .catch(() => {
        this.pairsCache = { pairs: [], until: this.o.now() + ttl / 10 };
        return [];
      })
      .finally(() => {
        this.pairsLoading = null;
      });
    return this.pairsLoading;
  }

  /** Translates `texts` for the peer `peerKey`; all or nothing (one failure fails the call). */
  async translate(
    peerKey: string,
    texts: readonly string[],
    from: string,
    to: string,
  ): Promise<Translation[]> {
    const provider = this.o.provider;
    if (!provider)
      throw new TfxError('language-off', 'translation is not configured on this server');
    for (const t of texts)
      if (t.length > this.o.maxTextChars) {
        this.o.onOutcome?.('too-large');
        throw new TfxError(
          'payload-too-large',
          `text longer than ${this.o.maxTextChars} characters`,
          {
            maxTextChars: this.o.maxTextChars,
          },
        );
      }
    if (!this.limiter.take(peerKey, texts.length)) {
      this.o.onOutcome?.('limited');
      throw new TfxError('rate-limited', 'too many translations from this peer; slow down', {
        retryAfterMs: this.limiter.retryAfterMs(peerKey, texts.length),
      });
    }
    return Promise.all(texts.map((t) => this.one(provider, t, from, to)));
  }

  private async one(
    provider: TranslationProvider,
    text: string,
    given: string,
    to: string,
  ): Promise<Translation> {
    let from = given;
    if (text.trim() === '') return { text, from: from === 'auto' ? to : from, unchanged: true };
    if (from === 'auto' && !provider.detects) {
      const d = this.o.detect(text);
      if (!d) {
        this.o.onOutcome?.('unsupported');
        throw new TfxError(
          'language-unsupported',
          'the language of this text could not be detected',
        );
      }
      from = d;
    }
    if (from !== 'auto' && baseLanguage(from) === baseLanguage(to)) {
      this.o.onOutcome?.('unchanged');
      return { text, from, unchanged: true };
    }
    if (from !== 'auto') {
      const pair = await this.resolvePair(from, to);
      if (!pair) {
        this.o.onOutcome?.('unsupported');
        throw new TfxError('language-unsupported', `no translation engine for ${from} → ${to}`, {
          from,
          to,
        });
      }
      ({ from, to } = pair);
    }
    const key = `${from}\u0000${to}\u0000${text}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.o.onOutcome?.('cached');
      return { text: hit, from, unchanged: false };
    }
    // Detection by the provider: the detected language is part of the answer, not of the key.
    if (from === 'auto') return this.viaProvider(provider, text, 'auto', to);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.viaProvider(provider, text, from, to).then((r) => {
        this.cache.set(key, r.text);
        return r.text;
      });
      const p = pending;
      this.inflight.set(key, p);
      void p.then(
        () => this.inflight.delete(key),
        () => this.inflight.delete(key),
      );
    }
    return { text: await pending, from, unchanged: false };
  }

  private async viaProvider(
    provider: TranslationProvider,
    text: string,
    from: string,
    to: string,
  ): Promise<Translation> {
    try {
      const r = await provider.translate(text, from, to);
      const src = from === 'auto' ? (r.detected ?? 'auto') : from;
      if (src !== 'auto' && baseLanguage(src) === baseLanguage(to)) {
        this.o.onOutcome?.('unchanged');
        return { text, from: src, unchanged: true };
      }
      this.o.onOutcome?.('ok');
      if (src !== 'auto') this.cache.set(`${src}\u0000${to}\u0000${text}`, r.text);
      return { text: r.text, from: src === 'auto' ? 'auto' : src, unchanged: false };
    } catch (err) {
      if (err instanceof UnsupportedPair) {
        this.o.onOutcome?.('unsupported');
        throw new TfxError('language-unsupported', err.message, { from, to });
      }
      this.o.onOutcome?.('failed');
      if (err instanceof ProviderFailure)
        throw new TfxError('translation-unavailable', `${provider.name}: ${err.message}`, {
          provider: provider.name,
          ...(err.status !== undefined ? { status: err.status } : {}),
          ...(err.providerMessage ? { providerMessage: err.providerMessage } : {}),
        });
      throw new TfxError('translation-unavailable', `${provider.name}: ${(err as Error).message}`);
    }
  }

  /**
   * The provider pair for `from → to`: exact, else by primary language (`en-US → es` uses
   * `en → es`; `es → en` may use `es → en-US`). Unknown pairs (the list failed) are tried as given.
   */
  private async resolvePair(from: string, to: string): Promise<LanguagePair | null> {
    const pairs = await this.pairs();
    if (pairs.length === 0) return { from, to };
    if (pairs.some((p) => p.from === from && p.to === to)) return { from, to };
    const bf = baseLanguage(from);
    const bt = baseLanguage(to);
    return (
      pairs.find((p) => p.from === bf && p.to === bt) ??
      pairs.find((p) => baseLanguage(p.from) === bf && baseLanguage(p.to) === bt) ??
      null
    );
  }
}
