/**
 * Prometheus metrics of the SBC's inner registrars and restart recovery: REGISTERs by zone and
 * outcome (forwarded, throttled, challenged, registered, refused, timeout, rejected, expired,
 * keep-alive), live bindings per zone, and the calls of a previous process ended at start.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Sbc } from '@tfx/sbc';

export function registerSbcRegistrarMetrics(registry: Registry, sbc: () => Sbc | undefined): void {
  new Counter({
    name: 'tfx_sbc_register_total',
    help: 'REGISTERs of zones with an inner registrar, by zone and outcome (throttled: answered by the SBC).',
    labelNames: ['zone', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [zone, relay] of sbc()?.relays ?? []) {
        for (const [outcome, v] of Object.entries(relay.counters)) {
          if (v > 0) this.inc({ zone, outcome }, v);
        }
      }
    },
  });
  new Gauge({
    name: 'tfx_sbc_registrations',
    help: 'Phone contacts bound at an inner registrar through the SBC, by zone.',
    labelNames: ['zone'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [zone, relay] of sbc()?.relays ?? []) this.set({ zone }, relay.bindingCount);
    },
  });
  new Counter({
    name: 'tfx_sbc_recovered_calls_total',
    help: 'Calls of a previous SBC process ended with BYE on both legs at start (restart recovery).',
    registers: [registry],
    collect() {
      this.reset();
      const n = sbc()?.journal?.counters.recovered ?? 0;
      if (n > 0) this.inc(n);
    },
  });
}
