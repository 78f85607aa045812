/**
 * The in-memory `Store` (the default): one process owns all state. Ended sessions are kept in a
 * bounded append-only list and, when a file is given, persisted as JSON lines and read back at
 * start. Atomicity: every check-and-change runs synchronously after the last `await` (password
 * hashing), so nothing interleaves inside it.
 */
import { randomUUID } from 'node:crypto';
import { TfxError, type MediaState } from '@tfx/protocol';
import { hashPassword, hashToken, newToken, tokenMatchesHash, verifyPassword } from './secrets.js';
import type { EndedSessionFile } from './ended-file.js';
import {
  EXPIRED_ROOM_KEEP_MS,
  MAX_PARTICIPANTS_KEPT,
  type CreateRoomInput,
  type JoinInput,
  type JoinOutcome,
  type LobbyEnqueueOutcome,
  type LobbyEntry,
  type LobbyView,
  type Participant,
  type PeerRecord,
  type ResumeBinding,
  type RoomView,
  type SessionPage,
  type SessionQuery,
  type SessionRecord,
  type Store,
  statePatch,
} from './types.js';

export interface MemoryStoreOptions {
  /** `sessions.maxEnded`. */
  readonly maxEnded: number;
  /** `sessions.retentionDays`, in ms. */
  readonly retentionMs: number;
  /** Persist ended sessions here (and read them back in `openMemoryStore`). */
  readonly file?: EndedSessionFile | undefined;
  /** Clock for retention pruning; default `Date.now`. */
  readonly now?: () => number;
}

interface PeerState {
  id: string;
  name: string;
  state: MediaState;
  joinedAt: number;
  moderator: boolean;
  resumeTokenHash: string | undefined;
  participant: Participant | undefined;
}

interface LiveSession {
  id: string;
  seq: number;
  room: string;
  startedAt: number;
  peak: number;
  participants: Participant[];
}

interface LobbyState {
  enabled: boolean;
  version: number;
  /** In order of arrival. */
  readonly waiting: Map<string, LobbyEntry>;
}

const newLobby = (version = 0): LobbyState => ({ enabled: false, version, waiting: new Map() });

interface RoomState {
  name: string;
  capacity: number;
  passwordHash: string | undefined;
  expiresAt: number | undefined;
  locked: boolean;
  moderatorTokenHash: string | undefined;
  createdAt: number;
  origin: 'api' | 'join';
  session: LiveSession | undefined;
  peers: Map<string, PeerState>;
  lobby: LobbyState;
}

interface EndedEntry {
  seq: number;
  session: SessionRecord;
}

function encodeCursor(seq: number): string {
  return Buffer.from(`s${seq}`).toString('base64url');
}
function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return Number.POSITIVE_INFINITY;
  const m = /^s(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!m) throw new TfxError('bad-request', 'invalid cursor');
  return Number(m[1]);
}

