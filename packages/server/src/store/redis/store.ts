/**
 * The Redis `Store`: the same contract as the memory store (test/store/contract.ts), with its
 * state in one Redis shared by every TFX process of a deployment. Check-and-change operations are
 * Lua scripts (scripts.ts); password hashing and verification (scrypt) run here, outside Redis,
 * and the script re-checks that the hash it was verified against is still the room's.
 *
 * Ended sessions live only in Redis (bounded by `sessions.maxEnded`, pruned by retention, each
 * with a TTL of the retention). Every Redis failure (unreachable, timed out, stopped) becomes a
 * retryable `TfxError('unavailable')`.
 *
 * For the cluster layer the store also records which node holds each peer (`movePeer`,
 * `peersOfNode`) and keeps a mirror of what this process wrote for its own peers, so that it can
 * re-assert its rooms, peers and resume tokens when Redis comes back empty (`reassert`).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { TfxError, type MediaState } from '@tfx/protocol';
import { hashPassword, hashToken, newToken, tokenMatchesHash, verifyPassword } from '../secrets.js';
import {
  MAX_PARTICIPANTS_KEPT,
  type CreateRoomInput,
  type JoinInput,
  type JoinOutcome,
  type HeldLobby,
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
} from '../types.js';
import * as S from './scripts.js';

export interface RedisStoreOptions {
  /** `sessions.maxEnded`. */
  readonly maxEnded: number;
  /** `sessions.retentionDays`, in ms. */
  readonly retentionMs: number;
  /** Clock for retention pruning; default `Date.now`. */
  readonly now?: () => number;
  /** Key prefix, default `tfx:` (several deployments may share one Redis with distinct prefixes). */
  readonly prefix?: string;
  /** The node (process) id recorded with the peers it adds; '' outside a cluster. */
  readonly nodeId?: string;
  /** Resume token TTL in Redis, seconds (a safety bound; tokens die with their peer). */
  readonly resumeTtlSeconds?: number;
}

/** A peer with the node that holds it. */
export interface NodePeer {
  readonly peer: PeerRecord;
  readonly node: string;
}

const SCRIPTS = {
  tfxJoin: S.JOIN,
  tfxLeave: S.LEAVE,
  tfxUpdatePeer: S.UPDATE_PEER,
  tfxSetResume: S.SET_RESUME,
  tfxTakeResume: S.TAKE_RESUME,
  tfxCreateRoom: S.CREATE_ROOM,
  tfxGetRoom: S.GET_ROOM,
  tfxSetLocked: S.SET_LOCKED,
  tfxEndSession: S.END_SESSION,
  tfxAppend: S.APPEND,
  tfxMovePeer: S.MOVE_PEER,
  tfxReassert: S.REASSERT,
  tfxLobbyGet: S.LOBBY_GET,
  tfxLobbySet: S.LOBBY_SET,
  tfxLobbyEnqueue: S.LOBBY_ENQUEUE,
  tfxLobbyTake: S.LOBBY_TAKE,
  tfxLobbyDropNode: S.LOBBY_DROP_NODE,
  tfxLobbyRestore: S.LOBBY_RESTORE,
} as const;
type ScriptName = keyof typeof SCRIPTS;
type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

interface StoredPeer {
  id: string;
  name: string;
  state: MediaState;
  joinedAt: number;
  moderator: boolean;
  ord: number;
  node: string;
  tok: string;
  pi: number;
}

