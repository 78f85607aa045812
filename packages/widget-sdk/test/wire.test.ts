/**
 * The widget wire frame (`@tfx/protocol/widgets`, what the SDK's messages become between peers):
 * framing, chunking at 16 KiB and reassembly, fed arbitrary sizes and interleavings, and hostile
 * bytes that must be refused, never thrown on.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  Reassembler,
  WIRE_FRAME_BYTES,
  chunkCount,
  chunkMessage,
  decodeFrame,
  encodeFrame,
  type OutgoingMessage,
  type ReassembledMessage,
  type WireFrame,
} from '@tfx/protocol/widgets';

const msg = (over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  type: 'message',
  encoding: 'binary',
  directed: false,
  widget: 'draw',
  sender: 'peer-a',
  seq: 1,
  payload: new Uint8Array(0),
  ...over,
});

/** Byte equality (vitest's deep equality is slow on large typed arrays). */
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean =>
  a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b));

function decode(bytes: Uint8Array): WireFrame {
  const d = decodeFrame(bytes);
  if (!d.ok) throw new Error(`decode failed: ${d.error}`);
  return d.frame;
}

describe('wire frame', () => {
  it('round-trips every header field and the payload', () => {
    const f: WireFrame = {
      type: 'state-offer',
      encoding: 'json',
      directed: true,
      widget: 'code_editor-1',
      sender: 'Peer_9-x',
      seq: 4_000_000_000,
      index: 2,
      count: 3,
      total: 10,
      payload: new TextEncoder().encode('{"a":1}'),
    };
    expect(decode(encodeFrame(f))).toEqual(f);
    expect(encodeFrame(f).length).toBe(6 + 16 + 13 + 8 + 7);
  });

  it('cuts a message into frames of at most 16 KiB, the last one short', () => {
    const payload = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const frames = [...chunkMessage(msg({ payload }))];
    expect(frames.length).toBe(chunkCount(payload.length, 'draw', 'peer-a'));
    expect(frames.length).toBe(7);
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(WIRE_FRAME_BYTES);
    expect(frames[0]!.length).toBe(WIRE_FRAME_BYTES);
    const r = new Reassembler(1_048_576);
    let out: ReturnType<Reassembler['push']> = null;
    for (const f of frames) out = r.push(decode(f));
    expect(out).toMatchObject({ widget: 'draw', sender: 'peer-a', seq: 1 });
    expect(same((out as ReassembledMessage).payload, payload)).toBe(true);
    expect(r.pendingBytes).toBe(0);
  });

  it('sends an empty message as one frame', () => {
    const frames = [...chunkMessage(msg())];
    expect(frames).toHaveLength(1);
    expect(new Reassembler(10).push(decode(frames[0]!))).toMatchObject({
      payload: new Uint8Array(0),
    });
  });

  it('reassembles any sizes, with messages of different widgets interleaved frame by frame', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            widget: fc.constantFrom('a', 'b-2', 'c_3'),
            size: fc.integer({ min: 0, max: 70_000 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.array(fc.nat(), { minLength: 1, maxLength: 50 }),
        (specs, picks) => {
          // Per widget, messages go in order; across widgets, frames interleave at random.
          const byWidget = new Map<string, Array<{ frames: Uint8Array[]; payload: Uint8Array }>>();
          specs.forEach((s, i) => {
            const payload = new Uint8Array(s.size).fill(i + 1);
            const frames = [...chunkMessage(msg({ widget: s.widget, seq: i, payload }))];
            const q = byWidget.get(s.widget) ?? [];
            q.push({ frames, payload });
            byWidget.set(s.widget, q);
          });
          const queues = [...byWidget.values()].map((q) => q.flatMap((m) => m.frames));
          const r = new Reassembler(1_048_576);
          const got = new Map<string, Uint8Array[]>();
          let k = 0;
          while (queues.some((q) => q.length > 0)) {
            const live = queues.filter((q) => q.length > 0);
            const q = live[(picks[k++ % picks.length] ?? 0) % live.length]!;
            const out = r.push(decode(q.shift()!));
            if (out && !('drop' in out))
              got.set(out.widget, [...(got.get(out.widget) ?? []), out.payload]);
            expect(out && 'drop' in out).toBeFalsy();
          }
          for (const [w, msgs] of byWidget) {
            const mine = got.get(w) ?? [];
            expect(mine.length).toBe(msgs.length);
            msgs.forEach((m, i) => expect(same(mine[i], m.payload)).toBe(true));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses arbitrary bytes without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const d = decodeFrame(bytes);
        if (d.ok) expect(d.frame.index).toBeLessThan(d.frame.count);
      }),
      { numRuns: 500 },
    );
    expect(decodeFrame('text')).toEqual({ ok: false, error: 'not-binary' });
    expect(decodeFrame(new Uint8Array(3))).toEqual({ ok: false, error: 'too-short' });
    expect(decodeFrame(new Uint8Array(WIRE_FRAME_BYTES + 1))).toEqual({
      ok: false,
      error: 'too-long',
    });
  });

  it.each([
    ['version', (b: Uint8Array) => (b[0] = 2)],
    ['type', (b: Uint8Array) => (b[1] = 9)],
    ['encoding', (b: Uint8Array) => (b[2] = 7)],
    ['widget-id', (b: Uint8Array) => (b[6] = 0x20)],
    ['sender-id', (b: Uint8Array) => (b[5] = 0)],
  ])('refuses a bad header field: %s', (error, mutate) => {
    const b = encodeFrame({ ...msg({ payload: new Uint8Array(4) }), index: 0, count: 1, total: 4 });
    mutate(b);
    expect(decodeFrame(b)).toEqual({ ok: false, error });
  });

  it('refuses chunk numbers that do not add up', () => {
    const base = { ...msg({ payload: new Uint8Array(4) }), total: 4 };
    expect(decodeFrame(encodeFrame({ ...base, index: 1, count: 1 }))).toEqual({
      ok: false,
      error: 'chunking',
    });
    expect(decodeFrame(encodeFrame({ ...base, index: 0, count: 1, total: 2 }))).toEqual({
      ok: false,
      error: 'chunking',
    });
  });
});

