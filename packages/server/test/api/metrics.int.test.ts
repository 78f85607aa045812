/**
 * `/metrics` (Prometheus text): admin token required unless `metrics.public: true`; after some
 * traffic it lists connections, rooms, joins, messages relayed, errors by code and event-loop lag.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startTestPlatform, until, type TestPlatform } from './harness.js';

const started: TestPlatform[] = [];
afterAll(async () => {
  for (const t of started) await t.close();
});

async function traffic(t: TestPlatform): Promise<void> {
  const a = await t.join('metrics-room', 'Alice');
  const b = await t.join('metrics-room', 'Bob');
  const got = new Promise((resolve) => b.client.once('signal', resolve));
  a.client.emit('signal', {
    to: b.result.peerId,
    kind: 'offer',
    data: { type: 'offer', sdp: 'v=0\r\n' },
  });
  await got;
  // An event that fails its schema, counted under its error code.
  const refused = await new Promise<unknown>((resolve) =>
    a.client.emit('signal', { to: '', kind: 'nonsense' } as never, resolve),
  );
  expect(refused).toMatchObject({ ok: false });
}

describe('/metrics', () => {
  it('needs the admin token by default', async () => {
    const t = await startTestPlatform({});
    started.push(t);
    expect((await t.req('GET', '/metrics', { token: '' })).status).toBe(401);
    expect((await t.req('GET', '/metrics', { token: 'wrong-token-wrong-token' })).status).toBe(401);
    const ok = await t.req('GET', '/metrics');
    expect(ok.status).toBe(200);
    expect(String(ok.headers['content-type'])).toMatch(/^text\/plain/);
  });

  it('is public with metrics.public: true and lists the signalling series and event-loop lag after traffic', async () => {
    const t = await startTestPlatform({ flags: { 'metrics.public': true } });
    started.push(t);
    await traffic(t);
    const text = await until('metrics after traffic', async () => {
      const res = await t.req('GET', '/metrics', { token: '' });
      expect(res.status).toBe(200);
      return /tfx_signalling_messages_relayed_total\{[^}]*\} [1-9]/.test(res.text) && res.text;
    });
    expect(text).toMatch(/^tfx_signalling_connections [1-9]/m);
    expect(text).toMatch(/^tfx_signalling_rooms [1-9]/m);
    expect(text).toMatch(/^tfx_signalling_joins_total\{result="ok"\} [2-9]/m);
    expect(text).toMatch(/^tfx_signalling_messages_relayed_total\{kind="offer"\} 1$/m);
    expect(text).toMatch(/^tfx_signalling_errors_total\{code="[a-z-]+"\} [1-9]/m);
    expect(text).toMatch(/^tfx_nodejs_eventloop_lag_seconds \d/m);
    expect(text).toMatch(/^tfx_nodejs_eventloop_lag_p99_seconds \d/m);
  });
});
