import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Sbc } from '@tfx/sbc';
import { registerSbcRegistrarMetrics } from '../../src/sbc/registrar-metrics.js';

describe('SBC inner registrar and recovery metrics', () => {
  it('reads REGISTER outcomes per zone, live bindings and recovered calls at scrape time', async () => {
    const registry = new Registry();
    const relay = {
      counters: { forwarded: 2, throttled: 300, challenged: 1, timeouts: 0 },
      bindingCount: 1,
    };
    const sbc = {
      relays: new Map([['public', relay]]),
      journal: { counters: { recovered: 3 } },
    } as unknown as Sbc;
    let current: Sbc | undefined = undefined;
    registerSbcRegistrarMetrics(registry, () => current);
    expect(await registry.metrics()).not.toMatch(/tfx_sbc_register_total\{/);
    current = sbc;
    const text = await registry.metrics();
    expect(text).toContain('tfx_sbc_register_total{zone="public",outcome="throttled"} 300');
    expect(text).toContain('tfx_sbc_register_total{zone="public",outcome="forwarded"} 2');
    expect(text).not.toContain('outcome="timeouts"');
    expect(text).toContain('tfx_sbc_registrations{zone="public"} 1');
    expect(text).toContain('tfx_sbc_recovered_calls_total 3');
  });
});
