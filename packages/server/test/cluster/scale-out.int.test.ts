/**
 * Issue 10: several TFX processes sharing one real redis-server behave as one deployment.
 */
import { PROTOCOL_VERSION } from '@tfx/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runTfx, type TfxProcess } from '../../../../test/helpers/tfx-process.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import {
  ADMIN,
  api,
  closeClients,
  eventually,
  join,
  metric,
  next,
  open,
  startNode,
  urlOf,
} from './cluster-harness.js';

let redis: RedisServer;
const nodes: TfxProcess[] = [];
let A: TfxProcess;
let B: TfxProcess;
let C: TfxProcess;

beforeAll(async () => {
  redis = await startRedis();
  [A, B, C] = (await Promise.all(
    [0, 1, 2].map(() => startNode(redis.url, ['--signalling-resume-grace-ms', '1500'])),
  )) as [TfxProcess, TfxProcess, TfxProcess];
  nodes.push(A, B, C);
}, 60_000);
afterEach(() => closeClients());
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await redis?.stop();
});

describe('scale-out: one deployment over several processes', () => {
  it('refuses --redis without an admin token, saying why', async () => {
    const r = await runTfx([
      'start',
      '--no-sip',
      '--insecure-http',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--redis',
      redis.url,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/admin\.token must be set/);
  });

  it('peers on two processes see each other and relay offers, answers, candidates and app messages; each unicast is one publish read only by its owner', async () => {
    const before = {
      pubA: await metric(A, 'tfx_cluster_published_total', { kind: 'deliver' }),
      recB: await metric(B, 'tfx_cluster_received_total', { kind: 'deliver' }),
      recA: await metric(A, 'tfx_cluster_received_total', { kind: 'deliver' }),
      recC: await metric(C, 'tfx_cluster_received_total', { kind: 'deliver' }),
    };
    const a = await join(urlOf(A), 'cross-one', 'Ann');
    const joined = next(a.client, 'peer-joined');
    const b = await join(urlOf(B), 'cross-one', 'Bob');
    expect(b.result.peers.map((p) => p.id)).toEqual([a.result.peerId]);
    expect((await joined).id).toBe(b.result.peerId);

    const got: string[] = [];
    b.client.on('signal', (s) => got.push(`${s.from}:${s.kind}`));
    b.client.on('message', (m) => got.push(`${m.from}:message`));
    const to = b.result.peerId;
    const offer = { type: 'offer', sdp: 'v=0\r\n' };
    expect(await a.client.emitWithAck('signal', { to, kind: 'offer', data: offer })).toEqual({
      ok: true,
    });
    for (let i = 0; i < 5; i++)
      a.client.emit('signal', {
        to,
        kind: 'candidate',
        data: {
          candidate: `candidate:${i} 1 udp 1 127.0.0.1 ${4000 + i} typ host`,
          sdpMid: '0',
          sdpMLineIndex: 0,
        },
      });
    a.client.emit('message', { to, data: { hello: 'widget' } });
    await eventually(() => got.length === 7, 10_000, 'seven deliveries');
    expect(got).toEqual([
      `${a.result.peerId}:offer`,
      ...Array(5).fill(`${a.result.peerId}:candidate`),
      `${a.result.peerId}:message`,
    ]);
    const answer = next(a.client, 'signal');
    b.client.emit('signal', {
      to: a.result.peerId,
      kind: 'answer',
      data: { type: 'answer', sdp: 'v=0\r\n' },
    });
    expect(await answer).toMatchObject({ from: b.result.peerId, kind: 'answer' });

    await eventually(
      async () =>
        (await metric(B, 'tfx_cluster_received_total', { kind: 'deliver' })) - before.recB === 7,
      5000,
      'B to count 7 received',
    );
    expect(
      (await metric(A, 'tfx_cluster_published_total', { kind: 'deliver' })) - before.pubA,
    ).toBe(7);
    // A received only the one answer; C, holding no peer of the room, received nothing.
    expect((await metric(A, 'tfx_cluster_received_total', { kind: 'deliver' })) - before.recA).toBe(
      1,
    );
    expect((await metric(C, 'tfx_cluster_received_total', { kind: 'deliver' })) - before.recC).toBe(
      0,
    );
  });

  it('2×capacity simultaneous joins spread over three processes admit exactly capacity', async () => {
    const urls = [A, B, C].map(urlOf);
    const results = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const c = await open(urls[i % 3] as string);
        return c.timeout(10_000).emitWithAck('join', { room: 'crowded', name: `P${i}` });
      }),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(6);
    expect(results.filter((r) => !r.ok).map((r) => !r.ok && r.error.code)).toEqual(
      Array(6).fill('room-full'),
    );
  });

  it('passwords, locks and kicks hold across processes', async () => {
    const a = await join(urlOf(A), 'guarded', 'Mod', { password: 'open-sesame' });
    await expect(join(urlOf(B), 'guarded', 'Eve', { password: 'wrong-one' })).rejects.toThrow(
      'wrong-password',
    );
    const b = await join(urlOf(B), 'guarded', 'Bob', { password: 'open-sesame' });
    const modToken = a.result.moderatorToken as string;
    const locked = next(b.client, 'room-locked');
    expect(
      await a.client.emitWithAck('lock', { moderatorToken: modToken, locked: true }),
    ).toMatchObject({ ok: true });
    expect(await locked).toEqual({ locked: true });
    await expect(join(urlOf(C), 'guarded', 'Cat', { password: 'open-sesame' })).rejects.toThrow(
      'room-locked',
    );
    const kicked = next(b.client, 'kicked');
    const left = next(a.client, 'peer-left');
    expect(
      await a.client.emitWithAck('kick', { moderatorToken: modToken, peerId: b.result.peerId }),
    ).toEqual({ ok: true });
    expect(await kicked).toEqual({ reason: 'kicked' });
    expect(await left).toMatchObject({ peerId: b.result.peerId, reason: 'kicked' });
  });

  it('the REST API on every process shows the same live and ended sessions', async () => {
    const a = await join(urlOf(A), 'restful', 'Ann');
    const b = await join(urlOf(B), 'restful', 'Bob');
    const sid = a.result.sessionId;
    type Page = { items: { id: string; room: string; participants: { id: string }[] }[] };
    for (const p of [A, B, C]) {
      const live = await api<Page>(p, '/sessions?state=live&room=restful');
      expect(live.items.map((s) => s.id)).toEqual([sid]);
      expect(live.items[0]?.participants.map((x) => x.id)).toEqual([
        a.result.peerId,
        b.result.peerId,
      ]);
    }
    await a.client.emitWithAck('leave', null);
    await b.client.emitWithAck('leave', null);
    for (const p of [A, B, C]) {
      await eventually(
        async () => (await api<Page>(p, '/sessions?state=ended&room=restful')).items[0]?.id === sid,
        10_000,
        'the ended session',
      );
    }
    expect((await api<Page>(C, '/sessions?state=live&room=restful')).items).toEqual([]);
  });

  it('a REST kick or close on a process holding none of the peers reaches the processes that hold them', async () => {
    const a = await join(urlOf(A), 'remote-admin', 'Ann');
    const b = await join(urlOf(B), 'remote-admin', 'Bob');
    const kicked = next(b.client, 'kicked');
    const left = next(a.client, 'peer-left');
    await api(C, `/sessions/${a.result.sessionId}/participants/${b.result.peerId}`, {
      method: 'DELETE',
    });
    expect(await kicked).toEqual({ reason: 'kicked' });
    expect(await left).toMatchObject({ peerId: b.result.peerId, reason: 'kicked' });
    const closed = next(a.client, 'kicked');
    await api(C, `/sessions/${a.result.sessionId}`, { method: 'DELETE' });
    expect(await closed).toEqual({ reason: 'session-closed' });
  });

  it('rolls upgrades: processes of adjacent protocol versions serve one room; an incompatible client is told to reload', async () => {
    const newer = await startNode(redis.url, [
      '--cluster-protocol-version',
      String(2),
      '--cluster-min-protocol-version',
      '1',
    ]);
    nodes.push(newer);
    const a = await join(urlOf(A), 'upgrade', 'Old');
    const b = await join(urlOf(newer), 'upgrade', 'New');
    expect(b.result.peers.map((p) => p.id)).toEqual([a.result.peerId]);
    const sig = next(a.client, 'signal');
    b.client.emit('signal', {
      to: a.result.peerId,
      kind: 'offer',
      data: { type: 'offer', sdp: 'v=0\r\n' },
    });
    expect(await sig).toMatchObject({ from: b.result.peerId });
    await expect(open(urlOf(A), { protocol: 2 })).rejects.toMatchObject({
      data: { code: 'version-mismatch' },
    });
    expect((await open(urlOf(newer), { protocol: 2 })).connected).toBe(true);
    await expect(open(urlOf(newer), { protocol: 3 })).rejects.toMatchObject({
      data: { code: 'version-mismatch' },
    });
    await newer.stop();
  });
});

