/** The audio and language media requests: schemas, permissions and hostile input. */
import { describe, expect, it } from 'vitest';
import {
  MEDIA_REQUEST_PERMISSION,
  mediaRequestAllowed,
  parseMediaRequest,
  widgetEntrySchema,
} from '../src/index.js';
import { fromApertiumCode, languageName, toApertiumCode } from '../src/language/codes.js';

const base = { tfx: 'tfx-widget', v: 1, widget: 'viz', id: 3 };

describe('audio and language media requests', () => {
  it.each([
    [{ type: 'media.levels.subscribe', hz: 30, bins: 16 }, true],
    [{ type: 'media.levels.subscribe', hz: 31 }, false],
    [{ type: 'media.levels.subscribe', hz: 10, bins: 65 }, false],
    [{ type: 'media.translate', texts: ['hi'], from: 'auto' }, true],
    [{ type: 'media.translate', texts: ['hi'], from: 'en', to: 'es' }, true],
    [{ type: 'media.translate', texts: [], from: 'en' }, false],
    [{ type: 'media.translate', texts: Array(17).fill('x'), from: 'en' }, false],
    [{ type: 'media.translate', texts: ['x'.repeat(5001)], from: 'en' }, false],
    [{ type: 'media.translate', texts: ['hi'], from: 'EN<script>' }, false],
    [{ type: 'media.language.set', lang: 'pt-BR' }, true],
    [{ type: 'media.language.set', lang: '../../etc' }, false],
    [{ type: 'media.languages' }, true],
    [{ type: 'media.captions.subscribe', extra: 1 }, false],
  ])('%j → %s', (req, ok) => {
    expect(parseMediaRequest({ ...base, ...req }).ok).toBe(ok);
  });

  it('each request is granted by its own manifest key only', () => {
    expect(MEDIA_REQUEST_PERMISSION['media.translate']).toBe('translate');
    expect(mediaRequestAllowed({ levels: true }, 'media.levels.subscribe')).toBe(true);
    expect(mediaRequestAllowed({ levels: true }, 'media.translate')).toBe(false);
    expect(mediaRequestAllowed(undefined, 'media.languages')).toBe(false);
    expect(mediaRequestAllowed({ language: true }, 'media.language.set')).toBe(true);
    expect(mediaRequestAllowed({ captions: false }, 'media.captions.subscribe')).toBe(false);
  });

  it('the manifest accepts the new keys and refuses unknown ones', () => {
    const entry = {
      plugintype: 'media',
      id: 'viz',
      type: 'viz',
      title: 'Viz',
      icon: 'media',
      url: '/widgets/viz/',
    };
    expect(
      widgetEntrySchema.safeParse({
        ...entry,
        permissions: { media: { levels: true, translate: true, language: true, captions: true } },
      }).success,
    ).toBe(true);
    expect(
      widgetEntrySchema.safeParse({ ...entry, permissions: { media: { microphoneRaw: true } } })
        .success,
    ).toBe(false);
  });
});

describe('language codes', () => {
  it('maps Apertium ISO 639-3 modes to TFX codes and back', () => {
    expect(fromApertiumCode('eng')).toBe('en');
    expect(fromApertiumCode('spa')).toBe('es');
    expect(fromApertiumCode('eng_US')).toBe('en-US');
    expect(fromApertiumCode('xyz')).toBe('xyz');
    expect(toApertiumCode('en')).toBe('eng');
    expect(toApertiumCode('en-US')).toBe('eng_US');
    expect(languageName('es')).toBe('Spanish');
    expect(languageName('en-US')).toBe('English (US)');
  });
});
