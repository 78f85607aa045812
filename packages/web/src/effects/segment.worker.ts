/**
 * Person segmentation in a worker: the MediaPipe selfie-segmentation (landscape, 256×144) model
 * run by TFLite compiled to wasm — both shipped in `@twilio/video-processors` (BSD-3-Clause) and
 * served by TFX from `/effects/segmentation/` (build: vite.config.ts copies them). Nothing is
 * fetched from another host. Messages: in `{ id, bitmap }` (transferred, any size: resized
 * here), out `{ id, mask }` (ImageData whose alpha is the person probability) or `{ id, error }`.
 */
interface TFLite {
  HEAPU8: Uint8Array;
  HEAPF32: Float32Array;
  _getModelBufferMemoryOffset(): number;
  _loadModel(bytes: number): number;
  _getInputMemoryOffset(): number;
  _getInputWidth(): number;
  _getInputHeight(): number;
  _getOutputMemoryOffset(): number;
  _runInference(): void;
}
type Factory = (m: { locateFile: (f: string) => string }) => Promise<TFLite>;
declare function importScripts(...urls: string[]): void;

const BASE = '/effects/segmentation/';
const scope = self as unknown as {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
  createTwilioTFLiteSIMDModule?: Factory;
  createTwilioTFLiteModule?: Factory;
};

async function load(): Promise<{ tflite: TFLite; simd: boolean }> {
  const locateFile = (f: string): string => BASE + f;
  let tflite: TFLite;
  let simd = true;
  try {
    importScripts(`${BASE}tflite-simd-1-0-0.js`);
    tflite = await (scope.createTwilioTFLiteSIMDModule as Factory)({ locateFile });
  } catch {
    simd = false;
    importScripts(`${BASE}tflite-1-0-0.js`);
    tflite = await (scope.createTwilioTFLiteModule as Factory)({ locateFile });
  }
  const res = await fetch(`${BASE}selfie_segmentation_landscape.tflite`);
  if (!res.ok) throw new Error(`model: HTTP ${res.status}`);
  const model = new Uint8Array(await res.arrayBuffer());
  tflite.HEAPU8.set(model, tflite._getModelBufferMemoryOffset());
  tflite._loadModel(model.byteLength);
  return { tflite, simd };
}

const ready = load();
ready.then(
  ({ tflite, simd }) =>
    scope.postMessage({
      ready: true,
      width: tflite._getInputWidth(),
      height: tflite._getInputHeight(),
      simd,
    }),
  (err: unknown) => scope.postMessage({ ready: false, error: String(err) }),
);

let canvas: OffscreenCanvas | null = null;
let ctx: OffscreenCanvasRenderingContext2D | null = null;

scope.onmessage = (e: MessageEvent): void => {
  const { id, bitmap } = e.data as { id: number; bitmap: ImageBitmap };
  void ready
    .then(({ tflite }) => {
      const w = tflite._getInputWidth();
      const h = tflite._getInputHeight();
      if (!canvas || canvas.width !== w || canvas.height !== h) {
        canvas = new OffscreenCanvas(w, h);
        ctx = canvas.getContext('2d', { willReadFrequently: true });
      }
      const c = ctx as OffscreenCanvasRenderingContext2D;
      c.drawImage(bitmap, 0, 0, w, h);
      bitmap.close();
      const img = c.getImageData(0, 0, w, h);
      const px = img.data;
      const input = tflite._getInputMemoryOffset() / 4;
      const heap = tflite.HEAPF32;
      for (let i = 0, n = w * h; i < n; i++) {
        heap[input + i * 3] = (px[i * 4] as number) / 255;
        heap[input + i * 3 + 1] = (px[i * 4 + 1] as number) / 255;
        heap[input + i * 3 + 2] = (px[i * 4 + 2] as number) / 255;
      }
      tflite._runInference();
      const out = tflite._getOutputMemoryOffset() / 4;
      const f = tflite.HEAPF32;
      for (let i = 0, n = w * h; i < n; i++)
        px[i * 4 + 3] = Math.round((f[out + i] as number) * 255);
      scope.postMessage({ id, mask: img }, [img.data.buffer]);
    })
    .catch((err: unknown) => {
      bitmap.close();
      scope.postMessage({ id, error: String(err) });
    });
};
