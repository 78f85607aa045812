/**
 * The widget SDK against a fake host: the versioned handshake (only the parent may answer),
 * `sendMessage` resolving when the host says the message went out (back-pressure: a bounded
 * window of unacknowledged bytes), size limits, message delivery, and state sync.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENVELOPE_TAG, type HostToWidget, type WidgetToHost } from '@tfx/protocol/widgets';
import { connectIn, TfxWidget, TfxWidgetError, type WidgetWindowLike } from '../src/index.js';
import { createStateSync, type StateSyncPort } from '../src/state-sync.js';

type Listener = (ev: MessageEvent) => void;

/** A widget's window whose parent is the test (the host). */
function fakeWindow() {
  const listeners = new Set<Listener>();
  const posted: unknown[] = [];
  const parent = { postMessage: (m: unknown) => posted.push(m) };
  const win: WidgetWindowLike = {
    parent,
    addEventListener: (_t, l) => listeners.add(l),
    removeEventListener: (_t, l) => listeners.delete(l),
  };
  const dispatch = (data: unknown, source: unknown = parent, ports: MessagePort[] = []): void => {
    for (const l of [...listeners]) l({ data, source, ports } as unknown as MessageEvent);
  };
  return { win, posted, parent, dispatch, listeners };
}

const welcome = (over: Partial<Extract<HostToWidget, { type: 'welcome' }>> = {}) => ({
  tfx: ENVELOPE_TAG,
  v: 1,
  type: 'welcome' as const,
  widget: 'probe',
  self: { id: 'me', name: 'Ann' },
  peers: [{ id: 'p2', name: 'Bob' }],
  maxMessageBytes: 1000,
  ...over,
});