describe('reassembly of hostile chunk sequences', () => {
  const frames = (size: number, over: Partial<OutgoingMessage> = {}): WireFrame[] =>
    [...chunkMessage(msg({ payload: new Uint8Array(size), ...over }))].map(decode);

  it('drops a message announcing more than the limit at its first chunk', () => {
    const r = new Reassembler(50_000);
    expect(r.push(frames(60_000)[0]!)).toEqual({ drop: 'too-large' });
    expect(r.pendingBytes).toBe(0);
  });

  it('drops a message whose chunks skip, repeat, or change seq', () => {
    const fs = frames(40_000);
    const r = new Reassembler(1_048_576);
    expect(r.push(fs[0]!)).toBeNull();
    expect(r.push(fs[2]!)).toEqual({ drop: 'out-of-order' });
    expect(r.push(fs[1]!)).toEqual({ drop: 'out-of-order' }); // its start is gone
    expect(r.push(fs[0]!)).toBeNull();
    expect(r.push({ ...fs[1]!, seq: 99 })).toEqual({ drop: 'out-of-order' });
    // A fresh message after the drops is fine.
    for (const f of fs.slice(0, -1)) expect(r.push(f)).toBeNull();
    expect(r.push(fs.at(-1)!)).toMatchObject({ widget: 'draw' });
  });

  it('drops a single-frame message whose length lies', () => {
    const [f] = frames(10);
    expect(new Reassembler(100).push({ ...f!, total: 12 })).toEqual({ drop: 'length-mismatch' });
  });

  it('bounds the unfinished messages held per sender', () => {
    const r = new Reassembler(1_048_576, 2);
    expect(r.push(frames(20_000, { widget: 'a' })[0]!)).toBeNull();
    expect(r.push(frames(20_000, { widget: 'b' })[0]!)).toBeNull();
    expect(r.push(frames(20_000, { widget: 'c' })[0]!)).toEqual({ drop: 'too-many-partial' });
  });
});
