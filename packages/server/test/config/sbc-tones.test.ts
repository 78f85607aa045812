/**
 * `sbc.zones[].tones` (issue #20 item 4): off by default, values kept and handed to the SBC, WAV
 * announcements checked at load (missing, not a WAV: a config error naming the key).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfxError } from '@tfx/protocol';
import { loadConfig } from '../../src/config/index.js';
import { zonesOf } from '../../src/sbc/module.js';

const dir = mkdtempSync(join(tmpdir(), 'tfx-sbc-tones-'));

function withTones(tones: string | undefined): string {
  const file = join(dir, `tfx-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `
sbc:
  zones:
    - { name: core, listen: [udp://127.0.0.10:5090], media: { address: 127.0.0.10 }, trusted: true${
      tones === undefined ? '' : `, tones: ${tones}`
    } }
`,
  );
  return file;
}

function wav(): string {
  const n = 800;
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(n * 2, 40);
  const p = join(dir, 'ok.wav');
  writeFileSync(p, b);
  return p;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof TfxError) return err.message;
    throw err;
  }
  throw new Error('expected a TfxError');
}

describe('sbc.zones[].tones', () => {
  it('is off by default', () => {
    const c = loadConfig({ file: withTones(undefined) });
    expect(zonesOf(c)[0]!.tones).toEqual({
      ringback: false,
      busySeconds: 0,
      congestionSeconds: 0,
      announcements: {},
    });
  });

  it('keeps given values and announcement files', () => {
    const p = wav();
    const c = loadConfig({
      file: withTones(
        `{ ringback: true, busySeconds: 3, congestionSeconds: 2, announcements: { unknownNumber: "${p}", unreachable: "${p}" } }`,
      ),
    });
    expect(zonesOf(c)[0]!.tones).toEqual({
      ringback: true,
      busySeconds: 3,
      congestionSeconds: 2,
      announcements: { unknownNumber: p, unreachable: p },
    });
  });

  it('refuses a missing or invalid WAV and hostile values, naming the key', () => {
    const text = join(dir, 'not.wav');
    writeFileSync(text, 'RIFF but not really');
    expect(
      messageOf(() =>
        loadConfig({
          file: withTones(`{ announcements: { unknownNumber: "${join(dir, 'missing.wav')}" } }`),
        }),
      ),
    ).toMatch(/sbc\.zones\[0\]\.tones\.announcements\.unknownNumber.*missing\.wav/s);
    expect(
      messageOf(() =>
        loadConfig({ file: withTones(`{ announcements: { unreachable: "${text}" } }`) }),
      ),
    ).toMatch(/sbc\.zones\[0\]\.tones\.announcements\.unreachable.*RIFF\/WAVE/s);
    expect(messageOf(() => loadConfig({ file: withTones('{ busySeconds: 31 }') }))).toContain(
      'sbc.zones[0].tones.busySeconds',
    );
    expect(messageOf(() => loadConfig({ file: withTones('{ ringtone: true }') }))).toContain(
      'ringtone',
    );
  });
});
