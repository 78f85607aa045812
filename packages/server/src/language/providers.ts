/**
 * Translation providers: the engines an operator points TFX at (`translation.provider`).
 *
 * - `libretranslate`: LibreTranslate's HTTP API (docs.libretranslate.com): `GET /languages` →
 *   `[{code, name, targets}]`; `POST /translate {q, source, target, format, api_key}` →
 *   `{translatedText, detectedLanguage?}`; `POST /detect {q}` → `[{language, confidence}]`.
 * - `apertium-apy`: Apertium's APy (wiki.apertium.org/wiki/Apertium-apy): `GET /listPairs` →
 *   `{responseData: [{sourceLanguage, targetLanguage}]}` in ISO 639-3 codes; `GET /translate?
 *   langpair=eng|spa&q=…` → `{responseData: {translatedText}, responseStatus: 200}`. APy has no
 *   detector without CLD, so detection falls back to the offline detector (translator.ts).
 *
 * Providers validate every answer: a wrong shape is a `ProviderFailure`, as are timeouts and
 * HTTP errors; a refused pair is `UnsupportedPair`.
 */
import { fromApertiumCode, isLanguageCode, toApertiumCode, type LanguagePair } from '@tfx/protocol';
import { ProviderFailure, fetchJson, joinUrl, providerMessage, rec } from './http.js';

export class UnsupportedPair extends Error {
  constructor(
    readonly from: string,
    readonly to: string,
  ) {
    super(`no translation engine for ${from} → ${to}`);
    this.name = 'UnsupportedPair';
  }
}

export interface TranslateResult {
  readonly text: string;
  /** The source language the provider detected, when asked to detect. */
  readonly detected?: string;
}

export interface TranslationProvider {
  readonly name: 'libretranslate' | 'apertium-apy';
  /** The pairs the engine has now. */
  pairs(): Promise<LanguagePair[]>;
  /** `from` may be `auto` only when `detects` is true. */
  translate(text: string, from: string, to: string): Promise<TranslateResult>;
  /** True when the provider can detect a language itself. */
  readonly detects: boolean;
}

export interface ProviderOptions {
  readonly url: string;
  readonly apiKey?: string | undefined;
  readonly timeoutMs: number;
}

export function libreTranslateProvider(o: ProviderOptions): TranslationProvider {
  const post = (path: string, body: Record<string, unknown>) =>
    fetchJson(
      joinUrl(o.url, path),
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(o.apiKey ? { ...body, api_key: o.apiKey } : body),
      },
      o.timeoutMs,
    );
  return {
    name: 'libretranslate',
    detects: true,
    async pairs() {
      const { status, body } = await fetchJson(
        joinUrl(
          o.url,
          o.apiKey ? `languages?api_key=${encodeURIComponent(o.apiKey)}` : 'languages',
        ),
        { headers: { accept: 'application/json' } },
        o.timeoutMs,
      );
      if (status !== 200 || !Array.isArray(body))
        throw new ProviderFailure(`languages: HTTP ${status}`, status, providerMessage(body));
      const codes = body
        .map((l) => rec(l))
        .filter((l): l is Record<string, unknown> => l !== null && isLanguageCode(l.code));
      const all = codes.map((l) => l.code as string);
      const pairs: LanguagePair[] = [];
      for (const l of codes) {
        // Older LibreTranslate versions list no targets: every language to every other.
        const targets = Array.isArray(l.targets) ? l.targets.filter(isLanguageCode) : all;
        for (const t of targets) if (t !== l.code) pairs.push({ from: l.code as string, to: t });
      }
      return pairs;
    },
    async translate(text, from, to) {
      const { status, body } = await post('translate', {
        q: text,
        source: from,
        target: to,
        format: 'text',
      });
      const o2 = rec(body);
      if (status === 400 && /not supported|language/i.test(providerMessage(body) ?? ''))
        throw new UnsupportedPair(from, to);
      if (status !== 200 || !o2 || typeof o2.translatedText !== 'string')
        throw new ProviderFailure(
          status === 200 ? 'translate: answer without translatedText' : `translate: HTTP ${status}`,
          status,
          providerMessage(body),
        );
      const det = rec(o2.detectedLanguage)?.language;
      return isLanguageCode(det)
        ? { text: o2.translatedText, detected: det }
        : { text: o2.translatedText };
    },
  };
}

export function apertiumApyProvider(o: ProviderOptions): TranslationProvider {
  const get = (path: string, params: Record<string, string>) => {
    const q = new URLSearchParams(o.apiKey ? { ...params, key: o.apiKey } : params);
    return fetchJson(
      `${joinUrl(o.url, path)}?${q.toString()}`,
      { headers: { accept: 'application/json' } },
      o.timeoutMs,
    );
  };
  return {
    name: 'apertium-apy',
    detects: false,
    async pairs() {
      const { status, body } = await get('listPairs', {});
      const data = rec(body)?.responseData;
      if (status !== 200 || !Array.isArray(data))
        throw new ProviderFailure(`listPairs: HTTP ${status}`, status, providerMessage(body));
      const pairs: LanguagePair[] = [];
      for (const p of data) {
        const r = rec(p);
        if (typeof r?.sourceLanguage !== 'string' || typeof r.targetLanguage !== 'string') continue;
        const from = fromApertiumCode(r.sourceLanguage);
        const to = fromApertiumCode(r.targetLanguage);
        if (isLanguageCode(from) && isLanguageCode(to)) pairs.push({ from, to });
      }
      return pairs;
    },
    async translate(text, from, to) {
      const { status, body } = await get('translate', {
        langpair: `${toApertiumCode(from)}|${toApertiumCode(to)}`,
        q: text,
        // Without this APy marks words it does not know with '*'.
        markUnknown: 'no',
      });
      const r = rec(body);
      if (status === 400 && /pair is not installed/i.test(providerMessage(body) ?? ''))
        throw new UnsupportedPair(from, to);
      const out = rec(r?.responseData)?.translatedText;
      if (status !== 200 || typeof out !== 'string')
        throw new ProviderFailure(
          status === 200 ? 'translate: answer without translatedText' : `translate: HTTP ${status}`,
          status,
          providerMessage(body),
        );
      return { text: out };
    },
  };
}
