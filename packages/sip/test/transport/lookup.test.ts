/**
 * The UDP sockets' `lookup` (transport/listeners.ts): an IP literal is answered synchronously
 * (no `dns.lookup` and no tick per datagram, issue #23), a name still goes to `dns.lookup`, and a
 * datagram sent through a socket that uses it arrives.
 */
import { describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { ipLiteralLookup } from '../../src/transport/listeners.js';

type Answer = [NodeJS.ErrnoException | null, string, number];

function ask(
  address: string,
  family: unknown,
): { sync: Answer | undefined; done: Promise<Answer> } {
  let sync: Answer | undefined;
  let resolve!: (a: Answer) => void;
  const done = new Promise<Answer>((r) => (resolve = r));
  let returned = false;
  ipLiteralLookup(address, family, (err, addr, fam) => {
    const a: Answer = [err, addr, fam];
    if (!returned) sync = a;
    resolve(a);
  });
  returned = true;
  return { sync, done };
}

describe('ipLiteralLookup', () => {
  it('answers IPv4 and IPv6 literals at once, the same literal twice from its cache', () => {
    expect(ask('127.0.52.1', 4).sync).toEqual([null, '127.0.52.1', 4]);
    expect(ask('127.0.52.1', 4).sync).toEqual([null, '127.0.52.1', 4]);
    expect(ask('::1', 6).sync).toEqual([null, '::1', 6]);
    expect(ask('127.0.52.2', 4).sync).toEqual([null, '127.0.52.2', 4]);
  });

  it('sends a name to dns.lookup (answered later, not from the cache)', async () => {
    const r = ask('localhost', 4);
    expect(r.sync).toBeUndefined();
    const [err, addr, fam] = await r.done;
    expect(err).toBeNull();
    expect(fam).toBe(4);
    expect(addr).toMatch(/^127\./);
  });

  it('hostile names fail through dns.lookup, never as a literal', async () => {
    for (const bad of ['', '[::1]', '127.0.0.1.', '999.1.1.1', 'a'.repeat(300)]) {
      const r = ask(bad, 4);
      expect(r.sync).toBeUndefined();
      const [err, addr] = await r.done;
      // dns.lookup may resolve some of them (an empty name) but never echoes a non-literal back.
      if (err === null) expect(addr).not.toBe(bad);
    }
  });

  it('a socket that uses it delivers a datagram', async () => {
    const rx = createSocket('udp4');
    rx.bind(0, '127.0.52.1');
    await once(rx, 'listening');
    const tx = createSocket({ type: 'udp4', lookup: ipLiteralLookup });
    try {
      const got = once(rx, 'message');
      tx.send(Buffer.from('ping'), rx.address().port, '127.0.52.1');
      const [msg] = (await got) as [Buffer];
      expect(msg.toString()).toBe('ping');
    } finally {
      tx.close();
      rx.close();
    }
  });
});
