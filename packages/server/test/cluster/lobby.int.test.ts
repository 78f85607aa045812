/**
 * The lobby across processes: real `tfx start` processes on one real redis-server, socket.io
 * clients on different processes. Whoever is connected where, the lobby holds joins, moderators
 * everywhere see the whole queue, and admit / deny reach the process holding the waiter.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Ack, JoinResult, LobbyState } from '@tfx/protocol';
import type { TfxProcess } from '../../../../test/helpers/tfx-process.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import {
  closeClients,
  eventually,
  join,
  metric,
  next,
  open,
  startNode,
  urlOf,
  type Client,
} from './cluster-harness.js';

let redis: RedisServer;
let A: TfxProcess;
let B: TfxProcess;
const extra = (id: string): string[] => [
  '--cluster-node-id',
  id,
  '--signalling-resume-grace-ms',
  '1500',
  '--cluster-node-ttl-ms',
  '2000',
];

beforeAll(async () => {
  redis = await startRedis();
  [A, B] = (await Promise.all([
    startNode(redis.url, extra('lobby-a')),
    startNode(redis.url, extra('lobby-b')),
  ])) as [TfxProcess, TfxProcess];
}, 60_000);
afterEach(() => closeClients());
afterAll(async () => {
  await Promise.all([A, B].map((n) => n?.stop()));
  await redis?.stop();
});

/** Opens a connection to `p` and sends a join, returning the (refused) ack and the client. */
async function knock(p: TfxProcess, room: string, name: string) {
  const client = await open(urlOf(p));
  const ack = (await client
    .timeout(10_000)
    .emitWithAck('join', { room, name })) as unknown as Ack<JoinResult>;
  return { client, ack };
}

function waitingId(ack: Ack<JoinResult>): string {
  if (ack.ok) throw new Error('expected waiting-in-lobby');
  expect(ack.error.code).toBe('waiting-in-lobby');
  return String(ack.error.details?.id);
}

function states(c: Client): LobbyState[] {
  const got: LobbyState[] = [];
  c.on('lobby-state', (s) => got.push(s));
  return got;
}

const ids = (s: LobbyState | undefined): string[] | undefined => s?.waiting.map((w) => w.id);

async function moderatorWithLobby(p: TfxProcess, room: string) {
  const mod = await join(urlOf(p), room, 'Mod');
  const seen = states(mod.client);
  const token = mod.result.moderatorToken as string;
  expect(await mod.client.emitWithAck('lobby', { moderatorToken: token, enabled: true })).toEqual({
    ok: true,
    enabled: true,
  });
  return { ...mod, seen, token };
}