interface MirrorRoom {
  fields: Record<string, string>;
  sessionStartedAt: number;
  peers: Map<string, { json: string; participant: string; tok: string }>;
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

function flatToRecord(flat: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

/**
 * A peer's state as read back from Redis. The Lua scripts merge state with cjson, and a Lua table
 * does not know whether it was an array or an object: cjson encodes an empty array (`widgets: []`,
 * everything closed) as `{}`. So an array-valued key that does not come back as an array is the
 * empty array (the store contract suite checks it).
 */
function stateView(state: MediaState): MediaState {
  const out = { ...state };
  if (out.widgets !== undefined) out.widgets = Array.isArray(out.widgets) ? [...out.widgets] : [];
  return out;
}

function peerView(p: StoredPeer): PeerRecord {
  return {
    id: p.id,
    name: p.name,
    state: stateView(p.state),
    joinedAt: p.joinedAt,
    moderator: p.moderator,
  };
}

function parsePeer(json: string): StoredPeer {
  return JSON.parse(json) as StoredPeer;
}

function roomView(name: string, f: Record<string, string>, peerCount: number): RoomView {
  return {
    name,
    capacity: Number(f.capacity),
    hasPassword: f.pw !== undefined,
    locked: f.locked === '1',
    ...(f.exp !== undefined ? { expiresAt: Number(f.exp) } : {}),
    createdAt: Number(f.created),
    origin: f.origin === 'api' ? 'api' : 'join',
    ...(f.sid !== undefined ? { sessionId: f.sid } : {}),
    peerCount,
  };
}

function parseEntry(json: string): LobbyEntry & { ord: number } {
  const e = JSON.parse(json) as LobbyEntry & { ord: number };
  return { id: e.id, name: e.name, node: e.node, since: e.since, ord: e.ord };
}

/** A lobby view from a script's `{enabled, version, entries}` (entries sorted by arrival). */
function lobbyView(on: unknown, version: unknown, entries: unknown): LobbyView {
  const list = Array.isArray(entries) ? entries.map((x) => parseEntry(String(x))) : [];
  list.sort((a, b) => a.ord - b.ord);
  return {
    enabled: Number(on) === 1,
    version: Number(version),
    waiting: list.map(({ id, name, node, since }) => ({ id, name, node, since })),
  };
}

/** Redis failures become a retryable `unavailable`; our own typed errors pass through. */
export function toStoreError(err: unknown): Error {
  if (err instanceof TfxError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TfxError('unavailable', `shared state (Redis) unavailable: ${message.slice(0, 200)}`);
}

export class RedisStore implements Store {
  readonly shared = true;
  readonly prefix: string;
  readonly nodeId: string;
  private readonly now: () => number;
  private readonly resumeTtl: number;
  private readonly mirror = new Map<string, MirrorRoom>();
  private closed = false;

  constructor(
    readonly redis: Redis,
    private readonly options: RedisStoreOptions,
    /** Close the client on `close()` (the store made it). */
    private readonly ownsClient = false,
  ) {
    this.prefix = options.prefix ?? 'tfx:';
    this.nodeId = options.nodeId ?? '';
    this.now = options.now ?? Date.now;
    this.resumeTtl = options.resumeTtlSeconds ?? 86_400;
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      redis.defineCommand(name, { numberOfKeys: 0, lua });
    }
  }

  private async run(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    this.assertOpen();
    const fn = (this.redis as unknown as Record<ScriptName, ScriptFn>)[name];
    try {
      return await fn.call(this.redis, this.prefix, ...args);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  private async cmd<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(err);
    }
  }

  private get ttlEnded(): number {
    return Math.max(60, Math.ceil(this.options.retentionMs / 1000));
  }

  // --- rooms ----------------------------------------------------------------------------------

  async createRoom(input: CreateRoomInput): Promise<{ room: RoomView; moderatorToken: string }> {
    this.assertOpen();
    const pw = input.password !== undefined ? await hashPassword(input.password) : '';
    const moderatorToken = newToken();
    const made = await this.run(
      'tfxCreateRoom',
      input.name,
      input.capacity,
      pw,
      input.expiresAt ?? '',
      hashToken(moderatorToken),
      input.now,
    );
    if (Number(made) !== 1) throw new TfxError('conflict', `room ${input.name} already exists`);
    const room: RoomView = {
      name: input.name,
      capacity: input.capacity,
      hasPassword: pw !== '',
      locked: false,
      ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt } : {}),
      createdAt: input.now,
      origin: 'api',
      peerCount: 0,
    };
    return { room, moderatorToken };
  }

  async getRoom(name: string, now: number): Promise<RoomView | undefined> {
    const r = await this.run('tfxGetRoom', name, now);
    if (!Array.isArray(r)) return undefined;
    return roomView(name, flatToRecord(r[0]), Number(r[1]));
  }

