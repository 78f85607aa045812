/**
 * The language module in a real platform (signalling + REST + language) on port 0, with real
 * socket.io peers: room opt-in, presence check, translation through a fake LibreTranslate and a
 * REAL Apertium APy (Debian apertium-apy + apertium-eng-spa), captions through a fake
 * OpenAI-compatible server, metrics.
 */
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlatformModule } from '../../src/index.js';
import { createLanguageModule } from '../../src/language/index.js';
import { encodeWav } from '../../src/language/wav.js';
import { adminFromSignalling, createApiModule } from '../../src/api/index.js';
import { createSignallingModule } from '../../src/signalling/index.js';
import { startTestPlatform, type TestPlatform } from '../api/harness.js';
import { startApertium, type Apertium } from '../../../../test/helpers/apertium.js';
import { startFakeLibreTranslate, type FakeLibreTranslate } from './fake-libretranslate.js';
import { startFakeOpenAiStt, type FakeOpenAiStt } from './fake-stt.js';

function modules(): PlatformModule[] {
  const signalling = createSignallingModule();
  return [
    signalling,
    createApiModule({ admin: () => adminFromSignalling(signalling.service) }),
    createLanguageModule({
      peersIn: () => async (room) =>
        (await signalling.service.store.listPeers(room)).map((p) => p.id),
    }),
  ];
}

const speech = (ms: number) =>
  encodeWav(
    Int16Array.from({ length: 16 * ms }, (_, i) =>
      Math.round(5000 * Math.sin((2 * Math.PI * 200 * i) / 16_000)),
    ),
    16_000,
  );

