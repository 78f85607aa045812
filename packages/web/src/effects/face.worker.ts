/**
 * Face detection in a worker: `@vladmandic/face-api`'s tiny face detector (MIT; weights in the
 * npm package, served by TFX from `/effects/face/`). In `{ id, bitmap }` (transferred), out
 * `{ id, boxes }` with boxes in fractions of the frame, or `{ id, error }`.
 */
import * as faceapi from '@vladmandic/face-api';

const BASE = '/effects/face/';
const scope = self as unknown as {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
};

// face-api looks for a DOM; a worker has OffscreenCanvas instead.
class NoElement {}
faceapi.env.setEnv({
  Canvas: OffscreenCanvas as unknown as typeof HTMLCanvasElement,
  CanvasRenderingContext2D:
    OffscreenCanvasRenderingContext2D as unknown as typeof CanvasRenderingContext2D,
  Image: NoElement as unknown as typeof HTMLImageElement,
  ImageData,
  Video: NoElement as unknown as typeof HTMLVideoElement,
  createCanvasElement: () => new OffscreenCanvas(1, 1) as unknown as HTMLCanvasElement,
  createImageElement: () => new NoElement() as unknown as HTMLImageElement,
  createVideoElement: () => new NoElement() as unknown as HTMLVideoElement,
  fetch: (url: string, init?: RequestInit) => fetch(url, init),
  readFile: () => Promise.reject(new Error('no files in a browser')),
});

async function load(): Promise<string> {
  const tf = faceapi.tf as unknown as {
    setBackend(b: string): Promise<boolean>;
    ready(): Promise<void>;
    getBackend(): string;
  };
  try {
    if (!(await tf.setBackend('webgl'))) throw new Error('no webgl');
  } catch {
    await tf.setBackend('cpu');
  }
  await tf.ready();
  await faceapi.nets.tinyFaceDetector.loadFromUri(BASE);
  return tf.getBackend();
}
const ready = load();
ready.then(
  (backend) => scope.postMessage({ ready: true, backend }),
  (err: unknown) => scope.postMessage({ ready: false, error: String(err) }),
);

const options = new faceapi.TinyFaceDetectorOptions({ inputSize: 224, scoreThreshold: 0.4 });
let canvas: OffscreenCanvas | null = null;

scope.onmessage = (e: MessageEvent): void => {
  const { id, bitmap } = e.data as { id: number; bitmap: ImageBitmap };
  void ready
    .then(async () => {
      const w = bitmap.width;
      const h = bitmap.height;
      if (!canvas || canvas.width !== w || canvas.height !== h) canvas = new OffscreenCanvas(w, h);
      const c = canvas.getContext('2d', {
        willReadFrequently: true,
      }) as OffscreenCanvasRenderingContext2D;
      c.drawImage(bitmap, 0, 0);
      bitmap.close();
      const tensor = faceapi.tf.browser.fromPixels(c.getImageData(0, 0, w, h));
      try {
        const found = await faceapi.detectAllFaces(tensor as unknown as faceapi.TNetInput, options);
        const boxes = found.map((d) => ({
          x: d.box.x / w,
          y: d.box.y / h,
          w: d.box.width / w,
          h: d.box.height / h,
          score: d.score,
        }));
        scope.postMessage({ id, boxes });
      } finally {
        tensor.dispose();
      }
    })
    .catch((err: unknown) => {
      bitmap.close();
      scope.postMessage({ id, error: String(err) });
    });
};