  async listRooms(now: number): Promise<readonly RoomView[]> {
    const names = await this.cmd(() => this.redis.smembers(`${this.prefix}rooms`));
    const views = await Promise.all(names.map((n) => this.getRoom(n, now)));
    return views.filter((v): v is RoomView => v !== undefined);
  }

  async setLocked(room: string, locked: boolean): Promise<boolean> {
    const ok = Number(await this.run('tfxSetLocked', room, locked ? '1' : '0')) === 1;
    const m = this.mirror.get(room);
    if (ok && m) m.fields.locked = locked ? '1' : '0';
    return ok;
  }

  async isModerator(room: string, moderatorToken: string): Promise<boolean> {
    const hash = await this.cmd(() => this.redis.hget(`${this.prefix}room:${room}`, 'mod'));
    return hash !== null && tokenMatchesHash(moderatorToken, hash);
  }

  // --- lobby ----------------------------------------------------------------------------------

  async getLobby(room: string): Promise<LobbyView> {
    const r = (await this.run('tfxLobbyGet', room)) as unknown[];
    return lobbyView(r[0], r[1], r[2]);
  }

  async setLobby(
    room: string,
    enabled: boolean,
  ): Promise<{ view: LobbyView; released: readonly LobbyEntry[] } | undefined> {
    const r = await this.run('tfxLobbySet', room, enabled ? '1' : '0');
    if (!Array.isArray(r)) return undefined;
    const view = lobbyView(r[0], r[1], r[2]);
    const m = this.mirror.get(room);
    if (m) {
      m.fields.lobby = enabled ? '1' : '0';
      m.fields.lobbyv = String(view.version);
    }
    return { view, released: lobbyView(1, 0, r[3]).waiting };
  }

  async enqueueLobby(room: string, entry: LobbyEntry, max: number): Promise<LobbyEnqueueOutcome> {
    const json = JSON.stringify({
      id: entry.id,
      name: entry.name,
      node: entry.node,
      since: entry.since,
    });
    const r = (await this.run('tfxLobbyEnqueue', room, json, max)) as unknown[];
    const tag = String(r[0]);
    if (tag === 'off' || tag === 'full') return { outcome: tag };
    return { outcome: 'queued', view: lobbyView(r[1], r[2], r[3]) };
  }

  async takeLobby(
    room: string,
    id: string,
  ): Promise<{ entry: LobbyEntry; view: LobbyView } | undefined> {
    const r = await this.run('tfxLobbyTake', room, id);
    if (!Array.isArray(r)) return undefined;
    const { ord, ...entry } = parseEntry(String(r[0]));
    void ord;
    return { entry, view: lobbyView(r[1], r[2], r[3]) };
  }

  /** Drops everyone waiting on a (dead) node; returns the changed rooms' lobbies. */
  async dropLobbyNode(node: string): Promise<{ room: string; view: LobbyView }[]> {
    const rooms = (await this.run('tfxLobbyDropNode', node)) as unknown[];
    const out: { room: string; view: LobbyView }[] = [];
    for (const room of rooms.map(String)) out.push({ room, view: await this.getLobby(room) });
    return out;
  }

  /**
   * Writes back what this process knows of a room's lobby after Redis lost it (see
   * LOBBY_RESTORE). `missing` while the room itself is not back; `changed` when the state moved
   * (then it must be shown to the room's nodes); `released`: waiters (of any node) that a newer
   * "off" let in.
   */
  async restoreLobby(
    held: HeldLobby,
  ): Promise<
    | { outcome: 'missing' }
    | { outcome: 'restored'; changed: boolean; view: LobbyView; released: readonly LobbyEntry[] }
  > {
    const entries = held.waiting.map((e) =>
      JSON.stringify({ id: e.id, name: e.name, node: e.node, since: e.since }),
    );
    const r = (await this.run(
      'tfxLobbyRestore',
      held.room,
      held.known?.version ?? -1,
      held.known ? (held.known.enabled ? '1' : '0') : '',
      ...entries,
    )) as unknown[];
    if (String(r[0]) !== 'ok') return { outcome: 'missing' };
    const view = lobbyView(r[2], r[3], r[4]);
    const m = this.mirror.get(held.room);
    if (m) {
      m.fields.lobby = view.enabled ? '1' : '0';
      m.fields.lobbyv = String(view.version);
    }
    return {
      outcome: 'restored',
      changed: Number(r[1]) === 1,
      view,
      released: lobbyView(1, 0, r[5]).waiting,
    };
  }

