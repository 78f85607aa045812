/**
 * A received BYE (§15.1.2) answered after its session owner's `onTerminated` settles: an owner
 * that must finish something before the peer sees the call end (an SBC's final media stats and
 * CDR line) returns a promise; the 2xx waits for it, resolved or rejected. Retransmissions of the
 * BYE meanwhile are absorbed by the non-INVITE server transaction (§17.2.2), and an owner that
 * returns nothing is answered at once, as before. ManualClock, in-memory network (harness.ts).
 */
import { describe, expect, it } from 'vitest';
import type { SipMessage } from '../../src/syntax/index.js';
import { call, isReq, only } from './harness.js';

const isByeOk = (m: SipMessage) =>
  m.kind === 'response' && m.status === 200 && m.headers.cseq()?.method === 'BYE';

/** Lets the promise callbacks run (the layer answers from a `then`). */
const settle = () => new Promise<void>((r) => setImmediate(r));

function confirmed() {
  const c = call();
  const p = c.placeCall();
  c.net.clock.advance(1000);
  const ua = p.accepted!;
  const ub = only(c.b.dialogs);
  expect(ua.state).toBe('confirmed');
  expect(ub.state).toBe('confirmed');
  let byeStatus = 0;
  const bye = () => ua.bye({}, (r) => (byeStatus = r.status));
  const okSent = () => c.wire.filter((w) => w.from === 'b' && isByeOk(w.message)).length;
  const byesSent = () => c.wire.filter((w) => w.from === 'a' && isReq('BYE')(w.message)).length;
  return { c, ua, ub, bye, okSent, byesSent, status: () => byeStatus };
}

describe('§15.1.2: the 2xx to a received BYE waits for the owner', () => {
  it("the 200 goes only once the owner's promise resolves; retransmitted BYEs are absorbed", async () => {
    const t = confirmed();
    let release!: () => void;
    const reasons: string[] = [];
    t.ub.events.onTerminated = (why) => {
      reasons.push(why);
      return new Promise<void>((r) => (release = r));
    };
    t.bye();
    // Timer E retransmits the BYE over UDP (500 ms, 1 s, 2 s …): 4 s is several copies.
    t.c.net.clock.advance(4000);
    await settle();
    t.c.net.clock.advance(0);
    expect(t.byesSent()).toBeGreaterThan(1);
    expect(t.okSent()).toBe(0);
    expect(t.status()).toBe(0);
    // The dialog ended at once on B (the owner was told once, the copies never reached it).
    expect(reasons).toEqual(['remote-bye']);
    expect(t.ub.state).toBe('terminated');
    expect(t.c.b.dialogs.size).toBe(0);
    release();
    await settle();
    t.c.net.clock.advance(1000);
    expect(t.okSent()).toBeGreaterThanOrEqual(1);
    expect(t.status()).toBe(200);
    expect(reasons).toEqual(['remote-bye']);
  });

  it('a rejecting owner still gets its BYE answered 200', async () => {
    const t = confirmed();
    let fail!: (e: Error) => void;
    t.ub.events.onTerminated = () => new Promise<void>((_, reject) => (fail = reject));
    t.bye();
    t.c.net.clock.advance(1000);
    await settle();
    expect(t.okSent()).toBe(0);
    fail(new Error('the engine did not answer'));
    await settle();
    t.c.net.clock.advance(1000);
    expect(t.okSent()).toBeGreaterThanOrEqual(1);
    expect(t.status()).toBe(200);
  });

  it('an owner returning nothing is answered at once, in the same turn', () => {
    const t = confirmed();
    let told = 0;
    t.ub.events.onTerminated = () => {
      told++;
    };
    t.bye();
    // No microtask runs between here and the checks: the 200 was sent synchronously.
    t.c.net.clock.advance(1000);
    expect(told).toBe(1);
    expect(t.okSent()).toBe(1);
    expect(t.status()).toBe(200);
  });

  it("only a received BYE waits: our own BYE ends the session without waiting on the owner's promise", () => {
    const t = confirmed();
    let told = 0;
    t.ua.events.onTerminated = () => {
      told++;
      return new Promise<void>(() => undefined); // never settles
    };
    t.bye();
    expect(told).toBe(1);
    expect(t.ua.state).toBe('terminated');
    t.c.net.clock.advance(1000);
    expect(t.status()).toBe(200);
  });
});
