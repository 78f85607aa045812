import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@tfx/protocol';
import {
  ask,
  collect,
  disconnected,
  next,
  startSignalling,
  until,
  type Client,
  type SignallingHarness,
} from './harness.js';

let h: SignallingHarness;
// Each test that counts per-address limits uses its own source address.
let host = 10;
const freshAddress = (): string => `127.0.0.${host++}`;

beforeAll(async () => {
  h = await startSignalling({
    'signalling.eventsPerSecond': '10',
    'signalling.connectionsPerIp': '4',
    'signalling.joinsPerIpPerMinute': '5',
    'signalling.maxMessageBytes': '16384',
    'server.allowedOrigins': 'https://partner.example',
  });
});
afterAll(async () => {
  await h.close();
});

/** Two peers in a room of their own that must be unaffected by whatever else happens. */
async function bystanders(room: string): Promise<() => Promise<void>> {
  const a = await h.join(room, 'Calm A', {}, { localAddress: '127.0.0.250' });
  const b = await h.join(room, 'Calm B', {}, { localAddress: '127.0.0.251' });
  let n = 0;
  return async () => {
    const got = next(b.client, 'message');
    expect(await ask(a.client, 'message', { to: b.result.peerId, data: ++n })).toEqual({
      ok: true,
    });
    expect(await got).toEqual({ from: a.result.peerId, data: n });
    expect(a.client.connected && b.client.connected).toBe(true);
  };
}

