/**
 * The built-in engine after an overload: commands the engine gave up waiting for (a command
 * timeout) must not leave media ports bound in the worker, or every later call fails with
 * "ports exhausted" long after the burst (found by bench/sbc: an SBC at 500 calls/s on a busy
 * machine answered every call 503 from then on).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBuiltinEngine, type BuiltinEngine } from '../../src/builtin/engine.js';
import type { LegProfile } from '../../src/engine/types.js';
import { sleep } from '../contract/probe.js';
import { makeSdp } from '../contract/sdp.js';

const leg: LegProfile = {
  mediaAddress: '127.0.0.1',
  transport: 'RTP/AVP',
  ice: 'remove',
  dtls: 'off',
  rtcpMux: 'demux',
  latching: 'strict',
  dtmf: 'rfc4733',
};
const base = (): number => 20000 + 2 * Math.floor(Math.random() * 9000);
const codeOf = (err: unknown): string => String((err as { code?: unknown }).code ?? err);

let engine: BuiltinEngine | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await engine?.close();
  engine = undefined;
});

const offer = (e: BuiltinEngine, id: string) =>
  e.offer({
    callId: id,
    fromTag: 'a',
    sdp: makeSdp('127.0.0.1', [{ port: 40_000, direction: 'sendrecv' }]),
    from: leg,
    to: leg,
  });

describe('builtin engine under overload', () => {
  it('releases the ports of sides whose open timed out: calls succeed again after the burst', async () => {
    const p = base();
    // 200 port pairs: room for 100 calls (2 pairs each).
    engine = await createBuiltinEngine({
      portMin: p,
      portMax: p + 399,
      workers: 1,
      mediaTimeoutMs: 0,
      commandTimeoutMs: 100,
    });
    const e = engine;
    // A burst of 100 offers (200 sides) whose command timers fire while the worker still binds
    // (an overloaded event loop, made likely with fake timers): the engine gives up on those.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const pending = Array.from({ length: 100 }, (_, i) => offer(e, `burst-${i}`));
    const settled = Promise.allSettled(pending);
    await vi.advanceTimersByTimeAsync(1000);
    vi.useRealTimers();
    const burst = await settled;
    const codes = burst.map((r) => (r.status === 'fulfilled' ? 'ok' : codeOf(r.reason)));
    expect(codes).toContain('media-engine-timeout');
    await Promise.all(
      burst.map((r, i) =>
        r.status === 'fulfilled' ? e.delete({ callId: `burst-${i}` }).catch(() => {}) : null,
      ),
    );
    // Then the whole range serves calls again: 100 calls at once (a try that fails, say a
    // timeout on a busy machine, is retried after a pause; a leaked port never comes back).
    for (let c = 0; c < 100; c++) {
      const tries: string[] = [];
      for (let t = 0; t < 20 && tries.at(-1) !== 'ok'; t++) {
        try {
          await offer(e, `after-${c}-${t}`);
          tries.push('ok');
        } catch (err) {
          tries.push(codeOf(err));
          await sleep(300);
        }
      }
      expect(tries.at(-1), `call ${c} of 100: ${tries.join(', ')}`).toBe('ok');
    }
  }, 60_000);
});
