import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@tfx/protocol';
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
  h = await startSignalling({ 'signalling.presenceQueriesPerMinute': '6' });
});
afterAll(async () => {
  await h.close();
});

describe('moderation', () => {
  it('the moderator kicks a peer: it gets kicked and is disconnected, the others get peer-left, it cannot resume', async () => {
    const a = await h.join('kick-room', 'Mod');
    const b = await h.join('kick-room', 'Bob');
    const c = await h.join('kick-room', 'Cat');
    const kicked = next(b.client, 'kicked');
    const gone = disconnected(b.client);
    const leftAtC = next(c.client, 'peer-left');
    expect(
      await ask(a.client, 'kick', {
        moderatorToken: a.result.moderatorToken,
        peerId: b.result.peerId,
      }),
    ).toEqual({ ok: true });
    expect(await kicked).toEqual({ reason: 'kicked' });
    await gone;
    expect(await leftAtC).toEqual({ peerId: b.result.peerId, reason: 'kicked' });
    await expect(
      h.open({ auth: { protocol: PROTOCOL_VERSION, resumeToken: b.result.resumeToken } }),
    ).rejects.toMatchObject({ data: { code: 'invalid-resume-token' } });
  });

  it('kick, lock and mute-all without the moderator token are refused with not-moderator', async () => {
    const a = await h.join('nomod-room', 'Mod');
    const b = await h.join('nomod-room', 'Bob');
    const kickedAtA = collect(a.client, 'kicked');
    for (const [event, payload] of [
      ['kick', { moderatorToken: 'guess', peerId: a.result.peerId }],
      ['lock', { moderatorToken: 'guess', locked: true }],
      ['mute-all', { moderatorToken: 'guess' }],
    ] as const) {
      expect(await ask(b.client, event, payload)).toMatchObject({
        ok: false,
        error: { code: 'not-moderator' },
      });
    }
    // A token of another room does not work here either.
    const other = await h.join('nomod-other', 'Eve');
    expect(
      await ask(b.client, 'lock', { moderatorToken: other.result.moderatorToken, locked: true }),
    ).toMatchObject({ ok: false, error: { code: 'not-moderator' } });
    expect(kickedAtA).toEqual([]);
  });

  it('a locked room refuses joins with room-locked, except with the moderator token; everyone hears of it', async () => {
    const a = await h.join('lock-room', 'Mod');
    const b = await h.join('lock-room', 'Bob');
    const atB = next(b.client, 'room-locked');
    expect(
      await ask(a.client, 'lock', { moderatorToken: a.result.moderatorToken, locked: true }),
    ).toEqual({
      ok: true,
      locked: true,
    });
    expect(await atB).toEqual({ locked: true });
    await expect(h.join('lock-room', 'Late')).rejects.toMatchObject({ message: 'room-locked' });
    const mod2 = await h.join('lock-room', 'Mod again', {
      moderatorToken: a.result.moderatorToken,
    });
    expect(mod2.result).toMatchObject({ locked: true, moderator: true });
    await ask(a.client, 'lock', { moderatorToken: a.result.moderatorToken, locked: false });
    expect((await h.join('lock-room', 'Late')).result.locked).toBe(false);
  });

  it('mute-all asks every other peer to mute', async () => {
    const a = await h.join('mute-room', 'Mod');
    const b = await h.join('mute-room', 'Bob');
    const c = await h.join('mute-room', 'Cat');
    const atA = collect(a.client, 'muted-by-moderator');
    const atB = next(b.client, 'muted-by-moderator');
    const atC = next(c.client, 'muted-by-moderator');
    expect(
      await ask(a.client, 'mute-all', {
        moderatorToken: a.result.moderatorToken,
        kinds: ['audio', 'video'],
      }),
    ).toEqual({ ok: true });
    expect(await atB).toEqual({ kinds: ['audio', 'video'] });
    expect(await atC).toEqual({ kinds: ['audio', 'video'] });
    expect(atA).toEqual([]);
  });

  it('the creator of an API room holds its moderator token; joiners do not get one', async () => {
    const created = await h.module.service.createRoom({ password: 'letmein1' });
    expect(created.room).toMatch(/^[a-z0-9]{5}-[a-z0-9]{5}$/);
    const guest = await h.join(created.room, 'Guest', { password: 'letmein1' });
    expect(guest.result.moderatorToken).toBeUndefined();
    const host = await h.join(created.room, 'Host', { moderatorToken: created.moderatorToken });
    expect(host.result.moderator).toBe(true);
    const kicked = next(guest.client, 'kicked');
    await ask(host.client, 'kick', {
      moderatorToken: created.moderatorToken,
      peerId: guest.result.peerId,
    });
    expect(await kicked).toEqual({ reason: 'kicked' });
  });
});

