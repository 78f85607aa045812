/**
 * The unicast router: every node reads its own Redis stream `<prefix>node:<nodeId>`; a message
 * for a peer is appended (XADD) to the stream of the node that holds the peer, and nowhere else.
 * Streams, not pub/sub: a slow or briefly disconnected reader loses nothing (Redis keeps the
 * entries until read; no pub/sub output-buffer limit can drop it), and one connection's commands
 * stay in order, so what node A sends node B arrives in order.
 *
 * The reader keeps one blocking `XREAD COUNT 1000` outstanding and issues the next as soon as
 * the previous one's entries are handled. Both directions use lean RESP2 connections of their
 * own (hop-connection.ts), not ioredis' command path.
 *
 * Envelopes for one node go in one stream entry (a batch, wire.ts: relayed items pass through as
 * the bytes their receiver's socket gets), and ioredis pipelines the entries for several nodes in
 * one write. One write is outstanding at a time (the rule of Nagle's algorithm,
 * RFC 896, with Redis's replies as the acknowledgements, and without a timer): an idle router
 * writes on the next `setImmediate`; what is sent while a write awaits its replies goes in the
 * next write, as soon as they are back. Under load a process makes about one XADD round trip per
 * Redis round-trip time however many messages it sends (a round trip costs ~45 µs of the
 * process's CPU, docs/benchmarks.md "Scale-out"); when idle it adds no delay.
 *
 * Bounds, all observable: at most `maxPending` envelopes handed to Redis and not yet acknowledged
 * (beyond it `send` refuses and the caller answers `unavailable` — never a silent drop); each
 * stream capped at `maxStreamLength` entries (approximate trimming, a safety net far above any
 * backlog the pending bound allows); entries that do not parse, or hold an envelope that fails
 * its checks (envelope.ts), are counted and skipped.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { HopConnection } from './hop-connection.js';
import { ENVELOPE_KINDS as KINDS } from './envelope.js';
import type { ClusterMetrics } from './metrics.js';
import type { Envelope } from './types.js';
import type { Reply } from './resp.js';
import { decodeEntry, encodeEntry } from './wire.js';

export interface RouterOptions {
  readonly prefix: string;
  readonly nodeId: string;
  readonly protocolVersion: number;
  readonly maxPending: number;
  readonly maxStreamLength: number;
  /** Publisher (`queue` mode): keeps commands while Redis is away. */
  readonly pub: Pick<HopConnection, 'call'>;
  /** A connection of its own for blocking XREAD (`blocking` mode). */
  readonly sub: Pick<HopConnection, 'call' | 'disconnect'>;
  /** For trimming what was read. */
  readonly cmd: Redis;
  readonly metrics: ClusterMetrics;
  readonly log: Logger;
}

export class UnicastRouter {
  private handler: (env: Envelope) => void = () => undefined;
  private pending = 0;
  private lastId = '0-0';
  private running = false;
  private loop: Promise<void> | undefined;
  private trimTimer: NodeJS.Timeout | undefined;
  private readonly publishedBy: Record<string, { inc(): void }> = {};
  private readonly receivedBy: Record<string, { inc(): void }> = {};
  private readonly outbox = new Map<string, Envelope[]>();
  private flushScheduled = false;
  /** XADDs written and not yet answered (one write's worth at a time, see above). */
  private inFlight = 0;

  private readonly maxLen: string;

  constructor(private readonly o: RouterOptions) {
    this.maxLen = String(o.maxStreamLength);
    for (const k of KINDS) {
      this.publishedBy[k] = o.metrics.published.labels(k);
      this.receivedBy[k] = o.metrics.received.labels(k);
    }
  }

  streamOf(node: string): string {
    return `${this.o.prefix}node:${node}`;
  }

  onEnvelope(handler: (env: Envelope) => void): void {
    this.handler = handler;
  }