describe('handshake', () => {
  it('refuses an incompatible protocol version with version-mismatch telling the client to reload', async () => {
    const err = await h.open({ auth: { protocol: PROTOCOL_VERSION + 1 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ data: { code: 'version-mismatch' } });
    expect((err as { data: { message: string } }).data.message).toMatch(/reload/);
    await expect(h.open({ auth: {} })).rejects.toMatchObject({
      data: { code: 'version-mismatch' },
    });
    await expect(h.open({ auth: { protocol: '1' } })).rejects.toMatchObject({
      data: { code: 'version-mismatch' },
    });
  });

  it('refuses a page origin that is neither its own nor in server.allowedOrigins', async () => {
    const before = await h.metric('tfx_signalling_errors_total', { code: 'origin-not-allowed' });
    await expect(h.open({ headers: { origin: 'https://evil.example' } })).rejects.toThrow();
    expect(await h.metric('tfx_signalling_errors_total', { code: 'origin-not-allowed' })).toBe(
      before + 1,
    );
    await expect(h.open({ headers: { origin: 'https://partner.example' } })).resolves.toBeDefined();
    await expect(h.open({ headers: { origin: new URL(h.url).origin } })).resolves.toBeDefined();
  });

  it('refuses connections beyond signalling.connectionsPerIp from one address', async () => {
    const localAddress = freshAddress();
    const open: Client[] = [];
    for (let i = 0; i < 4; i++) open.push(await h.open({ localAddress }));
    await expect(h.open({ localAddress })).rejects.toMatchObject({
      data: { code: 'rate-limited' },
    });
    await expect(h.open({ localAddress: freshAddress() })).resolves.toBeDefined();
    open[0]?.disconnect();
    await until(async () => {
      try {
        (await h.open({ localAddress })).disconnect();
        return true;
      } catch {
        return false;
      }
    });
  });

  it('refuses joins beyond signalling.joinsPerIpPerMinute from one address', async () => {
    const localAddress = freshAddress();
    const c = await h.open({ localAddress });
    for (let i = 0; i < 5; i++) {
      expect(await ask(c, 'join', { room: `jr-${i}-room`, name: 'J' })).toMatchObject({ ok: true });
      await ask(c, 'leave', {});
    }
    expect(await ask(c, 'join', { room: 'jr-last', name: 'J' })).toMatchObject({
      ok: false,
      error: { code: 'rate-limited' },
    });
  });
});

describe('hostile input', () => {
  it('answers wrong types with invalid-event, counts them, and keeps the connection', async () => {
    const c = await h.open({ localAddress: freshAddress() });
    const before = await h.metric('tfx_signalling_errors_total', { code: 'invalid-event' });
    const bad: Array<[string, unknown]> = [
      ['join', { room: 42, name: 'x' }],
      ['join', { room: ['a'], name: { toString: 'x' } }],
      ['join', 'lobby'],
      ['join', null],
      ['signal', { to: 'x', kind: 'offer', data: { type: 'offer', sdp: 7 } }],
      ['message', { to: 'x', data: undefined }],
      ['update', {}],
      ['presence', { room: '' }],
      ['kick', { moderatorToken: 1, peerId: 2 }],
    ];
    for (const [event, payload] of bad) {
      expect(await ask(c, event, payload)).toMatchObject({
        ok: false,
        error: { code: 'invalid-event' },
      });
    }
    expect(c.connected).toBe(true);
    expect(await h.metric('tfx_signalling_errors_total', { code: 'invalid-event' })).toBe(
      before + bad.length,
    );
  });

  it('answers unknown events with invalid-event, with an ack or as event-error without one', async () => {
    const c = await h.open({ localAddress: freshAddress() });
    expect(await ask(c, 'no-such-event', {})).toMatchObject({
      ok: false,
      error: { code: 'invalid-event' },
    });
    expect(await ask(c, '__proto__', {})).toMatchObject({
      ok: false,
      error: { code: 'invalid-event' },
    });
    const err = next(c, 'event-error');
    (c as unknown as { emit(ev: string, p: unknown): void }).emit('constructor', { x: 1 });
    expect(await err).toMatchObject({ event: 'constructor', error: { code: 'invalid-event' } });
  });

  it('refuses huge strings inside the size limit and disconnects a message over it; others are unaffected', async () => {
    const check = await bystanders('calm-huge');
    const c = await h.open({ localAddress: freshAddress() });
    expect(await ask(c, 'join', { room: 'huge-room', name: 'n'.repeat(12_000) })).toMatchObject({
      ok: false,
      error: { code: 'invalid-event' },
    });
    expect(await ask(c, 'join', { room: 'r'.repeat(12_000), name: 'n' })).toMatchObject({
      ok: false,
      error: { code: 'invalid-event' },
    });
    const gone = disconnected(c);
    c.emit('message', { to: 'someone', data: 'x'.repeat(20_000) });
    await gone;
    await check();
  });

  it('refuses binary payloads and disconnects on packets that do not parse; others are unaffected', async () => {
    const check = await bystanders('calm-binary');
    const c = await h.open({ localAddress: freshAddress() });
    expect(await ask(c, 'join', Buffer.from([0xde, 0xad, 0xbe, 0xef]))).toMatchObject({
      ok: false,
      error: { code: 'invalid-event' },
    });
    const joined = await h.join('binary-room', 'B', {}, { localAddress: freshAddress() });
    expect(
      await ask(joined.client, 'message', { to: 'abcd', data: Buffer.alloc(64) }),
    ).toMatchObject({
      ok: false,
      error: { code: 'invalid-event' },
    });
    const gone = disconnected(c);
    c.io.engine.send('\u0000\u00ff not a socket.io packet {');
    await gone;
    const raw = await h.open({ localAddress: freshAddress() });
    const rawGone = disconnected(raw);
    raw.io.engine.send(Buffer.from([1, 2, 3, 255]) as unknown as string);
    await rawGone;
    await check();
  });

  it('disconnects a flooding connection while other rooms keep exchanging messages', async () => {
    const check = await bystanders('calm-flood');
    const abuseBefore = await h.metric('tfx_signalling_abuse_disconnects_total');
    const f = await h.join('flood-room', 'Flood', {}, { localAddress: freshAddress() });
    const v = await h.join('flood-room', 'Victim', {}, { localAddress: freshAddress() });
    const atVictim = collect(v.client, 'message');
    const gone = disconnected(f.client);
    for (let i = 0; i < 2000 && f.client.connected; i++) {
      f.client.emit('message', { to: v.result.peerId, data: i });
    }
    await gone;
    expect(await h.metric('tfx_signalling_abuse_disconnects_total')).toBe(abuseBefore + 1);
    expect(atVictim.length).toBeLessThanOrEqual(21);
    await check();
  });

  it('disconnects a connection that keeps sending invalid events', async () => {
    const c = await h.open({ localAddress: freshAddress() });
    const gone = disconnected(c);
    for (let i = 0; i < 40 && c.connected; i++)
      c.emit('join', { room: 1 } as never, () => undefined);
    await gone;
  });

  it('still serves new clients after all of the above', async () => {
    const a = await h.join('after-room', 'A', {}, { localAddress: freshAddress() });
    expect(a.result.room).toBe('after-room');
  });
});
