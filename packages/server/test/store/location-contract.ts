/**
 * The behaviour every `LocationStore` must have (RFC 3261 §10.3's location service). Run with a
 * factory: `runLocationContract('memory', async () => new MemoryLocationStore())`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Binding, LocationStore } from '../../src/store/index.js';

export type MakeLocationStore = () => Promise<LocationStore>;

const T0 = 1_700_000_000_000;
let n = 0;

export function binding(aor: string, uri: string, o: Partial<Binding> = {}): Binding {
  return {
    id: `b${++n}`,
    aor,
    uri,
    q: 1,
    expiresAt: T0 + 60_000,
    registeredAt: T0,
    callId: `call-${n}`,
    cseq: 1,
    transport: 'udp',
    source: { address: '192.0.2.1', port: 5060 },
    ...o,
  };
}

export function runLocationContract(name: string, make: MakeLocationStore): void {
  describe(`LocationStore contract: ${name}`, () => {
    const open: LocationStore[] = [];
    const store = async () => {
      const s = await make();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    it('a binding put is found by its AOR, with every field as written', async () => {
      const s = await store();
      const b = binding('sip:alice@x', 'sip:alice@192.0.2.1:5060', {
        received: { address: '198.51.100.1', port: 4000 },
        flowToken: 'tok',
        userAgent: 'phone/1',
      });
      await s.put(b);
      expect(await s.lookup('sip:alice@x', T0)).toEqual([b]);
      expect(await s.lookup('sip:bob@x', T0)).toEqual([]);
    });

    it('a binding with the same AOR and contact replaces the old one', async () => {
      const s = await store();
      await s.put(binding('sip:alice@x', 'sip:a@1', { cseq: 1 }));
      await s.put(binding('sip:alice@x', 'sip:a@1', { cseq: 2 }));
      const found = await s.lookup('sip:alice@x', T0);
      expect(found.map((b) => b.cseq)).toEqual([2]);
    });

    it('expired bindings are never returned, and expire() drops them', async () => {
      const s = await store();
      await s.put(binding('sip:alice@x', 'sip:a@1', { expiresAt: T0 + 1000 }));
      await s.put(binding('sip:alice@x', 'sip:a@2', { expiresAt: T0 + 5000 }));
      expect(await s.lookup('sip:alice@x', T0 + 2000)).toHaveLength(1);
      expect(await s.count(T0 + 2000)).toBe(1);
      expect(await s.expire(T0 + 2000)).toBe(1);
      expect(await s.expire(T0 + 2000)).toBe(0);
      expect(await s.list(T0 + 6000)).toEqual([]);
    });

    it('removes one binding by contact or by id, or all of an AOR', async () => {
      const s = await store();
      const a = binding('sip:alice@x', 'sip:a@1');
      const b = binding('sip:alice@x', 'sip:a@2');
      const c = binding('sip:alice@x', 'sip:a@3');
      for (const x of [a, b, c]) await s.put(x);
      expect(await s.remove('sip:alice@x', 'sip:a@1')).toBe(true);
      expect(await s.remove('sip:alice@x', 'sip:a@1')).toBe(false);
      expect(await s.removeById('sip:alice@x', b.id)).toBe(true);
      expect(await s.removeById('sip:alice@x', 'nope')).toBe(false);
      expect((await s.lookup('sip:alice@x', T0)).map((x) => x.uri)).toEqual(['sip:a@3']);
      await s.put(a);
      expect(await s.removeAll('sip:alice@x')).toBe(2);
      expect(await s.lookup('sip:alice@x', T0)).toEqual([]);
      expect(await s.removeAll('sip:alice@x')).toBe(0);
    });

    it('lists every AOR with live bindings, and counts them', async () => {
      const s = await store();
      await s.put(binding('sip:alice@x', 'sip:a@1'));
      await s.put(binding('sip:alice@x', 'sip:a@2'));
      await s.put(binding('sip:bob@x', 'sip:b@1', { expiresAt: T0 + 10 }));
      await s.put(binding('sip:carol@x', 'sip:c@1'));
      const list = await s.list(T0 + 100);
      expect(list.map((e) => e.aor).sort()).toEqual(['sip:alice@x', 'sip:carol@x']);
      expect(await s.count(T0 + 100)).toBe(3);
    });

    it('close() is idempotent', async () => {
      const s = await make();
      await s.close();
      await s.close();
    });
  });
}