  /** Queues for `node`'s stream; false (counted) when the outbound queue is at its bound. */
  send(node: string, env: Envelope): boolean {
    if (node === this.o.nodeId) {
      this.dispatch(env);
      return true;
    }
    if (this.pending >= this.o.maxPending) {
      this.o.metrics.refused.labels('queue-full').inc();
      return false;
    }
    this.pending++;
    let box = this.outbox.get(node);
    if (!box) {
      box = [];
      this.outbox.set(node, box);
    }
    box.push(env);
    // While a write is out, its replies trigger the next one (flush → afterWrite).
    if (!this.flushScheduled && this.inFlight === 0) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  private flush(): void {
    this.flushScheduled = false;
    this.o.metrics.pending.set(this.pending);
    this.inFlight += this.outbox.size;
    for (const [node, batch] of this.outbox) {
      this.o.pub.call(
        [
          'XADD',
          this.streamOf(node),
          'MAXLEN',
          '~',
          this.maxLen,
          '*',
          ...encodeEntry(this.o.protocolVersion, batch),
        ],
        (err) => {
          if (err) {
            this.o.metrics.refused.labels('redis-error').inc(batch.length);
            this.o.log.warn({ err, node, count: batch.length }, 'cluster publish failed');
          } else for (const env of batch) this.publishedBy[env.t]?.inc();
          this.pending -= batch.length;
          this.o.metrics.pending.set(this.pending);
          this.afterWrite();
        },
      );
    }
    this.outbox.clear();
  }

  /** One XADD of the outstanding write answered: once all are, what queued meanwhile goes. */
  private afterWrite(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.outbox.size > 0 && !this.flushScheduled) this.flush();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.readLoop();
    this.trimTimer = setInterval(() => {
      if (this.lastId === '0-0') return;
      this.o.cmd
        .xtrim(this.streamOf(this.o.nodeId), 'MINID', '~', this.lastId)
        .catch(() => undefined);
    }, 5000);
    this.trimTimer.unref();
  }

  private async readLoop(): Promise<void> {
    const key = this.streamOf(this.o.nodeId);
    while (this.running) {
      let res: Reply;
      try {
        res = await this.read(key);
      } catch (err) {
        if (!this.running) return;
        this.o.log.debug({ err }, 'cluster stream read failed; retrying');
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (!Array.isArray(res)) continue;
      for (const stream of res) {
        const entries = Array.isArray(stream) ? stream[1] : undefined;
        if (!Array.isArray(entries)) continue;
        for (const entry of entries) {
          if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
          this.lastId = entry[0];
          this.receive(entry[1]);
        }
      }
      // The next read goes at once: it blocks in Redis until an entry comes, and returns what came
      // while these were handled (batched by themselves under load). A pause here cost a timer
      // wake-up per read without gathering more (docs/benchmarks.md "Scale-out", 2026-12-07).
    }
  }

  /** One `XREAD COUNT 1000 BLOCK 1000` from the last id read. */
  private read(key: string): Promise<Reply> {
    return new Promise((resolve, reject) =>
      this.o.sub.call(
        ['XREAD', 'COUNT', '1000', 'BLOCK', '1000', 'STREAMS', key, this.lastId],
        (err, reply) => (err ? reject(err) : resolve(reply)),
      ),
    );
  }

  private receive(fields: unknown): void {
    const { envelopes, bad } = decodeEntry(fields, this.o.protocolVersion);
    if (bad > 0) this.o.metrics.badMessages.inc(bad);
    for (const env of envelopes) {
      this.receivedBy[env.t]?.inc();
      this.dispatch(env);
    }
  }

  private dispatch(env: Envelope): void {
    try {
      this.handler(env);
    } catch (err) {
      this.o.log.error({ err, kind: env.t }, 'cluster envelope handler failed');
    }
  }

  async close(): Promise<void> {
    this.running = false;
    if (this.trimTimer) clearInterval(this.trimTimer);
    this.o.sub.disconnect();
    await this.loop?.catch(() => undefined);
  }
}
