/**
 * `sbc.admission`, `sbc.qos` and `sbc.emergency.reserved` (issue #18 items 3–4): every limit off
 * by default, the documented example kept and handed to the SBC, hostile values refused naming the
 * key.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfxError } from '@tfx/protocol';
import { loadConfig } from '../../src/config/index.js';
import { sbcConfigOf } from '../../src/sbc/module.js';

function file(extra: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-sbc-admission-'));
  const f = join(dir, 'tfx.yaml');
  writeFileSync(
    f,
    `
sbc:
  zones:
    - { name: core, listen: [udp://127.0.0.10:5090], media: { address: 127.0.0.10 }, trusted: true }
    - { name: public, listen: [udp://127.0.0.20:5090], media: { address: 127.0.0.20 } }
  trunks:
    - { name: pbx, zone: core, uri: "sip:127.0.0.11:5070" }
    - { name: sos, zone: core, uri: "sip:127.0.0.12:5070" }
  routes:
    - { match: { zone: public }, to: [pbx] }
${extra}
`,
  );
  return f;
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

describe('sbc.admission and sbc.qos', () => {
  it('every limit is off by default; DSCP EF for media, CS3 for signalling; no reserve', () => {
    const c = loadConfig({ file: file('') });
    expect(c.sbc.admission).toEqual({
      maxCalls: 0,
      callsPerSecond: 0,
      zones: [],
      trunks: [],
      accounts: { maxCalls: 0, callsPerSecond: 0 },
      minFreeMediaPorts: 0,
      retryAfterSeconds: 5,
    });
    expect(c.sbc.qos).toEqual({ mediaDscp: 'EF', signallingDscp: 'CS3' });
    expect(c.sbc.emergency.reserved).toBe(0);
  });

  it('keeps the documented example and hands it to the SBC', () => {
    const c = loadConfig({
      file: file(`  admission:
    maxCalls: 500
    callsPerSecond: 20
    zones:
      - { name: public, maxCalls: 200, callsPerSecond: 10, bandwidthKbps: 20000 }
    trunks:
      - { name: pbx, maxCalls: 100, callsPerSecond: 5 }
    accounts: { maxCalls: 4, callsPerSecond: 2 }
    minFreeMediaPorts: 100
    retryAfterSeconds: 10
  emergency: { numbers: ['112'], trunks: [sos], reserved: 2 }
  qos: { mediaDscp: AF41, signallingDscp: CS5 }`),
    });
    const s = sbcConfigOf(c);
    expect(s.admission).toMatchObject({
      maxCalls: 500,
      zones: { public: { maxCalls: 200, callsPerSecond: 10, bandwidthKbps: 20000 } },
      trunks: { pbx: { maxCalls: 100, callsPerSecond: 5 } },
      accounts: { maxCalls: 4, callsPerSecond: 2 },
    });
    expect(s.emergency?.reserved).toBe(2);
    expect(c.sbc.qos.mediaDscp).toBe('AF41');
  });

  it.each([
    ['  admission: { maxCalls: -1 }', /sbc\.admission\.maxCalls/],
    ['  admission: { callsPerSecond: 1.5 }', /sbc\.admission\.callsPerSecond/],
    ['  admission: { maxCalls: 1e12 }', /sbc\.admission\.maxCalls/],
    [
      '  admission: { zones: [{ name: public, bandwidthKbps: -5 }] }',
      /sbc\.admission\.zones\[0\]\.bandwidthKbps/,
    ],
    [
      '  admission: { zones: [{ name: nowhere, maxCalls: 1 }] }',
      /sbc\.admission\.zones\[0\]\.name: no zone named nowhere/,
    ],
    ['  admission: { trunks: [{ name: ghost, maxCalls: 1 }] }', /no trunk named ghost/],
    ['  admission: { accounts: { maxCalls: "4" } }', /sbc\.admission\.accounts\.maxCalls/],
    ['  admission: { zones: [{ name: public, maxCalls: 1, burst: 3 }] }', /burst/],
    ['  admission: { retryAfterSeconds: 0 }', /retryAfterSeconds/],
    ['  admission: { zones: [{ name: public }, { name: public }] }', /zone public named twice/],
    ['  admission: { minFreeMediaPorts: -4 }', /minFreeMediaPorts/],
    ['  emergency: { numbers: ["112"], trunks: [sos], reserved: -1 }', /sbc\.emergency\.reserved/],
    ['  emergency: { numbers: ["112"], trunks: [sos], reserved: 99999999 }', /reserved/],
    [
      '  admission: { maxCalls: 2 }\n  emergency: { numbers: ["112"], trunks: [sos], reserved: 2 }',
      /sbc\.emergency\.reserved: reserved 2 leaves no call of admission\.maxCalls 2/,
    ],
    [
      '  admission: { zones: [{ name: public, maxCalls: 1 }] }\n  emergency: { numbers: ["112"], trunks: [sos], reserved: 1 }',
      /zone public's maxCalls 1/,
    ],
    ['  qos: { mediaDscp: EF2 }', /sbc\.qos\.mediaDscp/],
    ['  qos: { signallingDscp: 46 }', /sbc\.qos\.signallingDscp/],
  ])('refuses %s naming the key', (yaml, re) => {
    expect(messageOf(() => loadConfig({ file: file(yaml) }))).toMatch(re);
  });
});
