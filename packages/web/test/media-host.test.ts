/**
 * The host side of widget media capabilities (src/widgets/media-host.ts) with a fake frame and a
 * fake local media: hostile or ungranted requests are refused with a clear code before anything
 * touches the media; granted ones act and are acknowledged; a closing widget's shapes go away.
 */
import { describe, expect, it, vi } from 'vitest';
import { peekMediaEnvelope, type MediaEnvelope } from '@tfx/protocol/widgets';
import type { LocalMedia } from '@tfx/sdk';
import { createMediaHost } from '../src/widgets/media-host.js';
import type { WidgetFrame } from '../src/widgets/frame.js';

function setup(media: Record<string, unknown> | undefined) {
  const delivered: Array<Record<string, unknown>> = [];
  const calls: unknown[][] = [];
  const frame = {
    id: 'w1',
    entry: { title: 'W', permissions: media ? { media } : undefined },
    el: { querySelector: () => null },
    deliver: (m: Record<string, unknown>) => delivered.push(m),
  } as unknown as WidgetFrame;
  const local = {
    effects: { chain: [], active: false },
    on: () => () => undefined,
    setVideoProcessor: async (...a: unknown[]) => {
      calls.push(['processor', ...a]);
      return [];
    },
    setOverlayShapes: async (...a: unknown[]) => {
      calls.push(['shapes', ...a]);
    },
  } as unknown as LocalMedia;
  const host = createMediaHost(local, () => [frame]);
  const send = async (body: Record<string, unknown>): Promise<void> => {
    const env = peekMediaEnvelope({ tfx: 'tfx-widget', v: 1, widget: 'w1', id: 5, ...body });
    host.handle(frame, env as MediaEnvelope);
    // The host loads the zod contracts on first use: wait for its answer.
    await vi.waitFor(() => expect(delivered.length).toBeGreaterThan(0), { timeout: 15_000 });
  };
  return { host, delivered, calls, send };
}

describe('widget media host', () => {
  it('refuses a capability the manifest does not grant (forbidden), touching nothing', async () => {
    const t = setup({ overlay: true });
    await t.send({ type: 'media.processor.set', spec: { type: 'filter', name: 'sepia' } });
    expect(t.delivered).toEqual([
      expect.objectContaining({ type: 'error', id: 5, code: 'forbidden' }),
    ]);
    expect(String(t.delivered[0]!.message)).toContain('permissions.media.processor');
    expect(t.calls).toEqual([]);
  });
  it('refuses malformed requests with bad-request and the field', async () => {
    const t = setup({ overlay: true });
    await t.send({
      type: 'media.overlay.set',
      peer: 'self',
      shapes: [{ kind: 'rect', x: 0, y: 0, w: 1, h: 1, color: 'url(https://evil.example)' }],
    });
    expect(t.delivered[0]).toMatchObject({ type: 'error', id: 5, code: 'bad-request' });
    expect(String(t.delivered[0]!.message)).toContain('color');
    expect(t.calls).toEqual([]);
  });
  it('draws granted shapes, acknowledges, and removes them when the widget closes', async () => {
    const t = setup({ overlay: true });
    const shapes = [{ kind: 'ellipse', x: 0, y: 0, w: 1, h: 1, space: 'face' }];
    await t.send({ type: 'media.overlay.set', peer: 'self', shapes });
    expect(t.delivered).toEqual([expect.objectContaining({ type: 'media.ack', id: 5 })]);
    expect(t.calls).toEqual([['shapes', 'w1', shapes]]);
    t.host.release('w1');
    expect(t.calls[1]).toEqual(['shapes', 'w1', []]);
  });
});
