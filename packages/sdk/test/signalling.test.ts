import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type JoinResult } from '@tfx/protocol';
import { SignallingConnection, type TfxSocket } from '../src/signalling.js';
import { BackoffReconnectPolicy } from '../src/reconnect.js';
import { TfxSdkError } from '../src/errors.js';
import { FakeSocket, ManualClock, settle } from './fakes.js';

const result = (token: string, extra: Partial<JoinResult> = {}): JoinResult => ({
  protocol: PROTOCOL_VERSION,
  peerId: 'p1',
  room: 'room-one',
  sessionId: 's1',
  peers: [],
  iceServers: [],
  resumeToken: token,
  resumeGraceMs: 20_000,
  moderator: false,
  capacity: 6,
  locked: false,
  hasPassword: false,
  ...extra,
});

function setup(
  policy = new BackoffReconnectPolicy({ initialDelayMs: 100, jitter: 0, maxAttempts: 3 }),
) {
  const clock = new ManualClock();
  const socket = new FakeSocket();
  const conn = new SignallingConnection({
    clock,
    reconnectPolicy: policy,
    connect: () => socket as unknown as TfxSocket,
  });
  socket.acks.set('join', () => ({ ok: true, ...result('token-1') }));
  return { clock, socket, conn };
}

async function joined() {
  const s = setup();
  const opening = s.conn.open();
  s.socket.accept();
  await opening;
  await s.conn.join({ room: 'room-one', name: 'Ann' });
  return s;
}

describe('SignallingConnection', () => {
  it('connects with the protocol version in the handshake auth', async () => {
    const { conn, socket } = setup();
    const opening = conn.open();
    expect(socket.connects).toEqual([{ protocol: PROTOCOL_VERSION }]);
    socket.accept();
    await opening;
    expect(conn.state).toBe('connected');
  });

  it('rejects open with the server’s typed refusal (version-mismatch)', async () => {
    const { conn, socket } = setup();
    const opening = conn.open();
    socket.refuse('version-mismatch');
    await expect(opening).rejects.toMatchObject({ code: 'version-mismatch', retryable: false });
  });

  it('turns a failed ack into a TfxSdkError with the catalogue code', async () => {
    const { conn, socket } = setup();
    socket.acks.set('join', () => ({ ok: false, error: { code: 'room-full', message: 'full' } }));
    const opening = conn.open();
    socket.accept();
    await opening;
    const err = await conn.join({ room: 'room-one', name: 'Ann' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TfxSdkError);
    expect(err).toMatchObject({ code: 'room-full', retryable: true });
  });

  it('after a drop, reconnects after the policy’s delay with the resume token, and is connected once resumed', async () => {
    const { conn, socket, clock } = await joined();
    const states: string[] = [];
    conn.on('state', (s) => states.push(s));
    const resumed: JoinResult[] = [];
    conn.on('resumed', (r) => resumed.push(r));
    socket.drop('transport close');
    expect(conn.state).toBe('reconnecting');
    clock.advance(99);
    expect(socket.connects).toHaveLength(1);
    clock.advance(1);
    expect(socket.connects[1]).toEqual({ protocol: PROTOCOL_VERSION, resumeToken: 'token-1' });
    socket.accept('sock-2');
    // Connected only once the server says `resumed` (with the next single-use token).
    expect(conn.state).toBe('reconnecting');
    socket.fire('resumed', result('token-2'));
    expect(conn.state).toBe('connected');
    expect(conn.resumeToken).toBe('token-2');
    expect(resumed).toHaveLength(1);
    expect(states).toEqual(['reconnecting', 'connected']);
  });

  it('retries by the policy while the server is unreachable, then gives up with `lost`', async () => {
    const { conn, socket, clock } = await joined();
    const lost: TfxSdkError[] = [];
    conn.on('lost', (e) => lost.push(e));
    socket.drop('transport close');
    for (const delay of [100, 200, 400]) {
      clock.advance(delay);
      socket.fire('connect_error', new Error('websocket error'));
    }
    expect(socket.connects).toHaveLength(4);
    expect(lost).toHaveLength(1);
    expect(conn.state).toBe('disconnected');
  });

  it('reports `resume-failed` when the grace period is over (invalid-resume-token)', async () => {
    const { conn, socket, clock } = await joined();
    const failed: TfxSdkError[] = [];
    conn.on('resume-failed', (e) => failed.push(e));
    socket.drop('ping timeout');
    clock.advance(100);
    socket.refuse('invalid-resume-token');
    expect(failed.map((e) => e.code)).toEqual(['invalid-resume-token']);
    expect(conn.resumeToken).toBeUndefined();
  });

  it('does not reconnect after leaving or closing', async () => {
    const { conn, socket, clock } = await joined();
    socket.acks.set('leave', () => ({ ok: true }));
    await conn.leave();
    conn.close();
    conn.close();
    clock.advance(10_000);
    expect(socket.connects).toHaveLength(1);
  });

  it('refresh() resumes on purpose and resolves with the fresh ICE servers', async () => {
    const { conn, socket, clock } = await joined();
    const fresh = [{ urls: 'turn:127.0.0.1:3478', username: '1900000000:p1', credential: 'c' }];
    const refreshing = conn.refresh();
    expect(conn.state).toBe('reconnecting');
    clock.advance(100);
    socket.accept('sock-3');
    socket.fire('resumed', result('token-2', { iceServers: fresh }));
    await expect(refreshing).resolves.toMatchObject({ iceServers: fresh, resumeToken: 'token-2' });
    await settle(2);
  });
});