  // --- peers ----------------------------------------------------------------------------------

  async join(input: JoinInput): Promise<JoinOutcome> {
    this.assertOpen();
    const base = JSON.stringify({
      id: input.peerId,
      name: input.name,
      state: { ...input.state },
      joinedAt: input.now,
    });
    const participant = JSON.stringify({
      id: input.peerId,
      name: input.name,
      joinedAt: input.now,
    });
    const modDigest = input.moderatorToken !== undefined ? hashToken(input.moderatorToken) : '';
    let mode: 'join' | 'create' = 'join';
    let createPw = '';
    let verified = '';
    for (let round = 0; round < 6; round++) {
      const newMod = newToken();
      const r = (await this.run(
        'tfxJoin',
        input.room,
        input.peerId,
        base,
        input.capacity,
        input.now,
        mode,
        createPw,
        verified,
        modDigest,
        hashToken(newMod),
        randomUUID(),
        this.nodeId,
        MAX_PARTICIPANTS_KEPT,
        participant,
      )) as unknown[];
      const tag = String(r[0]);
      if (tag === 'retry') {
        if (mode === 'join') {
          mode = 'create';
          createPw = input.password !== undefined ? await hashPassword(input.password) : '';
        } else {
          mode = 'join';
          verified = '';
        }
        continue;
      }
      if (tag === 'need-password') {
        const hash = String(r[1]);
        if (input.password === undefined || !(await verifyPassword(input.password, hash)))
          return { ok: false, code: 'wrong-password' };
        verified = hash;
        mode = 'join';
        continue;
      }
      if (tag === 'err') {
        const code = String(r[1]);
        if (
          code === 'room-full' ||
          code === 'room-locked' ||
          code === 'room-expired' ||
          code === 'wrong-password'
        )
          return { ok: false, code };
        throw new TfxError('internal', `unexpected join refusal ${code}`);
      }
      const [, sid, started, gotMod, pj, flat, others] = r as [
        string,
        string,
        number,
        number,
        string,
        unknown,
        string[],
      ];
      const fields = flatToRecord(flat);
      const peers = others.map(parsePeer).sort((a, b) => a.ord - b.ord);
      const self = parsePeer(pj);
      const room = roomView(input.room, fields, peers.length + 1);
      if (this.nodeId !== '') {
        let m = this.mirror.get(input.room);
        if (!m) {
          m = { fields, sessionStartedAt: input.now, peers: new Map() };
          this.mirror.set(input.room, m);
        }
        m.fields = fields;
        if (Number(started) === 1) m.sessionStartedAt = input.now;
        m.peers.set(input.peerId, { json: pj, participant, tok: '' });
      }
      return {
        ok: true,
        room,
        sessionId: sid,
        sessionStarted: Number(started) === 1,
        peers: peers.map(peerView),
        peer: peerView(self),
        ...(Number(gotMod) === 1 ? { moderatorToken: newMod } : {}),
      };
    }
    return { ok: false, code: 'room-full' };
  }

  async leave(
    room: string,
    peerId: string,
    now: number,
  ): Promise<{ left: boolean; remaining: number }> {
    const r = (await this.run('tfxLeave', room, peerId, now)) as [number, number];
    this.forget(room, peerId);
    return { left: Number(r[0]) === 1, remaining: Number(r[1]) };
  }

  async updatePeer(
    room: string,
    peerId: string,
    patch: { name?: string | undefined; state?: Partial<MediaState> | undefined },
  ): Promise<PeerRecord | undefined> {
    const clean: { name?: string; state?: Partial<MediaState> } = {};
    if (patch.name !== undefined) clean.name = patch.name;
    if (patch.state) clean.state = statePatch(patch.state);
    const pj = await this.run('tfxUpdatePeer', room, peerId, JSON.stringify(clean));
    if (typeof pj !== 'string') return undefined;
    const mp = this.mirror.get(room)?.peers.get(peerId);
    if (mp) mp.json = pj;
    return peerView(parsePeer(pj));
  }

