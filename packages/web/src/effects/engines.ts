/**
 * The call page's effect engines (the SDK's `EffectEngines`): segmentation and face detection,
 * each in its own worker, loaded on first use. Assets come from TFX's own origin only
 * (`/effects/…`, copied from the npm packages at build time; docs/effects.md).
 */
import type { EffectEngines, FaceBox, FaceFinder, Segmenter } from '@tfx/sdk';
import { backgroundUrl } from './backgrounds.js';

interface Ready {
  readonly ready: boolean;
  readonly error?: string;
  readonly width?: number;
  readonly height?: number;
}

/** One worker answering `{ id, … }` to `{ id, bitmap }`; rejects everything if it dies. */
class WorkerClient<T> {
  readonly ready: Promise<Ready>;
  readonly #w: Worker;
  readonly #waiting = new Map<number, { ok: (v: T) => void; fail: (e: Error) => void }>();
  readonly #pick: (data: Record<string, unknown>) => T;
  #seq = 0;
  #dead: Error | null = null;

  constructor(worker: Worker, pick: (data: Record<string, unknown>) => T) {
    this.#w = worker;
    this.#pick = pick;
    let settle: (r: Ready) => void = () => undefined;
    this.ready = new Promise((r) => (settle = r));
    worker.onmessage = (e: MessageEvent<Record<string, unknown>>) => {
      const d = e.data;
      if (typeof d.ready === 'boolean') return settle(d as unknown as Ready);
      const id = d.id as number;
      const p = this.#waiting.get(id);
      if (!p) return;
      this.#waiting.delete(id);
      if (typeof d.error === 'string') p.fail(new Error(d.error));
      else p.ok(this.#pick(d));
    };
    worker.onerror = (e) => {
      this.#dead = new Error(e.message || 'effects worker failed');
      settle({ ready: false, error: this.#dead.message });
      for (const p of this.#waiting.values()) p.fail(this.#dead);
      this.#waiting.clear();
    };
  }

  run(bitmap: ImageBitmap): Promise<T> {
    if (this.#dead) {
      bitmap.close();
      return Promise.reject(this.#dead);
    }
    const id = ++this.#seq;
    return new Promise<T>((ok, fail) => {
      this.#waiting.set(id, { ok, fail });
      this.#w.postMessage({ id, bitmap }, [bitmap]);
    });
  }

  close(): void {
    this.#w.terminate();
    this.#dead = new Error('closed');
    for (const p of this.#waiting.values()) p.fail(this.#dead);
    this.#waiting.clear();
  }
}

async function segmenter(): Promise<Segmenter> {
  const c = new WorkerClient<ImageData>(
    new Worker(new URL('./segment.worker.ts', import.meta.url), { name: 'tfx-segmentation' }),
    (d) => d.mask as ImageData,
  );
  const r = await c.ready;
  if (!r.ready) {
    c.close();
    throw new Error(`segmentation model: ${r.error ?? 'failed'}`);
  }
  return {
    inputWidth: r.width ?? 256,
    inputHeight: r.height ?? 144,
    segment: (bitmap) => c.run(bitmap),
    close: () => c.close(),
  };
}

async function faceFinder(): Promise<FaceFinder> {
  const c = new WorkerClient<FaceBox[]>(
    new Worker(new URL('./face.worker.ts', import.meta.url), { name: 'tfx-face' }),
    (d) => (Array.isArray(d.boxes) ? (d.boxes as FaceBox[]) : []),
  );
  const r = await c.ready;
  if (!r.ready) {
    c.close();
    throw new Error(`face detector: ${r.error ?? 'failed'}`);
  }
  return { detect: (bitmap) => c.run(bitmap), close: () => c.close() };
}

export const callPageEngines: EffectEngines = {
  segmenter,
  faceFinder,
  backgroundUrl,
};
