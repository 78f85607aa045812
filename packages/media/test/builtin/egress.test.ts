import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EgressSequencer } from '../../src/builtin/egress.js';

const forward = (a: number, b: number): boolean => {
  const d = (b - a + 0x10000) & 0xffff;
  return d > 0 && d < 0x8000;
};

describe('EgressSequencer: own SSRC, monotonic sequence per egress leg (janus PR #3640)', () => {
  it('keeps the sequence increasing by one across an SSRC switch, a restart, and inserted packets', () => {
    const e = new EgressSequencer();
    const out: number[] = [];
    let t = 0;
    const relay = (ssrc: number, seq: number, ts: number): void => {
      const m = e.map(ssrc, seq, ts, (t += 20), 8000);
      e.count(172);
      out.push(m.seq);
    };
    for (let i = 0; i < 5; i++) relay(1, 100 + i, i * 160);
    for (let i = 0; i < 5; i++) relay(2, 9 + i, 555 + i * 160);
    for (let i = 0; i < 5; i++) relay(2, 60000 + i, 555 + i * 160);
    for (let i = 0; i < 3; i++) {
      out.push(e.synth((t += 20), 8000, 160).seq);
      e.count(172);
    }
    for (let i = 0; i < 5; i++) relay(2, 60010 + i, 9999 + i * 160);
    for (let i = 1; i < out.length; i++) expect((out[i]! - out[i - 1]! + 0x10000) & 0xffff).toBe(1);
  });

  it('property: whatever the sources do, the egress sequence only moves forward', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            ssrc: fc.integer({ min: 1, max: 3 }),
            // Loss (forward gaps) and restarts either way; a reorder window (-50..0) is left out:
            // a late packet keeps its place behind, by design.
            jump: fc.oneof(
              fc.integer({ min: 1, max: 900 }),
              fc.integer({ min: 1001, max: 30000 }),
              fc.integer({ min: -30000, max: -51 }),
            ),
            synth: fc.boolean(),
          }),
          { maxLength: 60 },
        ),
        (steps) => {
          const e = new EgressSequencer();
          let seq = 1000;
          let now = 0;
          let last: number | undefined;
          for (const s of steps) {
            seq = (seq + s.jump) & 0xffff;
            now += 20;
            const m = s.synth ? e.synth(now, 8000, 160) : e.map(s.ssrc, seq, seq * 160, now, 8000);
            e.count(1);
            if (last !== undefined) expect(forward(last, m.seq)).toBe(true);
            last = m.seq;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