void ADMIN;

describe('scale-out: hostile stream entries', () => {
  it('a truncated or foreign entry in a node stream is counted and skipped; the process keeps relaying', async () => {
    const { Redis } = await import('ioredis');
    const admin = new Redis(redis.url);
    try {
      const nodeIds = await admin.hkeys('tfx:nodes');
      const before = await Promise.all(
        [A, B, C].map((p) => metric(p, 'tfx_cluster_bad_messages_total')),
      );
      for (const id of nodeIds) {
        await admin.xadd(`tfx:node:${id}`, '*', 'm', '{"v":1,"b":[{"t":"deliv');
        await admin.xadd(`tfx:node:${id}`, '*', 'm', '{"v":1,"b":[{"t":"nope","room":"x"}]}');
        await admin.xadd(`tfx:node:${id}`, '*', 'junk', Buffer.from([0xff, 0x00, 0xfe]));
      }
      await eventually(
        async () => {
          const now = await Promise.all(
            [A, B, C].map((p) => metric(p, 'tfx_cluster_bad_messages_total')),
          );
          return now.every((n, i) => n - (before[i] ?? 0) >= 3);
        },
        5000,
        'bad entries counted',
      );
      const a = await join(urlOf(A), 'after-junk', 'Ann');
      const b = await join(urlOf(B), 'after-junk', 'Bob');
      const sig = next(b.client, 'signal');
      a.client.emit('signal', {
        to: b.result.peerId,
        kind: 'offer',
        data: { type: 'offer', sdp: 'v=0\r\n' },
      });
      expect(await sig).toMatchObject({ from: a.result.peerId });
      for (const p of [A, B, C]) expect(p.child.exitCode).toBeNull();
    } finally {
      admin.disconnect();
    }
  });

  it('a relayed packet passed through as bytes reaches the client as sent; a forged, truncated or misplaced one is counted and never delivered', async () => {
    const { Redis } = await import('ioredis');
    const admin = new Redis(redis.url);
    try {
      const a = await join(urlOf(A), 'pass-through', 'Ann');
      const b = await join(urlOf(B), 'pass-through', 'Bob');
      const ann = a.result.peerId;
      const bob = b.result.peerId;
      const rec = await admin.hget('tfx:peers:pass-through', bob);
      const node = (JSON.parse(rec ?? '{}') as { node?: string }).node;
      expect(node).toBeTruthy();
      const got: unknown[] = [];
      b.client.on('signal', (m) => got.push(m));
      b.client.on('message', (m) => got.push(m));
      const before = await metric(B, 'tfx_cluster_bad_messages_total');
      const d = (from: string, p: number, event = 'signal') => ({
        t: 'deliver',
        room: 'pass-through',
        to: bob,
        from,
        event,
        p,
      });
      const forged = `2["signal",{"from":"mallory","kind":"offer","data":{"type":"offer","sdp":"x"}}]`;
      const real = `2["message",{"from":"${ann}","data":{"injected":"by an entry"}}]`;
      const sep = `2["message",{"from":"${ann}","data":"a\x1eb"}]`;
      // One entry: forged stamp, truncated packet, record separator, index at the batch itself,
      // and one well-formed deliver last (delivered: Redis is inside the trust boundary).
      await admin.xadd(
        `tfx:node:${node}`,
        '*',
        'm',
        JSON.stringify({
          v: PROTOCOL_VERSION,
          b: [
            d(ann, 3),
            d(ann, 5, 'message'),
            d(ann, 7, 'message'),
            d(ann, 1),
            d(ann, 9, 'message'),
          ],
        }),
        'p',
        forged,
        'p',
        real.slice(0, -2),
        'p',
        sep,
        'p',
        real,
      );
      await eventually(async () => got.length >= 1, 5000, 'the well-formed packet delivered');
      expect(got).toEqual([{ from: ann, data: { injected: 'by an entry' } }]);
      expect((await metric(B, 'tfx_cluster_bad_messages_total')) - before).toBe(4);
      // The real path still relays, after the injected entry, in order.
      a.client.emit('signal', { to: bob, kind: 'offer', data: { type: 'offer', sdp: 'v=0\r\n' } });
      a.client.emit('message', { to: bob, data: { n: 2 } });
      await eventually(async () => got.length >= 3, 5000, 'relayed after the injected entry');
      expect(got.slice(1)).toEqual([
        { from: ann, kind: 'offer', data: { type: 'offer', sdp: 'v=0\r\n' } },
        { from: ann, data: { n: 2 } },
      ]);
      expect(B.child.exitCode).toBeNull();
    } finally {
      admin.disconnect();
    }
  });
});