describe('lobby across processes', () => {
  it('lobby on at A holds a join at B; the moderator at A sees it and admits it: the joiner gets admitted with its join result', async () => {
    const mod = await moderatorWithLobby(A, 'xl-admit');
    const joinedAtA = next(mod.client, 'peer-joined');
    const k = await knock(B, 'xl-admit', 'Late');
    const id = waitingId(k.ack);
    await eventually(() => ids(mod.seen.at(-1))?.join() === id, 10_000, 'the waiter at A');
    expect(mod.seen.at(-1)).toEqual({ enabled: true, waiting: [{ id, name: 'Late' }] });
    const admitted = next(k.client, 'admitted');
    expect(await mod.client.emitWithAck('admit', { moderatorToken: mod.token, id })).toEqual({
      ok: true,
    });
    const result = await admitted;
    expect(result).toMatchObject({ room: 'xl-admit', moderator: false });
    expect(result.peers.map((p) => p.name)).toEqual(['Mod']);
    expect((await joinedAtA).id).toBe(result.peerId);
    await eventually(() => ids(mod.seen.at(-1))?.length === 0, 5000, 'an empty queue');
    // Admitted means joined: it can update like anyone.
    expect(await k.client.emitWithAck('update', { state: { audio: true } })).toMatchObject({
      ok: true,
    });
  });

  it('a moderator at A denies a joiner waiting at B: denied and disconnected, never in the room; admitting it again is peer-unavailable', async () => {
    const mod = await moderatorWithLobby(A, 'xl-deny');
    const joined: unknown[] = [];
    mod.client.on('peer-joined', (p) => joined.push(p));
    const k = await knock(B, 'xl-deny', 'Eve');
    const id = waitingId(k.ack);
    await eventually(() => ids(mod.seen.at(-1))?.join() === id, 10_000, 'the waiter at A');
    const denied = next(k.client, 'denied');
    const gone = new Promise<void>((r) => k.client.once('disconnect', () => r()));
    expect(await mod.client.emitWithAck('deny', { moderatorToken: mod.token, id })).toEqual({
      ok: true,
    });
    expect(await denied).toEqual({ reason: 'denied' });
    await gone;
    expect(await mod.client.emitWithAck('admit', { moderatorToken: mod.token, id })).toMatchObject({
      ok: false,
      error: { code: 'peer-unavailable' },
    });
    expect(joined).toEqual([]);
  });

  it('a moderator at B sees the queue when it joins and a waiter at A; a waiter at B that disconnects leaves the queue at A; lobby off admits everyone everywhere', async () => {
    const mod = await moderatorWithLobby(A, 'xl-all');
    const first = await knock(B, 'xl-all', 'Ann');
    const idAnn = waitingId(first.ack);
    // A second moderator joins at B (its token passes the lobby) and hears of the queue at once.
    const modB = await open(urlOf(B));
    const seenB = states(modB);
    const ackB = await modB.emitWithAck('join', {
      room: 'xl-all',
      name: 'Mod B',
      moderatorToken: mod.token,
    });
    expect(ackB).toMatchObject({ ok: true, moderator: true });
    await eventually(() => ids(seenB.at(-1))?.join() === idAnn, 5000, 'the queue at B');
    // A waiter at A shows at B, oldest first.
    const second = await knock(A, 'xl-all', 'Ben');
    const idBen = waitingId(second.ack);
    await eventually(() => ids(seenB.at(-1))?.join() === [idAnn, idBen].join(), 5000, 'Ben at B');
    await eventually(() => ids(mod.seen.at(-1))?.join() === [idAnn, idBen].join(), 5000, 'at A');
    // A third waits at B and leaves: both moderators see it go.
    const quitter = await knock(B, 'xl-all', 'Quitter');
    const idQ = waitingId(quitter.ack);
    await eventually(() => ids(mod.seen.at(-1))?.includes(idQ) === true, 5000, 'Quitter at A');
    quitter.client.disconnect();
    await eventually(() => ids(mod.seen.at(-1))?.join() === [idAnn, idBen].join(), 5000, 'gone');
    await eventually(() => ids(seenB.at(-1))?.join() === [idAnn, idBen].join(), 5000, 'gone B');
    // Lobby off (from B) admits Ann (at B) and Ben (at A).
    const admittedAnn = next(first.client, 'admitted');
    const admittedBen = next(second.client, 'admitted');
    expect(await modB.emitWithAck('lobby', { moderatorToken: mod.token, enabled: false })).toEqual({
      ok: true,
      enabled: false,
    });
    expect((await admittedAnn).room).toBe('xl-all');
    expect((await admittedBen).room).toBe('xl-all');
    await eventually(
      () => mod.seen.at(-1)?.enabled === false && seenB.at(-1)?.enabled === false,
      5000,
      'lobby off everywhere',
    );
    // And a new joiner at B walks straight in.
    expect((await join(urlOf(B), 'xl-all', 'Cat')).result.peers).toHaveLength(4);
  });

  it('hostile: a forged admit id is peer-unavailable; garbled lobby envelopes in a node stream are counted and skipped', async () => {
    const mod = await moderatorWithLobby(A, 'xl-hostile');
    const k = await knock(B, 'xl-hostile', 'Real');
    const id = waitingId(k.ack);
    await eventually(() => ids(mod.seen.at(-1))?.join() === id, 5000, 'the waiter');
    expect(
      await mod.client.emitWithAck('admit', { moderatorToken: mod.token, id: 'forged123' }),
    ).toMatchObject({ ok: false, error: { code: 'peer-unavailable' } });
    const { Redis } = await import('ioredis');
    const admin = new Redis(redis.url);
    try {
      const before = {
        bad: await metric(B, 'tfx_cluster_bad_messages_total'),
        badA: await metric(A, 'tfx_cluster_bad_messages_total'),
      };
      const garbled = [
        {
          t: 'lobby',
          room: 'xl-hostile',
          v: 1e9,
          enabled: true,
          waiting: [{ id: '../x', name: 'X' }],
        },
        { t: 'lobby', room: 'xl-hostile', v: -1, enabled: true, waiting: [] },
        { t: 'lobby', room: 'xl-hostile', v: 1e9, enabled: 'yes', waiting: [] },
        { t: 'lobby', room: 'xl-hostile', v: 1e9, enabled: true, waiting: 'all' },
        {
          t: 'lobby',
          room: 'xl-hostile',
          v: 1e9,
          enabled: true,
          waiting: Array.from({ length: 40 }, (_, i) => ({ id: `w${i}`, name: 'W' })),
        },
        { t: 'admit', room: 'xl-hostile', id: { $ne: null } },
        { t: 'deny', room: 'xl-hostile' },
      ];
      await admin.xadd('tfx:node:lobby-a', '*', 'm', JSON.stringify({ v: 1, b: garbled }));
      await admin.xadd('tfx:node:lobby-b', '*', 'm', JSON.stringify({ v: 1, b: garbled }));
      await eventually(
        async () =>
          (await metric(A, 'tfx_cluster_bad_messages_total')) - before.badA >= garbled.length &&
          (await metric(B, 'tfx_cluster_bad_messages_total')) - before.bad >= garbled.length,
        5000,
        'both to count every garbled envelope',
      );
      // A well-formed deny for an id nobody waits for at B is harmless: the real waiter stays.
      await admin.xadd(
        'tfx:node:lobby-b',
        '*',
        'm',
        JSON.stringify({ v: 1, b: [{ t: 'deny', room: 'xl-hostile', id: 'nobody1' }] }),
      );
    } finally {
      admin.disconnect();
    }
    // The moderators' view never took the garbled state; the real waiter is still admitted.
    expect(mod.seen.every((s) => s.waiting.every((w) => w.id === id))).toBe(true);
    const admitted = next(k.client, 'admitted');
    expect(await mod.client.emitWithAck('admit', { moderatorToken: mod.token, id })).toEqual({
      ok: true,
    });
    expect((await admitted).room).toBe('xl-hostile');
  });

  it('a process that dies: its waiters leave the queue, seen by the moderators on the others', async () => {
    const C = await startNode(redis.url, extra('lobby-c'));
    try {
      const mod = await moderatorWithLobby(A, 'xl-dead');
      const atB = await knock(B, 'xl-dead', 'Stays');
      const idB = waitingId(atB.ack);
      const atC = await knock(C, 'xl-dead', 'Doomed');
      const idC = waitingId(atC.ack);
      await eventually(
        () => ids(mod.seen.at(-1))?.join() === [idB, idC].join(),
        5000,
        'both waiting',
      );
      C.child.kill('SIGKILL');
      await eventually(() => ids(mod.seen.at(-1))?.join() === idB, 20_000, 'the dead one gone');
    } finally {
      await C.stop();
    }
  });

  // Last: it restarts Redis under every process.
  it('Redis restarted empty: the waiters come back into the queue, the moderator sees them again and admits one; a new joiner still waits', async () => {
    const mod = await moderatorWithLobby(A, 'xl-phoenix');
    const atB = await knock(B, 'xl-phoenix', 'Kept');
    const idB = waitingId(atB.ack);
    const atA = await knock(A, 'xl-phoenix', 'Also');
    const idA = waitingId(atA.ack);
    await eventually(() => ids(mod.seen.at(-1))?.join() === [idB, idA].join(), 5000, 'queued');
    const shownBefore = mod.seen.length;
    await redis.restart(300);
    const { Redis } = await import('ioredis');
    const admin = new Redis(redis.url);
    try {
      // Written back from both processes (A holds the room and one waiter, B only a waiter).
      await eventually(
        async () => (await admin.hlen('tfx:lobby:xl-phoenix')) === 2,
        10_000,
        'both waiters back in Redis',
      );
      expect(await admin.hget('tfx:room:xl-phoenix', 'lobby')).toBe('1');
    } finally {
      admin.disconnect();
    }
    // The moderator is told the queue again (a newer state), with both waiters.
    await eventually(
      () =>
        mod.seen.length > shownBefore &&
        [...(ids(mod.seen.at(-1)) ?? [])].sort().join() === [idA, idB].sort().join(),
      10_000,
      'the queue shown again',
    );
    const admitted = next(atB.client, 'admitted');
    expect(await mod.client.emitWithAck('admit', { moderatorToken: mod.token, id: idB })).toEqual({
      ok: true,
    });
    expect((await admitted).peers.map((p) => p.name)).toEqual(['Mod']);
    await eventually(() => ids(mod.seen.at(-1))?.join() === idA, 5000, 'one left waiting');
    // The lobby is still on for newcomers, on either process.
    waitingId((await knock(B, 'xl-phoenix', 'Newcomer')).ack);
  });
});
