/**
 * Sender caps by mesh size: every participant uploads one copy of its camera per peer, so the
 * per-peer bitrate and resolution go down as the room grows and a home uplink (~2–4 Mbit/s) copes.
 * Pure functions; `applyCaps` is the only one touching an `RTCRtpSender`.
 */

export interface SenderCaps {
  /** Maximum video bitrate per peer, bits/s. */
  readonly maxBitrate: number;
  /** Largest frame height sent, pixels (translated to `scaleResolutionDownBy`). */
  readonly maxHeight: number;
  /** Maximum frame rate. */
  readonly maxFramerate: number;
}

/** Caps for a camera track when the local participant sends to `peerCount` peers. */
export function cameraCaps(peerCount: number): SenderCaps {
  if (peerCount <= 1) return { maxBitrate: 1_500_000, maxHeight: 720, maxFramerate: 30 };
  if (peerCount === 2) return { maxBitrate: 900_000, maxHeight: 540, maxFramerate: 30 };
  if (peerCount === 3) return { maxBitrate: 600_000, maxHeight: 360, maxFramerate: 24 };
  if (peerCount === 4) return { maxBitrate: 450_000, maxHeight: 360, maxFramerate: 20 };
  return { maxBitrate: 300_000, maxHeight: 240, maxFramerate: 15 };
}

/** Caps for a screen track: resolution is kept (text must stay legible), bitrate and fps go down. */
export function screenCaps(peerCount: number): SenderCaps {
  const maxBitrate = peerCount <= 1 ? 2_500_000 : peerCount <= 3 ? 1_500_000 : 1_000_000;
  return { maxBitrate, maxHeight: 1080, maxFramerate: peerCount <= 2 ? 15 : 8 };
}

/** Audio bitrate per peer (Opus), bits/s. */
export function audioCaps(peerCount: number): number {
  return peerCount <= 3 ? 48_000 : 32_000;
}

/** `scaleResolutionDownBy` that brings a track of `height` under `maxHeight` (≥ 1). */
export function scaleFor(height: number | undefined, maxHeight: number): number {
  if (!height || height <= maxHeight) return 1;
  return Math.round((height / maxHeight) * 100) / 100;
}

/** The part of `RTCRtpSender` caps need, so tests can pass a fake. */
export interface ParameterizedSender {
  readonly track: { readonly kind: string; getSettings?(): { height?: number } } | null;
  getParameters(): RTCRtpSendParameters;
  setParameters(params: RTCRtpSendParameters): Promise<void>;
}

/** Computes new send parameters with the caps applied (pure). */
export function withCaps(
  params: RTCRtpSendParameters,
  kind: 'audio' | 'video',
  caps: SenderCaps | number,
  height?: number,
): RTCRtpSendParameters {
  const encodings = params.encodings.length > 0 ? params.encodings : [{}];
  const next = encodings.map((e) => {
    if (kind === 'audio') return { ...e, maxBitrate: caps as number };
    const c = caps as SenderCaps;
    return {
      ...e,
      maxBitrate: c.maxBitrate,
      maxFramerate: c.maxFramerate,
      scaleResolutionDownBy: scaleFor(height, c.maxHeight),
    };
  });
  return { ...params, encodings: next };
}

/** Whether two encodings lists carry the same caps (the fields `withCaps` writes). */
function sameCaps(a: readonly RTCRtpEncodingParameters[], b: readonly RTCRtpEncodingParameters[]) {
  return (
    a.length === b.length &&
    a.every(
      (e, i) =>
        e.maxBitrate === b[i]?.maxBitrate &&
        e.maxFramerate === b[i]?.maxFramerate &&
        e.scaleResolutionDownBy === b[i]?.scaleResolutionDownBy,
    )
  );
}

/**
 * Applies caps to a sender with `setParameters` (no renegotiation). Does nothing before the
 * sender has negotiated encodings (the SDK calls it again after each negotiation), nor when the
 * sender has these caps already (`setParameters` costs the page's main thread ~5 ms, and the
 * SDK calls this after every negotiation). Resolves true when it changed the parameters.
 */
export async function applyCaps(
  sender: ParameterizedSender,
  caps: { video: SenderCaps; audio: number },
): Promise<boolean> {
  const track = sender.track;
  if (!track) return false;
  const params = sender.getParameters();
  if (!params.encodings || params.encodings.length === 0) return false;
  const kind = track.kind === 'audio' ? 'audio' : 'video';
  const height = track.getSettings?.().height;
  const next = withCaps(params, kind, kind === 'audio' ? caps.audio : caps.video, height);
  if (sameCaps(params.encodings, next.encodings)) return false;
  await sender.setParameters(next);
  return true;
}
