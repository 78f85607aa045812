/**
 * The location service in Redis: every process of a deployment sees every registration, and
 * registrations survive a process restart. One hash per AOR (`<prefix>loc:<aor>`: contact URI →
 * binding JSON) and one sorted set of AORs scored by their latest expiry (`<prefix>loc:aors`),
 * so `list` and `expire` never scan the key space. Times come from the caller.
 */
import type { Redis } from 'ioredis';
import type { Binding, LocationStore } from '../location.js';

export interface RedisLocationOptions {
  /** Key prefix (`redis.keyPrefix`), default `tfx:`. */
  readonly prefix?: string;
}

function parse(json: string): Binding | undefined {
  try {
    return JSON.parse(json) as Binding;
  } catch {
    return undefined;
  }
}

export class RedisLocationStore implements LocationStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #owned: boolean;
  #closed = false;

  /** `owned`: `close()` also closes the client. */
  constructor(redis: Redis, options: RedisLocationOptions = {}, owned = false) {
    this.#redis = redis;
    this.#prefix = `${options.prefix ?? 'tfx:'}loc:`;
    this.#owned = owned;
  }

  #key(aor: string): string {
    return `${this.#prefix}${aor}`;
  }

  get #aors(): string {
    return `${this.#prefix}aors`;
  }

  async #all(aor: string): Promise<Map<string, Binding>> {
    const raw = await this.#redis.hgetall(this.#key(aor));
    const out = new Map<string, Binding>();
    for (const [uri, json] of Object.entries(raw)) {
      const b = parse(json);
      if (b) out.set(uri, b);
    }
    return out;
  }

  async lookup(aor: string, now: number): Promise<Binding[]> {
    return [...(await this.#all(aor)).values()].filter((b) => b.expiresAt > now);
  }

  async put(binding: Binding): Promise<void> {
    await this.#redis
      .multi()
      .hset(this.#key(binding.aor), binding.uri, JSON.stringify(binding))
      // The AOR's score is its latest expiry: GT keeps the later one.
      .zadd(this.#aors, 'GT', binding.expiresAt, binding.aor)
      .exec();
  }

  async remove(aor: string, uri: string): Promise<boolean> {
    const removed = await this.#redis.hdel(this.#key(aor), uri);
    await this.#dropIfEmpty(aor);
    return removed > 0;
  }

  async removeById(aor: string, id: string): Promise<boolean> {
    for (const [uri, b] of await this.#all(aor)) if (b.id === id) return this.remove(aor, uri);
    return false;
  }

  async removeAll(aor: string): Promise<number> {
    const n = await this.#redis.hlen(this.#key(aor));
    await this.#redis.multi().del(this.#key(aor)).zrem(this.#aors, aor).exec();
    return n;
  }

  async list(now: number): Promise<Array<{ aor: string; bindings: Binding[] }>> {
    const aors = await this.#redis.zrangebyscore(this.#aors, `(${now}`, '+inf');
    const out: Array<{ aor: string; bindings: Binding[] }> = [];
    for (const aor of aors) {
      const bindings = await this.lookup(aor, now);
      if (bindings.length > 0) out.push({ aor, bindings });
    }
    return out;
  }

  async expire(now: number): Promise<number> {
    let n = 0;
    const aors = await this.#redis.zrange(this.#aors, 0, -1);
    for (const aor of aors) {
      const stale = [...(await this.#all(aor))].filter(([, b]) => b.expiresAt <= now);
      if (stale.length > 0) n += await this.#redis.hdel(this.#key(aor), ...stale.map(([u]) => u));
      await this.#dropIfEmpty(aor);
    }
    return n;
  }

  async count(now: number): Promise<number> {
    let n = 0;
    for (const { bindings } of await this.list(now)) n += bindings.length;
    return n;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) await this.#redis.quit().catch(() => undefined);
  }

  async #dropIfEmpty(aor: string): Promise<void> {
    if ((await this.#redis.hlen(this.#key(aor))) === 0) await this.#redis.zrem(this.#aors, aor);
  }
}
