/**
 * The camera request boot.ts made before this script loaded, handed to the SDK: `devices()` is
 * the page's `MediaDevices` with a first `getUserMedia` that returns boot's stream when it asks
 * for the same constraints (the SDK's first attempt; its fallbacks then work as before, on that
 * request's outcome). A request nobody claims is stopped by `release()` (the page showed an error
 * screen, or asked for something else).
 */

/** The slot boot.ts fills (or finds claimed): `Symbol.for`, so both bundles see one key. */
export const EARLY_MEDIA = Symbol.for('tfx.earlyMedia');

interface Early {
  readonly constraints: MediaStreamConstraints;
  readonly stream: Promise<MediaStream>;
}

type Slot = { [EARLY_MEDIA]?: Early | 'claimed' };

export interface EarlyMedia {
  /** The page's `MediaDevices` with boot's request served to the first matching `getUserMedia`. */
  readonly devices: MediaDevices;
  /** Stops boot's stream if nobody took it. Idempotent. */
  release(): void;
}

function stopAll(p: Promise<MediaStream>): void {
  p.then((s) => s.getTracks().forEach((t) => t.stop())).catch(() => undefined);
}

/**
 * Claims boot's request (from now on boot.ts, if it runs later, asks for nothing); null when
 * there is none (boot.ts ran after this, or found no `getUserMedia`).
 */
export function claimEarlyMedia(
  md: MediaDevices | undefined,
  slot: Slot = globalThis as unknown as Slot,
): EarlyMedia | null {
  const found = slot[EARLY_MEDIA];
  slot[EARLY_MEDIA] = 'claimed';
  let early: Early | null = typeof found === 'object' && found !== null ? found : null;
  const release = (): void => {
    if (early) stopAll(early.stream);
    early = null;
  };
  if (!early || !md) {
    release();
    return null;
  }
  const getUserMedia = (c?: MediaStreamConstraints): Promise<MediaStream> => {
    const mine = early;
    if (mine && JSON.stringify(c) === JSON.stringify(mine.constraints)) {
      early = null;
      return mine.stream;
    }
    release();
    return md.getUserMedia(c);
  };
  const devices = new Proxy(md, {
    get(target, prop) {
      if (prop === 'getUserMedia') return getUserMedia;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { devices, release };
}
