/**
 * The SDK's widget transport over fake data channels: chunking (no frame over 16 KiB), send()
 * resolving only once every frame is handed to the channel (back-pressure on bufferedAmount and
 * `bufferedamountlow`), round-robin fairness across widgets, the open/close register (late
 * joiners, concurrent changes), and hostile frames refused and counted.
 */
import { describe, expect, it } from 'vitest';
import { WIRE_FRAME_BYTES, encodeFrame } from '@tfx/protocol/widgets';
import { WidgetTransport, type WidgetInbound } from '../src/widget-transport.js';
import type { Clock } from '../src/clock.js';

type L = (ev: Event) => void;

/** One end of a data channel; frames sit in `bufferedAmount` until `drain()` (or at once). */
class FakeWidgetChannel {
  readyState = 'connecting';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType = 'blob';
  auto = true;
  other: FakeWidgetChannel | null = null;
  readonly sent: Uint8Array[] = [];
  readonly #queue: Uint8Array[] = [];
  readonly #ls = new Map<string, Set<L>>();
  addEventListener(t: string, l: L): void {
    if (!this.#ls.has(t)) this.#ls.set(t, new Set());
    this.#ls.get(t)!.add(l);
  }
  removeEventListener(t: string, l: L): void {
    this.#ls.get(t)?.delete(l);
  }
  dispatch(t: string, ev: unknown = {}): void {
    for (const l of [...(this.#ls.get(t) ?? [])]) l(ev as Event);
  }
  send(data: Uint8Array | string): void {
    if (this.readyState !== 'open') throw new Error('InvalidStateError');
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (typeof data !== 'string') this.sent.push(bytes);
    this.#queue.push(typeof data === 'string' ? (data as unknown as Uint8Array) : bytes);
    this.bufferedAmount += bytes.length;
    if (this.auto) this.drain();
  }
  /** Delivers up to `n` queued frames to the other end. */
  drain(n = Infinity): void {
    const before = this.bufferedAmount;
    while (n-- > 0 && this.#queue.length > 0) {
      const f = this.#queue.shift()!;
      this.bufferedAmount -= typeof f === 'string' ? (f as string).length : f.length;
      const data = typeof f === 'string' ? f : f.slice().buffer;
      this.other?.dispatch('message', { data });
    }
    if (
      before > this.bufferedAmountLowThreshold &&
      this.bufferedAmount <= this.bufferedAmountLowThreshold
    )
      this.dispatch('bufferedamountlow');
  }
}

/** Frames carrying widget messages (not the open/close control frames). */
const dataFrames = (c: FakeWidgetChannel): Uint8Array[] => c.sent.filter((f) => f[1] === 1);

function pair(): [FakeWidgetChannel, FakeWidgetChannel] {
  const a = new FakeWidgetChannel();
  const b = new FakeWidgetChannel();
  a.other = b;
  b.other = a;
  return [a, b];
}
function openBoth(a: FakeWidgetChannel, b: FakeWidgetChannel): void {
  a.readyState = b.readyState = 'open';
  a.dispatch('open');
  b.dispatch('open');
}

const clock: Clock = {
  now: () => 0,
  setTimeout: () => 0,
  clearTimeout: () => undefined,
} as unknown as Clock;

function transport(id: string, max = 1_048_576): WidgetTransport {
  return new WidgetTransport({ localId: () => id, clock, maxMessageBytes: max });
}

/** Two transports A and B joined by a channel pair, both with `widgets` open. */
function linked(widgets: string[] = ['w']) {
  const A = transport('peer-a');
  const B = transport('peer-b');
  const [ca, cb] = pair();
  A.attach('peer-b', ca);
  B.attach('peer-a', cb);
  openBoth(ca, cb);
  for (const w of widgets) A.setOpen(w, true);
  const got: WidgetInbound[] = [];
  B.on('message', (m) => got.push(m));
  return { A, B, ca, cb, got };
}

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('widget transport: chunking and delivery', () => {
  it('carries a 1 MiB message in frames of at most 16 KiB and delivers it whole', async () => {
    const { A, ca, got } = linked();
    const payload = new Uint8Array(1_048_576).map((_, i) => (i * 7) & 0xff);
    await A.send('w', 'message', { encoding: 'binary', bytes: payload.buffer });
    expect(dataFrames(ca).length).toBe(65);
    expect(Math.max(...ca.sent.map((f) => f.length))).toBeLessThanOrEqual(WIRE_FRAME_BYTES);
    expect(got).toHaveLength(1);
    const data = got[0]!.data;
    expect(data.encoding).toBe('binary');
    if (data.encoding === 'binary')
      expect(Buffer.from(data.bytes).equals(Buffer.from(payload))).toBe(true);
    expect(got[0]).toMatchObject({ from: 'peer-a', widget: 'w', type: 'message', directed: false });
  });

  it('refuses a message over maxMessageBytes before sending anything', async () => {
    const { A, ca } = linked();
    const before = ca.sent.length;
    await expect(
      A.send('w', 'message', { encoding: 'json', text: JSON.stringify('x'.repeat(1_048_576)) }),
    ).rejects.toMatchObject({ code: 'widget-message-too-large' });
    expect(ca.sent.length).toBe(before);
  });

  it('sends to one peer only with `to`, and refuses an unknown peer', async () => {
    const { A, got } = linked();
    await A.send('w', 'state-offer', { encoding: 'json', text: '{"s":1}' }, 'peer-b');
    expect(got[0]).toMatchObject({ type: 'state-offer', directed: true });
    await expect(
      A.send('w', 'message', { encoding: 'json', text: '1' }, 'peer-x'),
    ).rejects.toMatchObject({ code: 'peer-unavailable' });
  });
});

describe('widget transport: back-pressure', () => {
  it('stops at the high-water mark, resumes on bufferedamountlow, and resolves only when all is handed over', async () => {
    const { A, ca, got } = linked();
    ca.auto = false;
    let resolved = false;
    const p = A.send('w', 'message', {
      encoding: 'binary',
      bytes: new ArrayBuffer(1_000_000),
    }).then(() => (resolved = true));
    // 256 KiB high water: 16 frames of 16 KiB fill it.
    expect(dataFrames(ca).length).toBe(16);
    expect(ca.bufferedAmount).toBeGreaterThanOrEqual(256 * 1024);
    await flush();
    expect(resolved).toBe(false);
    // The far end reads: the channel drains below 64 KiB and the sender resumes.
    while (!resolved) {
      ca.drain();
      await flush();
    }
    await p;
    expect(dataFrames(ca).length).toBe(62);
    ca.drain();
    expect(got).toHaveLength(1);
  });

  it('is fair across widgets: a small message is not held behind a large one', async () => {
    const { A, ca, got } = linked(['file', 'chat']);
    ca.auto = false;
    const big = A.send('file', 'message', { encoding: 'binary', bytes: new ArrayBuffer(900_000) });
    const small = A.send('chat', 'message', { encoding: 'json', text: '"hi"' });
    // Round-robin: the chat frame goes right after the next file frame, long before the file ends.
    for (let i = 0; i < 200 && got.filter((m) => m.widget === 'chat').length === 0; i++) {
      ca.drain(1);
      await flush();
    }
    const order = got.map((m) => m.widget);
    expect(order).toEqual(['chat']);
    await small;
    while (got.length < 2) {
      ca.drain();
      await flush();
    }
    await big;
    expect(got.map((m) => m.widget)).toEqual(['chat', 'file']);
  });

  it('fails a directed send when the peer leaves, and lets a broadcast complete', async () => {
    const { A, ca } = linked();
    ca.auto = false;
    const directed = A.send(
      'w',
      'message',
      { encoding: 'binary', bytes: new ArrayBuffer(900_000) },
      'peer-b',
    );
    const broadcast = A.send('w', 'message', {
      encoding: 'binary',
      bytes: new ArrayBuffer(900_000),
    });
    A.detach('peer-b');
    await expect(directed).rejects.toMatchObject({ code: 'peer-unavailable' });
    await expect(broadcast).resolves.toBeUndefined();
  });
});

describe('widget transport: which widgets are open', () => {
  it('opens and closes for everyone, and a late joiner learns what is open', () => {
    const { A, B } = linked(['w', 'x']);
    expect(B.openWidgets().sort()).toEqual(['w', 'x']);
    B.setOpen('x', false);
    expect(A.openWidgets()).toEqual(['w']);
    // C joins: its channels to A and B open and it hears the state.
    const C = transport('peer-c');
    const events: string[][] = [];
    C.on('open-state', (ids) => events.push([...ids]));
    for (const [T, id] of [
      [A, 'peer-a'],
      [B, 'peer-b'],
    ] as const) {
      const [ct, cc] = pair();
      T.attach('peer-c', ct);
      C.attach(id, cc);
      openBoth(ct, cc);
    }
    expect(C.openWidgets()).toEqual(['w']);
    expect(C.isOpen('x')).toBe(false);
    expect(events[0]).toEqual(['w']);
  });

  it('resolves concurrent changes the same way everywhere (last writer by clock, then peer id)', () => {
    const A = transport('peer-a');
    const B = transport('peer-b');
    const [ca, cb] = pair();
    ca.auto = cb.auto = false;
    A.attach('peer-b', ca);
    B.attach('peer-a', cb);
    openBoth(ca, cb);
    A.setOpen('w', true); // clock 1 by peer-a
    B.setOpen('w', true); // clock 1 by peer-b
    B.setOpen('w', false); // clock 2 by peer-b
    ca.drain();
    cb.drain();
    expect(A.isOpen('w')).toBe(false);
    expect(B.isOpen('w')).toBe(false);
  });
});

describe('widget transport: hostile peers', () => {
  const frame = (over: Partial<Parameters<typeof encodeFrame>[0]> = {}) =>
    encodeFrame({
      type: 'message',
      encoding: 'json',
      directed: false,
      widget: 'w',
      sender: 'peer-a',
      seq: 1,
      index: 0,
      count: 1,
      total: 2,
      payload: new TextEncoder().encode('{}'),
      ...over,
    });

  it('drops and counts what a peer may not send, and still takes what it may', () => {
    const { B, cb, got } = linked(['w']);
    const inject = (data: unknown): void => cb.dispatch('message', { data });
    inject(frame().slice().buffer);
    inject(frame({ sender: 'peer-z' }).slice().buffer);
    inject(frame({ widget: 'not-open' }).slice().buffer);
    inject(frame({ payload: new TextEncoder().encode('{x'), total: 2 }).slice().buffer);
    inject(frame({ count: 100, total: 5_000_000, payload: new Uint8Array(10) }).slice().buffer);
    inject(
      frame({
        type: 'control',
        widget: '',
        total: 9,
        payload: new TextEncoder().encode('{"t":"no"}'.slice(0, 9)),
      }).slice().buffer,
    );
    inject('text frame');
    inject(new Uint8Array([1, 2, 3]).buffer);
    expect(got).toHaveLength(1);
    expect(B.counters.dropped).toEqual({
      'sender-mismatch': 1,
      'not-open': 1,
      'malformed-json': 1,
      'too-large': 1,
      'bad-control': 1,
      'not-binary': 1,
      'too-short': 1,
    });
    expect(B.counters.messagesReceived).toBe(1);
  });
});