function postWav(base: string, query: string, body: Buffer, type = 'audio/wav') {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = httpsRequest(
      `${base}/api/v1/language/transcribe?${query}`,
      { method: 'POST', headers: { 'content-type': type }, rejectUnauthorized: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('language module with LibreTranslate (fake) and captions (fake OpenAI-compatible)', () => {
  let p: TestPlatform;
  let lt: FakeLibreTranslate;
  let stt: FakeOpenAiStt;
  beforeAll(async () => {
    lt = await startFakeLibreTranslate();
    stt = await startFakeOpenAiStt('good morning');
    p = await startTestPlatform({
      modules: modules(),
      flags: {
        'translation.provider': 'libretranslate',
        'translation.url': lt.url,
        'translation.perPeerPerMinute': '5',
        'translation.maxTextChars': '50',
        'translation.timeoutMs': '500',
        'captions.provider': 'openai-compatible',
        'captions.url': stt.url,
        'captions.maxSegmentBytes': '100000',
      },
    });
  });
  afterAll(async () => {
    await p?.close();
    await lt?.close();
    await stt?.close();
  });

  it('GET /api/v1/language lists the providers and the pairs (public)', async () => {
    const r = await p.req('GET', '/api/v1/language', { token: '' });
    expect(r.status).toBe(200);
    const body = r.json as {
      translation: { pairs: unknown[]; languages: string[]; provider: string };
    };
    expect(body.translation.provider).toBe('libretranslate');
    expect(body.translation.pairs).toContainEqual({ from: 'en', to: 'es' });
    expect(body.translation.languages).toEqual(['de', 'en', 'es']);
  });

  it('a room that did not opt in gets language-off; opting in needs the admin token', async () => {
    const { result } = await p.join('no-opt-in', 'Ann');
    const r = await p.req('POST', '/api/v1/language/translate', {
      token: '',
      body: { room: 'no-opt-in', peer: result.peerId, texts: ['hello'], from: 'en', to: 'es' },
    });
    expect(r.status).toBe(403);
    expect((r.json as { error: { code: string } }).error.code).toBe('language-off');
    const unauth = await p.req('PUT', '/api/v1/rooms/no-opt-in/language', {
      token: '',
      body: { translation: true },
    });
    expect(unauth.status).toBe(401);
    const room = await p.req('GET', '/api/v1/rooms/no-opt-in/language', { token: '' });
    expect(room.json).toEqual({ translation: false, captions: false });
  });

  it('an opted-in room: its peers translate; a stranger or a made-up peer is forbidden', async () => {
    const set = await p.req('PUT', '/api/v1/rooms/lang-room/language', {
      body: { translation: true, captions: true, title: 'Weekly', agenda: '1. hello\n2. news' },
    });
    expect(set.status).toBe(200);
    const room = await p.req('GET', '/api/v1/rooms/lang-room/language', { token: '' });
    expect(room.json).toEqual({
      translation: true,
      captions: true,
      title: 'Weekly',
      agenda: '1. hello\n2. news',
    });
    const { result } = await p.join('lang-room', 'Bea');
    const ok = await p.req('POST', '/api/v1/language/translate', {
      token: '',
      body: {
        room: 'lang-room',
        peer: result.peerId,
        texts: ['hello', 'thank you'],
        from: 'en',
        to: 'es',
      },
    });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({
      translations: [
        { text: 'hola', from: 'en', unchanged: false },
        { text: 'gracias', from: 'en', unchanged: false },
      ],
    });
    const stranger = await p.req('POST', '/api/v1/language/translate', {
      token: '',
      body: { room: 'lang-room', peer: 'made-up-peer', texts: ['hello'], from: 'en', to: 'es' },
    });
    expect(stranger.status).toBe(403);
    expect((stranger.json as { error: { code: string } }).error.code).toBe('forbidden');
  });

  it('hostile bodies: bad codes, too many texts, too long a text, wrong types → 400/413, never 500', async () => {
    const { result } = await p.join('lang-room', 'Cid');
    const peer = result.peerId;
    const bodies: [unknown, number][] = [
      [{ room: 'lang-room', peer, texts: ['x'], from: 'EN!', to: 'es' }, 400],
      [{ room: 'lang-room', peer, texts: Array(17).fill('x'), from: 'en', to: 'es' }, 400],
      [{ room: 'lang-room', peer, texts: 'hello', from: 'en', to: 'es' }, 400],
      [{ room: 'lang-room', peer, texts: ['x'], from: 'en', to: 'es', extra: 1 }, 400],
      [{ room: '../etc', peer, texts: ['x'], from: 'en', to: 'es' }, 400],
      [{ room: 'lang-room', peer, texts: ['x'.repeat(51)], from: 'en', to: 'es' }, 413],
      [null, 400],
    ];
    for (const [body, status] of bodies) {
      const r = await p.req('POST', '/api/v1/language/translate', { token: '', body });
      expect(r.status, JSON.stringify(body)).toBe(status);
    }
  });

  it('per-peer rate limit over HTTP: 429 rate-limited with retryAfterMs', async () => {
    const { result } = await p.join('lang-room', 'Dee');
    const body = { room: 'lang-room', peer: result.peerId, texts: ['hello'], from: 'en', to: 'es' };
    for (let i = 0; i < 5; i++)
      expect((await p.req('POST', '/api/v1/language/translate', { token: '', body })).status).toBe(
        200,
      );
    const r = await p.req('POST', '/api/v1/language/translate', { token: '', body });
    expect(r.status).toBe(429);
    expect(r.json).toMatchObject({
      error: { code: 'rate-limited', details: { retryAfterMs: expect.any(Number) } },
    });
  });

  it('a provider that hangs or 500s: 502 translation-unavailable, counted in the metrics', async () => {
    const { result } = await p.join('lang-room', 'Eve');
    const body = {
      room: 'lang-room',
      peer: result.peerId,
      texts: ['good morning'],
      from: 'en',
      to: 'es',
    };
    for (const mode of ['hang', 'error500', 'garbage'] as const) {
      lt.mode = mode;
      const r = await p.req('POST', '/api/v1/language/translate', { token: '', body });
      expect(r.status).toBe(502);
      expect((r.json as { error: { code: string } }).error.code).toBe('translation-unavailable');
    }
    lt.mode = 'ok';
    const m = await p.req('GET', '/metrics');
    expect(m.text).toMatch(/tfx_translations_total\{outcome="failed"\} 3/);
  });

  it('captions: a WAV segment of a peer is transcribed; silence and non-WAV refused; nothing silent uploaded', async () => {
    const { result } = await p.join('lang-room', 'Fay');
    const q = `room=lang-room&peer=${result.peerId}&lang=en`;
    const ok = await postWav(p.base, q, speech(800));
    expect(ok).toEqual({ status: 200, body: { text: 'good morning' } });
    const silent = await postWav(p.base, q, encodeWav(new Int16Array(16_000), 16_000));
    expect(silent.status).toBe(415);
    expect(silent.body).toMatchObject({ error: { code: 'audio-refused' } });
    const ogg = await postWav(p.base, q, Buffer.from('OggS'.padEnd(100, '\0')));
    expect(ogg.body).toMatchObject({ error: { code: 'audio-refused' } });
    const big = await postWav(p.base, q, speech(4000));
    expect(big.status).toBe(413);
    const wrongType = await postWav(p.base, q, speech(500), 'application/octet-stream');
    expect(wrongType.status).toBe(415);
    expect(stt.uploads.map((u) => u.status)).toEqual([200]);
    const stranger = await postWav(p.base, 'room=lang-room&peer=nobody', speech(500));
    expect(stranger.status).toBe(403);
  });
});

describe('language module with a real Apertium APy (apertium-eng-spa)', () => {
  let p: TestPlatform;
  let apy: Apertium;
  beforeAll(async () => {
    apy = await startApertium();
    p = await startTestPlatform({
      modules: modules(),
      flags: {
        'translation.provider': 'apertium-apy',
        'translation.url': apy.url,
        'translation.roomsByDefault': true,
      },
    });
  }, 90_000);
  afterAll(async () => {
    await p?.close();
    await apy?.stop();
  });

  it('lists eng↔spa as en↔es', async () => {
    const r = await p.req('GET', '/api/v1/language', { token: '' });
    const body = r.json as { translation: { pairs: unknown[]; languages: string[] } };
    expect(body.translation.pairs).toContainEqual({ from: 'en', to: 'es' });
    expect(body.translation.pairs).toContainEqual({ from: 'es', to: 'en' });
    expect(body.translation.languages).toContain('es');
  });

  it('English → Spanish and back through the real engine; auto detects English offline', async () => {
    const { result } = await p.join('apy-room', 'Gus');
    const tr = async (texts: string[], from: string, to: string) =>
      p.req('POST', '/api/v1/language/translate', {
        token: '',
        body: { room: 'apy-room', peer: result.peerId, texts, from, to },
      });
    const es = await tr(['Good morning, my friends.'], 'en', 'es');
    expect(es.status).toBe(200);
    expect(es.json).toEqual({
      translations: [{ text: 'Buenos días, mis amigos.', from: 'en', unchanged: false }],
    });
    const en = await tr(['Gracias'], 'es', 'en');
    expect((en.json as { translations: { text: string }[] }).translations[0]?.text).toBe(
      'Thank you',
    );
    const auto = await tr(['Hello, how are you today? The weather is good.'], 'auto', 'es');
    expect(auto.status).toBe(200);
    expect(
      (auto.json as { translations: { from: string; text: string }[] }).translations[0],
    ).toMatchObject({
      from: 'en',
      text: expect.stringMatching(/^Hola/),
    });
    const none = await tr(['Bonjour'], 'fr', 'es');
    expect(none.status).toBe(400);
    expect((none.json as { error: { code: string } }).error.code).toBe('language-unsupported');
  });
});
