/**
 * `sbc.zones[].anchorMedia` and `webrtc` (docs/sbc.md, anchoring policy and /sip): validated like
 * the rest of the configuration, the refusals naming the key.
 */
import { describe, expect, it } from 'vitest';
import { TfxError } from '@tfx/protocol';
import { loadConfig } from '../../src/config/index.js';
import { zonesOf } from '../../src/sbc/index.js';

const zone = (name: string, address: string, extra: Record<string, unknown> = {}) => ({
  name,
  listen: [`udp://${address}:5080`],
  media: { address },
  ...extra,
});

const load = (zones: unknown[]) => loadConfig({ flags: { 'sbc.zones': JSON.stringify(zones) } });

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TfxError) return err.message;
    throw err;
  }
  throw new Error('expected a TfxError');
}

describe('sbc.zones anchorMedia and webrtc', () => {
  it('defaults anchorMedia to auto and hands it to the SBC', () => {
    const c = load([
      zone('public', '127.0.0.20'),
      zone('core', '127.0.0.10', { anchorMedia: 'always' }),
    ]);
    expect(c.sbc.zones.map((z) => z.anchorMedia)).toEqual(['auto', 'always']);
    expect(zonesOf(c).map((z) => z.anchorMedia)).toEqual(['auto', 'always']);
  });

  it('refuses an unknown anchorMedia value, naming the key', () => {
    expect(messageOf(() => load([zone('public', '127.0.0.20', { anchorMedia: 'never' })]))).toMatch(
      /sbc\.zones\[0\]\.anchorMedia/,
    );
  });

  it('refuses two webrtc zones: only one carries the platform’s /sip', () => {
    const msg = messageOf(() =>
      load([
        zone('public', '127.0.0.20', { webrtc: true }),
        zone('other', '127.0.0.30', { webrtc: true }),
      ]),
    );
    expect(msg).toMatch(/sbc\.zones\[1\]\.webrtc/);
    expect(msg).toMatch(/one zone at most is webrtc/);
  });
});
