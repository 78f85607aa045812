import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { RedisStore, openRedisClient } from '../../src/store/redis/index.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { runStoreContract } from './contract.js';

let redis: RedisServer;
let n = 0;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

// Each store gets its own key prefix, so tests never see each other's state.
runStoreContract('redis', async (o) => {
  const client = openRedisClient({ url: redis.url, kind: 'command' });
  await client.connect();
  return new RedisStore(client, { ...o, prefix: `t${++n}:`, nodeId: 'node-a' }, true);
});

/** Stores of `count` processes (node ids n0, n1, …) sharing one fresh key prefix. */
async function nodeStores(tag: string, count = 2): Promise<RedisStore[]> {
  const prefix = `${tag}${++n}:`;
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const client = openRedisClient({ url: redis.url, kind: 'command' });
      await client.connect();
      const o = { maxEnded: 10, retentionMs: 86_400_000, prefix, nodeId: `n${i}` };
      return new RedisStore(client, o, true);
    }),
  );
}

describe('redis store', () => {
  it('two stores (two processes) on one Redis admit exactly capacity of simultaneous joins', async () => {
    const stores = await nodeStores('cap');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (stores[i % 2] as RedisStore).join({
          room: 'shared',
          peerId: `p${i}`,
          name: `P${i}`,
          state: { audio: true, video: false },
          capacity: 6,
          now: Date.now(),
        }),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(6);
    const peers = await (stores[1] as RedisStore).listNodePeers('shared');
    expect(peers).toHaveLength(6);
    for (const p of peers)
      expect(p.node).toBe(p.peer.id.slice(1) === '' ? '' : `n${Number(p.peer.id.slice(1)) % 2}`);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('re-asserts its rooms, peers and resume tokens into a Redis that lost them', async () => {
    const [s] = (await nodeStores('re', 1)) as [RedisStore];
    const prefix = s.prefix;
    const j = await s.join({
      room: 'again',
      peerId: 'p1',
      name: 'Ann',
      state: { audio: true, video: true },
      password: 'pw-pw-pw',
      capacity: 6,
      now: Date.now(),
    });
    if (!j.ok) throw new Error('join failed');
    await s.setResumeToken('again', 'p1', 'token-1');
    const admin = new Redis(redis.url);
    const keys = await admin.keys(`${prefix}*`);
    await admin.del(...keys);
    expect(await s.getRoom('again', Date.now())).toBeUndefined();
    expect(await s.reassert(() => true)).toBe(1);
    expect(await s.getRoom('again', Date.now())).toMatchObject({ hasPassword: true, peerCount: 1 });
    expect((await s.listPeers('again')).map((p) => p.id)).toEqual(['p1']);
    expect(await s.isModerator('again', j.moderatorToken as string)).toBe(true);
    expect(await s.takeResumeToken('token-1')).toEqual({ room: 'again', peerId: 'p1' });
    expect((await s.listSessions({ state: 'live', limit: 5 })).items.map((x) => x.id)).toEqual([
      j.sessionId,
    ]);
    admin.disconnect();
    await s.close();
  });

  it('one lobby for two stores (two processes): the cap holds room-wide, a waiter is taken once, and a dead node drops its waiters', async () => {
    const [a, b] = (await nodeStores('lob')) as [RedisStore, RedisStore];
    const now = Date.now();
    const j = await a.join({
      room: 'hall',
      peerId: 'mod',
      name: 'Mod',
      state: { audio: false, video: false },
      capacity: 6,
      now,
    });
    if (!j.ok) throw new Error('join failed');
    await a.setLobby('hall', true);
    const rs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? b : a).enqueueLobby(
          'hall',
          { id: `w${i}`, name: `W${i}`, node: `n${i % 2}`, since: now },
          5,
        ),
      ),
    );
    expect(rs.filter((r) => r.outcome === 'queued')).toHaveLength(5);
    const queued = (await b.getLobby('hall')).waiting;
    expect(queued).toHaveLength(5);
    const onB = queued.filter((w) => w.node === 'n1').map((w) => w.id);
    const onA = queued.filter((w) => w.node === 'n0').map((w) => w.id);
    const first = onA[0] as string;
    const takes = await Promise.all([a.takeLobby('hall', first), b.takeLobby('hall', first)]);
    expect(takes.filter((t) => t !== undefined)).toHaveLength(1);
    // Node n1 dies: its waiters leave the queue, n0's stay.
    const before = (await a.getLobby('hall')).version;
    const dropped = await a.dropLobbyNode('n1');
    expect(dropped).toHaveLength(onB.length > 0 ? 1 : 0);
    const after = await a.getLobby('hall');
    expect(after.waiting.map((w) => w.id)).toEqual(onA.slice(1));
    if (onB.length > 0) expect(after.version).toBeGreaterThan(before);
    else expect(after.version).toBe(before);
    expect(await a.dropLobbyNode('n1')).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('writes a lost lobby back: waiters of two nodes once each, the newest flag wins, versions move past what was shown', async () => {
    const [a, b] = (await nodeStores('rl')) as [RedisStore, RedisStore];
    const prefix = a.prefix;
    const now = Date.now();
    const peer = (peerId: string) => ({
      room: 'hall',
      peerId,
      name: peerId,
      state: { audio: false, video: false },
      capacity: 6,
      now,
    });
    const mod = await a.join(peer('mod'));
    // b's peer joined before the lobby went on: b's copy of the room says "off".
    expect((await b.join(peer('bob'))).ok).toBe(true);
    if (!mod.ok) throw new Error('join failed');
    await a.setLobby('hall', true);
    const w = (id: string, node: string) => ({ id, name: `W ${id}`, node, since: now });
    await a.enqueueLobby('hall', w('wa', 'n0'), 8);
    await b.enqueueLobby('hall', w('wb', 'n1'), 8);
    const shown = (await a.getLobby('hall')).version;

    const admin = new Redis(redis.url);
    await admin.del(...(await admin.keys(`${prefix}*`)));
    // Before any room is back, nothing is written (no half room for the re-assertion to skip).
    expect(await b.restoreLobby({ room: 'hall', waiting: [w('wb', 'n1')] })).toEqual({
      outcome: 'missing',
    });
    expect(await admin.exists(`${prefix}room:hall`)).toBe(0);
    // b re-asserts the room first, with its stale "off"; its waiter is not queued in an off lobby.
    await b.reassert(() => true);
    const offFirst = await b.restoreLobby({ room: 'hall', waiting: [w('wb', 'n1')] });
    expect(offFirst).toMatchObject({ outcome: 'restored', view: { enabled: false, waiting: [] } });
    // a knows the newest state (on, as shown at `shown`): the flag comes back on, a's waiter too.
    await a.reassert(() => true);
    const fromA = await a.restoreLobby({
      room: 'hall',
      waiting: [w('wa', 'n0')],
      known: { version: shown, enabled: true },
    });
    expect(fromA).toMatchObject({ outcome: 'restored', changed: true, released: [] });
    if (fromA.outcome !== 'restored') return;
    expect(fromA.view.enabled).toBe(true);
    expect(fromA.view.version).toBeGreaterThan(shown);
    expect(fromA.view.waiting.map((x) => x.id)).toEqual(['wa']);
    // b's next round writes its waiter; older knowledge ("off" at version 1) changes nothing.
    const fromB = await b.restoreLobby({
      room: 'hall',
      waiting: [w('wb', 'n1')],
      known: { version: 1, enabled: false },
    });
    expect(fromB).toMatchObject({ outcome: 'restored', changed: true });
    if (fromB.outcome !== 'restored') return;
    expect(fromB.view.version).toBeGreaterThan(fromA.view.version);
    expect(fromB.view).toMatchObject({
      enabled: true,
      waiting: [w('wa', 'n0'), w('wb', 'n1')],
    });
    // Idempotent: a second round writes nothing and moves nothing.
    const again = await a.restoreLobby({
      room: 'hall',
      waiting: [w('wa', 'n0')],
      known: { version: shown, enabled: true },
    });
    expect(again).toMatchObject({ outcome: 'restored', changed: false });
    if (again.outcome !== 'restored') return;
    expect(again.view.version).toBe(fromB.view.version);
    // The entries behave like queued ones: taken once, and b's node set lists its waiter.
    expect(await admin.smembers(`${prefix}lobbynode:n1`)).toEqual(['hall\nwb']);
    expect((await a.takeLobby('hall', 'wb'))?.entry).toEqual(w('wb', 'n1'));
    // Newer knowledge of "off" releases whoever waits, as turning the lobby off does.
    const off = await b.restoreLobby({
      room: 'hall',
      waiting: [],
      known: { version: fromB.view.version + 5, enabled: false },
    });
    expect(off).toMatchObject({
      outcome: 'restored',
      changed: true,
      view: { enabled: false, waiting: [] },
    });
    if (off.outcome !== 'restored') return;
    expect(off.released.map((e) => e.id)).toEqual(['wa']);
    admin.disconnect();
    await Promise.all([a.close(), b.close()]);
  });

  it('answers a stopped Redis with a retryable unavailable error, not a hang', async () => {
    const r2 = await startRedis();
    const client = openRedisClient({ url: r2.url, kind: 'command', commandTimeoutMs: 300 });
    await client.connect();
    const s = new RedisStore(client, { maxEnded: 10, retentionMs: 86_400_000 }, true);
    r2.pause();
    try {
      await expect(
        s.join({
          room: 'paused',
          peerId: 'p1',
          name: 'A',
          state: { audio: false, video: false },
          capacity: 6,
          now: Date.now(),
        }),
      ).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      r2.resume();
      await s.close();
      await r2.stop();
    }
  });
});
