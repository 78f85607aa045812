/**
 * The local participant's media: microphone, camera and screen tracks, their mute state, device
 * switching. Lives before and across a room (the pre-join preview uses it), and tells the room
 * through events when a track changes so the room swaps it in with `replaceTrack`.
 */
import type { MediaState } from '@tfx/protocol';
import { Emitter } from './emitter.js';
import {
  MediaManager,
  type AcquireOptions,
  type CameraConstraints,
  type MediaMode,
  type MediaWarning,
} from './media.js';
import { TfxSdkError } from './errors.js';

export interface LocalMediaEvents {
  [event: string]: unknown;
  /** The microphone or camera track changed (device switch, camera turned on, stopped). */
  'track-changed': { readonly source: 'mic' | 'camera'; readonly track: MediaStreamTrack | null };
  /** Mute state changed (what peers see). */
  state: MediaState;
  /** A device went away (unplugged) or a track ended by itself. */
  'track-ended': { readonly source: 'mic' | 'camera' };
}

export class LocalMedia extends Emitter<LocalMediaEvents> {
  readonly devices: MediaManager;
  readonly warnings: readonly MediaWarning[];
  readonly camera: CameraConstraints | undefined;
  #audio: MediaStreamTrack | null;
  #video: MediaStreamTrack | null;
  #mode: MediaMode;
  #audioEnabled: boolean;
  #videoEnabled: boolean;
  #stream: MediaStream | null = null;
  #closed = false;

  private constructor(
    devices: MediaManager,
    acquired: {
      mode: MediaMode;
      audioTrack: MediaStreamTrack | null;
      videoTrack: MediaStreamTrack | null;
      warnings: readonly MediaWarning[];
    },
    options: AcquireOptions & { audioEnabled?: boolean; videoEnabled?: boolean },
  ) {
    super();
    this.devices = devices;
    this.warnings = acquired.warnings;
    this.camera = options.camera;
    this.#audio = acquired.audioTrack;
    this.#video = acquired.videoTrack;
    this.#mode = acquired.mode;
    this.#audioEnabled = options.audioEnabled ?? true;
    this.#videoEnabled = options.videoEnabled ?? true;
    this.#watch(this.#audio, 'mic');
    this.#watch(this.#video, 'camera');
    if (this.#audio) this.#audio.enabled = this.#audioEnabled;
    if (this.#video) this.#video.enabled = this.#videoEnabled;
  }

  /**
   * Opens the microphone and camera (with fallbacks, see `MediaManager.acquire`).
   * `audioEnabled`/`videoEnabled: false` opens the device but starts muted.
   */
  static async create(
    devices: MediaManager,
    options: AcquireOptions & { audioEnabled?: boolean; videoEnabled?: boolean } = {},
  ): Promise<LocalMedia> {
    const acquired = await devices.acquire(options);
    return new LocalMedia(devices, acquired, options);
  }

  /** No local media at all (receive-only). */
  static receiveOnly(devices: MediaManager): LocalMedia {
    return new LocalMedia(
      devices,
      { mode: 'receive-only', audioTrack: null, videoTrack: null, warnings: [] },
      {},
    );
  }

  get mode(): MediaMode {
    return this.#mode;
  }
  get audioTrack(): MediaStreamTrack | null {
    return this.#audio;
  }
  get videoTrack(): MediaStreamTrack | null {
    return this.#video;
  }
  /** What peers are told: audio/video are true when the track exists and is enabled. */
  get state(): MediaState {
    return {
      audio: !!this.#audio && this.#audioEnabled,
      video: !!this.#video && this.#videoEnabled,
    };
  }

  /** A stream with the current tracks (for a preview; its tracks follow device switches). */
  get stream(): MediaStream {
    if (!this.#stream) this.#stream = new MediaStream();
    const want = [this.#audio, this.#video].filter((t): t is MediaStreamTrack => t !== null);
    for (const t of this.#stream.getTracks()) if (!want.includes(t)) this.#stream.removeTrack(t);
    for (const t of want) if (!this.#stream.getTracks().includes(t)) this.#stream.addTrack(t);
    return this.#stream;
  }

  setAudioEnabled(on: boolean): void {
    this.#audioEnabled = on;
    if (this.#audio) this.#audio.enabled = on;
    this.emit('state', this.state);
  }

  /** Turns the camera on or off. Turning it on without a camera tries to open one. */
  async setVideoEnabled(on: boolean): Promise<void> {
    if (on && !this.#video) {
      const track = await this.devices.openDevice('video', undefined, this.camera);
      this.#setTrack('camera', track);
    }
    this.#videoEnabled = on;
    if (this.#video) this.#video.enabled = on;
    this.emit('state', this.state);
  }

  /** Stops and drops the camera (audio-only mode); `setVideoEnabled(true)` opens it again. */
  releaseVideo(): void {
    const v = this.#video;
    if (!v) return;
    this.#video = null;
    this.#videoEnabled = false;
    v.stop();
    this.#mode = this.#audio ? 'audio-only' : 'receive-only';
    this.emit('track-changed', { source: 'camera', track: null });
    this.emit('state', this.state);
  }

  /** Opens the microphone when there is none yet. */
  async ensureAudio(): Promise<void> {
    if (this.#audio) return;
    this.#setTrack('mic', await this.devices.openDevice('audio'));
    this.emit('state', this.state);
  }

  /**
   * Switches the microphone or camera to another device. The new track keeps the mute state; the
   * old one is stopped after the room has swapped the new one in (no renegotiation).
   */
  async switchDevice(
    kind: 'audioinput' | 'videoinput',
    deviceId: string,
  ): Promise<MediaStreamTrack> {
    this.#assertOpen();
    const media = kind === 'audioinput' ? 'audio' : 'video';
    const old = media === 'audio' ? this.#audio : this.#video;
    // Some devices cannot be opened twice: release the old one first when the new one fails.
    let track: MediaStreamTrack;
    try {
      track = await this.devices.openDevice(media, deviceId, this.camera);
    } catch (err) {
      if (!old) throw err;
      old.stop();
      track = await this.devices.openDevice(media, deviceId, this.camera);
    }
    this.#setTrack(media === 'audio' ? 'mic' : 'camera', track);
    old?.stop();
    return track;
  }

  /** Stops every track. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#audio?.stop();
    this.#video?.stop();
    this.removeAllListeners();
  }

  #setTrack(source: 'mic' | 'camera', track: MediaStreamTrack): void {
    if (source === 'mic') {
      this.#audio = track;
      track.enabled = this.#audioEnabled;
    } else {
      this.#video = track;
      track.enabled = this.#videoEnabled;
    }
    this.#mode =
      this.#audio && this.#video
        ? 'audio-video'
        : this.#audio
          ? 'audio-only'
          : this.#video
            ? 'video-only'
            : 'receive-only';
    this.#watch(track, source);
    this.emit('track-changed', { source, track });
  }

  #watch(track: MediaStreamTrack | null, source: 'mic' | 'camera'): void {
    track?.addEventListener('ended', () => {
      const current = source === 'mic' ? this.#audio : this.#video;
      if (current === track && !this.#closed) this.emit('track-ended', { source });
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new TfxSdkError('closed', 'local media is closed');
  }
}
