import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@tfx/protocol';
import { ask, collect, next, startSignalling, until, type SignallingHarness } from './harness.js';

let h: SignallingHarness;
beforeAll(async () => {
  h = await startSignalling({ 'signalling.roomCapacity': '3' });
});
afterAll(async () => {
  await h.close();
});

describe('joining rooms', () => {
  it('a join acks the peer id, the peers present, the ICE servers and a resume token', async () => {
    const a = await h.join('Lobby-One', 'Ann');
    expect(a.result).toMatchObject({
      ok: true,
      protocol: PROTOCOL_VERSION,
      room: 'lobby-one',
      peers: [],
      iceServers: [],
      capacity: 3,
      moderator: true,
      locked: false,
      hasPassword: false,
    });
    expect(a.result.peerId).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(a.result.resumeToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.result.moderatorToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const joined = next(a.client, 'peer-joined');
    const b = await h.join('lobby-one', 'Bob', { state: { audio: true, video: false } });
    expect(b.result.peers).toEqual([
      { id: a.result.peerId, name: 'Ann', state: { audio: false, video: false } },
    ]);
    expect(b.result.moderatorToken).toBeUndefined();
    expect(b.result.moderator).toBe(false);
    expect(b.result.sessionId).toBe(a.result.sessionId);
    expect(await joined).toEqual({
      id: b.result.peerId,
      name: 'Bob',
      state: { audio: true, video: false },
    });
  });

  it('refuses an invalid room name with invalid-event naming the field', async () => {
    const c = await h.open();
    const ack = await ask(c, 'join', { room: '-bad', name: 'x' });
    expect(ack).toMatchObject({ ok: false, error: { code: 'invalid-event' } });
    expect(!ack.ok && ack.error.message).toContain('room');
  });

  it('a full room refuses the next join with room-full', async () => {
    for (const n of ['a', 'b', 'c']) await h.join('small-room', n);
    await expect(h.join('small-room', 'd')).rejects.toMatchObject({ message: 'room-full' });
  });

  it('a second join on one connection is refused with already-joined', async () => {
    const a = await h.join('twice-room', 'Ann');
    expect(await ask(a.client, 'join', { room: 'other-room', name: 'Ann' })).toMatchObject({
      ok: false,
      error: { code: 'already-joined' },
    });
  });

  it('a password set by the first joiner is required: wrong-password otherwise', async () => {
    await h.join('pw-room', 'Ann', { password: 'opensesame' });
    await expect(h.join('pw-room', 'Bob')).rejects.toMatchObject({ message: 'wrong-password' });
    await expect(h.join('pw-room', 'Bob', { password: 'nope' })).rejects.toMatchObject({
      message: 'wrong-password',
    });
    const ok = await h.join('pw-room', 'Bob', { password: 'opensesame' });
    expect(ok.result.hasPassword).toBe(true);
  });

  it('a room created with an expiry refuses joins after it with room-expired', async () => {
    const created = await h.module.service.createRoom({
      name: 'Brief-Room',
      expiresAt: Date.now() + 300,
    });
    expect(created.room).toBe('brief-room');
    await h.join('brief-room', 'early');
    await until(() => Date.now() > (created.expiresAt ?? 0));
    await expect(h.join('brief-room', 'late')).rejects.toMatchObject({ message: 'room-expired' });
  });

  it('leave tells the others peer-left and frees the place', async () => {
    const a = await h.join('leave-room', 'Ann');
    const b = await h.join('leave-room', 'Bob');
    const left = next(a.client, 'peer-left');
    expect(await ask(b.client, 'leave', {})).toEqual({ ok: true });
    expect(await left).toEqual({ peerId: b.result.peerId, reason: 'left' });
    expect(await ask(b.client, 'leave', {})).toMatchObject({
      ok: false,
      error: { code: 'not-in-room' },
    });
  });

  it('update changes name and mute state and the others get peer-updated', async () => {
    const a = await h.join('update-room', 'Ann');
    const b = await h.join('update-room', 'Bob');
    const updated = next(a.client, 'peer-updated');
    const ack = await ask(b.client, 'update', {
      name: 'Robert',
      state: { audio: false, video: true },
    });
    expect(ack).toMatchObject({ ok: true, peer: { id: b.result.peerId, name: 'Robert' } });
    expect(await updated).toEqual({
      id: b.result.peerId,
      name: 'Robert',
      state: { audio: false, video: true },
    });
    // A raised hand, then lowered: the others see both, and a late joiner sees it in `peers`.
    const raised = next(a.client, 'peer-updated');
    expect(await ask(b.client, 'update', { state: { hand: true } })).toMatchObject({ ok: true });
    expect((await raised).state).toEqual({ audio: false, video: true, hand: true });
    const c = await h.join('update-room', 'Cid');
    expect(c.result.peers.find((p) => p.id === b.result.peerId)?.state.hand).toBe(true);
    const lowered = next(a.client, 'peer-updated');
    await ask(b.client, 'update', { state: { hand: false } });
    expect((await lowered).state.hand).toBe(false);
    // Not a boolean: refused, nothing changes.
    expect(await ask(b.client, 'update', { state: { hand: 'yes' } })).toMatchObject({
      ok: false,
      error: { code: 'invalid-event' },
    });
  });
});

describe('relay', () => {
  it('relays offer, answer and candidates to one peer with the server-stamped from', async () => {
    const a = await h.join('relay-room', 'Ann');
    const b = await h.join('relay-room', 'Bob');
    const atB = collect(b.client, 'signal');
    const atA = collect(a.client, 'signal');
    expect(
      await ask(a.client, 'signal', {
        to: b.result.peerId,
        kind: 'offer',
        data: { type: 'offer', sdp: 'v=0 offer' },
      }),
    ).toEqual({ ok: true });
    await ask(b.client, 'signal', {
      to: a.result.peerId,
      kind: 'answer',
      data: { type: 'answer', sdp: 'v=0 answer' },
    });
    const cand = {
      candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host',
      sdpMid: '0',
      sdpMLineIndex: 0,
    };
    await ask(a.client, 'signal', {
      to: b.result.peerId,
      kind: 'candidate',
      data: cand,
      from: 'forged',
    });
    await ask(a.client, 'signal', { to: b.result.peerId, kind: 'candidate', data: null });
    await until(() => atB.length === 3 && atA.length === 1);
    expect(atB).toEqual([
      { from: a.result.peerId, kind: 'offer', data: { type: 'offer', sdp: 'v=0 offer' } },
      { from: a.result.peerId, kind: 'candidate', data: cand },
      { from: a.result.peerId, kind: 'candidate', data: null },
    ]);
    expect(atA).toEqual([
      { from: b.result.peerId, kind: 'answer', data: { type: 'answer', sdp: 'v=0 answer' } },
    ]);
    expect(
      await h.metric('tfx_signalling_messages_relayed_total', { kind: 'candidate' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('relays application messages to one peer', async () => {
    const a = await h.join('msg-room', 'Ann');
    const b = await h.join('msg-room', 'Bob');
    const got = next(b.client, 'message');
    a.client.emit('message', { to: b.result.peerId, data: { text: 'hello', n: [1, 2, 3] } });
    expect(await got).toEqual({ from: a.result.peerId, data: { text: 'hello', n: [1, 2, 3] } });
  });

  it('nobody can address a peer outside their room: peer-unavailable, nothing delivered', async () => {
    const a = await h.join('room-east', 'Ann');
    const x = await h.join('room-west', 'Xavier');
    const leaked = collect(x.client, 'signal');
    const leakedMsg = collect(x.client, 'message');
    expect(
      await ask(a.client, 'signal', {
        to: x.result.peerId,
        kind: 'offer',
        data: { type: 'offer', sdp: 'v=0' },
      }),
    ).toMatchObject({
      ok: false,
      error: { code: 'peer-unavailable' },
    });
    const err = next(a.client, 'event-error');
    a.client.emit('message', { to: x.result.peerId, data: 'psst' });
    expect(await err).toMatchObject({
      event: 'message',
      to: x.result.peerId,
      error: { code: 'peer-unavailable' },
    });
    expect(leaked).toEqual([]);
    expect(leakedMsg).toEqual([]);
  });

  it('relay before joining is refused with not-in-room', async () => {
    const c = await h.open();
    expect(await ask(c, 'signal', { to: 'abcdefgh', kind: 'candidate', data: null })).toMatchObject(
      {
        ok: false,
        error: { code: 'not-in-room' },
      },
    );
  });
});

describe('payload forms', () => {
  it('leave works with {}, with null and with only an ack', async () => {
    for (const payload of [{}, null, undefined]) {
      const a = await h.join('leave-forms', 'Ann');
      const ack = await new Promise((resolve) => {
        if (payload === undefined)
          (a.client as unknown as { emit(e: string, cb: (r: unknown) => void): void }).emit(
            'leave',
            resolve,
          );
        else
          (
            a.client as unknown as { emit(e: string, p: unknown, cb: (r: unknown) => void): void }
          ).emit('leave', payload, resolve);
      });
      expect(ack).toEqual({ ok: true });
    }
  });
});
