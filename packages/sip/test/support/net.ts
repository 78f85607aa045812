/**
 * The in-memory SIP network every stack test runs on (transactions, proxy core, the server's
 * pipeline): nodes at endpoints, one ManualClock, and a seeded wire that can lose, duplicate,
 * delay and reorder datagrams. Messages are serialized and re-parsed on the way, as on a real
 * wire. Reliable transports (anything but UDP) neither lose nor duplicate.
 */
import { parseMessage, serializeMessage, type SipMessage } from '../../src/syntax/index.js';
import { ManualClock } from '../../src/time/index.js';
import type { Endpoint, SendResult } from '../../src/index.js';

export interface NetOptions {
  /** Probability that a UDP datagram is lost. */
  readonly loss?: number;
  /** Probability that a UDP datagram arrives twice. */
  readonly duplicate?: number;
  /** Fixed delay of every datagram (ms). Default 10. */
  readonly latencyMs?: number;
  /** Random extra delay up to this many ms, which reorders datagrams. Default 0. */
  readonly jitterMs?: number;
  readonly seed?: number;
  /** Drops the datagrams it returns true for (a targeted loss, e.g. the first 183). */
  readonly drop?: (from: Endpoint, to: Endpoint, message: SipMessage) => boolean;
}

export type Deliver = (message: SipMessage, from: Endpoint, transport: string) => void;

/** mulberry32: a small seeded PRNG. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const key = (e: Endpoint) => `${e.address}:${e.port}`;

export class Net {
  readonly clock = new ManualClock(0);
  readonly stats = { sent: 0, dropped: 0, duplicated: 0 };
  /** Every datagram put on the wire (before loss), in order. */
  readonly log: Array<{ at: number; from: Endpoint; to: Endpoint; message: SipMessage }> = [];
  readonly #nodes = new Map<string, Deliver>();
  readonly #rand: () => number;

  constructor(readonly o: NetOptions = {}) {
    this.#rand = seeded(o.seed ?? 1);
  }

  attach(at: Endpoint, deliver: Deliver): void {
    this.#nodes.set(key(at), deliver);
  }

  send(from: Endpoint, to: Endpoint, message: SipMessage, transport = 'udp'): SendResult {
    this.stats.sent++;
    this.log.push({ at: this.clock.now(), from, to, message });
    const bytes = serializeMessage(message);
    const result: SendResult = {
      transport: transport as SendResult['transport'],
      local: from,
      remote: to,
      bytes: bytes.length,
    };
    if (this.o.drop?.(from, to, message)) {
      this.stats.dropped++;
      return result;
    }
    const udp = transport === 'udp';
    const copies = udp && this.#rand() < (this.o.duplicate ?? 0) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let k = 0; k < copies; k++) {
      if (udp && this.#rand() < (this.o.loss ?? 0)) {
        this.stats.dropped++;
        continue;
      }
      const delay = (this.o.latencyMs ?? 10) + Math.floor(this.#rand() * (this.o.jitterMs ?? 0));
      this.clock.setTimer(delay, () => {
        const parsed = parseMessage(bytes);
        if (!parsed.ok) throw new Error(`wire: ${parsed.error.reason}`);
        this.#nodes.get(key(to))?.(parsed.message, from, transport);
      });
    }
    return result;
  }

  /**
   * Runs the network until nothing is left to happen, letting promises settle after every
   * timer (for elements whose stages are asynchronous). `untilMs`: stop at that clock time.
   */
  async settle(untilMs = Infinity): Promise<void> {
    for (let steps = 0; steps < 200_000; steps++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const next = this.clock.nextAt;
      if (next === undefined || next > untilMs) {
        if (untilMs !== Infinity && untilMs > this.clock.now()) {
          this.clock.advance(untilMs - this.clock.now());
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        return;
      }
      this.clock.advance(next - this.clock.now());
    }
    throw new Error('Net.settle: timers keep re-arming');
  }

  /** `settle` for `ms` from now. */
  advance(ms: number): Promise<void> {
    return this.settle(this.clock.now() + ms);
  }
}
