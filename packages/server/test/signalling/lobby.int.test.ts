import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack, JoinResult } from '@tfx/protocol';
import {
  ask,
  collect,
  disconnected,
  next,
  startSignalling,
  type SignallingHarness,
} from './harness.js';

let h: SignallingHarness;
beforeAll(async () => {
  h = await startSignalling();
});
afterAll(async () => {
  await h.close();
});

/** Opens a connection and sends a join, returning the (refused) ack and the client. */
async function knock(room: string, name: string, extra: Record<string, unknown> = {}) {
  const client = await h.open();
  const ack = (await ask<JoinResult>(client, 'join', { room, name, ...extra })) as Ack<JoinResult>;
  return { client, ack };
}

const waitingId = (ack: Ack<JoinResult>): string => {
  if (ack.ok) throw new Error('expected waiting-in-lobby');
  expect(ack.error.code).toBe('waiting-in-lobby');
  return String(ack.error.details?.id);
};

describe('lobby', () => {
  it('with the lobby on, a joiner waits; the moderator sees it, admits it, and it gets admitted with a join result', async () => {
    const mod = await h.join('lobby-admit', 'Mod');
    const other = await h.join('lobby-admit', 'Bob');
    const states = collect(mod.client, 'lobby-state');
    expect(
      await ask(mod.client, 'lobby', { moderatorToken: mod.result.moderatorToken, enabled: true }),
    ).toEqual({ ok: true, enabled: true });
    const joinedAtBob = next(other.client, 'peer-joined');
    const k = await knock('lobby-admit', 'Late');
    const id = waitingId(k.ack);
    await expect
      .poll(() => states.at(-1))
      .toEqual({ enabled: true, waiting: [{ id, name: 'Late' }] });
    const admitted = next(k.client, 'admitted');
    expect(
      await ask(mod.client, 'admit', { moderatorToken: mod.result.moderatorToken, id }),
    ).toEqual({ ok: true });
    const result = await admitted;
    expect(result).toMatchObject({ room: 'lobby-admit', moderator: false });
    expect(result.peers.map((p) => p.name)).toEqual(['Mod', 'Bob']);
    expect((await joinedAtBob).name).toBe('Late');
    expect(states.at(-1)).toEqual({ enabled: true, waiting: [] });
    // Admitted means joined: it can update like anyone.
    expect(await ask(k.client, 'update', { state: { audio: true } })).toMatchObject({ ok: true });
  });

  it('the moderator denies a joiner: it gets denied and is disconnected, and never appears in the room', async () => {
    const mod = await h.join('lobby-deny', 'Mod');
    await ask(mod.client, 'lobby', { moderatorToken: mod.result.moderatorToken, enabled: true });
    const joined = collect(mod.client, 'peer-joined');
    const k = await knock('lobby-deny', 'Eve');
    const id = waitingId(k.ack);
    const denied = next(k.client, 'denied');
    const gone = disconnected(k.client);
    expect(
      await ask(mod.client, 'deny', { moderatorToken: mod.result.moderatorToken, id }),
    ).toEqual({
      ok: true,
    });
    expect(await denied).toEqual({ reason: 'denied' });
    await gone;
    expect(joined).toEqual([]);
    expect(
      await ask(mod.client, 'admit', { moderatorToken: mod.result.moderatorToken, id }),
    ).toMatchObject({ ok: false, error: { code: 'peer-unavailable' } });
  });

  it('lobby, admit and deny without the moderator token are refused with not-moderator', async () => {
    const mod = await h.join('lobby-nomod', 'Mod');
    const bob = await h.join('lobby-nomod', 'Bob');
    for (const [event, payload] of [
      ['lobby', { moderatorToken: 'guess', enabled: true }],
      ['admit', { moderatorToken: 'guess', id: 'abc' }],
      ['deny', { moderatorToken: 'guess', id: 'abc' }],
    ] as const) {
      expect(await ask(bob.client, event, payload)).toMatchObject({
        ok: false,
        error: { code: 'not-moderator' },
      });
    }
    // The lobby stayed off: a joiner gets straight in.
    expect((await h.join('lobby-nomod', 'Cat')).result.room).toBe('lobby-nomod');
    void mod;
  });

  it('a moderator token passes the lobby; a waiting joiner that leaves drops out of the queue', async () => {
    const mod = await h.join('lobby-pass', 'Mod');
    await ask(mod.client, 'lobby', { moderatorToken: mod.result.moderatorToken, enabled: true });
    const again = await h.join('lobby-pass', 'Mod 2', {
      moderatorToken: mod.result.moderatorToken,
    });
    expect(again.result.moderator).toBe(true);
    const states = collect(mod.client, 'lobby-state');
    const k = await knock('lobby-pass', 'Quitter');
    const id = waitingId(k.ack);
    await expect.poll(() => states.at(-1)?.waiting.map((w) => w.id)).toEqual([id]);
    k.client.disconnect();
    await expect.poll(() => states.at(-1)?.waiting).toEqual([]);
  });

  it('turning the lobby off admits everyone waiting; a second join on a waiting connection is refused', async () => {
    const mod = await h.join('lobby-off', 'Mod');
    await ask(mod.client, 'lobby', { moderatorToken: mod.result.moderatorToken, enabled: true });
    const a = await knock('lobby-off', 'Ann');
    const b = await knock('lobby-off', 'Ben');
    waitingId(a.ack);
    waitingId(b.ack);
    expect(await ask(a.client, 'join', { room: 'lobby-off', name: 'Ann' })).toMatchObject({
      ok: false,
      error: { code: 'already-joined' },
    });
    const admittedA = next(a.client, 'admitted');
    const admittedB = next(b.client, 'admitted');
    expect(
      await ask(mod.client, 'lobby', { moderatorToken: mod.result.moderatorToken, enabled: false }),
    ).toEqual({ ok: true, enabled: false });
    expect((await admittedA).room).toBe('lobby-off');
    expect((await admittedB).peers.map((p) => p.name).sort()).toEqual(['Ann', 'Mod']);
  });

  it('a malformed lobby event is refused with invalid-event', async () => {
    const mod = await h.join('lobby-bad', 'Mod');
    expect(
      await ask(mod.client, 'admit', { moderatorToken: mod.result.moderatorToken, id: '../x' }),
    ).toMatchObject({ ok: false, error: { code: 'invalid-event' } });
    expect(await ask(mod.client, 'lobby', { moderatorToken: 7, enabled: 'yes' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-event' },
    });
  });
});