  async listPeers(room: string): Promise<readonly PeerRecord[]> {
    return (await this.listNodePeers(room)).map((p) => p.peer);
  }

  /** The room's peers, oldest first, each with the node that holds it. */
  async listNodePeers(room: string): Promise<readonly NodePeer[]> {
    const vals = await this.cmd(() => this.redis.hvals(`${this.prefix}peers:${room}`));
    return vals
      .map(parsePeer)
      .sort((a, b) => a.ord - b.ord)
      .map((p) => ({ peer: peerView(p), node: p.node }));
  }

  // --- resume tokens --------------------------------------------------------------------------

  async setResumeToken(room: string, peerId: string, token: string): Promise<void> {
    const digest = hashToken(token);
    await this.run('tfxSetResume', room, peerId, digest, this.resumeTtl);
    const mp = this.mirror.get(room)?.peers.get(peerId);
    if (mp) mp.tok = digest;
  }

  async takeResumeToken(token: string): Promise<ResumeBinding | undefined> {
    const digest = hashToken(token);
    const r = await this.run('tfxTakeResume', digest);
    if (!Array.isArray(r)) return undefined;
    const binding = { room: String(r[0]), peerId: String(r[1]) };
    const mp = this.mirror.get(binding.room)?.peers.get(binding.peerId);
    if (mp && mp.tok === digest) mp.tok = '';
    return binding;
  }

  // --- sessions -------------------------------------------------------------------------------

  async endSessionIfEmpty(room: string, now: number): Promise<SessionRecord | undefined> {
    const rec = await this.run(
      'tfxEndSession',
      room,
      now,
      this.options.maxEnded,
      this.now() - this.options.retentionMs,
      this.ttlEnded,
    );
    const m = this.mirror.get(room);
    if (m && m.peers.size === 0) this.mirror.delete(room);
    return typeof rec === 'string' ? (JSON.parse(rec) as SessionRecord) : undefined;
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const live = await this.liveSessions([id]);
    if (live[0]) return live[0];
    const rec = await this.cmd(() => this.redis.get(`${this.prefix}endedrec:${id}`));
    return rec !== null ? (JSON.parse(rec) as SessionRecord) : undefined;
  }

  async listSessions(query: SessionQuery): Promise<SessionPage> {
    const before = decodeCursor(query.cursor);
    const limit = Math.max(1, Math.min(1000, Math.floor(query.limit)));
    const key = `${this.prefix}${query.state === 'live' ? 'live' : 'ended'}`;
    const items: SessionRecord[] = [];
    let lastSeq = 0;
    let max = Number.isFinite(before) ? `(${before}` : '+inf';
    const batch = Math.min(1000, limit + 1);
    for (;;) {
      const flat = await this.cmd(() =>
        this.redis.zrevrangebyscore(key, max, '-inf', 'WITHSCORES', 'LIMIT', 0, batch),
      );
      if (flat.length === 0) return { items };
      const ids: string[] = [];
      const seqs: number[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        ids.push(flat[i] as string);
        seqs.push(Number(flat[i + 1]));
      }
      const recs =
        query.state === 'live'
          ? await this.liveSessions(ids)
          : await this.cmd(async () =>
              (await this.redis.mget(ids.map((id) => `${this.prefix}endedrec:${id}`))).map((s) =>
                s !== null ? (JSON.parse(s) as SessionRecord) : undefined,
              ),
            );
      for (let i = 0; i < ids.length; i++) {
        const rec = recs[i];
        if (!rec || (query.room !== undefined && rec.room !== query.room)) continue;
        if (items.length === limit) return { items, nextCursor: encodeCursor(lastSeq) };
        items.push(rec);
        lastSeq = seqs[i] as number;
      }
      if (ids.length < batch) return { items };
      max = `(${seqs[seqs.length - 1]}`;
    }
  }

