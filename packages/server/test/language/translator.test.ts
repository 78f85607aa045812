/** The translation service and the LibreTranslate adapter against a fake LibreTranslate on loopback. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TfxError } from '@tfx/protocol';
import { libreTranslateProvider } from '../../src/language/providers.js';
import { Translator, type TranslatorOptions } from '../../src/language/translator.js';
import { startFakeLibreTranslate, type FakeLibreTranslate } from './fake-libretranslate.js';

let fake: FakeLibreTranslate;
beforeAll(async () => {
  fake = await startFakeLibreTranslate();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.mode = 'ok';
  delete fake.apiKey;
  fake.translateCalls.length = 0;
});

function make(over: Partial<TranslatorOptions> & { timeoutMs?: number; apiKey?: string } = {}) {
  let t = 0;
  const outcomes: string[] = [];
  const tr = new Translator({
    provider: libreTranslateProvider({
      url: fake.url,
      timeoutMs: over.timeoutMs ?? 2000,
      apiKey: over.apiKey,
    }),
    maxTextChars: 100,
    cacheEntries: 100,
    perPeerPerMinute: 10,
    now: () => t,
    detect: (s) => (/hola/i.test(s) ? 'es' : /hello/i.test(s) ? 'en' : undefined),
    onOutcome: (o) => outcomes.push(o),
    ...over,
  });
  return { tr, outcomes, advance: (ms: number) => (t += ms) };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(TfxError);
    return (err as TfxError).code;
  }
}

describe('Translator with LibreTranslate', () => {
  it('lists the pairs from /languages (targets per language)', async () => {
    const { tr } = make();
    const pairs = await tr.pairs();
    expect(pairs).toContainEqual({ from: 'en', to: 'es' });
    expect(pairs).toContainEqual({ from: 'es', to: 'en' });
    expect(pairs).not.toContainEqual({ from: 'de', to: 'en' });
  });

  it('translates and caches by (text, from, to): the second ask does not reach the provider', async () => {
    const { tr, outcomes } = make();
    expect(await tr.translate('r/p', ['hello'], 'en', 'es')).toEqual([
      { text: 'hola', from: 'en', unchanged: false },
    ]);
    expect(await tr.translate('r/q', ['hello'], 'en', 'es')).toEqual([
      { text: 'hola', from: 'en', unchanged: false },
    ]);
    expect(fake.translateCalls).toHaveLength(1);
    expect(outcomes).toEqual(['ok', 'cached']);
    // Another target is another key.
    await tr.translate('r/p', ['hello'], 'en', 'de');
    expect(fake.translateCalls).toHaveLength(2);
  });

  it('asks the provider once when many receivers translate the same text at once', async () => {
    const { tr } = make();
    const all = await Promise.all(
      ['a', 'b', 'c', 'd'].map((p) => tr.translate(`r/${p}`, ['thank you'], 'en', 'es')),
    );
    expect(all.map((r) => r[0]?.text)).toEqual(['gracias', 'gracias', 'gracias', 'gracias']);
    expect(fake.translateCalls).toHaveLength(1);
  });

  it('same language in and out: returned unchanged without a provider call', async () => {
    const { tr } = make();
    expect(await tr.translate('r/p', ['hello'], 'en-US', 'en')).toEqual([
      { text: 'hello', from: 'en-US', unchanged: true },
    ]);
    expect(fake.translateCalls).toHaveLength(0);
  });

  it('auto: LibreTranslate detects; the detected language comes back', async () => {
    const { tr } = make();
    expect(await tr.translate('r/p', ['hola'], 'auto', 'en')).toEqual([
      { text: 'hello', from: 'es', unchanged: false },
    ]);
    expect(fake.translateCalls[0]?.source).toBe('auto');
    // Detected as the target language: unchanged.
    expect(await tr.translate('r/p', ['hola'], 'auto', 'es')).toEqual([
      { text: 'hola', from: 'es', unchanged: true },
    ]);
  });

  it('caps the text length (payload-too-large) before anything else', async () => {
    const { tr, outcomes } = make();
    expect(await code(tr.translate('r/p', ['x'.repeat(101)], 'en', 'es'))).toBe(
      'payload-too-large',
    );
    expect(outcomes).toEqual(['too-large']);
    expect(fake.translateCalls).toHaveLength(0);
  });

  it('rate-limits per peer (cache hits count) and recovers as the minute passes', async () => {
    const { tr, advance } = make({ perPeerPerMinute: 3 });
    expect(await code(tr.translate('r/p', ['hello', 'hello', 'hello'], 'en', 'es'))).toBe('ok');
    const err = await tr.translate('r/p', ['hello'], 'en', 'es').catch((e: TfxError) => e);
    expect(err).toBeInstanceOf(TfxError);
    expect((err as TfxError).code).toBe('rate-limited');
    expect((err as TfxError).details?.retryAfterMs).toBe(20_000);
    expect(await code(tr.translate('r/other', ['hello'], 'en', 'es'))).toBe('ok');
    advance(20_000);
    expect(await code(tr.translate('r/p', ['hello'], 'en', 'es'))).toBe('ok');
  });

  it('a pair the provider lacks is language-unsupported, without a provider call', async () => {
    const { tr } = make();
    expect(await code(tr.translate('r/p', ['hallo'], 'de', 'es'))).toBe('language-unsupported');
    expect(fake.translateCalls).toHaveLength(0);
  });

  it.each([
    ['hangs', 'hang' as const],
    ['answers truncated JSON', 'garbage' as const],
    ['answers 500', 'error500' as const],
    ['answers 429', 'error429' as const],
    ['answers HTML', 'html' as const],
    ['answers JSON without translatedText', 'wrong-shape' as const],
  ])('a provider that %s: translation-unavailable, and nothing is cached', async (_n, mode) => {
    const { tr, outcomes } = make({ timeoutMs: 300 });
    await tr.pairs(); // the list while the provider is well
    fake.mode = mode;
    const err = await tr.translate('r/p', ['good morning'], 'en', 'es').catch((e: TfxError) => e);
    expect(err).toBeInstanceOf(TfxError);
    expect((err as TfxError).code).toBe('translation-unavailable');
    expect((err as TfxError).message).toMatch(/^libretranslate: /);
    expect(outcomes).toEqual(['failed']);
    fake.mode = 'ok';
    expect(await tr.translate('r/p', ['good morning'], 'en', 'es')).toEqual([
      { text: 'buenos días', from: 'en', unchanged: false },
    ]);
  });

  it('a refused API key is translation-unavailable with the provider message; the key is sent', async () => {
    fake.apiKey = 'right';
    const bad = make({ apiKey: 'wrong' });
    const err = await bad.tr.translate('r/p', ['hello'], 'en', 'es').catch((e: TfxError) => e);
    expect((err as TfxError).code).toBe('translation-unavailable');
    expect((err as TfxError).details).toMatchObject({
      status: 403,
      providerMessage: 'Invalid API key',
    });
    const good = make({ apiKey: 'right' });
    expect((await good.tr.translate('r/p', ['hello'], 'en', 'es'))[0]?.text).toBe('hola');
  });

  it('an unreachable provider: pairs() is empty, translate is translation-unavailable', async () => {
    let t = 0;
    const tr = new Translator({
      provider: libreTranslateProvider({ url: 'http://127.0.0.1:1', timeoutMs: 500 }),
      maxTextChars: 100,
      cacheEntries: 10,
      perPeerPerMinute: 10,
      now: () => t,
      detect: () => undefined,
    });
    expect(await tr.pairs()).toEqual([]);
    expect(await code(tr.translate('r/p', ['hello'], 'en', 'es'))).toBe('translation-unavailable');
    t += 1;
  });

  it('without a provider every call is language-off', async () => {
    const tr = new Translator({
      provider: null,
      maxTextChars: 100,
      cacheEntries: 10,
      perPeerPerMinute: 10,
      now: () => 0,
      detect: () => undefined,
    });
    expect(tr.enabled).toBe(false);
    expect(await tr.pairs()).toEqual([]);
    expect(await code(tr.translate('r/p', ['hello'], 'en', 'es'))).toBe('language-off');
  });
});