describe('presence', () => {
  it('answers exists and count for an open room, only exists for a password room, and false for none', async () => {
    await h.join('seen-room', 'Ann');
    await h.join('seen-room', 'Bob');
    await h.join('hidden-room', 'Ann', { password: 'pw-pw-pw' });
    const q = await h.open();
    expect(await ask(q, 'presence', { room: 'Seen-Room' })).toEqual({
      ok: true,
      exists: true,
      count: 2,
    });
    expect(await ask(q, 'presence', { room: 'hidden-room' })).toEqual({ ok: true, exists: true });
    expect(await ask(q, 'presence', { room: 'nobody-here' })).toEqual({ ok: true, exists: false });
  });

  it('is rate-limited per connection', async () => {
    const q = await h.open();
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await ask(q, 'presence', { room: `probe-${i}` }));
    expect(answers.slice(0, 6).every((x) => x.ok)).toBe(true);
    expect(answers.slice(6)).toEqual(
      Array(2).fill({ ok: false, error: expect.objectContaining({ code: 'rate-limited' }) }),
    );
  });
});

describe('the service for the REST API', () => {
  it('lists live rooms, kicks a peer by session and closes a session for everyone', async () => {
    const a = await h.join('svc-room', 'Ann');
    const b = await h.join('svc-room', 'Bob');
    const room = h.module.service.listRooms().find((r) => r.name === 'svc-room');
    expect(room).toMatchObject({ sessionId: a.result.sessionId, capacity: 6 });
    expect(room?.peers.map((p) => [p.name, p.connected, p.moderator])).toEqual([
      ['Ann', true, true],
      ['Bob', true, false],
    ]);
    const left = next(a.client, 'peer-left');
    expect(await h.module.service.kick(a.result.sessionId, b.result.peerId)).toBe(true);
    expect(await left).toEqual({ peerId: b.result.peerId, reason: 'kicked' });
    expect(await h.module.service.kick(a.result.sessionId, 'nobody')).toBe(false);

    const closed = next(a.client, 'kicked');
    expect(await h.module.service.closeSession(a.result.sessionId)).toBe(true);
    expect(await closed).toEqual({ reason: 'session-closed' });
    const s = await h.module.service.getSession(a.result.sessionId);
    expect(s?.endedAt).toBeTypeOf('number');
    expect(s?.participants.map((p) => p.name)).toEqual(['Ann', 'Bob']);
    expect(await h.module.service.closeSession(a.result.sessionId)).toBe(false);
  });

  it('createRoom validates names and refuses taken ones', async () => {
    await expect(h.module.service.createRoom({ name: 'no' })).rejects.toMatchObject({
      code: 'invalid-room-name',
    });
    await h.module.service.createRoom({ name: 'taken-room' });
    await expect(h.module.service.createRoom({ name: 'Taken-Room' })).rejects.toMatchObject({
      code: 'conflict',
    });
  });

  it('join acks carry the ICE servers of the provider', async () => {
    h.module.service.setIceServerProvider(({ peerId }) => [
      { urls: 'turn:turn.example.com:3478', username: `123:${peerId}`, credential: 'c' },
    ]);
    const a = await h.join('ice-room', 'Ann');
    expect(a.result.iceServers).toEqual([
      { urls: 'turn:turn.example.com:3478', username: `123:${a.result.peerId}`, credential: 'c' },
    ]);
    h.module.service.setIceServerProvider(() => []);
  });
});
