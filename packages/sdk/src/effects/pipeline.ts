/**
 * The video effects pipeline: the camera track in, a processed track out, one chain of steps
 * (segmentation → colour filter → face overlay and widget shapes) composed on a canvas.
 *
 * Stages, in order, for every camera frame:
 *   1. source  — `MediaStreamTrackProcessor` (a `VideoFrame` per frame) where the browser has it,
 *                else a `<video>` read by `requestVideoFrameCallback`;
 *   2. models  — at most one segmentation and one face detection in flight, each in the engine's
 *                worker at ≤ 640×360 and at most `inferFps` / 2 per second; between inferences the
 *                last mask and the last face box are reused (as Meet and Jitsi do);
 *   3. compose — background (blurred frame or picture) under the person cut out by the mask, then
 *                the colour filter (`ctx.filter`), then overlays;
 *   4. sink    — `MediaStreamTrackGenerator` (a `VideoFrame` per frame), else `canvas.captureStream()`.
 * Each frame's main-thread cost goes to the governor, which steps size and inference rate down
 * and finally switches processing off (`auto-off`).
 */
import type { OverlayShape, VideoProcessorChain, VideoProcessorStep } from '@tfx/protocol/widgets';
import { Emitter } from '../emitter.js';
import type { EffectEngines, FaceFinder, Segmenter } from './engines.js';
import { cssFilter } from './filters.js';
import { FaceTrack, type FaceBox } from './face-track.js';
import { EffectsGovernor, quantile, workingSize } from './governor.js';
import { drawShapes, drawFaceOverlay } from './overlay.js';

export interface PipelineStats {
  readonly frames: number;
  readonly composeP50: number;
  readonly composeP95: number;
  readonly inferences: number;
  readonly inferP50: number;
  readonly inferP95: number;
  readonly detections: number;
  readonly faces: number;
  readonly level: number;
  readonly width: number;
  readonly height: number;
  readonly path: 'generator' | 'canvas';
}

export interface PipelineEvents {
  [event: string]: unknown;
  /** Stepped down a level (smaller, fewer inferences). */
  level: { readonly level: number; readonly p50: number };
  /** Switched itself off: the device cannot keep up. The output track then passes frames through. */
  'auto-off': { readonly p50: number; readonly budgetMs: number };
  /** A model failed to load or run; its step is skipped. */
  'engine-error': { readonly engine: 'segmenter' | 'face'; readonly error: unknown };
  /** Faces seen by the last detection. */
  faces: { readonly boxes: readonly FaceBox[] };
}

export interface PipelineOptions {
  readonly engines: EffectEngines;
  /** Main-thread cost allowed per frame, p50 over 30 frames, ms (default 40). */
  readonly frameBudgetMs?: number;
  /** Frame rate of the canvas fallback's output (default 15). */
  readonly fps?: number;
  /** Text for a badge without a label. */
  readonly displayName?: () => string;
  /** Force the canvas path (tests, browsers without insertable streams). */
  readonly forceCanvas?: boolean;
}

type Ctx2D = OffscreenCanvasRenderingContext2D;
const FACE_PER_SECOND = 2;
const WINDOW = 200;

declare const MediaStreamTrackProcessor: {
  new (init: { track: MediaStreamTrack }): { readable: ReadableStream<VideoFrame> };
};
declare const MediaStreamTrackGenerator: {
  new (init: { kind: 'video' }): MediaStreamTrack & { writable: WritableStream<VideoFrame> };
};

/** Whether this browser has the insertable-streams path (else the canvas path). */
export function hasInsertableStreams(): boolean {
  return (
    typeof globalThis !== 'undefined' &&
    'MediaStreamTrackProcessor' in globalThis &&
    'MediaStreamTrackGenerator' in globalThis &&
    'VideoFrame' in globalThis
  );
}

