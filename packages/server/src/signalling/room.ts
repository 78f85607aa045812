/**
 * The local ownership tree of the signalling module: Room → Peer. A peer owns its socket
 * attachment, its resume grace timer and its resume buffer; a room owns its peers and its
 * empty-room timer. `close()` is idempotent and a parent closes its children (docs/signalling.md).
 *
 * One room, one object per process, with one writer for each part:
 * - the truth (settings, membership, sessions, passwords) is the `Store`'s;
 * - `peers`, the peers this process holds, are written by rooms.ts (the registry);
 * - `remote`, the peers other processes hold (only with Redis), by cluster-side.ts and
 *   cluster-inbound.ts;
 * - `settings`, this process's copy of the store's settings for acks and listings, by
 *   `refresh()` (from the store's view, when a peer joins or is adopted) and `setLocked()`.
 */
import { randomInt } from 'node:crypto';
import type { Socket } from 'socket.io';
import type {
  ClientToServerEvents,
  MediaState,
  PeerInfo,
  ServerToClientEvents,
} from '@tfx/protocol';
import type { Logger } from '../log.js';
import { ResumeBuffer, type Buffered } from './resume-buffer.js';

export interface SocketData {
  ip: string;
  /** Set by the handshake when `auth.resumeToken` was valid. */
  resume?: { room: string; peerId: string };
}
export type TfxSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

export interface Timer {
  cancel(): void;
}
/** Time source and timers; tests may inject fakes. */
export interface Clock {
  now(): number;
  schedule(ms: number, fn: () => void): Timer;
}
export const realClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
};

/** What of socket.io's `Client` `writeEncoded` uses (socket.io 4: what its adapters use). */
interface EngineWriter {
  readonly conn: { readonly readyState: string };
  writeToEngine(encoded: string, opts: { compress?: boolean }): void;
}

/**
 * Writes a packet that is already encoded (`2["signal",{…}]`, cluster/envelope.ts
 * `encodeRelayed`) to the socket, as socket.io's own adapters write a broadcast encoded once:
 * through the client's engine.io connection, with no JSON.parse and no second encoding. What
 * `socket.emit` would drop (the connection no longer open) is dropped here too.
 */
export function writeEncoded(socket: TfxSocket, packet: string): void {
  const client = socket.client as unknown as EngineWriter;
  if (client.conn.readyState !== 'open') return;
  client.writeToEngine(packet, { compress: true });
}

type EmitArgs<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>;

export class Peer {
  socket: TfxSocket | undefined;
  private buffer: ResumeBuffer | undefined;
  private grace: Timer | undefined;
  private isClosed = false;

  constructor(
    readonly id: string,
    readonly room: Room,
    public name: string,
    public state: MediaState,
    public moderator: boolean,
    readonly log: Logger,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  /** Within the resume grace period: disconnected but still in the room. */
  get away(): boolean {
    return !this.isClosed && this.socket === undefined;
  }

  info(): PeerInfo {
    return { id: this.id, name: this.name, state: this.state };
  }

  /** Attaches a (new) socket; returns what was buffered while away, oldest first. */
  attach(socket: TfxSocket): Buffered[] {
    this.assertOpen();
    this.grace?.cancel();
    this.grace = undefined;
    this.socket = socket;
    const held = this.buffer?.drain() ?? [];
    this.buffer = undefined;
    return held;
  }

  /** The socket went away: hold messages and call `onExpire` unless it resumes within `graceMs`. */
  detach(graceMs: number, clock: Clock, onExpire: () => void): void {
    if (this.isClosed) return;
    this.socket = undefined;
    this.buffer = new ResumeBuffer();
    this.grace?.cancel();
    this.grace = clock.schedule(graceMs, onExpire);
  }

  /** Sends a relayed item, or holds it while away; false when it can be neither. */
  deliver(item: Buffered): boolean {
    if (this.isClosed) return false;
    if (this.socket) {
      if ('packet' in item) writeEncoded(this.socket, item.packet);
      else if (item.event === 'signal') this.socket.emit('signal', item.payload);
      else this.socket.emit('message', item.payload);
      return true;
    }
    return this.buffer?.push(item) ?? false;
  }

  /** Sends a notice if connected (presence is not buffered: a resume brings the peer list). */
  emit<E extends keyof ServerToClientEvents>(event: E, ...args: EmitArgs<E>): void {
    if (!this.isClosed && this.socket) {
      (this.socket.emit as (ev: E, ...a: EmitArgs<E>) => boolean)(event, ...args);
    }
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.grace?.cancel();
    this.grace = undefined;
    this.buffer = undefined;
    this.socket = undefined;
    this.room.remove(this);
  }

  private assertOpen(): void {
    if (this.isClosed) throw new Error(`peer ${this.id} is closed`);
  }
}

/** A peer of this room held by another process (scale-out). */
export interface RemotePeer {
  node: string;
  info: PeerInfo;
}

/** The room settings a process copies from the store (`RoomView`). */
export interface RoomSettings {
  readonly capacity: number;
  readonly hasPassword: boolean;
  readonly locked: boolean;
}

export class Room {
  readonly peers = new Map<string, Peer>();
  /** Peers held by other processes (only with Redis), by id. */
  readonly remote = new Map<string, RemotePeer>();
  private current: RoomSettings = { capacity: 0, hasPassword: false, locked: false };
  private session: string;
  private emptyTimer: Timer | undefined;
  private isClosed = false;

