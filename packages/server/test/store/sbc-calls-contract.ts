/**
 * The contract of the SBC's call store (restart recovery, docs/sbc.md), run against the journal
 * file and Redis: what one process puts, a new one lists; removes are kept; a second put of a call
 * replaces it.
 */
import { describe, expect, it } from 'vitest';
import type { CallRecord, CallStore } from '@tfx/sbc';

export type ClosableStore = CallStore & { close(): Promise<void> };

export function record(id: string, localSeq = 1): CallRecord {
  const leg = (zone: string, n: number) => ({
    zone,
    callId: `${id}-${zone}`,
    localTag: `l${n}`,
    remoteTag: `r${n}`,
    local: `<sip:sbc@127.0.0.${n}>`,
    remote: `<sip:peer@127.0.0.${n + 1}>`,
    routeSet: [`<sip:127.0.0.${n + 2};lr>`],
    remoteTarget: `sip:peer@127.0.0.${n + 1}:5060`,
    localSeq,
    hop: { transport: 'udp' as const, address: `127.0.0.${n + 1}`, port: 5060 },
  });
  return { id, startedAt: 1_000, legs: [leg('public', 20), leg('core', 10)] };
}

/** `open(name)` opens the store of one process identity; the same name is the same process. */
export function runCallStoreContract(
  kind: string,
  open: (name: string) => Promise<ClosableStore>,
): void {
  describe(`sbc call store contract (${kind})`, () => {
    it('lists after a restart what the previous process kept, without what it removed', async () => {
      const a = await open('one');
      await a.put(record('c1'));
      await a.put(record('c2'));
      await a.put(record('c3'));
      await a.remove('c2');
      await a.close();
      const b = await open('one');
      const ids = (await b.list()).map((r) => r.id).sort();
      expect(ids).toEqual(['c1', 'c3']);
      expect((await b.list()).find((r) => r.id === 'c1')).toEqual(record('c1'));
      await b.close();
    });

    it('a second put of a call replaces it (a moved CSeq); removing twice is harmless', async () => {
      const a = await open('two');
      await a.put(record('c1', 1));
      await a.put(record('c1', 7));
      await a.remove('nope');
      await a.close();
      const b = await open('two');
      const list = await b.list();
      expect(list).toHaveLength(1);
      expect(list[0]?.legs[0]?.localSeq).toBe(7);
      await b.remove('c1');
      await b.remove('c1');
      expect(await b.list()).toEqual([]);
      await b.close();
    });
  });
}