export class VideoEffectsPipeline extends Emitter<PipelineEvents> {
  readonly output: MediaStreamTrack;
  readonly path: 'generator' | 'canvas';
  readonly governor: EffectsGovernor;
  readonly #source: MediaStreamTrack;
  readonly #o: PipelineOptions;
  #chain: VideoProcessorChain;
  #closed = false;
  #off = false;
  // canvases
  readonly #out: OffscreenCanvas | HTMLCanvasElement;
  readonly #octx: Ctx2D;
  readonly #work = new OffscreenCanvas(2, 2);
  readonly #wctx: Ctx2D;
  readonly #mask = new OffscreenCanvas(2, 2);
  readonly #mctx: Ctx2D;
  // models
  #seg: Segmenter | null = null;
  #segLoading: Promise<void> | null = null;
  #segBusy = false;
  #segAt = -Infinity;
  #haveMask = false;
  #face: FaceFinder | null = null;
  #faceLoading: Promise<void> | null = null;
  #faceBusy = false;
  #faceAt = -Infinity;
  readonly #track = new FaceTrack();
  #background: ImageBitmap | null = null;
  #backgroundKey = '';
  // overlays by owner (a widget id, or '' for the app)
  readonly #shapes = new Map<string, readonly OverlayShape[]>();
  // stats
  #frames = 0;
  #compose: number[] = [];
  #infer: number[] = [];
  #inferences = 0;
  #detections = 0;
  #faces = 0;
  // canvas path
  #video: HTMLVideoElement | null = null;
  #stopSource: (() => void) | null = null;

  constructor(source: MediaStreamTrack, chain: VideoProcessorChain, o: PipelineOptions) {
    super();
    this.#source = source;
    this.#chain = chain;
    this.#o = o;
    this.governor = new EffectsGovernor({ budgetMs: o.frameBudgetMs ?? 40 });
    this.#wctx = this.#work.getContext('2d') as Ctx2D;
    this.#mctx = this.#mask.getContext('2d') as Ctx2D;
    if (hasInsertableStreams() && !o.forceCanvas) {
      this.path = 'generator';
      this.#out = new OffscreenCanvas(2, 2);
      this.#octx = this.#out.getContext('2d') as Ctx2D;
      const gen = new MediaStreamTrackGenerator({ kind: 'video' });
      this.output = gen;
      this.#runGenerator(gen);
    } else {
      this.path = 'canvas';
      const canvas = document.createElement('canvas');
      this.#out = canvas;
      this.#octx = canvas.getContext('2d') as unknown as Ctx2D;
      const track = canvas.captureStream(o.fps ?? 15).getVideoTracks()[0];
      if (!track) throw new Error('canvas.captureStream gave no track');
      this.output = track;
      this.#runCanvas();
    }
    this.#prepare();
  }

  get chain(): VideoProcessorChain {
    return this.#chain;
  }
  /** True after the governor switched processing off (frames pass through unchanged). */
  get autoOff(): boolean {
    return this.#off;
  }

  /** Changes the chain in place (the output track stays the same: no `replaceTrack`). */
  setChain(chain: VideoProcessorChain): void {
    this.#chain = chain;
    this.#off = false;
    this.governor.reset();
    this.#haveMask = false;
    this.#prepare();
  }

  /** Shapes drawn into the outgoing video for one owner (`[]` removes them). */
  setShapes(owner: string, shapes: readonly OverlayShape[]): void {
    if (shapes.length) this.#shapes.set(owner, shapes);
    else this.#shapes.delete(owner);
    if (shapes.length) this.#ensureFace();
  }