  constructor(
    readonly name: string,
    sessionId: string,
    readonly log: Logger,
  ) {
    this.session = sessionId;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get sessionId(): string {
    return this.session;
  }

  get settings(): RoomSettings {
    return this.current;
  }

  /** The store's view of the room (at a join or an adoption): its session and settings. */
  refresh(sessionId: string, view: RoomSettings): void {
    this.session = sessionId;
    this.current = { capacity: view.capacity, hasPassword: view.hasPassword, locked: view.locked };
  }

  /** A moderator (here or on another process) locked or unlocked the room: everyone here hears. */
  setLocked(locked: boolean): void {
    this.current = { ...this.current, locked };
    this.broadcast(undefined, 'room-locked', { locked });
  }

  add(peer: Peer): void {
    if (this.isClosed) throw new Error(`room ${this.name} is closed`);
    this.cancelEmptyTimer();
    this.peers.set(peer.id, peer);
  }

  /** Called by `Peer.close()`. */
  remove(peer: Peer): void {
    if (this.peers.get(peer.id) === peer) this.peers.delete(peer.id);
  }

  /** Emits to every connected peer but `except`. */
  broadcast<E extends keyof ServerToClientEvents>(
    except: Peer | undefined,
    event: E,
    ...args: EmitArgs<E>
  ): void {
    for (const p of this.peers.values()) if (p !== except) p.emit(event, ...args);
  }

  othersOf(peer: Peer): PeerInfo[] {
    const out: PeerInfo[] = [];
    for (const p of this.peers.values()) if (p !== peer) out.push(p.info());
    for (const [id, r] of this.remote) if (id !== peer.id) out.push(r.info);
    return out;
  }

  /** The nodes other than this one that hold peers of the room. */
  remoteNodes(): Set<string> {
    const nodes = new Set<string>();
    for (const r of this.remote.values()) nodes.add(r.node);
    return nodes;
  }

  startEmptyTimer(ms: number, clock: Clock, fn: () => void): void {
    this.cancelEmptyTimer();
    if (!this.isClosed) this.emptyTimer = clock.schedule(ms, fn);
  }

  cancelEmptyTimer(): void {
    this.emptyTimer?.cancel();
    this.emptyTimer = undefined;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.cancelEmptyTimer();
    for (const p of [...this.peers.values()]) p.close();
  }
}

const ROOM_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** A room name for `POST /api/v1/rooms` without one: 10 of a–z0–9, log2(36^10) ≈ 51.7 bits. */
export function generateRoomName(): string {
  let s = '';
  for (let i = 0; i < 10; i++) s += ROOM_ALPHABET[randomInt(ROOM_ALPHABET.length)];
  return `${s.slice(0, 5)}-${s.slice(5)}`;
}
