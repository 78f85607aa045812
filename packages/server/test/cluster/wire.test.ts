/**
 * The node-stream entry codec (cluster/wire.ts) and the pass-through packet of a relayed item
 * (cluster/envelope.ts): what one node writes, another reads back unchanged; what a hostile or
 * corrupt entry holds is counted and left out, never thrown.
 */
import { Decoder } from 'socket.io-parser';
import { describe, expect, it } from 'vitest';
import { encodeRelayed, isRelayedPacket } from '../../src/cluster/envelope.js';
import type { Envelope, RelayedItem } from '../../src/cluster/types.js';
import { decodeEntry, encodeEntry } from '../../src/cluster/wire.js';

const V = 3;
const signal: RelayedItem = {
  event: 'signal',
  payload: {
    from: 'p-ann',
    kind: 'offer',
    data: { type: 'offer', sdp: 'v=0\r\na="quoted" \u2028 \u001e ünï €\r\n' },
  },
};
const message: RelayedItem = {
  event: 'message',
  payload: { from: 'p-ann', data: { hello: ['widget', 1, null], nested: { s: '}]' } } },
};
const deliver = (item: RelayedItem, to = 'p-bob'): Envelope => ({
  t: 'deliver',
  room: 'r1',
  to,
  from: item.payload.from,
  event: item.event,
  packet: encodeRelayed(item),
});

/** What socket.io's client-side parser makes of a packet (as the browser's socket.io would). */
function decodeAsClient(packet: string): unknown[] {
  const d = new Decoder();
  let out: unknown[] = [];
  d.on('decoded', (p: { type: number; nsp: string; data?: unknown }) => {
    expect(p.type).toBe(2);
    expect(p.nsp).toBe('/');
    out = p.data as unknown[];
  });
  d.add(packet);
  return out;
}

describe('relayed packet (encoded once, passed through)', () => {
  it("is the EVENT packet socket.io's client decodes into the event and its payload", () => {
    for (const item of [signal, message])
      expect(decodeAsClient(encodeRelayed(item))).toEqual([item.event, item.payload]);
  });

  it('passes the structural check for its own event and stamp only', () => {
    const p = encodeRelayed(signal);
    expect(isRelayedPacket(p, 'signal', 'p-ann')).toBe(true);
    expect(isRelayedPacket(p, 'message', 'p-ann')).toBe(false);
    expect(isRelayedPacket(p, 'signal', 'p-an')).toBe(false);
    expect(isRelayedPacket(p, 'signal', 'p-mallory')).toBe(false);
    expect(isRelayedPacket(p.slice(0, -1), 'signal', 'p-ann')).toBe(false);
    expect(isRelayedPacket(`${p.slice(0, 40)}\x1e${p.slice(40)}`, 'signal', 'p-ann')).toBe(false);
    expect(isRelayedPacket(`2["signal",{"from":"p-ann"}]`, 'signal', 'p-ann')).toBe(true);
    const odd = 'a"b\\c';
    const q = encodeRelayed({ event: 'message', payload: { from: odd, data: 1 } });
    expect(isRelayedPacket(q, 'message', odd)).toBe(true);
    expect(isRelayedPacket(q, 'message', 'a')).toBe(false);
    const long = encodeRelayed({
      event: 'message',
      payload: { from: 'x', data: 'y'.repeat(1 << 22) },
    });
    expect(isRelayedPacket(long, 'message', 'x')).toBe(false);
  });
});

describe('node-stream entry', () => {
  it('round-trips a mixed batch in order, each packet its own field, byte for byte', () => {
    const batch: Envelope[] = [
      { t: 'joined', room: 'r1', peer: { id: 'p-cy', name: 'Cy', state: {} as never }, node: 'n2' },
      deliver(signal),
      { t: 'locked', room: 'r1', locked: true },
      deliver(message, 'p-cy'),
    ];
    const fields = encodeEntry(V, batch);
    expect(fields.slice(2)).toEqual(['p', encodeRelayed(signal), 'p', encodeRelayed(message)]);
    expect(fields[1]).not.toContain('sdp');
    const { envelopes, bad } = decodeEntry(fields, V);
    expect(bad).toBe(0);
    expect(envelopes).toEqual(batch);
  });

  it('reads a deliver as processes before the pass-through wrote it (rolling upgrade)', () => {
    const old = (item: unknown) => ({ t: 'deliver', room: 'r1', to: 'p-bob', item });
    const fields = [
      'm',
      JSON.stringify({
        v: V,
        b: [
          old(signal),
          old(message),
          old({ event: 'join', payload: { from: 'p-ann' } }),
          old({ event: 'signal', payload: { data: 1 } }),
          old(null),
        ],
      }),
    ];
    const { envelopes, bad } = decodeEntry(fields, V);
    expect(bad).toBe(3);
    expect(envelopes).toEqual([deliver(signal), deliver(message)]);
    expect(decodeAsClient((envelopes[0] as { packet: string }).packet)).toEqual([
      'signal',
      signal.payload,
    ]);
  });

  it('counts an entry that is not one and leaves it out', () => {
    const good = encodeEntry(V, [{ t: 'locked', room: 'r', locked: false }]);
    for (const fields of [
      undefined,
      'm',
      [],
      ['junk', good[1]],
      ['m'],
      ['m', 42],
      ['m', '{"v":3,"b":[{"t":"deliv'],
      ['m', 'null'],
      ['m', '{"v":3}'],
      ['m', '{"v":"3","b":[]}'],
      ['m', '{"v":9,"b":[]}'],
    ])
      expect(decodeEntry(fields, V)).toEqual({ envelopes: [], bad: 1 });
    expect(decodeEntry(good, V).envelopes).toHaveLength(1);
  });

  it('counts each hostile deliver and keeps the rest of its batch', () => {
    const ok = deliver(signal);
    const pkt = encodeRelayed(signal);
    const head = (extra: Record<string, unknown>) => ({
      t: 'deliver',
      room: 'r1',
      to: 'p-bob',
      from: 'p-ann',
      event: 'signal',
      ...extra,
    });
    const hostile = [
      head({}), // no packet index
      head({ p: 1 }), // points at the batch itself
      head({ p: 2 }), // a field name
      head({ p: 99 }), // past the end
      head({ p: 3.5 }),
      head({ p: '3' }),
      head({ p: 3, from: 'p-mallory' }), // stamp differs from the packet's
      head({ p: 3, event: 'message' }), // event differs
      head({ p: 3, event: 'join' }),
      head({ p: 3, to: 7 }),
      head({ p: 3, from: 'x'.repeat(300) }),
      head({ p: 5 }), // its packet is truncated
      head({ p: 7 }), // its packet carries a record separator
      head({ p: 9 }), // its field is a number
      { t: 'nope', room: 'x' },
      { t: 'locked' },
      null,
      'deliver',
    ];
    const fields: unknown[] = [
      'm',
      JSON.stringify({ v: V, b: [...hostile, head({ p: 3 })] }),
      'p',
      pkt,
      'p',
      pkt.slice(0, -3),
      'p',
      pkt.replace('offer', 'off\x1eer'),
      'p',
      12,
    ];
    const { envelopes, bad } = decodeEntry(fields, V);
    expect(bad).toBe(hostile.length);
    expect(envelopes).toEqual([ok]);
  });
});
