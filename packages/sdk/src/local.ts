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
import type { VideoProcessorChain, VideoProcessorSpec, OverlayShape } from '@tfx/protocol/widgets';
import type { EffectEngines } from './effects/engines.js';
import type { PipelineStats, VideoEffectsPipeline } from './effects/pipeline.js';

/** How the video effects run (the engines come from the app; see docs/effects.md). */
export interface EffectsOptions {
  readonly engines: EffectEngines;
  /** Main-thread cost allowed per frame, p50 over 30 frames, ms (default 40). */
  readonly frameBudgetMs?: number;
  /** Text of a name badge without a label. */
  readonly displayName?: () => string;
  /** Use the canvas fallback even where insertable streams exist. */
  readonly forceCanvas?: boolean;
}

export interface EffectsState {
  /** The chain asked for (`[]`: none). */
  readonly chain: VideoProcessorChain;
  /** Whether frames are being processed now (false when off, auto-off, or no camera). */
  readonly active: boolean;
  /** Set when the pipeline switched itself off or stepped down, for a notice. */
  readonly notice?: { readonly kind: 'auto-off' | 'level' | 'engine-error'; readonly text: string };
}

export interface LocalMediaEvents {
  [event: string]: unknown;
  /** The microphone or camera track changed (device switch, camera turned on, stopped). */
  'track-changed': { readonly source: 'mic' | 'camera'; readonly track: MediaStreamTrack | null };
  /** Mute state changed (what peers see). */
  state: MediaState;
  /** A device went away (unplugged) or a track ended by itself. */
  'track-ended': { readonly source: 'mic' | 'camera' };
  /** The video effects changed (set, stepped down, switched off by themselves). */
  effects: EffectsState;
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
  #effectsOptions: EffectsOptions | undefined;
  #chain: VideoProcessorChain = [];
  #pipeline: VideoEffectsPipeline | null = null;
  #shapes = new Map<string, readonly OverlayShape[]>();
  #effectsSeq = 0;

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
  /** The video track sent and shown: the processed one while effects run, else the camera's. */
  get videoTrack(): MediaStreamTrack | null {
    return this.#pipeline && this.#video ? this.#pipeline.output : this.#video;
  }
  /** The camera's own track (before effects). */
  get cameraTrack(): MediaStreamTrack | null {
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
    const want = [this.#audio, this.videoTrack].filter((t): t is MediaStreamTrack => t !== null);
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
    if (this.#pipeline) this.#pipeline.output.enabled = on;
    this.emit('state', this.state);
  }

  // --- video effects ---------------------------------------------------------------------------

  /** Gives the effects their engines (models) and budget. Needed before a model step runs. */
  configureEffects(options: EffectsOptions): void {
    this.#effectsOptions = options;
  }

  /** The chain asked for and whether it runs. */
  get effects(): EffectsState {
    return { chain: this.#chain, active: this.#pipeline !== null && !this.#pipeline.autoOff };
  }

  /** Stats of the running pipeline (frame and inference times), if any. */
  effectsStats(): PipelineStats | null {
    return this.#pipeline?.stats() ?? null;
  }

  /**
   * Sets the video effects (a step, a chain, or `null` for none). The processed track replaces
   * the camera's in the preview and, through `track-changed`, on every peer link
   * (`replaceTrack`, no renegotiation). Changing one chain for another keeps the same track.
   * Throws `bad-request` for an invalid spec.
   */
  async setVideoProcessor(spec: VideoProcessorSpec): Promise<VideoProcessorChain> {
    this.#assertOpen();
    const seq = ++this.#effectsSeq;
    const { checkVideoProcessorSpec } = await import('@tfx/protocol');
    const r = checkVideoProcessorSpec(spec);
    if (!r.ok) throw new TfxSdkError('bad-request', `video processor: ${r.error}`);
    if (seq !== this.#effectsSeq || this.#closed) return r.chain;
    this.#chain = r.chain;
    await this.#applyEffects();
    this.emit('effects', this.effects);
    return r.chain;
  }

  /** Shapes drawn into the outgoing video for one owner (a widget id); `[]` removes them. */
  async setOverlayShapes(owner: string, shapes: readonly OverlayShape[]): Promise<void> {
    this.#assertOpen();
    if (shapes.length) this.#shapes.set(owner, shapes);
    else this.#shapes.delete(owner);
    if (this.#pipeline) this.#pipeline.setShapes(owner, shapes);
    else if (shapes.length) await this.#applyEffects();
  }

  /** Builds, updates or tears down the pipeline for the current chain and camera. */
  async #applyEffects(): Promise<void> {
    const want = (this.#chain.length > 0 || this.#shapes.size > 0) && this.#video !== null;
    const old = this.#pipeline;
    if (!want) {
      if (!old) return;
      this.#pipeline = null;
      this.emit('track-changed', { source: 'camera', track: this.#video });
      old.close();
      return;
    }
    if (old && !old.autoOff && old.output.readyState === 'live') {
      old.setChain(this.#chain);
      return;
    }
    const video = this.#video as MediaStreamTrack;
    const { VideoEffectsPipeline } = await import('./effects/pipeline.js');
    if (this.#closed || video !== this.#video) return;
    const o = this.#effectsOptions;
    const p = new VideoEffectsPipeline(video, this.#chain, {
      engines: o?.engines ?? {},
      ...(o?.frameBudgetMs !== undefined ? { frameBudgetMs: o.frameBudgetMs } : {}),
      ...(o?.displayName ? { displayName: o.displayName } : {}),
      ...(o?.forceCanvas ? { forceCanvas: true } : {}),
    });
    for (const [owner, shapes] of this.#shapes) p.setShapes(owner, shapes);
    p.output.enabled = this.#videoEnabled;
    p.on('level', ({ level, p50 }) =>
      this.emit('effects', {
        ...this.effects,
        notice: {
          kind: 'level',
          text: `Video effects made lighter (step ${level}): ${p50.toFixed(0)} ms per frame`,
        },
      }),
    );
    p.on('auto-off', ({ p50, budgetMs }) => {
      if (this.#pipeline !== p) return;
      // Back to the camera's own track: nothing processed goes out any more.
      this.#pipeline = null;
      this.#chain = [];
      this.emit('track-changed', { source: 'camera', track: this.#video });
      p.close();
      this.emit('effects', {
        ...this.effects,
        notice: {
          kind: 'auto-off',
          text: `Video effects turned off: this device needs ${p50.toFixed(0)} ms per frame (budget ${budgetMs} ms)`,
        },
      });
    });
    p.on('engine-error', ({ engine, error }) =>
      this.emit('effects', {
        ...this.effects,
        notice: {
          kind: 'engine-error',
          text: `Video effects: the ${engine === 'face' ? 'face detector' : 'background model'} failed (${error instanceof Error ? error.message : String(error)})`,
        },
      }),
    );
    this.#pipeline = p;
    this.emit('track-changed', { source: 'camera', track: p.output });
    old?.close();
  }

  /** Stops and drops the camera (audio-only mode); `setVideoEnabled(true)` opens it again. */
  releaseVideo(): void {
    const v = this.#video;
    if (!v) return;
    this.#video = null;
    this.#videoEnabled = false;
    this.#pipeline?.close();
    this.#pipeline = null;
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
    this.#pipeline?.close();
    this.#pipeline = null;
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
    if (source === 'camera' && (this.#chain.length > 0 || this.#shapes.size > 0)) {
      // A new camera: the pipeline is rebuilt on it (and announces its own output).
      const old = this.#pipeline;
      this.#pipeline = null;
      old?.close();
      void this.#applyEffects();
      return;
    }
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
