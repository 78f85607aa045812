/**
 * The behaviour every `Store` implementation must have. Run it with a factory:
 *
 *   runStoreContract('memory', async (o) => new MemoryStore(o));
 *
 * The Redis store (a later issue) runs the same suite against a real Redis.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { JoinInput, SessionRecord, Store } from '../../src/store/index.js';
import type { MediaState } from '@tfx/protocol';
import { EXPIRED_ROOM_KEEP_MS } from '../../src/store/types.js';

export interface StoreFactoryOptions {
  readonly maxEnded: number;
  readonly retentionMs: number;
  readonly now: () => number;
}
export type MakeStore = (options: StoreFactoryOptions) => Promise<Store>;

const DAY = 86_400_000;
const T0 = 1_700_000_000_000;

export function runStoreContract(name: string, makeStore: MakeStore): void {
  describe(`Store contract: ${name}`, () => {
    let clock = T0;
    const open: Store[] = [];
    const make = async (o: Partial<StoreFactoryOptions> = {}): Promise<Store> => {
      clock = T0;
      const s = await makeStore({ maxEnded: 1000, retentionMs: 30 * DAY, now: () => clock, ...o });
      open.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });
    let n = 0;
    const input = (room: string, extra: Partial<JoinInput> = {}): JoinInput => ({
      room,
      peerId: `peer${++n}`,
      name: `Name ${n}`,
      state: { audio: true, video: true },
      capacity: 6,
      now: clock,
      ...extra,
    });

    it('the first join of an empty room creates it, starts a session and makes the joiner moderator', async () => {
      const s = await make();
      const r = await s.join(input('alpha'));
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.sessionStarted).toBe(true);
      expect(r.peers).toEqual([]);
      expect(r.moderatorToken).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(r.peer.moderator).toBe(true);
      expect(r.room).toMatchObject({
        name: 'alpha',
        origin: 'join',
        peerCount: 1,
        hasPassword: false,
      });
      expect(await s.isModerator('alpha', r.moderatorToken as string)).toBe(true);
      expect(await s.isModerator('alpha', 'nope')).toBe(false);
    });

    it('later joiners see the earlier peers, share the session and get no moderator token', async () => {
      const s = await make();
      const a = await s.join(input('alpha'));
      const b = await s.join(input('alpha'));
      expect(a.ok && b.ok).toBe(true);
      if (!a.ok || !b.ok) return;
      expect(b.sessionStarted).toBe(false);
      expect(b.sessionId).toBe(a.sessionId);
      expect(b.moderatorToken).toBeUndefined();
      expect(b.peer.moderator).toBe(false);
      expect(b.peers.map((p) => p.id)).toEqual([a.peer.id]);
      expect((await s.listPeers('alpha')).map((p) => p.id)).toEqual([a.peer.id, b.peer.id]);
    });

    it('refuses joins beyond the capacity, also when they arrive at the same moment', async () => {
      const s = await make();
      const results = await Promise.all(
        Array.from({ length: 10 }, () => s.join(input('full', { capacity: 3 }))),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(3);
      expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.code)).toEqual(
        Array(7).fill('room-full'),
      );
    });

    it('a password set by the first joiner is required from the others and checked', async () => {
      const s = await make();
      expect((await s.join(input('secret', { password: 'hunter22' }))).ok).toBe(true);
      expect(await s.join(input('secret'))).toEqual({ ok: false, code: 'wrong-password' });
      expect(await s.join(input('secret', { password: 'hunter23' }))).toEqual({
        ok: false,
        code: 'wrong-password',
      });
      expect((await s.join(input('secret', { password: 'hunter22' }))).ok).toBe(true);
      expect((await s.getRoom('secret', clock))?.hasPassword).toBe(true);
    });

    it('concurrent first joins with different passwords leave exactly one password in force', async () => {
      const s = await make();
      const [a, b] = await Promise.all([
        s.join(input('race', { password: 'first-pass' })),
        s.join(input('race', { password: 'other-pass' })),
      ]);
      expect([a?.ok, b?.ok].filter(Boolean)).toHaveLength(1);
    });

    it('an API room gives its creator the moderator token, refuses a second create and gives joiners none', async () => {
      const s = await make();
      const { room, moderatorToken } = await s.createRoom({
        name: 'made',
        capacity: 4,
        now: clock,
      });
      expect(room).toMatchObject({ name: 'made', origin: 'api', capacity: 4, peerCount: 0 });
      await expect(s.createRoom({ name: 'made', capacity: 4, now: clock })).rejects.toMatchObject({
        code: 'conflict',
      });
      const j = await s.join(input('made'));
      expect(j.ok && j.moderatorToken).toBe(undefined);
      expect(j.ok && j.peer.moderator).toBe(false);
      expect(await s.isModerator('made', moderatorToken)).toBe(true);
      const m = await s.join(input('made', { moderatorToken }));
      expect(m.ok && m.peer.moderator).toBe(true);
    });

    it('an API room with a password lets the moderator token in without it', async () => {
      const s = await make();
      const { moderatorToken } = await s.createRoom({
        name: 'locked-pw',
        password: 'swordfish',
        capacity: 6,
        now: clock,
      });
      expect(await s.join(input('locked-pw'))).toEqual({ ok: false, code: 'wrong-password' });
      expect((await s.join(input('locked-pw', { moderatorToken }))).ok).toBe(true);
      expect((await s.join(input('locked-pw', { password: 'swordfish' }))).ok).toBe(true);
    });

    it('a room past its expiry refuses joins, even empty, until its name is freed a week later', async () => {
      const s = await make();
      await s.createRoom({ name: 'brief', expiresAt: T0 + 1000, capacity: 6, now: clock });
      expect((await s.join(input('brief', { now: T0 + 999 }))).ok).toBe(true);
      expect(await s.join(input('brief', { now: T0 + 1000 }))).toEqual({
        ok: false,
        code: 'room-expired',
      });
      const other = await s.createRoom({
        name: 'brief2',
        expiresAt: T0 + 10,
        capacity: 6,
        now: clock,
      });
      expect(other.room.expiresAt).toBe(T0 + 10);
      // Empty and expired: the link must not quietly make a new, unprotected room of that name.
      expect(await s.join(input('brief2', { now: T0 + 60_000 }))).toEqual({
        ok: false,
        code: 'room-expired',
      });
      expect((await s.getRoom('brief2', T0 + 60_000))?.expiresAt).toBe(T0 + 10);
      const later = T0 + 10 + EXPIRED_ROOM_KEEP_MS;
      expect(await s.getRoom('brief2', later)).toBeUndefined();
      expect((await s.join(input('brief2', { now: later }))).ok).toBe(true);
    });

    it('a locked room refuses joins except with the moderator token', async () => {
      const s = await make();
      const a = await s.join(input('lockme'));
      if (!a.ok) throw new Error('join failed');
      expect(await s.setLocked('lockme', true)).toBe(true);
      expect((await s.getRoom('lockme', clock))?.locked).toBe(true);
      expect(await s.join(input('lockme'))).toEqual({ ok: false, code: 'room-locked' });
      expect((await s.join(input('lockme', { moderatorToken: a.moderatorToken }))).ok).toBe(true);
      expect(await s.setLocked('nowhere', true)).toBe(false);
    });

    const waiter = (id: string, node = 'n1') => ({ id, name: `W ${id}`, node, since: clock });

    it('the lobby is off by default: nobody is queued, and it cannot be set on a room that does not exist', async () => {
      const s = await make();
      expect(await s.getLobby('nowhere')).toEqual({ enabled: false, version: 0, waiting: [] });
      expect(await s.setLobby('nowhere', true)).toBeUndefined();
      await s.join(input('lob0'));
      expect(await s.getLobby('lob0')).toMatchObject({ enabled: false, waiting: [] });
      expect(await s.enqueueLobby('lob0', waiter('w0'), 32)).toEqual({ outcome: 'off' });
      expect(await s.enqueueLobby('nowhere', waiter('w0'), 32)).toEqual({ outcome: 'off' });
      expect(await s.takeLobby('lob0', 'w0')).toBeUndefined();
    });

    it('with the lobby on, joiners queue oldest first up to the cap; every change raises the version', async () => {
      const s = await make();
      await s.join(input('lob1'));
      const on = await s.setLobby('lob1', true);
      expect(on).toMatchObject({ view: { enabled: true, waiting: [] }, released: [] });
      let v = on?.view.version ?? 0;
      const ids = ['a1', 'b2', 'c3'];
      for (const [i, id] of ids.entries()) {
        const r = await s.enqueueLobby('lob1', waiter(id, `n${i % 2}`), 3);
        expect(r.outcome).toBe('queued');
        if (r.outcome !== 'queued') return;
        expect(r.view.version).toBeGreaterThan(v);
        v = r.view.version;
      }
      expect(await s.enqueueLobby('lob1', waiter('d4'), 3)).toEqual({ outcome: 'full' });
      const view = await s.getLobby('lob1');
      expect(view).toEqual({
        enabled: true,
        version: v,
        waiting: [
          { id: 'a1', name: 'W a1', node: 'n0', since: clock },
          { id: 'b2', name: 'W b2', node: 'n1', since: clock },
          { id: 'c3', name: 'W c3', node: 'n0', since: clock },
        ],
      });
    });

    it('a waiter is taken out once, even by two at the same moment', async () => {
      const s = await make();
      await s.join(input('lob2'));
      await s.setLobby('lob2', true);
      await s.enqueueLobby('lob2', waiter('x1'), 32);
      await s.enqueueLobby('lob2', waiter('x2'), 32);
      const [a, b] = await Promise.all([s.takeLobby('lob2', 'x1'), s.takeLobby('lob2', 'x1')]);
      const won = [a, b].filter((r) => r !== undefined);
      expect(won).toHaveLength(1);
      expect(won[0]?.entry).toEqual({ id: 'x1', name: 'W x1', node: 'n1', since: clock });
      expect(won[0]?.view.waiting.map((w) => w.id)).toEqual(['x2']);
      expect(await s.takeLobby('lob2', 'x1')).toBeUndefined();
      expect(await s.takeLobby('lob2', 'nobody')).toBeUndefined();
    });

    it('simultaneous joiners never overfill the lobby', async () => {
      const s = await make();
      await s.join(input('lob3'));
      await s.setLobby('lob3', true);
      const rs = await Promise.all(
        Array.from({ length: 10 }, (_, i) => s.enqueueLobby('lob3', waiter(`s${i}`), 4)),
      );
      expect(rs.filter((r) => r.outcome === 'queued')).toHaveLength(4);
      expect((await s.getLobby('lob3')).waiting).toHaveLength(4);
    });

    it('turning the lobby off releases everyone waiting, oldest first, in the same step', async () => {
      const s = await make();
      await s.join(input('lob4'));
      await s.setLobby('lob4', true);
      await s.enqueueLobby('lob4', waiter('r1', 'n0'), 32);
      await s.enqueueLobby('lob4', waiter('r2', 'n1'), 32);
      const off = await s.setLobby('lob4', false);
      expect(off?.view).toMatchObject({ enabled: false, waiting: [] });
      expect(off?.released.map((e) => [e.id, e.node])).toEqual([
        ['r1', 'n0'],
        ['r2', 'n1'],
      ]);
      expect(await s.takeLobby('lob4', 'r1')).toBeUndefined();
      expect(await s.enqueueLobby('lob4', waiter('r3'), 32)).toEqual({ outcome: 'off' });
    });

    it('the lobby ends with the session: an API room starts its next session without it', async () => {
      const s = await make();
      await s.createRoom({ name: 'lob5', capacity: 6, now: clock });
      const j = await s.join(input('lob5'));
      if (!j.ok) throw new Error('join failed');
      const before = (await s.setLobby('lob5', true))?.view.version ?? 0;
      await s.enqueueLobby('lob5', waiter('e1'), 32);
      await s.leave('lob5', j.peer.id, clock);
      expect(await s.endSessionIfEmpty('lob5', clock)).toBeDefined();
      const after = await s.getLobby('lob5');
      expect(after).toMatchObject({ enabled: false, waiting: [] });
      expect(after.version).toBeGreaterThan(before);
      expect(await s.takeLobby('lob5', 'e1')).toBeUndefined();
    });

    it('leave removes the peer; the session ends only once the room is empty', async () => {
      const s = await make();
      const a = await s.join(input('cycle'));
      clock += 1000;
      const b = await s.join(input('cycle', { now: clock }));
      if (!a.ok || !b.ok) throw new Error('join failed');
      expect(await s.leave('cycle', a.peer.id, clock + 500)).toEqual({ left: true, remaining: 1 });
      expect(await s.leave('cycle', a.peer.id, clock + 500)).toEqual({ left: false, remaining: 1 });
      expect(await s.endSessionIfEmpty('cycle', clock + 600)).toBeUndefined();
      expect(await s.leave('cycle', b.peer.id, clock + 2000)).toEqual({ left: true, remaining: 0 });
      const ended = await s.endSessionIfEmpty('cycle', clock + 3000);
      expect(ended).toMatchObject({
        id: a.sessionId,
        room: 'cycle',
        startedAt: T0,
        endedAt: clock + 3000,
        peakParticipants: 2,
      });
      expect(ended?.participants).toEqual([
        { id: a.peer.id, name: a.peer.name, joinedAt: T0, leftAt: clock + 500 },
        { id: b.peer.id, name: b.peer.name, joinedAt: clock, leftAt: clock + 2000 },
      ]);
      expect(Object.keys(ended ?? {}).sort()).toEqual([
        'endedAt',
        'id',
        'participants',
        'peakParticipants',
        'room',
        'startedAt',
      ]);
      expect(Object.keys(ended?.participants[0] ?? {}).sort()).toEqual([
        'id',
        'joinedAt',
        'leftAt',
        'name',
      ]);
      expect(await s.getRoom('cycle', clock)).toBeUndefined();
      expect(await s.getSession(a.sessionId)).toEqual(ended);
      const again = await s.join(input('cycle'));
      expect(again.ok && again.sessionId).not.toBe(a.sessionId);
    });

    it('an API room outlives its sessions', async () => {
      const s = await make();
      await s.createRoom({ name: 'stays', capacity: 6, now: clock });
      const j = await s.join(input('stays'));
      if (!j.ok) throw new Error('join failed');
      await s.leave('stays', j.peer.id, clock);
      expect(await s.endSessionIfEmpty('stays', clock)).toBeDefined();
      expect(await s.getRoom('stays', clock)).toMatchObject({ origin: 'api', peerCount: 0 });
    });

    it('updatePeer changes name and media state', async () => {
      const s = await make();
      const a = await s.join(input('upd'));
      if (!a.ok) throw new Error('join failed');
      const p = await s.updatePeer('upd', a.peer.id, {
        name: 'Zed',
        state: { audio: false, screen: true },
      });
      expect(p).toMatchObject({ name: 'Zed', state: { audio: false, video: true, screen: true } });
      // A raised hand is state like the others; unknown keys never reach the store's record.
      const up = await s.updatePeer('upd', a.peer.id, {
        state: { hand: true, evil: 'x' } as Partial<MediaState>,
      });
      expect(up?.state).toEqual({ audio: false, video: true, screen: true, hand: true });
      const down = await s.updatePeer('upd', a.peer.id, { state: { hand: false } });
      expect(down?.state).toEqual({ audio: false, video: true, screen: true, hand: false });
      expect((await s.listPeers('upd'))[0]?.state.hand).toBe(false);
      expect(await s.updatePeer('upd', 'ghost', { name: 'x' })).toBeUndefined();
    });

    it('open widget ids are state: set, replaced, and closed to an empty list (not an object)', async () => {
      const s = await make();
      const a = await s.join({ ...input('wid'), state: { audio: true, video: true, widgets: [] } });
      if (!a.ok) throw new Error('join failed');
      // Redis merges state in Lua, whose cjson writes an empty array back as {}: read it as [].
      expect(a.peer.state.widgets).toEqual([]);
      expect((await s.listPeers('wid'))[0]?.state.widgets).toEqual([]);
      const open = await s.updatePeer('wid', a.peer.id, { state: { widgets: ['draw', 'code'] } });
      expect(open?.state).toEqual({ audio: true, video: true, widgets: ['draw', 'code'] });
      const other = await s.updatePeer('wid', a.peer.id, { state: { audio: false } });
      expect(other?.state.widgets).toEqual(['draw', 'code']);
      const closed = await s.updatePeer('wid', a.peer.id, { state: { widgets: [] } });
      expect(closed?.state.widgets).toEqual([]);
      const after = await s.updatePeer('wid', a.peer.id, { state: { hand: true } });
      expect(after?.state).toEqual({ audio: false, video: true, hand: true, widgets: [] });
      const [listed] = await s.listPeers('wid');
      expect(Array.isArray(listed?.state.widgets)).toBe(true);
      expect(listed?.state.widgets).toEqual([]);
    });

    it('a resume token is single use, replaced by the next one, and dies with its peer', async () => {
      const s = await make();
      const a = await s.join(input('resume'));
      if (!a.ok) throw new Error('join failed');
      await s.setResumeToken('resume', a.peer.id, 'tok-1');
      await s.setResumeToken('resume', a.peer.id, 'tok-2');
      expect(await s.takeResumeToken('tok-1')).toBeUndefined();
      expect(await s.takeResumeToken('tok-2')).toEqual({ room: 'resume', peerId: a.peer.id });
      expect(await s.takeResumeToken('tok-2')).toBeUndefined();
      await s.setResumeToken('resume', a.peer.id, 'tok-3');
      await s.leave('resume', a.peer.id, clock);
      expect(await s.takeResumeToken('tok-3')).toBeUndefined();
      expect(await s.takeResumeToken('never-issued')).toBeUndefined();
    });

    it('taking one token twice at the same moment hands it out once', async () => {
      const s = await make();
      const a = await s.join(input('resume2'));
      if (!a.ok) throw new Error('join failed');
      await s.setResumeToken('resume2', a.peer.id, 'tok');
      const r = await Promise.all([s.takeResumeToken('tok'), s.takeResumeToken('tok')]);
      expect(r.filter(Boolean)).toHaveLength(1);
    });

    it('lists live and ended sessions newest first, by room, in pages', async () => {
      const s = await make();
      for (let i = 0; i < 5; i++) {
        clock += 1000;
        const j = await s.join(input(`room-${i % 2}`, { now: clock }));
        if (!j.ok) throw new Error('join failed');
        await s.leave(j.room.name, j.peer.id, clock);
        await s.endSessionIfEmpty(j.room.name, clock + 1);
      }
      const live = await s.join(input('live-one'));
      const all: SessionRecord[] = [];
      let page = await s.listSessions({ state: 'ended', limit: 2 });
      all.push(...page.items);
      while (page.nextCursor) {
        page = await s.listSessions({ state: 'ended', limit: 2, cursor: page.nextCursor });
        all.push(...page.items);
      }
      expect(all).toHaveLength(5);
      expect(all.map((x) => x.endedAt)).toEqual([...all.map((x) => x.endedAt)].sort().reverse());
      const room0 = await s.listSessions({ state: 'ended', room: 'room-0', limit: 10 });
      expect(room0.items.map((x) => x.room)).toEqual(['room-0', 'room-0', 'room-0']);
      const lives = await s.listSessions({ state: 'live', limit: 10 });
      expect(lives.items.map((x) => x.id)).toEqual([live.ok && live.sessionId]);
      expect(lives.items[0]?.endedAt).toBeUndefined();
      await expect(
        s.listSessions({ state: 'ended', limit: 2, cursor: '!!bad' }),
      ).rejects.toMatchObject({
        code: 'bad-request',
      });
    });

    it('keeps at most maxEnded ended sessions, dropping the oldest', async () => {
      const s = await make({ maxEnded: 3 });
      for (let i = 0; i < 5; i++) {
        await s.appendEndedSession({
          id: `s${i}`,
          room: 'abc',
          startedAt: clock,
          endedAt: clock + i,
          peakParticipants: 1,
          participants: [],
        });
      }
      const page = await s.listSessions({ state: 'ended', limit: 10 });
      expect(page.items.map((x) => x.id)).toEqual(['s4', 's3', 's2']);
      expect(await s.getSession('s0')).toBeUndefined();
    });

    it('drops ended sessions older than the retention', async () => {
      const s = await make({ retentionMs: DAY });
      await s.appendEndedSession({
        id: 'old',
        room: 'abc',
        startedAt: T0,
        endedAt: T0,
        peakParticipants: 1,
        participants: [],
      });
      clock = T0 + 2 * DAY;
      await s.appendEndedSession({
        id: 'new',
        room: 'abc',
        startedAt: clock,
        endedAt: clock,
        peakParticipants: 1,
        participants: [],
      });
      expect((await s.listSessions({ state: 'ended', limit: 10 })).items.map((x) => x.id)).toEqual([
        'new',
      ]);
    });

    it('lists rooms with their peer counts', async () => {
      const s = await make();
      await s.join(input('one-room'));
      await s.join(input('one-room'));
      await s.createRoom({ name: 'two-room', capacity: 6, now: clock });
      const rooms = await s.listRooms(clock);
      expect(rooms.map((r) => [r.name, r.peerCount]).sort()).toEqual([
        ['one-room', 2],
        ['two-room', 0],
      ]);
    });

    it('closing twice is harmless', async () => {
      const s = await make();
      await s.close();
      await s.close();
    });
  });
}
