/**
 * Local media: `getUserMedia` with fallbacks (camera + microphone → microphone only → camera only
 * → receive-only), device lists, device switching (a new track that the room swaps in with
 * `replaceTrack`), and screen capture. Takes the `MediaDevices` object by injection.
 */
import { TfxSdkError } from './errors.js';

/** How much local media we ended up with. */
export type MediaMode = 'audio-video' | 'audio-only' | 'video-only' | 'receive-only';

export interface CameraConstraints {
  readonly width?: number;
  readonly height?: number;
  readonly frameRate?: number;
}

export interface AcquireOptions {
  /** Ask for a microphone. Default true. */
  readonly audio?: boolean;
  /** Ask for a camera. Default true. */
  readonly video?: boolean;
  readonly audioDeviceId?: string | undefined;
  readonly videoDeviceId?: string | undefined;
  /** Camera size and rate asked for (ideal values). Default 640x480 at 30 fps. */
  readonly camera?: CameraConstraints | undefined;
}

/** Why a fallback was taken (for a notice in the UI). */
export interface MediaWarning {
  readonly code: 'permission-denied' | 'no-device' | 'device-in-use' | 'unsupported-browser';
  readonly kind: 'audio' | 'video' | 'both';
  readonly message: string;
}

export interface AcquiredMedia {
  readonly mode: MediaMode;
  readonly audioTrack: MediaStreamTrack | null;
  readonly videoTrack: MediaStreamTrack | null;
  readonly warnings: readonly MediaWarning[];
}

export interface DeviceLists {
  readonly audioinput: readonly MediaDeviceInfo[];
  readonly videoinput: readonly MediaDeviceInfo[];
  readonly audiooutput: readonly MediaDeviceInfo[];
}

export const DEFAULT_CAMERA: Required<CameraConstraints> = {
  width: 640,
  height: 480,
  frameRate: 30,
};

export function videoConstraints(
  camera: CameraConstraints | undefined,
  deviceId?: string,
): MediaTrackConstraints {
  const c = { ...DEFAULT_CAMERA, ...camera };
  return {
    width: { ideal: c.width },
    height: { ideal: c.height },
    frameRate: { ideal: c.frameRate, max: c.frameRate },
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
  };
}

export function audioConstraints(deviceId?: string): MediaTrackConstraints {
  return {
    echoCancellation: true,
    noiseSuppression: true,
    autoGainControl: true,
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
  };
}

function errorName(err: unknown): string {
  return err && typeof err === 'object' && 'name' in err
    ? String((err as { name: unknown }).name)
    : '';
}

/** Maps a getUserMedia DOMException to a warning code. */
export function classifyMediaError(err: unknown): MediaWarning['code'] {
  switch (errorName(err)) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'permission-denied';
    case 'NotReadableError':
    case 'AbortError':
      return 'device-in-use';
    case 'TypeError':
      return 'unsupported-browser';
    default:
      // NotFoundError, OverconstrainedError
      return 'no-device';
  }
}

/** Whether this browser has what a call needs. */
export function browserSupport(
  g: { navigator?: Navigator; RTCPeerConnection?: unknown } = globalThis,
): {
  readonly ok: boolean;
  readonly missing: readonly string[];
} {
  const missing: string[] = [];
  if (typeof g.RTCPeerConnection !== 'function') missing.push('RTCPeerConnection');
  if (!g.navigator?.mediaDevices?.getUserMedia) missing.push('getUserMedia (needs HTTPS)');
  const proto = (g.RTCPeerConnection as { prototype?: object } | undefined)?.prototype;
  if (proto && !('restartIce' in proto)) missing.push('RTCPeerConnection.restartIce');
  return { ok: missing.length === 0, missing };
}

export class MediaManager {
  readonly #devices: MediaDevices;

  constructor(devices: MediaDevices) {
    this.#devices = devices;
  }