  stats(): PipelineStats {
    const lvl = this.governor.current;
    const size = workingSize(
      this.#source.getSettings().width ?? 640,
      this.#source.getSettings().height ?? 360,
      lvl.maxWidth,
    );
    return {
      frames: this.#frames,
      composeP50: quantile(this.#compose, 0.5),
      composeP95: quantile(this.#compose, 0.95),
      inferences: this.#inferences,
      inferP50: quantile(this.#infer, 0.5),
      inferP95: quantile(this.#infer, 0.95),
      detections: this.#detections,
      faces: this.#faces,
      level: this.governor.level,
      width: size.w,
      height: size.h,
      path: this.path,
    };
  }

  /** Stops the pipeline and the output track (not the source). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopSource?.();
    this.output.stop();
    this.#seg?.close();
    this.#face?.close();
    this.#background?.close();
    if (this.#video) this.#video.srcObject = null;
    this.removeAllListeners();
  }

  // --- sources and sinks ---------------------------------------------------------------------

  #runGenerator(gen: MediaStreamTrack & { writable: WritableStream<VideoFrame> }): void {
    const proc = new MediaStreamTrackProcessor({ track: this.#source });
    const abort = new AbortController();
    this.#stopSource = () => abort.abort();
    const transform = new TransformStream<VideoFrame, VideoFrame>({
      transform: (frame, ctl) => {
        try {
          if (this.#closed) return;
          this.#frame(frame, frame.displayWidth, frame.displayHeight, frame.timestamp / 1000);
          ctl.enqueue(
            new VideoFrame(this.#out as OffscreenCanvas, {
              timestamp: frame.timestamp,
              alpha: 'discard',
            }),
          );
        } finally {
          frame.close();
        }
      },
    });
    void proc.readable
      .pipeThrough(transform, { signal: abort.signal })
      .pipeTo(gen.writable, { signal: abort.signal })
      .catch(() => undefined);
  }

  #runCanvas(): void {
    const v = document.createElement('video');
    v.muted = true;
    v.playsInline = true;
    v.srcObject = new MediaStream([this.#source]);
    this.#video = v;
    void v.play().catch(() => undefined);
    let handle = 0;
    const tick = (now: number): void => {
      if (this.#closed) return;
      if (v.videoWidth > 0) this.#frame(v, v.videoWidth, v.videoHeight, now);
      handle = v.requestVideoFrameCallback(tick);
    };
    handle = v.requestVideoFrameCallback(tick);
    this.#stopSource = () => v.cancelVideoFrameCallback(handle);
  }

  // --- one frame -----------------------------------------------------------------------------

  #frame(src: CanvasImageSource, sw: number, sh: number, now: number): void {
    const t0 = performance.now();
    const lvl = this.governor.current;
    const { w, h } = workingSize(sw, sh, this.#off ? 640 : lvl.maxWidth);
    const out = this.#out;
    if (out.width !== w || out.height !== h) {
      out.width = w;
      out.height = h;
    }
    const o = this.#octx;
    o.filter = 'none';
    o.globalCompositeOperation = 'source-over';
    if (this.#off || this.#chain.length === 0) {
      o.drawImage(src, 0, 0, w, h);
      this.#frames++;
      return;
    }
    const seg = this.#chain.find((s) => s.type === 'blur' || s.type === 'background-image');
    const filter = this.#chain.find((s) => s.type === 'filter');
    const face = this.#chain.find((s) => s.type === 'face-overlay');
    const needFace = face !== undefined || this.#shapes.size > 0;

    // compose into the work canvas
    const wk = this.#work;
    if (wk.width !== w || wk.height !== h) {
      wk.width = w;
      wk.height = h;
    }
    const c = this.#wctx;
    c.globalCompositeOperation = 'source-over';
    c.filter = 'none';
    // The face track runs on the page clock (detections are stamped with it too).
    const box = needFace ? this.#track.at(performance.now()) : null;
    let view: { sx: number; sy: number; sw: number; sh: number } = { sx: 0, sy: 0, sw, sh };
    if (face?.style === 'centre' && box) view = centreCrop(box, sw, sh);

    // models: start an inference when the last one is done and its interval has passed. The mask
    // is of what is shown (the crop, with "centre"); faces are found in the whole frame.
    if (seg && this.#seg && !this.#segBusy && now - this.#segAt >= 1000 / lvl.inferFps)
      this.#startSegment(src, view, now);
    if (needFace && this.#face && !this.#faceBusy && now - this.#faceAt >= 1000 / FACE_PER_SECOND)
      this.#startDetect(src, sw, sh, now);
    if (seg && this.#haveMask) {
      // person: the mask (upscaled, edges softened), then the frame drawn inside it
      c.clearRect(0, 0, w, h);
      c.filter = 'blur(2px)';
      c.drawImage(this.#mask, 0, 0, w, h);
      c.filter = 'none';
      c.globalCompositeOperation = 'source-in';
      c.drawImage(src, view.sx, view.sy, view.sw, view.sh, 0, 0, w, h);
      // background under it
      c.globalCompositeOperation = 'destination-over';
      if (seg.type === 'blur') {
        const r = ((seg.strength ?? 10) * w) / 640;
        c.filter = `blur(${Math.max(1, Math.round(r))}px)`;
        c.drawImage(src, view.sx, view.sy, view.sw, view.sh, 0, 0, w, h);
        c.filter = 'none';
      } else if (this.#background) {
        drawCover(c, this.#background, w, h);
      } else {
        c.fillStyle = '#3a4454';
        c.fillRect(0, 0, w, h);
      }
      c.globalCompositeOperation = 'source-over';
    } else {
      c.drawImage(src, view.sx, view.sy, view.sw, view.sh, 0, 0, w, h);
    }

    // colour filter, then overlays
    o.filter = filter ? cssFilter(filter.name, filter.intensity ?? 1) : 'none';
    o.drawImage(wk, 0, 0);
    o.filter = 'none';
    const shownBox = box && face?.style === 'centre' ? centredBox(box, view, sw, sh) : box;
    if (face && shownBox) drawFaceOverlay(o, face, shownBox, w, h, this.#o.displayName?.() ?? '');
    for (const shapes of this.#shapes.values()) drawShapes(o, shapes, shownBox, w, h);

    const cost = performance.now() - t0;
    this.#frames++;
    push(this.#compose, cost);
    const d = this.governor.record(cost);
    if (d.kind === 'down') {
      this.#haveMask = false;
      this.emit('level', { level: d.level, p50: d.p50 });
    } else if (d.kind === 'off') {
      this.#off = true;
      this.emit('auto-off', { p50: d.p50, budgetMs: this.governor.budgetMs });
    }
  }

  #startSegment(
    src: CanvasImageSource,
    view: { sx: number; sy: number; sw: number; sh: number },
    now: number,
  ): void {
    const seg = this.#seg;
    if (!seg) return;
    this.#segBusy = true;
    this.#segAt = now;
    const t0 = performance.now();
    createImageBitmap(src as ImageBitmapSource, view.sx, view.sy, view.sw, view.sh, {
      resizeWidth: seg.inputWidth,
      resizeHeight: seg.inputHeight,
      resizeQuality: 'low',
    })
      .then((bmp) => seg.segment(bmp))
      .then((mask) => {
        if (this.#closed) return;
        if (this.#mask.width !== mask.width || this.#mask.height !== mask.height) {
          this.#mask.width = mask.width;
          this.#mask.height = mask.height;
        }
        this.#mctx.putImageData(mask, 0, 0);
        this.#haveMask = true;
        this.#inferences++;
        push(this.#infer, performance.now() - t0);
      })
      .catch((error: unknown) => this.emit('engine-error', { engine: 'segmenter', error }))
      .finally(() => {
        this.#segBusy = false;
      });
  }

  #startDetect(src: CanvasImageSource, sw: number, sh: number, now: number): void {
    const face = this.#face;
    if (!face) return;
    this.#faceBusy = true;
    this.#faceAt = now;
    // At most 640×360 into the detector (the tiny detector works at 224 anyway).
    const { w, h } = workingSize(sw, sh, 640);
    createImageBitmap(src as ImageBitmapSource, { resizeWidth: w, resizeHeight: h })
      .then((bmp) => face.detect(bmp))
      .then((boxes) => {
        if (this.#closed) return;
        this.#detections++;
        this.#faces = boxes.length;
        this.#track.detected(boxes, performance.now());
        this.emit('faces', { boxes });
      })
      .catch((error: unknown) => this.emit('engine-error', { engine: 'face', error }))
      .finally(() => {
        this.#faceBusy = false;
      });
  }

  // --- engines and assets --------------------------------------------------------------------

  #prepare(): void {
    const seg = this.#chain.find(
      (s): s is Extract<VideoProcessorStep, { type: 'blur' | 'background-image' }> =>
        s.type === 'blur' || s.type === 'background-image',
    );
    if (seg && !this.#seg && !this.#segLoading && this.#o.engines.segmenter) {
      this.#segLoading = this.#o.engines
        .segmenter()
        .then((s) => {
          if (this.#closed) s.close();
          else this.#seg = s;
        })
        .catch((error: unknown) => this.emit('engine-error', { engine: 'segmenter', error }));
    }
    if (this.#chain.some((s) => s.type === 'face-overlay')) this.#ensureFace();
    if (seg?.type === 'background-image') {
      const url =
        seg.url ??
        (seg.background ? this.#o.engines.backgroundUrl?.(seg.background) : undefined) ??
        '';
      if (url && url !== this.#backgroundKey) {
        this.#backgroundKey = url;
        void loadBitmap(url)
          .then((b) => {
            if (this.#closed || this.#backgroundKey !== url) return b.close();
            this.#background?.close();
            this.#background = b;
          })
          .catch((error: unknown) => this.emit('engine-error', { engine: 'segmenter', error }));
      }
    }
  }

  #ensureFace(): void {
    if (this.#face || this.#faceLoading || !this.#o.engines.faceFinder) return;
    this.#faceLoading = this.#o.engines
      .faceFinder()
      .then((f) => {
        if (this.#closed) f.close();
        else this.#face = f;
      })
      .catch((error: unknown) => this.emit('engine-error', { engine: 'face', error }));
  }
}

function push(xs: number[], v: number): void {
  xs.push(v);
  if (xs.length > WINDOW) xs.splice(0, xs.length - WINDOW);
}

async function loadBitmap(url: string): Promise<ImageBitmap> {
  // Only local images reach here (the spec schema refuses other hosts): data:, blob:, /path.
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`background ${url}: HTTP ${res.status}`);
  return createImageBitmap(await res.blob());
}

function drawCover(c: Ctx2D, img: ImageBitmap, w: number, h: number): void {
  const s = Math.max(w / img.width, h / img.height);
  const dw = img.width * s;
  const dh = img.height * s;
  c.drawImage(img, (w - dw) / 2, (h - dh) / 2, dw, dh);
}

/** The source rectangle that puts the face in the middle at about a third of the height. */
function centreCrop(
  b: FaceBox,
  sw: number,
  sh: number,
): { sx: number; sy: number; sw: number; sh: number } {
  const zoom = Math.min(1.6, Math.max(1, 0.33 / Math.max(0.01, b.h)));
  const cw = sw / zoom;
  const ch = sh / zoom;
  const cx = (b.x + b.w / 2) * sw;
  const cy = (b.y + b.h / 2) * sh;
  const sx = Math.min(sw - cw, Math.max(0, cx - cw / 2));
  const sy = Math.min(sh - ch, Math.max(0, cy - ch / 2));
  return { sx, sy, sw: cw, sh: ch };
}

/** The face box in the cropped view's fractions. */
function centredBox(
  b: FaceBox,
  v: { sx: number; sy: number; sw: number; sh: number },
  sw: number,
  sh: number,
): FaceBox {
  return {
    x: (b.x * sw - v.sx) / v.sw,
    y: (b.y * sh - v.sy) / v.sh,
    w: (b.w * sw) / v.sw,
    h: (b.h * sh) / v.sh,
  };
}