const open: MessagePort[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

/** Connects a widget to a fake host; returns the widget and the host's end of the port. */
async function connected(over: Partial<Extract<HostToWidget, { type: 'welcome' }>> = {}) {
  const w = fakeWindow();
  const p = connectIn(w.win, { timeoutMs: 2000 });
  const ch = new MessageChannel();
  open.push(ch.port1, ch.port2);
  w.dispatch(welcome(over), w.parent, [ch.port2]);
  const widget = await p;
  const fromWidget: WidgetToHost[] = [];
  ch.port1.onmessage = (ev) => fromWidget.push(ev.data as WidgetToHost);
  const host = (body: Record<string, unknown>): void =>
    ch.port1.postMessage({ tfx: ENVELOPE_TAG, v: 1, ...body });
  return { widget, fromWidget, host, w };
}

const tick = (ms = 10): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('handshake', () => {
  it('says hello with its versions and takes the welcome only from its parent', async () => {
    const w = fakeWindow();
    const p = connectIn(w.win, { timeoutMs: 2000 });
    expect(w.posted[0]).toMatchObject({
      tfx: ENVELOPE_TAG,
      type: 'hello',
      versions: [1],
      nonce: expect.stringMatching(/^[0-9a-f]{24}$/),
    });
    const ch = new MessageChannel();
    open.push(ch.port1, ch.port2);
    // A sibling frame (another source) cannot pose as the host.
    w.dispatch(welcome({ widget: 'evil' }), { postMessage() {} }, [ch.port2]);
    w.dispatch(welcome(), w.parent, [ch.port2]);
    const widget = await p;
    expect(widget).toBeInstanceOf(TfxWidget);
    expect(widget.widgetId).toBe('probe');
    expect(widget.self()).toEqual({ id: 'me', name: 'Ann' });
    expect(widget.peers()).toEqual([{ id: 'p2', name: 'Bob' }]);
    expect(w.listeners.size).toBe(0);
    widget.close();
  });

  it('fails with the host’s reason on reject, and with handshake-timeout without an answer', async () => {
    const w = fakeWindow();
    const p = connectIn(w.win);
    w.dispatch({
      tfx: ENVELOPE_TAG,
      v: 1,
      type: 'reject',
      code: 'version-mismatch',
      message: 'no',
    });
    await expect(p).rejects.toMatchObject({ code: 'version-mismatch' });
    await expect(connectIn(fakeWindow().win, { timeoutMs: 30 })).rejects.toMatchObject({
      code: 'handshake-timeout',
    });
    const top = { parent: null, addEventListener() {}, removeEventListener() {} };
    await expect(connectIn(top)).rejects.toMatchObject({ code: 'not-in-frame' });
  });
});

describe('messages', () => {
  it('sends JSON tagged with its widget id and resolves when the host reports it sent', async () => {
    const { widget, fromWidget, host } = await connected();
    let done = false;
    const p = widget.sendMessage({ hello: 'world' }, { to: 'p2' }).then(() => (done = true));
    await tick();
    expect(fromWidget[0]).toMatchObject({
      type: 'send',
      widget: 'probe',
      to: 'p2',
      data: { encoding: 'json', text: '{"hello":"world"}' },
    });
    expect(done).toBe(false);
    host({ type: 'sent', id: (fromWidget[0] as { id: number }).id });
    await p;
    expect(done).toBe(true);
    widget.close();
  });

  it('sends binary as bytes without detaching the caller’s buffer', async () => {
    const { widget, fromWidget, host } = await connected();
    const mine = new Uint8Array([1, 2, 3]);
    const p = widget.sendMessage(mine);
    await tick();
    const sent = fromWidget[0] as Extract<WidgetToHost, { type: 'send' }>;
    expect(sent.data.encoding).toBe('binary');
    expect(mine.byteLength).toBe(3);
    host({ type: 'sent', id: sent.id });
    await p;
    widget.close();
  });

  it('refuses a message over maxMessageBytes (UTF-8 bytes) and anything not JSON', async () => {
    const { widget } = await connected({ maxMessageBytes: 1000 });
    // 1002 UTF-8 bytes as JSON, though only 502 UTF-16 units.
    await expect(widget.sendMessage('é'.repeat(500))).rejects.toMatchObject({
      code: 'widget-message-too-large',
    });
    await expect(widget.sendMessage(undefined)).rejects.toMatchObject({ code: 'bad-request' });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(widget.sendMessage(cyclic)).rejects.toBeInstanceOf(TfxWidgetError);
    widget.close();
  });

  it('rejects with the host’s error code', async () => {
    const { widget, fromWidget, host } = await connected();
    const p = widget.sendMessage(1, { to: 'gone' });
    await tick();
    host({
      type: 'error',
      id: (fromWidget[0] as { id: number }).id,
      code: 'peer-unavailable',
      message: 'gone',
    });
    await expect(p).rejects.toMatchObject({ code: 'peer-unavailable' });
    widget.close();
  });

  it('applies back-pressure: no more than the window of bytes waits for the host', async () => {
    // Window: 2 × max(maxMessageBytes, 1 MiB) = 2 MiB; messages of 800 kB.
    const { widget, fromWidget, host } = await connected({ maxMessageBytes: 1_000_000 });
    const chunk = new Uint8Array(800_000);
    const all = Array.from({ length: 6 }, () => widget.sendMessage(chunk));
    // Waits for what must happen (a loaded machine may need more than one tick), then checks
    // that nothing more goes out while the window is full.
    await vi.waitFor(() => expect(fromWidget).toHaveLength(2));
    await tick(50);
    expect(fromWidget).toHaveLength(2);
    host({ type: 'sent', id: (fromWidget[0] as { id: number }).id });
    await vi.waitFor(() => expect(fromWidget).toHaveLength(3));
    await tick(50);
    expect(fromWidget).toHaveLength(3);
    for (let i = 1; i < 6; i++) {
      await vi.waitFor(() => expect(fromWidget.length).toBeGreaterThan(i));
      host({ type: 'sent', id: (fromWidget[i] as { id: number }).id });
    }
    await Promise.all(all);
    expect(fromWidget).toHaveLength(6);
    widget.close();
  });

  it('delivers messages with the sender, keeps peers current, and fails pending sends on close', async () => {
    const { widget, host, fromWidget } = await connected();
    const got: unknown[] = [];
    const peers: unknown[] = [];
    widget.onMessage((data, from) => got.push([data, from.name]));
    widget.onPeers((ps) => peers.push(ps.length));
    host({
      type: 'message',
      from: { id: 'p2', name: 'Bob' },
      data: { encoding: 'json', text: '[1,2]' },
    });
    host({
      type: 'message',
      from: { id: 'p2', name: 'Bob' },
      data: { encoding: 'json', text: '{bad' },
    });
    host({ type: 'peers', peers: [] });
    host({ tfx: 'other', type: 'message' });
    await tick();
    expect(got).toEqual([[[1, 2], 'Bob']]);
    expect(peers).toEqual([0]);
    expect(widget.peers()).toEqual([]);
    const p = widget.sendMessage('x');
    await tick();
    expect(fromWidget).toHaveLength(1);
    widget.close();
    await expect(p).rejects.toMatchObject({ code: 'closed' });
    await expect(widget.sendMessage('y')).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('state sync', () => {
  function fakePort(peers: Array<{ id: string; name: string }>) {
    const handlers = {
      request: new Set<(f: { id: string; name: string }) => void>(),
      offer: new Set<(s: unknown, f: { id: string; name: string }) => void>(),
      peers: new Set<(p: ReadonlyArray<{ id: string; name: string }>) => void>(),
    };
    const log: string[] = [];
    const timers: Array<() => void> = [];
    const port: StateSyncPort = {
      peers: () => peers,
      requestState: () => log.push('request'),
      offerState: async (to, state) => {
        log.push(`offer ${to} ${JSON.stringify(state)}`);
      },
      onStateRequest: (h) => (handlers.request.add(h), () => handlers.request.delete(h)),
      onStateOffer: (h) => (handlers.offer.add(h), () => handlers.offer.delete(h)),
      onPeers: (h) => (handlers.peers.add(h), () => handlers.peers.delete(h)),
      setTimeout: (fn) => timers.push(fn),
      clearTimeout: () => undefined,
    };
    return { port, handlers, log, timers };
  }
  const bob = { id: 'p2', name: 'Bob' };

  it('is fresh at once when alone in the room', async () => {
    const f = fakePort([]);
    const s = createStateSync(f.port, { getState: () => 1, setState: () => undefined });
    expect(await s.ready).toBe('fresh');
    expect(f.log).toEqual([]);
  });

  it('asks, applies the first offer only, and then answers requests with its state', async () => {
    const f = fakePort([bob]);
    let state: string[] = ['mine'];
    const s = createStateSync<string[]>(f.port, {
      getState: () => state,
      setState: (st) => (state = st),
    });
    expect(f.log).toEqual(['request']);
    expect(s.status).toBe('pending');
    for (const h of f.handlers.offer) h(['from bob'], bob);
    for (const h of f.handlers.offer) h(['late offer'], bob);
    expect(await s.ready).toBe('received');
    expect(state).toEqual(['from bob']);
    for (const h of f.handlers.request) h({ id: 'p3', name: 'Cid' });
    expect(f.log).toEqual(['request', 'offer p3 ["from bob"]']);
    s.stop();
  });

  it('answers requests that came while pending once it is ready (no deadlock), fresh after the timeout', async () => {
    const f = fakePort([bob]);
    const s = createStateSync(f.port, { getState: () => ({ n: 0 }), setState: () => undefined });
    for (const h of f.handlers.request) h(bob);
    expect(f.log).toEqual(['request']);
    f.timers.at(-1)!();
    expect(await s.ready).toBe('fresh');
    expect(f.log).toEqual(['request', 'offer p2 {"n":0}']);
  });

  it('asks again when the peers change while still pending', () => {
    const f = fakePort([bob]);
    createStateSync(f.port, { getState: () => 1, setState: () => undefined });
    for (const h of f.handlers.peers) h([bob, { id: 'p3', name: 'Cid' }]);
    expect(f.log).toEqual(['request', 'request']);
  });
});
