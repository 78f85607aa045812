/**
 * The widget SDK's media capabilities against a fake host: each request goes out as the
 * protocol's media envelope with its own id and settles on `media.ack` or `error`; still frames
 * reach the handler (and are closed without one); processor changes reach `onProcessor`.
 */
import { describe, expect, it } from 'vitest';
import { parseMediaRequest } from '@tfx/protocol';
import { TfxWidgetError } from '../src/index.js';
import { connectToFakeHost } from './fake-host.js';

async function connected() {
  const { widget, port, host } = await connectToFakeHost('filters');
  const sent: Record<string, unknown>[] = [];
  port.onmessage = (ev) => sent.push(ev.data as Record<string, unknown>);
  return { widget, sent, host };
}

const tick = (ms = 10): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('widget SDK media capabilities', () => {
  it('sends media.processor.set as a valid envelope and resolves on media.ack', async () => {
    const { widget, sent, host } = await connected();
    const done = widget.setVideoProcessor({ type: 'filter', name: 'sepia' });
    await tick();
    const req = sent[0]!;
    const check = parseMediaRequest(req);
    expect(check).toMatchObject({
      ok: true,
      request: { type: 'media.processor.set', widget: 'filters', spec: [{ name: 'sepia' }] },
    });
    host({ type: 'media.ack', id: req.id });
    await expect(done).resolves.toBeUndefined();
  });

  it('rejects with the host’s error code (forbidden when the manifest does not grant it)', async () => {
    const { widget, sent, host } = await connected();
    const done = widget.setOverlay([{ kind: 'rect', x: 0, y: 0, w: 1, h: 1 }]);
    await tick();
    host({ type: 'error', id: sent[0]!.id, code: 'forbidden', message: 'not granted' });
    await expect(done).rejects.toMatchObject({ code: 'forbidden' });
    await expect(done).rejects.toBeInstanceOf(TfxWidgetError);
  });

  it('subscribes to frames within the limits, refuses a frame whose bitmap is not one, unsubscribes', async () => {
    const { widget, sent, host } = await connected();
    const got: number[] = [];
    const sub = widget.subscribeFrames({ fps: 2, maxWidth: 320 }, (bmp, info) => {
      got.push(info.width);
      bmp.close();
    });
    await tick();
    expect(parseMediaRequest(sent[0]).ok).toBe(true);
    host({ type: 'media.ack', id: sent[0]!.id });
    await sub;
    // Node has no ImageBitmap: a cloned object without close() is not one, so it is refused.
    host({
      type: 'media.frame',
      peer: 'self',
      width: 320,
      height: 180,
      at: 1,
      bitmap: { width: 320 },
    });
    await tick();
    expect(got).toEqual([]);
    const unsub = widget.unsubscribeFrames();
    await tick();
    expect(sent[1]).toMatchObject({ type: 'media.frames.unsubscribe' });
    host({ type: 'media.ack', id: sent[1]!.id });
    await unsub;
  });

  it('reports processor changes and fails pending requests with closed on close()', async () => {
    const { widget, host } = await connected();
    const seen: unknown[] = [];
    widget.onProcessor((i) => seen.push(i));
    host({ type: 'media.processor', chain: [{ type: 'blur' }], by: 'user' });
    host({ type: 'media.processor', chain: [{ type: 'bogus' }], by: 'user' });
    await tick();
    expect(seen).toEqual([{ chain: [{ type: 'blur' }], by: 'user' }]);
    const pending = widget.setVideoProcessor(null);
    widget.close();
    await expect(pending).rejects.toMatchObject({ code: 'closed' });
  });
});