export class MemoryStore implements Store {
  readonly shared = false;
  private readonly rooms = new Map<string, RoomState>();
  private readonly liveById = new Map<string, LiveSession>();
  private readonly resumeTokens = new Map<string, ResumeBinding>();
  /** Ended sessions, oldest first, from `head` on. */
  private ended: EndedEntry[] = [];
  private head = 0;
  private readonly endedById = new Map<string, EndedEntry>();
  private seq = 0;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly options: MemoryStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Loads persisted ended sessions (call once, before use). */
  async load(): Promise<void> {
    const file = this.options.file;
    if (!file) return;
    const sessions = file.load().sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0));
    for (const s of sessions) this.pushEnded(s);
    this.prune(this.now());
    const kept = this.endedSessions();
    if (kept.length !== file.lineCount) await file.rewrite(kept);
  }

  // --- rooms ----------------------------------------------------------------------------------

  async createRoom(input: CreateRoomInput): Promise<{ room: RoomView; moderatorToken: string }> {
    this.assertOpen();
    const passwordHash =
      input.password !== undefined ? await hashPassword(input.password) : undefined;
    const existing = this.liveRoom(input.name, input.now);
    if (existing) throw new TfxError('conflict', `room ${input.name} already exists`);
    const moderatorToken = newToken();
    const room: RoomState = {
      name: input.name,
      capacity: input.capacity,
      passwordHash,
      expiresAt: input.expiresAt,
      locked: false,
      moderatorTokenHash: hashToken(moderatorToken),
      createdAt: input.now,
      origin: 'api',
      session: undefined,
      peers: new Map(),
      lobby: newLobby(),
    };
    this.rooms.set(room.name, room);
    return { room: this.view(room), moderatorToken };
  }

  async getRoom(name: string, now: number): Promise<RoomView | undefined> {
    const room = this.liveRoom(name, now);
    return room ? this.view(room) : undefined;
  }

  async listRooms(now: number): Promise<readonly RoomView[]> {
    const out: RoomView[] = [];
    for (const name of [...this.rooms.keys()]) {
      const room = this.liveRoom(name, now);
      if (room) out.push(this.view(room));
    }
    return out;
  }

  async setLocked(name: string, locked: boolean): Promise<boolean> {
    const room = this.rooms.get(name);
    if (!room) return false;
    room.locked = locked;
    return true;
  }

  async isModerator(name: string, moderatorToken: string): Promise<boolean> {
    const hash = this.rooms.get(name)?.moderatorTokenHash;
    return hash !== undefined && tokenMatchesHash(moderatorToken, hash);
  }

  // --- lobby ----------------------------------------------------------------------------------

  async getLobby(name: string): Promise<LobbyView> {
    const room = this.rooms.get(name);
    return room ? this.lobbyView(room.lobby) : { enabled: false, version: 0, waiting: [] };
  }

  async setLobby(
    name: string,
    enabled: boolean,
  ): Promise<{ view: LobbyView; released: readonly LobbyEntry[] } | undefined> {
    const room = this.rooms.get(name);
    if (!room) return undefined;
    const lobby = room.lobby;
    lobby.enabled = enabled;
    lobby.version++;
    const released = enabled ? [] : [...lobby.waiting.values()];
    if (!enabled) lobby.waiting.clear();
    return { view: this.lobbyView(lobby), released };
  }

  async enqueueLobby(name: string, entry: LobbyEntry, max: number): Promise<LobbyEnqueueOutcome> {
    const lobby = this.rooms.get(name)?.lobby;
    if (!lobby?.enabled) return { outcome: 'off' };
    if (lobby.waiting.size >= max) return { outcome: 'full' };
    lobby.waiting.set(entry.id, { ...entry });
    lobby.version++;
    return { outcome: 'queued', view: this.lobbyView(lobby) };
  }

  async takeLobby(
    name: string,
    id: string,
  ): Promise<{ entry: LobbyEntry; view: LobbyView } | undefined> {
    const lobby = this.rooms.get(name)?.lobby;
    const entry = lobby?.waiting.get(id);
    if (!lobby || !entry) return undefined;
    lobby.waiting.delete(id);
    lobby.version++;
    return { entry, view: this.lobbyView(lobby) };
  }

  // --- peers ----------------------------------------------------------------------------------

  async join(input: JoinInput): Promise<JoinOutcome> {
    this.assertOpen();
    // At most a few rounds: each await (scrypt) may see the room change under it.
    for (let round = 0; round < 4; round++) {
      const room = this.liveRoom(input.room, input.now);
      if (!room) {
        const passwordHash =
          input.password !== undefined ? await hashPassword(input.password) : undefined;
        if (this.rooms.has(input.room)) continue; // someone made it meanwhile: check against it
        const created: RoomState = {
          name: input.room,
          capacity: input.capacity,
          passwordHash,
          expiresAt: undefined,
          locked: false,
          moderatorTokenHash: undefined,
          createdAt: input.now,
          origin: 'join',
          session: undefined,
          peers: new Map(),
          lobby: newLobby(),
        };
        this.rooms.set(created.name, created);
        return this.admit(created, input, false);
      }
      if (room.expiresAt !== undefined && input.now >= room.expiresAt) {
        return { ok: false, code: 'room-expired' };
      }
      const moderator =
        input.moderatorToken !== undefined &&
        room.moderatorTokenHash !== undefined &&
        tokenMatchesHash(input.moderatorToken, room.moderatorTokenHash);
      const hash = room.passwordHash;
      if (hash !== undefined && !moderator) {
        if (input.password === undefined) return { ok: false, code: 'wrong-password' };
        if (!(await verifyPassword(input.password, hash)))
          return { ok: false, code: 'wrong-password' };
        if (this.rooms.get(input.room) !== room || room.passwordHash !== hash) continue;
      }
      if (room.locked && !moderator) return { ok: false, code: 'room-locked' };
      if (room.peers.size >= room.capacity) return { ok: false, code: 'room-full' };
      return this.admit(room, input, moderator);
    }
    return { ok: false, code: 'room-full' };
  }

  async leave(
    name: string,
    peerId: string,
    now: number,
  ): Promise<{ left: boolean; remaining: number }> {
    const room = this.rooms.get(name);
    const peer = room?.peers.get(peerId);
    if (!room || !peer) return { left: false, remaining: room?.peers.size ?? 0 };
    room.peers.delete(peerId);
    if (peer.resumeTokenHash !== undefined) this.resumeTokens.delete(peer.resumeTokenHash);
    if (peer.participant && room.session) {
      const i = room.session.participants.indexOf(peer.participant);
      if (i >= 0) room.session.participants[i] = { ...peer.participant, leftAt: now };
    }
    return { left: true, remaining: room.peers.size };
  }

  async updatePeer(
    name: string,
    peerId: string,
    patch: { name?: string | undefined; state?: Partial<MediaState> | undefined },
  ): Promise<PeerRecord | undefined> {
    const peer = this.rooms.get(name)?.peers.get(peerId);
    if (!peer) return undefined;
    if (patch.name !== undefined) peer.name = patch.name;
    if (patch.state) peer.state = { ...peer.state, ...statePatch(patch.state) };
    return this.peerView(peer);
  }

  async listPeers(name: string): Promise<readonly PeerRecord[]> {
    const room = this.rooms.get(name);
    return room ? [...room.peers.values()].map((p) => this.peerView(p)) : [];
  }

  // --- resume tokens --------------------------------------------------------------------------

  async setResumeToken(name: string, peerId: string, token: string): Promise<void> {
    const peer = this.rooms.get(name)?.peers.get(peerId);
    if (!peer) return;
    if (peer.resumeTokenHash !== undefined) this.resumeTokens.delete(peer.resumeTokenHash);
    peer.resumeTokenHash = hashToken(token);
    this.resumeTokens.set(peer.resumeTokenHash, { room: name, peerId });
  }

  async takeResumeToken(token: string): Promise<ResumeBinding | undefined> {
    const hash = hashToken(token);
    const binding = this.resumeTokens.get(hash);
    if (!binding) return undefined;
    this.resumeTokens.delete(hash);
    const peer = this.rooms.get(binding.room)?.peers.get(binding.peerId);
    if (!peer || peer.resumeTokenHash !== hash) return undefined;
    peer.resumeTokenHash = undefined;
    return binding;
  }

  // --- sessions -------------------------------------------------------------------------------

  async endSessionIfEmpty(name: string, now: number): Promise<SessionRecord | undefined> {
    const room = this.rooms.get(name);
    if (!room || room.peers.size > 0) return undefined;
    const live = room.session;
    room.session = undefined;
    // The lobby ends with the session (an API room outlives it and starts the next one without).
    if (room.lobby.enabled || room.lobby.waiting.size > 0)
      room.lobby = newLobby(room.lobby.version + 1);
    if (room.origin === 'join') this.rooms.delete(name);
    if (!live) return undefined;
    this.liveById.delete(live.id);
    const ended: SessionRecord = {
      id: live.id,
      room: live.room,
      startedAt: live.startedAt,
      endedAt: now,
      peakParticipants: live.peak,
      participants: live.participants.map((p) =>
        p.leftAt === undefined ? { ...p, leftAt: now } : p,
      ),
    };
    await this.appendEndedSession(ended);
    return ended;
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const live = this.liveById.get(id);
    if (live) return this.liveView(live);
    return this.endedById.get(id)?.session;
  }

  async listSessions(query: SessionQuery): Promise<SessionPage> {
    const before = decodeCursor(query.cursor);
    const limit = Math.max(1, Math.min(1000, Math.floor(query.limit)));
    const items: SessionRecord[] = [];
    let lastSeq = 0;
    let more = false;
    const take = (seq: number, s: () => SessionRecord, room: string): boolean => {
      if (seq >= before || (query.room !== undefined && room !== query.room)) return true;
      if (items.length === limit) {
        more = true;
        return false;
      }
      items.push(s());
      lastSeq = seq;
      return true;
    };
    if (query.state === 'live') {
      const live = [...this.liveById.values()].sort((a, b) => b.seq - a.seq);
      for (const l of live) if (!take(l.seq, () => this.liveView(l), l.room)) break;
    } else {
      for (let i = this.ended.length - 1; i >= this.head; i--) {
        const e = this.ended[i] as EndedEntry;
        if (!take(e.seq, () => e.session, e.session.room)) break;
      }
    }
    return more ? { items, nextCursor: encodeCursor(lastSeq) } : { items };
  }

  async appendEndedSession(session: SessionRecord): Promise<void> {
    if (this.closed) return;
    this.pushEnded(session);
    this.options.file?.append(session);
    this.prune(this.now());
    const file = this.options.file;
    const kept = this.ended.length - this.head;
    if (file && file.lineCount > Math.max(1000, kept * 2)) await file.rewrite(this.endedSessions());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.options.file?.close();
  }

  // --- internals ------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new TfxError('unavailable', 'the store is closed');
  }

  /**
   * The room, after dropping it if it is an `api` room nobody is in whose expiry passed more
   * than `EXPIRED_ROOM_KEEP_MS` ago (until then it stays, refusing joins with `room-expired`).
   */
  private liveRoom(name: string, now: number): RoomState | undefined {
    const room = this.rooms.get(name);
    if (
      room &&
      room.expiresAt !== undefined &&
      now >= room.expiresAt + EXPIRED_ROOM_KEEP_MS &&
      room.peers.size === 0 &&
      !room.session
    ) {
      this.rooms.delete(name);
      return undefined;
    }
    return room;
  }

  private admit(room: RoomState, input: JoinInput, moderator: boolean): JoinOutcome {
    let moderatorToken: string | undefined;
    // The first joiner of an empty room the API did not make becomes its moderator.
    if (room.origin === 'join' && room.peers.size === 0) {
      moderatorToken = newToken();
      room.moderatorTokenHash = hashToken(moderatorToken);
    }
    let sessionStarted = false;
    if (!room.session) {
      room.session = {
        id: randomUUID(),
        seq: ++this.seq,
        room: room.name,
        startedAt: input.now,
        peak: 0,
        participants: [],
      };
      this.liveById.set(room.session.id, room.session);
      sessionStarted = true;
    }
    const others = [...room.peers.values()].map((p) => this.peerView(p));
    const participant: Participant | undefined =
      room.session.participants.length < MAX_PARTICIPANTS_KEPT
        ? { id: input.peerId, name: input.name, joinedAt: input.now }
        : undefined;
    if (participant) room.session.participants.push(participant);
    const peer: PeerState = {
      id: input.peerId,
      name: input.name,
      state: { ...input.state },
      joinedAt: input.now,
      moderator: moderator || moderatorToken !== undefined,
      resumeTokenHash: undefined,
      participant,
    };
    room.peers.set(peer.id, peer);
    room.session.peak = Math.max(room.session.peak, room.peers.size);
    const out: JoinOutcome = {
      ok: true,
      room: this.view(room),
      sessionId: room.session.id,
      sessionStarted,
      peers: others,
      peer: this.peerView(peer),
      ...(moderatorToken !== undefined ? { moderatorToken } : {}),
    };
    return out;
  }

  private pushEnded(session: SessionRecord): void {
    const entry = { seq: ++this.seq, session };
    const previous = this.endedById.get(session.id);
    if (previous) return; // append-only: an id is recorded once
    this.ended.push(entry);
    this.endedById.set(session.id, entry);
  }

  private prune(now: number): void {
    const cutoff = now - this.options.retentionMs;
    const max = this.options.maxEnded;
    while (this.head < this.ended.length) {
      const e = this.ended[this.head] as EndedEntry;
      if (this.ended.length - this.head > max || (e.session.endedAt ?? 0) < cutoff) {
        this.endedById.delete(e.session.id);
        this.head++;
      } else break;
    }
    if (this.head > 1024 && this.head * 2 > this.ended.length) {
      this.ended = this.ended.slice(this.head);
      this.head = 0;
    }
  }

  private endedSessions(): SessionRecord[] {
    return this.ended.slice(this.head).map((e) => e.session);
  }

  private view(room: RoomState): RoomView {
    return {
      name: room.name,
      capacity: room.capacity,
      hasPassword: room.passwordHash !== undefined,
      locked: room.locked,
      ...(room.expiresAt !== undefined ? { expiresAt: room.expiresAt } : {}),
      createdAt: room.createdAt,
      origin: room.origin,
      ...(room.session ? { sessionId: room.session.id } : {}),
      peerCount: room.peers.size,
    };
  }

  private lobbyView(l: LobbyState): LobbyView {
    return {
      enabled: l.enabled,
      version: l.version,
      waiting: [...l.waiting.values()].map((e) => ({ ...e })),
    };
  }

  private peerView(p: PeerState): PeerRecord {
    return {
      id: p.id,
      name: p.name,
      state: { ...p.state, ...(p.state.widgets ? { widgets: [...p.state.widgets] } : {}) },
      joinedAt: p.joinedAt,
      moderator: p.moderator,
    };
  }

  private liveView(l: LiveSession): SessionRecord {
    return {
      id: l.id,
      room: l.room,
      startedAt: l.startedAt,
      peakParticipants: l.peak,
      participants: l.participants.map((p) => ({ ...p })),
    };
  }
}

/** A memory store with its ended sessions loaded from `file` (if given). */
export async function openMemoryStore(options: MemoryStoreOptions): Promise<MemoryStore> {
  const store = new MemoryStore(options);
  await store.load();
  return store;
}