  async appendEndedSession(session: SessionRecord): Promise<void> {
    if (this.closed) return;
    await this.run(
      'tfxAppend',
      session.id,
      JSON.stringify(session),
      session.endedAt ?? this.now(),
      this.options.maxEnded,
      this.now() - this.options.retentionMs,
      this.ttlEnded,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) this.redis.disconnect();
  }

  // --- cluster support ------------------------------------------------------------------------

  /** Records that `node` now holds the peer (a resume on another process). */
  async movePeer(room: string, peerId: string, node: string): Promise<boolean> {
    const ok = Number(await this.run('tfxMovePeer', room, peerId, node)) === 1;
    if (ok && node === this.nodeId) {
      const fields = await this.cmd(() => this.redis.hgetall(`${this.prefix}room:${room}`));
      const me = await this.cmd(() => this.redis.hget(`${this.prefix}peers:${room}`, peerId));
      if (me !== null) {
        let m = this.mirror.get(room);
        if (!m) {
          m = { fields, sessionStartedAt: this.now(), peers: new Map() };
          this.mirror.set(room, m);
        }
        const p = parsePeer(me);
        m.peers.set(peerId, {
          json: me,
          participant: JSON.stringify({ id: p.id, name: p.name, joinedAt: p.joinedAt }),
          tok: p.tok,
        });
      }
    }
    return ok;
  }

  /** "<room>\n<peerId>" of the peers a node holds. */
  async peersOfNode(node: string): Promise<{ room: string; peerId: string }[]> {
    const members = await this.cmd(() => this.redis.smembers(`${this.prefix}nodepeers:${node}`));
    return members.map((m) => {
      const i = m.indexOf('\n');
      return { room: m.slice(0, i), peerId: m.slice(i + 1) };
    });
  }

  /** Forgets a local peer in the mirror (it left, or moved to another node). */
  forget(room: string, peerId: string): void {
    const m = this.mirror.get(room);
    if (!m) return;
    m.peers.delete(peerId);
  }

  /** Rooms and peers this process holds, as it last wrote them. */
  get mirroredPeers(): number {
    let n = 0;
    for (const m of this.mirror.values()) n += m.peers.size;
    return n;
  }

  /**
   * Writes back this process's rooms, peers and resume tokens where Redis lacks them (after a
   * restart that came back empty). `keep(room, peerId)` says which mirrored peers are still here.
   * Returns the number of peers written.
   */
  async reassert(keep: (room: string, peerId: string) => boolean): Promise<number> {
    let written = 0;
    for (const [room, m] of [...this.mirror]) {
      const args: (string | number)[] = [
        room,
        JSON.stringify(m.fields),
        this.nodeId,
        MAX_PARTICIPANTS_KEPT,
        m.sessionStartedAt,
      ];
      for (const [pid, p] of m.peers) {
        if (!keep(room, pid)) {
          m.peers.delete(pid);
          continue;
        }
        args.push(pid, p.json, p.participant, p.tok, this.resumeTtl);
      }
      if (m.peers.size === 0) {
        this.mirror.delete(room);
        continue;
      }
      written += Number(await this.run('tfxReassert', ...args));
    }
    return written;
  }

  private async liveSessions(ids: readonly string[]): Promise<(SessionRecord | undefined)[]> {
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) {
      pipe.hgetall(`${this.prefix}sess:${id}`);
      pipe.lrange(`${this.prefix}sessp:${id}`, 0, -1);
    }
    const res = await this.cmd(async () => (await pipe.exec()) ?? []);
    return ids.map((_, i) => {
      const meta = res[2 * i]?.[1] as Record<string, string> | undefined;
      const parts = (res[2 * i + 1]?.[1] as string[] | undefined) ?? [];
      if (!meta || meta.id === undefined) return undefined;
      return {
        id: meta.id,
        room: meta.room ?? '',
        startedAt: Number(meta.started),
        peakParticipants: Number(meta.peak),
        participants: parts.map((s) => JSON.parse(s) as Participant),
      };
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new TfxError('unavailable', 'the store is closed');
  }
}
