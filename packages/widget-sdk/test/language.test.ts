/**
 * The widget SDK's audio and language capabilities against a fake host: requests carry the widget
 * id and a request id, answers settle the right promise, `error` answers reject with the code,
 * pushed levels / language / captions reach their handlers, and malformed pushes are dropped.
 */
import { describe, expect, it } from 'vitest';
import { ENVELOPE_TAG } from '@tfx/protocol/widgets';
import { TfxWidgetError } from '../src/index.js';
import { connectToFakeHost } from './fake-host.js';

async function connected() {
  const { widget, port, host } = await connectToFakeHost('viz');
  const requests: Record<string, unknown>[] = [];
  port.onmessage = (ev) => {
    const r = ev.data as Record<string, unknown>;
    requests.push(r);
    const id = r.id as number;
    switch (r.type) {
      case 'media.levels.subscribe':
      case 'media.levels.unsubscribe':
      case 'media.language.set':
        return host({ type: 'media.ack', id });
      case 'media.translate':
        if ((r.texts as string[])[0] === 'fail')
          return host({ type: 'error', id, code: 'translation-unavailable', message: 'down' });
        return host({
          type: 'media.translation',
          id,
          translations: [{ text: 'hola', from: 'en', unchanged: false }],
        });
      case 'media.languages':
        return host({
          type: 'media.languages',
          id,
          translation: true,
          captions: false,
          languages: ['en', 'es'],
          lang: 'es',
          title: 'Weekly',
          agenda: '1. hi',
        });
      default:
        return host({ type: 'error', id, code: 'forbidden', message: 'no' });
    }
  };
  return { widget, requests, host };
}

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('widget SDK: audio and language', () => {
  it('translate sends texts, from and to with the widget id; the answer resolves it', async () => {
    const { widget, requests } = await connected();
    expect(await widget.language.translate(['hello'], { from: 'en', to: 'es' })).toEqual([
      { text: 'hola', from: 'en', unchanged: false },
    ]);
    expect(requests[0]).toMatchObject({
      tfx: ENVELOPE_TAG,
      type: 'media.translate',
      widget: 'viz',
      texts: ['hello'],
      from: 'en',
      to: 'es',
      id: expect.any(Number),
    });
  });

  it('an error answer rejects with its code (the widget shows the original)', async () => {
    const { widget } = await connected();
    const err = await widget.language.translate(['fail']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TfxWidgetError);
    expect((err as TfxWidgetError).code).toBe('translation-unavailable');
  });

  it('info carries the languages, the user language, the room title and agenda', async () => {
    const { widget } = await connected();
    expect(await widget.language.info()).toEqual({
      translation: true,
      captions: false,
      languages: ['en', 'es'],
      lang: 'es',
      title: 'Weekly',
      agenda: '1. hi',
    });
  });

  it('levels: subscribe, pushed updates reach the handler, malformed ones are dropped, unsubscribe', async () => {
    const { widget, host, requests } = await connected();
    const got: unknown[] = [];
    const stop = await widget.audio.subscribeLevels(30, (l) => got.push(l), { bins: 8 });
    expect(requests[0]).toMatchObject({ type: 'media.levels.subscribe', hz: 30, bins: 8 });
    host({ type: 'media.levels', at: 1, levels: [{ peer: 'me', level: 0.5, bins: [1, 2] }] });
    host({ type: 'media.levels', at: 2, levels: [{ peer: 7 }] });
    host({ type: 'media.levels', at: 3, levels: [{ peer: 'p2', level: 9, bins: 'x' }] });
    await tick();
    expect(got).toEqual([
      [{ peer: 'me', level: 0.5, bins: [1, 2] }],
      [{ peer: 'p2', level: 1, bins: [] }],
    ]);
    stop();
    await tick();
    expect(requests.at(-1)).toMatchObject({ type: 'media.levels.unsubscribe' });
    host({ type: 'media.levels', at: 4, levels: [] });
    await tick();
    expect(got).toHaveLength(2);
  });

  it('a refused subscription rejects and leaves no handler behind', async () => {
    const { widget } = await connected();
    const err = await widget.language.subscribeCaptions(() => undefined).catch((e: unknown) => e);
    expect((err as TfxWidgetError).code).toBe('forbidden');
  });

  it('language changes pushed by the host reach onChange; set() is acknowledged', async () => {
    const { widget, host, requests } = await connected();
    const seen: string[] = [];
    widget.language.onChange((l) => seen.push(l));
    await widget.language.set('es');
    expect(requests[0]).toMatchObject({ type: 'media.language.set', lang: 'es' });
    host({ type: 'media.language', lang: 'es' });
    await tick();
    expect(seen).toEqual(['es']);
  });

  it('close rejects pending media requests with closed', async () => {
    const { widget } = await connected();
    const p = widget.language.info();
    widget.close();
    expect(((await p.catch((e: unknown) => e)) as TfxWidgetError).code).toBe('closed');
  });
});
