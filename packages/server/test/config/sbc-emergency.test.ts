/**
 * `sbc.emergency` (issue #18 item 4): off by default, values kept and handed to the SBC, hostile
 * values refused naming the key.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfxError } from '@tfx/protocol';
import { loadConfig } from '../../src/config/index.js';
import { sbcConfigOf } from '../../src/sbc/module.js';

function withEmergency(emergency: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-sbc-emergency-'));
  const file = join(dir, 'tfx.yaml');
  writeFileSync(
    file,
    `
sbc:
  zones:
    - { name: core, listen: [udp://127.0.0.10:5090], media: { address: 127.0.0.10 }, trusted: true }
  trunks:
    - { name: carrier-a, zone: core, uri: "sip:127.0.0.11:5070" }
    - { name: sos, zone: core, uri: "sip:127.0.0.12:5070" }
  routes:
    - { match: { zone: core }, to: [carrier-a] }
${emergency !== undefined ? `  emergency: ${emergency}` : ''}
`,
  );
  return file;
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

describe('sbc.emergency', () => {
  it('is off by default (no numbers)', () => {
    const c = loadConfig({ file: withEmergency(undefined) });
    expect(c.sbc.emergency).toEqual({ numbers: [], trunks: [], reserved: 0 });
  });

  it('keeps the numbers, trunks and Resource-Priority and hands them to the SBC', () => {
    const c = loadConfig({
      file: withEmergency('{ numbers: ["112", "911"], trunks: [sos], resourcePriority: esnet.1 }'),
    });
    expect(sbcConfigOf(c).emergency).toEqual({
      numbers: ['112', '911'],
      trunks: ['sos'],
      resourcePriority: 'esnet.1',
      reserved: 0,
    });
  });

  it('refuses hostile values naming the key', () => {
    for (const [value, key] of [
      ['{ numbers: ["112"] }', 'sbc.emergency.trunks'],
      ['{ numbers: ["112"], trunks: [nope] }', 'sbc.emergency.trunks[0]'],
      ['{ numbers: ["1 12"], trunks: [sos] }', 'sbc.emergency.numbers[0]'],
      [
        '{ numbers: ["112"], trunks: [sos], resourcePriority: "esnet" }',
        'sbc.emergency.resourcePriority',
      ],
      [
        '{ numbers: ["112"], trunks: [sos], resourcePriority: "esnet.1\\r\\nX: y" }',
        'sbc.emergency.resourcePriority',
      ],
      ['{ numbers: ["112"], trunks: [sos], extra: 1 }', 'sbc.emergency'],
    ] as const)
      expect(messageOf(() => loadConfig({ file: withEmergency(value) }))).toContain(key);
  });
});
