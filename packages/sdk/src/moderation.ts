/**
 * Moderator actions of a joined room, with the room's moderator token: kick a peer, lock the
 * room, ask everyone to mute, and the lobby (on/off, admit, deny). Each resolves with the
 * server's answer or rejects with a `TfxSdkError` (`not-moderator` without a valid token).
 * Events: `lobby-state` (who waits) and `room-locked`.
 */
import type { Ack, LobbyState, MuteKind, RoomLocked } from '@tfx/protocol';
import { Emitter } from './emitter.js';
import { TfxSdkError } from './errors.js';
import type { Room } from './room.js';

export interface ModeratorEvents {
  [event: string]: unknown;
  'lobby-state': LobbyState;
  'room-locked': RoomLocked;
}

const TIMEOUT_MS = 10_000;

export class Moderator extends Emitter<ModeratorEvents> {
  readonly #room: Room;
  readonly #offs: Array<() => void>;
  #token: string | undefined;
  #lobby: LobbyState = { enabled: false, waiting: [] };
  #locked: boolean;

  /** `token` defaults to the one the room got at join (first joiner, or presented). */
  constructor(room: Room, token?: string) {
    super();
    this.#room = room;
    this.#token = token;
    this.#locked = false;
    const s = room.signalling;
    this.#offs = [
      s.on('lobby-state', (st) => {
        this.#lobby = st;
        this.emit('lobby-state', st);
      }),
      s.on('room-locked', (st) => {
        this.#locked = st.locked;
        this.emit('room-locked', st);
      }),
    ];
  }

  /** The token used: the one given, else the room's. */
  get token(): string | undefined {
    return this.#token ?? this.#room.moderatorToken;
  }
  set token(t: string | undefined) {
    this.#token = t;
  }
  /** Whether the room's join made us a moderator (a token we hold). */
  get isModerator(): boolean {
    return this.token !== undefined;
  }
  get lobby(): LobbyState {
    return this.#lobby;
  }
  get locked(): boolean {
    return this.#locked;
  }

  async kick(peerId: string): Promise<void> {
    await this.#ask('kick', { moderatorToken: this.#need(), peerId });
  }
  async lock(locked: boolean): Promise<boolean> {
    const r = await this.#ask<{ locked: boolean }>('lock', {
      moderatorToken: this.#need(),
      locked,
    });
    this.#locked = r.locked;
    return r.locked;
  }
  async muteAll(kinds: readonly MuteKind[] = ['audio']): Promise<void> {
    await this.#ask('mute-all', { moderatorToken: this.#need(), kinds: [...kinds] });
  }
  async setLobby(enabled: boolean): Promise<boolean> {
    const r = await this.#ask<{ enabled: boolean }>('lobby', {
      moderatorToken: this.#need(),
      enabled,
    });
    if (!r.enabled) this.#lobby = { enabled: false, waiting: [] };
    else if (!this.#lobby.enabled) this.#lobby = { ...this.#lobby, enabled: true };
    return r.enabled;
  }
  async admit(id: string): Promise<void> {
    await this.#ask('admit', { moderatorToken: this.#need(), id });
  }
  async deny(id: string): Promise<void> {
    await this.#ask('deny', { moderatorToken: this.#need(), id });
  }

  /** Stops listening. Idempotent. */
  close(): void {
    for (const off of this.#offs.splice(0)) off();
    this.removeAllListeners();
  }

  #need(): string {
    // Without a token the server still answers (`not-moderator`): send an impossible one so the
    // refusal comes from the server, the only authority.
    return this.token ?? '-';
  }

  #ask<T extends object = object>(event: string, payload: unknown): Promise<T> {
    const socket = this.#room.signalling.socket;
    if (!socket.connected) return Promise.reject(new TfxSdkError('signalling-lost'));
    const emit = socket.timeout(TIMEOUT_MS) as unknown as {
      emit(ev: string, p: unknown, cb: (err: Error | null, r: Ack<T>) => void): void;
    };
    return new Promise((resolve, reject) => {
      emit.emit(event, payload, (err, r) => {
        if (err) reject(new TfxSdkError('signalling-failed', 'no answer from the server'));
        else if (r.ok) resolve(r);
        else reject(new TfxSdkError(r.error.code, r.error.message));
      });
    });
  }
}
