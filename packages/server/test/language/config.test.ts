import { describe, expect, it } from 'vitest';
import { TfxError } from '@tfx/protocol';
import { loadConfig } from '../../src/config/index.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return err instanceof TfxError ? `${err.code}: ${err.message}` : String(err);
  }
}

describe('translation and captions configuration', () => {
  it('both are off by default, with rooms opting in', () => {
    const c = loadConfig({});
    expect(c.translation).toMatchObject({ provider: 'none', roomsByDefault: false });
    expect(c.captions).toMatchObject({ provider: 'none', roomsByDefault: false });
  });

  it('a provider without a URL is config-invalid, naming the key', () => {
    expect(
      codeOf(() => loadConfig({ flags: { 'translation.provider': 'libretranslate' } })),
    ).toMatch(/^config-invalid: .*translation\.url/);
    expect(codeOf(() => loadConfig({ flags: { 'captions.provider': 'vosk' } }))).toMatch(
      /^config-invalid: .*captions\.url/,
    );
  });

  it('vosk needs ws(s)://, openai-compatible needs http(s)://; unknown providers are refused', () => {
    expect(
      codeOf(() =>
        loadConfig({
          flags: { 'captions.provider': 'vosk', 'captions.url': 'http://127.0.0.1:2700' },
        }),
      ),
    ).toMatch(/^config-invalid: .*ws:\/\//);
    expect(
      codeOf(() =>
        loadConfig({
          flags: { 'captions.provider': 'openai-compatible', 'captions.url': 'ws://127.0.0.1:1' },
        }),
      ),
    ).toMatch(/^config-invalid: .*http:\/\//);
    expect(codeOf(() => loadConfig({ flags: { 'translation.provider': 'google' } }))).toMatch(
      /^config-invalid/,
    );
    expect(
      codeOf(() =>
        loadConfig({
          env: {
            TFX_TRANSLATION_PROVIDER: 'apertium-apy',
            TFX_TRANSLATION_URL: 'http://127.0.0.1:2737',
          },
        }),
      ),
    ).toBe('ok');
  });
});
