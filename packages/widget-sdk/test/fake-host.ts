/**
 * A fake call page for widget SDK tests: `connectIn` on a fake window, the host's welcome with a
 * MessageChannel port, and `host(body)` to post an envelope to the widget. The port's other end
 * (`port`) is the test's: it reads what the widget sends. Ports opened here close in afterEach.
 */
import { afterEach } from 'vitest';
import { ENVELOPE_TAG } from '@tfx/protocol/widgets';
import { connectIn, type TfxWidget, type WidgetWindowLike } from '../src/index.js';

const open: MessagePort[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

export async function connectToFakeHost(widgetId: string): Promise<{
  widget: TfxWidget;
  port: MessagePort;
  host: (body: Record<string, unknown>) => void;
}> {
  const listeners = new Set<(ev: MessageEvent) => void>();
  const parent = { postMessage: () => undefined };
  const win: WidgetWindowLike = {
    parent,
    addEventListener: (_t, l) => listeners.add(l),
    removeEventListener: (_t, l) => listeners.delete(l),
  };
  const p = connectIn(win, { timeoutMs: 2000 });
  const ch = new MessageChannel();
  open.push(ch.port1, ch.port2);
  const welcome = {
    tfx: ENVELOPE_TAG,
    v: 1,
    type: 'welcome',
    widget: widgetId,
    self: { id: 'me', name: 'Ann' },
    peers: [],
    maxMessageBytes: 1000,
  };
  for (const l of [...listeners])
    l({ data: welcome, source: parent, ports: [ch.port2] } as unknown as MessageEvent);
  const widget = await p;
  const host = (body: Record<string, unknown>): void =>
    ch.port1.postMessage({ tfx: ENVELOPE_TAG, v: 1, ...body });
  return { widget, port: ch.port1, host };
}
