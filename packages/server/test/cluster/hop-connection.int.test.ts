/**
 * The router's lean Redis connection (cluster/hop-connection.ts) against a real redis-server:
 * replies in order, Redis errors as errors, AUTH from the URL; queued commands survive Redis
 * being away and restarted (queue mode), a blocking read fails so its loop can retry (blocking
 * mode); disconnect is idempotent and fails what waits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HopConnection } from '../../src/cluster/hop-connection.js';
import type { Reply } from '../../src/cluster/resp.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';

const call = (c: HopConnection, args: string[]): Promise<Reply> =>
  new Promise((resolve, reject) => c.call(args, (err, r) => (err ? reject(err) : resolve(r))));

describe('HopConnection', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('answers in order, names itself, and reports Redis errors as errors', async () => {
    const c = new HopConnection({ url: redis.url, mode: 'queue', name: 'hop-test' });
    const early = call(c, ['SET', 'k', 'v']); // before connect: queued
    await c.connect();
    const replies = await Promise.all([
      early,
      call(c, ['GET', 'k']),
      call(c, ['XADD', 's', '*', 'p', '2["signal",{"sdp":"ü\\r\\n"}]']),
      call(c, ['XREAD', 'COUNT', '10', 'STREAMS', 's', '0-0']),
      call(c, ['CLIENT', 'GETNAME']),
    ]);
    expect(replies.slice(0, 2)).toEqual(['OK', 'v']);
    const id = replies[2] as string;
    expect(replies[3]).toEqual([['s', [[id, ['p', '2["signal",{"sdp":"ü\\r\\n"}]']]]]]);
    expect(replies[4]).toBe('hop-test');
    await expect(call(c, ['NOSUCHCOMMAND'])).rejects.toThrow(/unknown command/i);
    expect(await call(c, ['PING'])).toBe('PONG');
    c.disconnect();
    c.disconnect();
    await expect(call(c, ['PING'])).rejects.toThrow('connection closed');
  });

  it('queue mode: what is sent while Redis restarts is written once it is back', async () => {
    const c = new HopConnection({ url: redis.url, mode: 'queue' });
    await c.connect();
    const restarted = redis.restart(600);
    await new Promise((r) => setTimeout(r, 200)); // Redis is down now
    const sent = Array.from({ length: 20 }, (_, i) =>
      call(c, ['XADD', 'q', '*', 'i', String(i)]).then(
        () => 'ok',
        (err: Error) => err.message,
      ),
    );
    await restarted;
    expect(await Promise.all(sent)).toEqual(Array.from({ length: 20 }, () => 'ok'));
    const read = (await call(c, ['XRANGE', 'q', '-', '+'])) as [string, string[]][];
    expect(read.map(([, f]) => Number(f[1]))).toEqual(Array.from({ length: 20 }, (_, i) => i));
    c.disconnect();
  });

  it('blocking mode: a read outstanding when the connection drops fails, the next one works', async () => {
    const c = new HopConnection({ url: redis.url, mode: 'blocking' });
    await c.connect();
    const blocked = call(c, ['XREAD', 'BLOCK', '0', 'STREAMS', 'never', '$']).catch(
      (err: Error) => err,
    );
    await redis.restart(100);
    expect(String(await blocked)).toMatch(/lost/);
    let reply: Reply = null;
    for (let i = 0; i < 50 && reply !== 'PONG'; i++) {
      reply = await call(c, ['PING']).catch(() => null);
      if (reply !== 'PONG') await new Promise((r) => setTimeout(r, 100));
    }
    expect(reply).toBe('PONG');
    c.disconnect();
  });

  it('authenticates with the URL password, and fails to start with a wrong one', async () => {
    const secured = await startRedis(['--requirepass', 's3cret']);
    try {
      const good = new HopConnection({
        url: `redis://:s3cret@127.0.0.1:${secured.port}/2`,
        mode: 'queue',
      });
      await good.connect();
      await call(good, ['SET', 'x', '1']);
      expect(await call(good, ['CLIENT', 'INFO'])).toMatch(/ db=2 /);
      good.disconnect();
      const errors: Error[] = [];
      const bad = new HopConnection({
        url: `redis://:wrong@127.0.0.1:${secured.port}`,
        mode: 'queue',
        onError: (e) => errors.push(e),
      });
      await expect(bad.connect()).rejects.toThrow(/failed/);
      expect(errors.map((e) => e.message).join()).toMatch(/WRONGPASS|invalid/i);
      bad.disconnect();
    } finally {
      await secured.stop();
    }
  });

  it('fails to start when nothing listens', async () => {
    const c = new HopConnection({
      url: 'redis://127.0.0.1:1',
      mode: 'queue',
      onError: () => undefined,
    });
    await expect(c.connect()).rejects.toThrow(/failed/);
    c.disconnect();
  });
});
