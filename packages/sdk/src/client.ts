/**
 * The SDK's entry point: `new TfxClient()`, then `createLocalMedia()` for a preview and
 * `join(room, { name, media })` for a `Room`.
 */
import { normalizeRoomName } from '@tfx/protocol/core';
import type { JoinResult } from '@tfx/protocol';
import { MediaManager, browserSupport, type AcquireOptions } from './media.js';
import { LocalMedia } from './local.js';
import { Room } from './room.js';
import { SignallingConnection } from './signalling.js';
import { TfxSdkError } from './errors.js';
import type { ReconnectPolicy } from './reconnect.js';
import type { Clock } from './clock.js';
import type { SignallingOptions } from './signalling.js';

export interface TfxClientOptions {
  /** Server origin. Default: the page's origin. */
  readonly url?: string;
  /** How the signalling connection retries after a drop. Default: `BackoffReconnectPolicy`. */
  readonly reconnectPolicy?: ReconnectPolicy;
  /** Extra RTCConfiguration, e.g. `{ iceTransportPolicy: 'relay' }`. ICE servers come from the server. */
  readonly rtc?: RTCConfiguration;
  /** Stats and quality polling period, ms. Default 2000. */
  readonly statsIntervalMs?: number;
  /** For tests and embedders: how peer connections are made. */
  readonly createPeerConnection?: (config: RTCConfiguration) => RTCPeerConnection;
  /** For tests: how the socket is made. */
  readonly connect?: SignallingOptions['connect'];
  readonly clock?: Clock;
  /** The browser's media devices. Default `navigator.mediaDevices`. */
  readonly mediaDevices?: MediaDevices;
}

export interface JoinOptions {
  /** Display name shown to the others (1–64 characters). */
  readonly name: string;
  readonly password?: string | undefined;
  /** A moderator token from `POST /api/v1/rooms`. */
  readonly moderatorToken?: string | undefined;
  /** Local media to send; default: opened now with `mediaOptions` (receive-only if that fails). */
  readonly media?: LocalMedia;
  readonly mediaOptions?: AcquireOptions & { audioEnabled?: boolean; videoEnabled?: boolean };
  /** Called when the room has a lobby and we wait for a moderator to admit us. */
  readonly onLobby?: () => void;
}

export class TfxClient {
  readonly devices: MediaManager;
  readonly #o: TfxClientOptions;
  #room: Room | null = null;
  /** A signalling connection opened ahead of `join` (`preconnect`), and its opening. */
  #pre: { readonly signalling: SignallingConnection; readonly opened: Promise<void> } | null = null;

  constructor(options: TfxClientOptions = {}) {
    this.#o = options;
    const md = options.mediaDevices ?? globalThis.navigator?.mediaDevices;
    this.devices = new MediaManager(md);
  }

  /** What this browser lacks for a call (empty when it is fine). */
  static support(): { readonly ok: boolean; readonly missing: readonly string[] } {
    return browserSupport();
  }

  /** The room joined last, while it is open. */
  get room(): Room | null {
    return this.#room && !this.#room.closed ? this.#room : null;
  }

  /** Opens microphone and camera (with fallbacks) for a preview and the call. */
  createLocalMedia(
    options: AcquireOptions & { audioEnabled?: boolean; videoEnabled?: boolean } = {},
  ): Promise<LocalMedia> {
    return LocalMedia.create(this.devices, options);
  }

  /**
   * Opens the signalling connection ahead of `join`, e.g. while the camera opens, so that the
   * join request goes out as soon as the media is ready (the connection's handshake no longer
   * waits for the camera). The next `join` uses it, and opens it again if it dropped meanwhile;
   * a refusal (e.g. `version-mismatch`) is reported by that `join`. Idempotent until then.
   */
  preconnect(): void {
    if (this.#pre) return;
    const signalling = this.#signalling();
    const opened = signalling.open();
    // Reported by join, which opens again (the same refusal, or a connection that works now).
    opened.catch(() => undefined);
    this.#pre = { signalling, opened };
  }

  /**
   * Joins a room. Rejects with a `TfxSdkError` whose code says why: `room-full`,
   * `wrong-password`, `room-expired`, `room-locked`, `version-mismatch`, `invalid-room-name`,
   * `lobby-denied` (a moderator turned us away from the lobby), …
   */
  async join(roomName: string, options: JoinOptions): Promise<Room> {
    const room = normalizeRoomName(roomName);
    if (!room) throw new TfxSdkError('invalid-room-name');
    const support = browserSupport();
    if (!support.ok)
      throw new TfxSdkError('unsupported-browser', `missing: ${support.missing.join(', ')}`);
    const media = options.media ?? (await LocalMedia.create(this.devices, options.mediaOptions));
    const pre = this.#pre;
    this.#pre = null;
    const signalling = pre?.signalling ?? this.#signalling();
    let joined: JoinResult;
    try {
      // A preconnected socket may have been refused or dropped since: then this opens it again.
      await pre?.opened.catch(() => undefined);
      await signalling.open();
      joined = await signalling.join(
        {
          room,
          name: options.name,
          state: media.state,
          ...(options.password ? { password: options.password } : {}),
          ...(options.moderatorToken ? { moderatorToken: options.moderatorToken } : {}),
        },
        options.onLobby,
      );
    } catch (err) {
      signalling.close();
      throw err;
    }
    this.#room = new Room({
      signalling,
      joined,
      local: media,
      name: options.name,
      password: options.password,
      rtc: this.#o.rtc,
      createPeerConnection: this.#o.createPeerConnection,
      clock: this.#o.clock,
      statsIntervalMs: this.#o.statsIntervalMs,
    });
    return this.#room;
  }

  #signalling(): SignallingConnection {
    return new SignallingConnection({
      url: this.#o.url,
      reconnectPolicy: this.#o.reconnectPolicy,
      clock: this.#o.clock,
      connect: this.#o.connect,
    });
  }
}
