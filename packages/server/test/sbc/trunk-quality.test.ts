/**
 * A trunk's live quality on REST and in metrics (issue #18 item 2): `quality: { calls, asr,
 * pddMs, acdSeconds, mos }` per trunk of GET /api/v1/sbc/trunks (validated against the shared
 * schema) and the gauges tfx_sbc_trunk_asr, tfx_sbc_trunk_mos and tfx_sbc_trunk_pdd_seconds,
 * read from the SBC's quality meter (a real QualityMeter fed samples on a fixed clock).
 */
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { sbcTrunkListSchema } from '@tfx/protocol';
import { QualityMeter, QualityTracker, type Sbc, type TrunkSpec } from '@tfx/sbc';
import { registerTrunkMetrics, trunkList } from '../../src/sbc/trunks.js';

function fakeSbc(): Sbc {
  const now = (): number => 1_000_000;
  const meter = new QualityMeter({ windowCalls: 10, windowMinutes: 0 }, now);
  meter.record('good', { at: now(), answered: true, pddMs: 1500, durationSeconds: 60, mos: 4.2 });
  meter.record('good', { at: now(), answered: false, pddMs: 500 });
  const trunks: TrunkSpec[] = [
    { name: 'good', zone: 'core', uri: 'sip:127.0.41.11:5070' },
    { name: 'idle', zone: 'core', uri: 'sip:127.0.41.12:5070' },
  ];
  // The parts of an Sbc that the trunk list and the gauges read.
  return { trunks, probes: undefined, quality: new QualityTracker(meter, now) } as unknown as Sbc;
}

describe('trunk quality on REST and in metrics', () => {
  it('lists quality per trunk in the shared schema, null where nothing was measured', () => {
    const list = trunkList(fakeSbc());
    expect(sbcTrunkListSchema.parse(list)).toEqual(list);
    expect(list.trunks.map((t) => [t.name, t.quality])).toEqual([
      ['good', { calls: 2, asr: 0.5, pddMs: 1000, acdSeconds: 60, mos: 4.2 }],
      ['idle', { calls: 0, asr: null, pddMs: null, acdSeconds: null, mos: null }],
    ]);
  });

  it('exports ASR, MOS and PDD gauges for measured trunks only', async () => {
    const registry = new Registry();
    const sbc = fakeSbc();
    registerTrunkMetrics(registry, () => sbc);
    const text = await registry.metrics();
    expect(text).toMatch(/^tfx_sbc_trunk_asr\{trunk="good"\} 0\.5$/m);
    expect(text).toMatch(/^tfx_sbc_trunk_mos\{trunk="good"\} 4\.2$/m);
    expect(text).toMatch(/^tfx_sbc_trunk_pdd_seconds\{trunk="good"\} 1$/m);
    expect(text).not.toMatch(/trunk="idle"/);
  });
});