  /**
   * Gets the microphone and camera asked for, falling back step by step rather than failing:
   * both → microphone only → camera only → receive-only. Never throws for a missing or denied
   * device; the warnings say what happened.
   */
  async acquire(options: AcquireOptions = {}): Promise<AcquiredMedia> {
    const wantAudio = options.audio ?? true;
    const wantVideo = options.video ?? true;
    const warnings: MediaWarning[] = [];
    const audio = wantAudio ? audioConstraints(options.audioDeviceId) : false;
    const video = wantVideo ? videoConstraints(options.camera, options.videoDeviceId) : false;
    const attempts: Array<{
      audio: MediaTrackConstraints | false;
      video: MediaTrackConstraints | false;
    }> = [];
    if (audio && video) attempts.push({ audio, video });
    if (audio) attempts.push({ audio, video: false });
    if (video) attempts.push({ audio: false, video });
    let denied = false;
    for (const a of attempts) {
      if (denied) break;
      try {
        const stream = await this.#devices.getUserMedia(a);
        const audioTrack = stream.getAudioTracks()[0] ?? null;
        const videoTrack = stream.getVideoTracks()[0] ?? null;
        if (wantAudio && !audioTrack) warnings.push(missingWarning('audio', warnings));
        if (wantVideo && !videoTrack) warnings.push(missingWarning('video', warnings));
        const mode: MediaMode =
          audioTrack && videoTrack ? 'audio-video' : audioTrack ? 'audio-only' : 'video-only';
        return { mode, audioTrack, videoTrack, warnings: dedupe(warnings) };
      } catch (err) {
        const code = classifyMediaError(err);
        const kind = a.audio && a.video ? 'both' : a.audio ? 'audio' : 'video';
        warnings.push({ code, kind, message: err instanceof Error ? err.message : String(err) });
        if (code === 'permission-denied' || code === 'unsupported-browser') denied = true;
      }
    }
    return { mode: 'receive-only', audioTrack: null, videoTrack: null, warnings: dedupe(warnings) };
  }

  /** Devices by kind. Labels are empty until the page has had media permission once. */
  async listDevices(): Promise<DeviceLists> {
    const all = await this.#devices.enumerateDevices();
    return {
      audioinput: all.filter((d) => d.kind === 'audioinput'),
      videoinput: all.filter((d) => d.kind === 'videoinput'),
      audiooutput: all.filter((d) => d.kind === 'audiooutput'),
    };
  }

  /** Opens one device and returns its track (the caller swaps it in and stops the old one). */
  async openDevice(
    kind: 'audio' | 'video',
    deviceId?: string,
    camera?: CameraConstraints,
  ): Promise<MediaStreamTrack> {
    try {
      const stream = await this.#devices.getUserMedia(
        kind === 'audio'
          ? { audio: audioConstraints(deviceId) }
          : { video: videoConstraints(camera, deviceId) },
      );
      const track = kind === 'audio' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
      if (!track) throw new TfxSdkError('no-device', `no ${kind} track`);
      return track;
    } catch (err) {
      if (err instanceof TfxSdkError) throw err;
      throw new TfxSdkError(
        classifyMediaError(err),
        err instanceof Error ? err.message : String(err),
        { cause: err },
      );
    }
  }

  /** Captures a screen, window or tab. */
  async captureScreen(withAudio = false): Promise<MediaStream> {
    if (!this.#devices.getDisplayMedia)
      throw new TfxSdkError('unsupported-browser', 'screen sharing is not supported');
    try {
      const stream = await this.#devices.getDisplayMedia({
        video: { frameRate: { ideal: 15, max: 30 } },
        audio: withAudio,
      });
      for (const t of stream.getVideoTracks()) t.contentHint = 'detail';
      return stream;
    } catch (err) {
      const code = classifyMediaError(err);
      throw new TfxSdkError(
        code === 'permission-denied' ? 'permission-denied' : 'screen-share-failed',
        err instanceof Error ? err.message : String(err),
        {
          cause: err,
        },
      );
    }
  }
}

function missingWarning(kind: 'audio' | 'video', prior: readonly MediaWarning[]): MediaWarning {
  const earlier = prior.find((w) => w.kind === kind || w.kind === 'both');
  return earlier ? { ...earlier, kind } : { code: 'no-device', kind, message: `no ${kind} device` };
}

function dedupe(ws: readonly MediaWarning[]): MediaWarning[] {
  const seen = new Set<string>();
  return ws.filter((w) => {
    const k = `${w.code}:${w.kind}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
