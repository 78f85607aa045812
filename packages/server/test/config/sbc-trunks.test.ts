/**
 * `sbc.trunks[].probe` and `timeoutSeconds` (issue #18 items 1–2): defaults filled, values kept,
 * hostile values refused naming the key.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfxError } from '@tfx/protocol';
import { loadConfig } from '../../src/config/index.js';
import { sbcConfigOf } from '../../src/sbc/module.js';

function withTrunk(trunk: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-sbc-trunks-'));
  const file = join(dir, 'tfx.yaml');
  writeFileSync(
    file,
    `
sbc:
  zones:
    - { name: core, listen: [udp://127.0.0.10:5090], media: { address: 127.0.0.10 }, trusted: true }
  trunks:
    - ${trunk}
  routes:
    - { match: { zone: core }, to: [carrier-a] }
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

describe('sbc.trunks probe and timeoutSeconds', () => {
  it('fills the defaults: no probes until an interval is set (then down after 3, up after 2); 5 s per try', () => {
    const c = loadConfig({
      file: withTrunk('{ name: carrier-a, zone: core, uri: "sip:127.0.0.11:5070" }'),
    });
    expect(c.sbc.trunks[0]).toMatchObject({
      probe: { intervalSeconds: 0, failures: 3, successes: 2 },
      timeoutSeconds: 5,
    });
    expect(sbcConfigOf(c).trunks[0]).toMatchObject({
      probe: { intervalSeconds: 0, failures: 3, successes: 2 },
      timeoutSeconds: 5,
    });
  });

  it('keeps given values (0 = off)', () => {
    const c = loadConfig({
      file: withTrunk(
        '{ name: carrier-a, zone: core, uri: "sip:127.0.0.11:5070", timeoutSeconds: 0, probe: { intervalSeconds: 0, failures: 1, successes: 5 } }',
      ),
    });
    expect(c.sbc.trunks[0]).toMatchObject({
      probe: { intervalSeconds: 0, failures: 1, successes: 5 },
      timeoutSeconds: 0,
    });
  });

  it('refuses hostile values naming the key', () => {
    for (const [probe, key] of [
      ['{ intervalSeconds: -1 }', 'sbc.trunks[0].probe.intervalSeconds'],
      ['{ failures: 0 }', 'sbc.trunks[0].probe.failures'],
      ['{ successes: 1.5 }', 'sbc.trunks[0].probe.successes'],
      ['{ intervalSeconds: 1e9 }', 'sbc.trunks[0].probe.intervalSeconds'],
      ['{ every: 3 }', 'sbc.trunks[0].probe'],
    ] as const) {
      const msg = messageOf(() =>
        loadConfig({
          file: withTrunk(
            `{ name: carrier-a, zone: core, uri: "sip:127.0.0.11:5070", probe: ${probe} }`,
          ),
        }),
      );
      expect(msg).toContain(key);
    }
    expect(
      messageOf(() =>
        loadConfig({
          file: withTrunk(
            '{ name: carrier-a, zone: core, uri: "sip:127.0.0.11:5070", timeoutSeconds: -5 }',
          ),
        }),
      ),
    ).toContain('timeoutSeconds');
  });
});

describe('sbc.trunks dtmf', () => {
  it('defaults to rfc4733, keeps info, and reaches the SBC config', () => {
    const d = loadConfig({
      file: withTrunk('{ name: carrier-a, zone: core, uri: "sip:127.0.0.11:5070" }'),
    });
    expect(sbcConfigOf(d).trunks[0]).toMatchObject({ dtmf: 'rfc4733' });
    const c = loadConfig({
      file: withTrunk('{ name: carrier-a, zone: core, uri: "sip:127.0.0.11:5070", dtmf: info }'),
    });
    expect(sbcConfigOf(c).trunks[0]).toMatchObject({ dtmf: 'info' });
  });

  it('refuses another mode, naming the key', () => {
    const msg = messageOf(() =>
      loadConfig({
        file: withTrunk(
          '{ name: carrier-a, zone: core, uri: "sip:127.0.0.11:5070", dtmf: inband }',
        ),
      }),
    );
    expect(msg).toContain('sbc.trunks[0].dtmf');
  });
});
