/**
 * The call page's first script: it asks for the camera and microphone before the page's own
 * script (the SDK, ~100 KB) has loaded, the way a minimal page asks first thing (bench/call;
 * docs/benchmarks.md, "Call"). A separate entry with no imports, built and then copied inline
 * into room.html right after its title (vite.config.ts, `roomBoot`; the server's CSP allows it
 * by its hash), so it runs as soon as the document arrives, without a request of its own.
 *
 * It hands the request to main.ts through `EARLY_MEDIA` (early-media.ts), which gives it to the
 * SDK's first `getUserMedia` if that asks for the same constraints, and stops it otherwise.
 * Whichever of the two runs first claims the slot: when main.ts is first (a cached page), this
 * does nothing.
 */
// Kept in step with early-media.ts (EARLY_MEDIA) and the SDK's media.ts (audioConstraints,
// videoConstraints, DEFAULT_CAMERA); packages/web/test/early-media.test.ts checks both.
const EARLY_MEDIA = Symbol.for('tfx.earlyMedia');

/** The constraints of the SDK's first `getUserMedia` for this page's URL (`cam=WxH@FPS`). */
export function bootConstraints(search: string): MediaStreamConstraints {
  const cam = /^(\d{2,4})x(\d{2,4})(?:@(\d{1,2}))?$/.exec(
    new URLSearchParams(search).get('cam') ?? '',
  );
  const width = cam ? Number(cam[1]) : 640;
  const height = cam ? Number(cam[2]) : 480;
  const frameRate = cam?.[3] ? Number(cam[3]) : 30;
  return {
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    video: {
      width: { ideal: width },
      height: { ideal: height },
      frameRate: { ideal: frameRate, max: frameRate },
    },
  };
}

const g = globalThis as { [EARLY_MEDIA]?: unknown };
const md = globalThis.navigator?.mediaDevices;
if (g[EARLY_MEDIA] === undefined && typeof md?.getUserMedia === 'function') {
  const constraints = bootConstraints(location.search);
  const stream = md.getUserMedia(constraints);
  // Not unhandled: main.ts hands the rejection to the SDK (its fallbacks), or drops it.
  stream.catch(() => undefined);
  g[EARLY_MEDIA] = { constraints, stream };
}
