/** Test doubles for the ng layer: a manual clock and a scriptable transport. */
import { decodeDict, encode, type BDict } from '../../src/rtpengine/bencode.js';
import type { NgTimers, NgTransport } from '../../src/rtpengine/ng-client.js';

/** Timers that fire only when the test advances time. */
export class ManualTimers implements NgTimers {
  now = 0;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = end;
  }
}

/** Records what is sent; answers through `respond` (return undefined to stay silent). */
export class FakeTransport implements NgTransport {
  sent: Buffer[] = [];
  closed = 0;
  respond: ((req: BDict) => BDict | undefined) | undefined;
  private cb: (m: Buffer) => void = () => {};
  send(msg: Buffer): void {
    this.sent.push(msg);
    const sp = msg.indexOf(0x20);
    const reply = this.respond?.(decodeDict(msg.subarray(sp + 1)));
    if (reply) {
      const wire = Buffer.concat([msg.subarray(0, sp + 1), encode(reply)]);
      queueMicrotask(() => this.cb(wire));
    }
  }
  onMessage(cb: (m: Buffer) => void): void {
    this.cb = cb;
  }
  close(): void {
    this.closed++;
  }
  deliver(m: Buffer | string): void {
    this.cb(Buffer.isBuffer(m) ? m : Buffer.from(m, 'latin1'));
  }
  cookie(i: number): string {
    const m = this.sent[i] as Buffer;
    return m.toString('latin1', 0, m.indexOf(0x20));
  }
  body(i: number): BDict {
    const m = this.sent[i] as Buffer;
    return decodeDict(m.subarray(m.indexOf(0x20) + 1));
  }
  reply(i: number, d: BDict): void {
    this.deliver(Buffer.concat([Buffer.from(`${this.cookie(i)} `), encode(d)]));
  }
  commands(): string[] {
    return this.sent.map((_, i) => String(this.body(i).command));
  }
}
