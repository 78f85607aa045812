import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS, PROTOCOL_VERSION } from '@tfx/protocol';
import {
  ask,
  collect,
  next,
  startSignalling,
  until,
  type Client,
  type SignallingHarness,
} from './harness.js';

/** Drops the transport without a goodbye, as a network loss would. */
function dropTransport(client: Client): void {
  client.io.engine.close();
}

function peerConnected(h: SignallingHarness, room: string, peerId: string): boolean | undefined {
  return h.module.service
    .listRooms()
    .find((r) => r.name === room)
    ?.peers.find((p) => p.id === peerId)?.connected;
}

describe('resume within the grace period', () => {
  let h: SignallingHarness;
  beforeAll(async () => {
    h = await startSignalling({ 'signalling.resumeGraceMs': '15000' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('keeps the peer id and room, tells nobody it left, and delivers what was sent meanwhile', async () => {
    const a = await h.join('resume-room', 'Ann');
    const b = await h.join('resume-room', 'Bob');
    const leftAtB = collect(b.client, 'peer-left');
    dropTransport(a.client);
    await until(() => peerConnected(h, 'resume-room', a.result.peerId) === false);

    expect(await ask(b.client, 'message', { to: a.result.peerId, data: { n: 1 } })).toEqual({
      ok: true,
    });
    await ask(b.client, 'signal', {
      to: a.result.peerId,
      kind: 'offer',
      data: { type: 'offer', sdp: 'v=0 while away' },
    });

    const again = h.connect({
      auth: { protocol: PROTOCOL_VERSION, resumeToken: a.result.resumeToken },
    });
    const messages = collect(again, 'message');
    const signals = collect(again, 'signal');
    const resumed = await next(again, 'resumed');
    expect(resumed).toMatchObject({
      peerId: a.result.peerId,
      room: 'resume-room',
      sessionId: a.result.sessionId,
      peers: [{ id: b.result.peerId, name: 'Bob' }],
      moderator: true,
    });
    expect(resumed.resumeToken).not.toBe(a.result.resumeToken);
    await until(() => messages.length === 1 && signals.length === 1);
    expect(messages).toEqual([{ from: b.result.peerId, data: { n: 1 } }]);
    expect(signals[0]).toMatchObject({ from: b.result.peerId, kind: 'offer' });

    // After the resume, relays go straight through again.
    const live = next(again, 'message');
    b.client.emit('message', { to: a.result.peerId, data: 'live' });
    expect(await live).toEqual({ from: b.result.peerId, data: 'live' });
    expect(leftAtB).toEqual([]);
    expect(await h.metric('tfx_signalling_resumes_total', { result: 'ok' })).toBeGreaterThanOrEqual(
      1,
    );

    // Single use: the first token is spent; the rotated one resumes again.
    await expect(
      h.open({ auth: { protocol: PROTOCOL_VERSION, resumeToken: a.result.resumeToken } }),
    ).rejects.toMatchObject({ data: { code: 'invalid-resume-token' } });
    dropTransport(again);
    await until(() => peerConnected(h, 'resume-room', a.result.peerId) === false);
    const third = h.connect({
      auth: { protocol: PROTOCOL_VERSION, resumeToken: resumed.resumeToken },
    });
    expect((await next(third, 'resumed')).peerId).toBe(a.result.peerId);
    expect(leftAtB).toEqual([]);
  });

  it('a resume replaces a connection the server has not yet seen die', async () => {
    const a = await h.join('replace-room', 'Ann');
    const b = await h.join('replace-room', 'Bob');
    const leftAtB = collect(b.client, 'peer-left');
    const again = h.connect({
      auth: { protocol: PROTOCOL_VERSION, resumeToken: a.result.resumeToken },
    });
    expect((await next(again, 'resumed')).peerId).toBe(a.result.peerId);
    const got = next(again, 'message');
    b.client.emit('message', { to: a.result.peerId, data: 'to the new one' });
    expect(await got).toEqual({ from: b.result.peerId, data: 'to the new one' });
    expect(leftAtB).toEqual([]);
  });

  it(`holds at most ${LIMITS.resumeBufferMessages} messages for an absent peer; beyond that the sender gets peer-unavailable`, async () => {
    const a = await h.join('buffer-room', 'Ann');
    const b = await h.join('buffer-room', 'Bob');
    dropTransport(a.client);
    await until(() => peerConnected(h, 'buffer-room', a.result.peerId) === false);
    const acks = [];
    for (let i = 0; i < LIMITS.resumeBufferMessages + 3; i++) {
      acks.push(await ask(b.client, 'message', { to: a.result.peerId, data: i }));
    }
    expect(acks.filter((x) => x.ok)).toHaveLength(LIMITS.resumeBufferMessages);
    expect(acks.slice(LIMITS.resumeBufferMessages)).toEqual(
      Array(3).fill({ ok: false, error: expect.objectContaining({ code: 'peer-unavailable' }) }),
    );
    const again = h.connect({
      auth: { protocol: PROTOCOL_VERSION, resumeToken: a.result.resumeToken },
    });
    const got = collect(again, 'message');
    await next(again, 'resumed');
    await until(() => got.length === LIMITS.resumeBufferMessages);
    expect(got.map((m) => m.data)).toEqual([...Array(LIMITS.resumeBufferMessages).keys()]);
  });

  it('holds at most 256 KB for an absent peer', async () => {
    const a = await h.join('bytes-room', 'Ann');
    const b = await h.join('bytes-room', 'Bob');
    dropTransport(a.client);
    await until(() => peerConnected(h, 'bytes-room', a.result.peerId) === false);
    const big = 'x'.repeat(60_000);
    const acks = [];
    for (let i = 0; i < 5; i++)
      acks.push(await ask(b.client, 'message', { to: a.result.peerId, data: big }));
    expect(acks.map((x) => x.ok)).toEqual([true, true, true, true, false]);
  });

  it('a made-up resume token is refused with invalid-resume-token', async () => {
    await expect(
      h.open({ auth: { protocol: PROTOCOL_VERSION, resumeToken: 'x'.repeat(43) } }),
    ).rejects.toMatchObject({ data: { code: 'invalid-resume-token' } });
    await expect(
      h.open({ auth: { protocol: PROTOCOL_VERSION, resumeToken: 42 } }),
    ).rejects.toMatchObject({
      data: { code: 'invalid-resume-token' },
    });
  });

  it('a client that disconnects on purpose leaves at once', async () => {
    const a = await h.join('bye-room', 'Ann');
    const b = await h.join('bye-room', 'Bob');
    const left = next(b.client, 'peer-left');
    a.client.disconnect();
    expect(await left).toEqual({ peerId: a.result.peerId, reason: 'left' });
  });
});

describe('resume after the grace period', () => {
  let h: SignallingHarness;
  beforeAll(async () => {
    h = await startSignalling({ 'signalling.resumeGraceMs': '300' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('its peers get peer-left (timeout) and its token no longer resumes', async () => {
    const a = await h.join('late-room', 'Ann');
    const b = await h.join('late-room', 'Bob');
    const left = next(b.client, 'peer-left');
    dropTransport(a.client);
    expect(await left).toEqual({ peerId: a.result.peerId, reason: 'timeout' });
    await expect(
      h.open({ auth: { protocol: PROTOCOL_VERSION, resumeToken: a.result.resumeToken } }),
    ).rejects.toMatchObject({ data: { code: 'invalid-resume-token' } });
    expect(await ask(b.client, 'message', { to: a.result.peerId, data: 'gone?' })).toMatchObject({
      ok: false,
      error: { code: 'peer-unavailable' },
    });
  });

  it('a room empty for the grace period ends its session', async () => {
    const a = await h.join('ending-room', 'Ann');
    await ask(a.client, 'leave', {});
    await until(
      async () => (await h.module.service.getSession(a.result.sessionId))?.endedAt !== undefined,
    );
    const s = await h.module.service.getSession(a.result.sessionId);
    expect(s).toMatchObject({
      room: 'ending-room',
      peakParticipants: 1,
      participants: [{ id: a.result.peerId, name: 'Ann' }],
    });
    expect(h.module.service.listRooms().find((r) => r.name === 'ending-room')).toBeUndefined();
  });
});
