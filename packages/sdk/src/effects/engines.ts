/**
 * The model engines behind the processors, as interfaces: the SDK composes frames; the app
 * supplies engines (the call page runs `@twilio/video-processors`' TFLite selfie-segmentation
 * model and `@vladmandic/face-api`'s tiny face detector in workers, assets from its own origin).
 * Another engine (MediaPipe tasks-vision with operator-hosted models) fits the same interface.
 */
import type { FaceBox } from './face-track.js';

/** Person segmentation: a mask whose alpha is the person's probability. */
export interface Segmenter {
  /** The size the model wants its input at (the pipeline resizes to it). */
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** One inference. The bitmap is transferred (the engine closes it). */
  segment(frame: ImageBitmap): Promise<ImageData>;
  close(): void;
}

/** Face detection: boxes in fractions of the frame. */
export interface FaceFinder {
  /** One detection. The bitmap is transferred (the engine closes it). */
  detect(frame: ImageBitmap): Promise<FaceBox[]>;
  close(): void;
}

/** Factories, called when a chain first needs the engine (models load lazily). */
export interface EffectEngines {
  readonly segmenter?: () => Promise<Segmenter>;
  readonly faceFinder?: () => Promise<FaceFinder>;
  /** Resolves a built-in background name to an image URL on the app's origin. */
  readonly backgroundUrl?: (name: string) => string;
}
