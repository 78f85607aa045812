import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TimerWheel, type WheelDriver } from '../../src/time/index.js';

/** A host timer driven by hand: `advance` moves time and fires the armed timer when due. */
class FakeDriver implements WheelDriver {
  time = 0;
  armedAt: number | undefined;
  fn: (() => void) | undefined;
  arms = 0;
  monotonic(): number {
    return this.time;
  }
  arm(ms: number, fn: () => void): void {
    this.armedAt = this.time + ms;
    this.fn = fn;
    this.arms++;
  }
  disarm(): void {
    this.armedAt = undefined;
    this.fn = undefined;
  }
  /** Moves time forward by `ms` in 1 ms steps, firing the host timer whenever it is due. */
  advance(ms: number): void {
    const end = this.time + ms;
    while (this.time < end) {
      this.time++;
      if (this.armedAt !== undefined && this.armedAt <= this.time) {
        const fn = this.fn!;
        this.armedAt = undefined;
        fn();
      }
    }
  }
}

function setup(resolutionMs = 10, slots = 16) {
  const driver = new FakeDriver();
  const wheel = new TimerWheel(driver, { resolutionMs, slots });
  const fired: Array<[string, number]> = [];
  const at = (name: string) => () => fired.push([name, driver.time]);
  return { driver, wheel, fired, at };
}

describe('TimerWheel', () => {
  it('never fires a timer before its delay, and at most one tick late', () => {
    const { driver, wheel, fired, at } = setup();
    driver.time = 3;
    wheel.setTimer(25, at('a'));
    driver.advance(100);
    expect(fired).toHaveLength(1);
    const [, when] = fired[0]!;
    expect(when).toBeGreaterThanOrEqual(28);
    expect(when).toBeLessThanOrEqual(28 + 10);
  });

  it('fires timers in due order, and timers due in the same tick in the order they were set', () => {
    const { driver, wheel, fired, at } = setup();
    wheel.setTimer(50, at('c'));
    wheel.setTimer(21, at('a1'));
    wheel.setTimer(22, at('a2'));
    wheel.setTimer(30, at('b'));
    driver.advance(100);
    expect(fired.map(([n]) => n)).toEqual(['a1', 'a2', 'b', 'c']);
  });

  it('keeps timers longer than one turn of the wheel for a later turn', () => {
    // 16 slots × 10 ms = 160 ms per turn; 32 s is 200 turns.
    const { driver, wheel, fired, at } = setup();
    wheel.setTimer(32_000, at('long'));
    wheel.setTimer(15, at('short'));
    driver.advance(31_990);
    expect(fired.map(([n]) => n)).toEqual(['short']);
    driver.advance(20);
    expect(fired.map(([n]) => n)).toEqual(['short', 'long']);
    expect(fired[1]![1]).toBeGreaterThanOrEqual(32_000);
  });

  it('does not fire a cleared timer, and clearing twice or after firing is harmless', () => {
    const { driver, wheel, fired, at } = setup();
    const a = wheel.setTimer(20, at('a'));
    const b = wheel.setTimer(20, at('b'));
    wheel.clearTimer(a);
    wheel.clearTimer(a);
    expect(wheel.pending).toBe(1);
    driver.advance(50);
    wheel.clearTimer(b);
    expect(fired.map(([n]) => n)).toEqual(['b']);
    expect(wheel.pending).toBe(0);
  });

  it('disarms the host timer when nothing is pending', () => {
    const { driver, wheel } = setup();
    const a = wheel.setTimer(1000, () => {});
    expect(driver.armedAt).toBeDefined();
    wheel.clearTimer(a);
    expect(driver.armedAt).toBeUndefined();
  });

  it('runs a 0 ms timer set from a callback on a later tick, never in the tick that set it', () => {
    const { driver, wheel, fired, at } = setup();
    wheel.setTimer(10, () => {
      fired.push(['outer', driver.time]);
      wheel.setTimer(0, at('inner'));
    });
    driver.advance(15);
    expect(fired.map(([n]) => n)).toEqual(['outer']);
    driver.advance(15);
    expect(fired.map(([n]) => n)).toEqual(['outer', 'inner']);
  });

  it('catches up after a stall longer than one turn, firing everything that is due', () => {
    const { driver, wheel, fired, at } = setup();
    wheel.setTimer(100, at('a'));
    wheel.setTimer(400, at('b'));
    wheel.setTimer(5000, at('c'));
    // The event loop stalls for a second: the host timer could not run.
    driver.time += 1000;
    wheel.runDue();
    expect(fired.map(([n]) => n)).toEqual(['a', 'b']);
    driver.advance(4100);
    expect(fired.map(([n]) => n)).toEqual(['a', 'b', 'c']);
  });

  it('a throwing callback does not stop the timers after it', () => {
    const { driver, wheel, fired, at } = setup();
    wheel.setTimer(10, () => {
      throw new Error('boom');
    });
    wheel.setTimer(10, at('after'));
    driver.advance(30);
    expect(fired.map(([n]) => n)).toEqual(['after']);
  });

  it('rejects a slot count that is not a power of two', () => {
    expect(() => new TimerWheel(new FakeDriver(), { slots: 100 })).toThrow(RangeError);
  });

  it('fires every uncleared timer exactly once, in due order, never early (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.boolean()), { maxLength: 60 }),
        fc.integer({ min: 0, max: 9 }),
        (timers, start) => {
          const driver = new FakeDriver();
          driver.time = start;
          const wheel = new TimerWheel(driver, { resolutionMs: 10, slots: 8 });
          const fired: Array<{ i: number; at: number }> = [];
          const handles = timers.map(([ms], i) =>
            wheel.setTimer(ms, () => fired.push({ i, at: driver.time })),
          );
          timers.forEach(([, clear], i) => {
            if (clear) wheel.clearTimer(handles[i]!);
          });
          driver.advance(2100);
          const expected = timers
            .map((t, i) => ({ i, ms: t[0], clear: t[1] }))
            .filter((t) => !t.clear);
          expect(fired.map((f) => f.i).sort((a, b) => a - b)).toEqual(expected.map((t) => t.i));
          for (const f of fired) {
            const due = start + timers[f.i]![0];
            expect(f.at).toBeGreaterThanOrEqual(due);
            expect(f.at).toBeLessThanOrEqual(due + 10);
          }
          for (let k = 1; k < fired.length; k++) {
            const a = start + timers[fired[k - 1]!.i]![0];
            const b = start + timers[fired[k]!.i]![0];
            // Due order up to one tick (timers in one tick fire in the order they were set).
            expect(Math.ceil(a / 10)).toBeLessThanOrEqual(Math.ceil(b / 10) || 1);
          }
          expect(wheel.pending).toBe(0);
        },
      ),
    );
  });
});
