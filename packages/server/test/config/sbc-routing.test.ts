/**
 * Routing on cost and quality in the config (docs/sbc.md, "Routing on cost and quality"): today's
 * routes stay valid, priority/weight, rate tables, windows, policies and the quality window are
 * kept and handed to the SBC, and hostile values are refused naming the key.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TfxError } from '@tfx/protocol';
import { loadConfig } from '../../src/config/index.js';
import { sbcConfigOf } from '../../src/sbc/module.js';

function file(routes: string, extra = '', trunkExtra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-sbc-routing-'));
  const f = join(dir, 'tfx.yaml');
  writeFileSync(
    f,
    `
sbc:
  zones:
    - { name: core, listen: [udp://127.0.41.10:5090], media: { address: 127.0.41.10 }, trusted: true }
  trunks:
    - { name: cheap, zone: core, uri: "sip:127.0.41.11:5070"${trunkExtra} }
    - { name: good, zone: core, uri: "sip:127.0.41.12:5070" }
  routes:
${routes}
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

describe('sbc routing on cost and quality (config)', () => {
  it('today’s routes stay valid; the quality window has its defaults', () => {
    const c = loadConfig({ file: file('    - { match: { zone: core }, to: [cheap, good] }') });
    const s = sbcConfigOf(c);
    expect(s.routes).toEqual([{ match: { zone: 'core' }, to: ['cheap', 'good'] }]);
    expect(s.quality).toEqual({ windowCalls: 100, windowMinutes: 60 });
    expect(s.trunks[0]).not.toHaveProperty('priority');
  });

  it('keeps priority, weight, rates, windows, policy, timezone and thresholds', () => {
    const c = loadConfig({
      file: file(
        `    - match: { zone: core, user: "^\\\\+?44" }
      policy: cost-quality
      timezone: Europe/London
      quality: { minMos: 3.8, minCalls: 3 }
      rates:
        - { prefix: "44", costs: { cheap: 0.01, good: 0.02 } }
        - { prefix: "4420", costs: { good: 0.015 }, when: { days: [sat, sun], from: "08:00", to: "20:00" } }
        - { prefix: "", costs: { good: 0.5 } }`,
        'quality: { windowCalls: 50, windowMinutes: 15 }'.replace(/^/, '  '),
        ', priority: 1, weight: 3',
      ),
    });
    const s = sbcConfigOf(c);
    expect(s.trunks[0]).toMatchObject({ priority: 1, weight: 3 });
    expect(s.routes[0]).toEqual({
      match: { zone: 'core', user: '^\\+?44' },
      to: [],
      policy: 'cost-quality',
      timezone: 'Europe/London',
      quality: { minMos: 3.8, minAsr: 0, minCalls: 3 },
      rates: [
        { prefix: '44', costs: { cheap: 0.01, good: 0.02 } },
        {
          prefix: '4420',
          costs: { good: 0.015 },
          when: { days: ['sat', 'sun'], from: '08:00', to: '20:00' },
        },
        { prefix: '', costs: { good: 0.5 } },
      ],
    });
    expect(s.quality).toEqual({ windowCalls: 50, windowMinutes: 15 });
  });

  it('refuses hostile values naming the key', () => {
    const r = (body: string): string => `    - { match: { zone: core }, ${body} }`;
    for (const [routes, key, extra, trunk] of [
      [r('to: []'), 'sbc.routes[0].to'],
      [r('to: [cheap], policy: cost'), 'sbc.routes[0].policy'],
      [r('to: [cheap], policy: fastest'), 'sbc.routes[0].policy'],
      [r('to: [cheap], rates: [{ prefix: "1", costs: { cheap: 1 } }]'), 'sbc.routes[0].rates'],
      [r('rates: [{ prefix: "+44", costs: { cheap: 1 } }]'), 'sbc.routes[0].rates[0].prefix'],
      [r('rates: [{ prefix: "4a", costs: { cheap: 1 } }]'), 'sbc.routes[0].rates[0].prefix'],
      [r(`rates: [{ prefix: "${'1'.repeat(33)}", costs: { cheap: 1 } }]`), 'rates[0].prefix'],
      [r('rates: [{ prefix: "1", costs: {} }]'), 'sbc.routes[0].rates[0].costs'],
      [r('rates: [{ prefix: "1", costs: { nope: 1 } }]'), 'sbc.routes[0].rates[0].costs.nope'],
      [r('rates: [{ prefix: "1", costs: { cheap: -1 } }]'), 'sbc.routes[0].rates[0].costs.cheap'],
      [r('rates: [{ prefix: "1", costs: { cheap: .nan } }]'), 'sbc.routes[0].rates[0].costs.cheap'],
      [
        r('timezone: UTC, rates: [{ prefix: "1", costs: { cheap: 1 }, when: { from: "25:00" } }]'),
        'sbc.routes[0].rates[0].when.from',
      ],
      [
        r('timezone: UTC, rates: [{ prefix: "1", costs: { cheap: 1 }, when: { days: [funday] } }]'),
        'sbc.routes[0].rates[0].when.days[0]',
      ],
      [
        r('rates: [{ prefix: "1", costs: { cheap: 1 }, when: { from: "08:00" } }]'),
        'sbc.routes[0].timezone',
      ],
      [
        r('timezone: Mars/Olympus, rates: [{ prefix: "1", costs: { cheap: 1 } }]'),
        'sbc.routes[0].timezone',
      ],
      [r('to: [cheap], quality: { minMos: 6 }'), 'sbc.routes[0].quality.minMos'],
      [r('to: [cheap], quality: { minAsr: 2 }'), 'sbc.routes[0].quality.minAsr'],
      [r('to: [cheap], quality: { minCalls: 0 }'), 'sbc.routes[0].quality.minCalls'],
      [r('to: [cheap]'), 'sbc.quality.windowCalls', '  quality: { windowCalls: 0 }'],
      [r('to: [cheap]'), 'sbc.quality', '  quality: { window: 3 }'],
      [r('to: [cheap]'), 'sbc.trunks[0].weight', '', ', weight: -1'],
      [r('to: [cheap]'), 'sbc.trunks[0].priority', '', ', priority: 1.5'],
    ] as const)
      expect(
        messageOf(() => loadConfig({ file: file(routes, extra ?? '', trunk ?? '') })),
        routes,
      ).toContain(key);
  });
});
