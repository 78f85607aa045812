/**
 * The ng client against a real rtpengine (Debian rtpengine-daemon, userspace, its own config file).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { decodeDict, encode } from '../../src/rtpengine/bencode.js';
import {
  NgClient,
  NgError,
  parseNgUrl,
  udpTransport,
  type NgTransport,
} from '../../src/rtpengine/ng-client.js';
import { freeUdpPort, startRtpengine, type RtpengineProcess } from './harness.js';

const sdp = (port: number): string =>
  [
    'v=0',
    'o=alice 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');

const mPort = (s: string): number => Number(/^m=audio (\d+) /m.exec(s)?.[1]);

let rtpe: RtpengineProcess;

beforeAll(async () => {
  rtpe = await startRtpengine({ ports: 40 });
});
afterAll(async () => {
  await rtpe?.stop();
});

describe('ng client ↔ real rtpengine', () => {
  it('pings, then runs offer → answer → query → delete for one call', async () => {
    const c = new NgClient(rtpe.url);
    try {
      await c.ping();
      const callId = `int-${Date.now()}`;
      const offer = await c.request('offer', {
        'call-id': callId,
        'from-tag': 'alice',
        sdp: sdp(40000),
        flags: ['trust-address'],
        replace: ['origin', 'session-connection'],
        ICE: 'remove',
      });
      const offerSdp = String(offer.sdp);
      expect(offerSdp).toMatch(/^c=IN IP4 127\.0\.0\.1/m);
      const p1 = mPort(offerSdp);
      expect(p1).toBeGreaterThanOrEqual(rtpe.portMin);
      expect(p1).toBeLessThanOrEqual(rtpe.portMax);

      const answer = await c.request('answer', {
        'call-id': callId,
        'from-tag': 'alice',
        'to-tag': 'bob',
        sdp: sdp(40010),
        flags: ['trust-address'],
        ICE: 'remove',
      });
      const p2 = mPort(String(answer.sdp));
      expect(p2).not.toBe(p1);

      const q = await c.request('query', { 'call-id': callId });
      expect(Object.keys(q.tags as object).sort()).toEqual(['alice', 'bob']);

      const d = await c.request('delete', { 'call-id': callId, 'from-tag': 'alice' });
      expect(d.result).toBe('ok');
      const again = await c
        .request('delete', { 'call-id': callId, 'from-tag': 'alice', flags: ['fatal'] })
        .catch((e: unknown) => e);
      expect(again).toBeInstanceOf(NgError);
      expect((again as NgError).message).toMatch(/not found/i);
      expect((again as NgError).code).toBe('media-session-not-found');
    } finally {
      c.close();
    }
  });

  it('a retransmitted offer (same cookie) is answered from the cookie cache, not executed twice', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const replies: Buffer[] = [];
    s.on('message', (m) => replies.push(m));
    const callId = `retx-${Date.now()}`;
    const wire = Buffer.concat([
      Buffer.from('tfxretx1 '),
      encode({
        command: 'offer',
        'call-id': callId,
        'from-tag': 'a',
        sdp: sdp(40020),
        ICE: 'remove',
      }),
    ]);
    s.send(wire, rtpe.ngPort, '127.0.0.1');
    s.send(wire, rtpe.ngPort, '127.0.0.1');
    const t0 = Date.now();
    while (replies.length < 2 && Date.now() - t0 < 5000)
      await new Promise((r) => setTimeout(r, 20));
    s.close();
    expect(replies).toHaveLength(2);
    expect((replies[0] as Buffer).equals(replies[1] as Buffer)).toBe(true);
    const c = new NgClient(rtpe.url);
    try {
      const q = await c.request('query', { 'call-id': callId });
      const medias = (q.tags as Record<string, { medias: unknown[] }>).a?.medias ?? [];
      expect(medias).toHaveLength(1); // one stream, allocated once
      await c.request('delete', { 'call-id': callId });
    } finally {
      c.close();
    }
  });

  it('recovers from a lost request by retransmitting with the same cookie', async () => {
    const addr = parseNgUrl(rtpe.url);
    const real = udpTransport(addr);
    let dropped = 0;
    const sent: Buffer[] = [];
    const lossy: NgTransport = {
      send(m) {
        sent.push(m);
        if (dropped < 2) {
          dropped++; // the first two copies are lost on the way
          return;
        }
        real.send(m);
      },
      onMessage: (cb) => real.onMessage(cb),
      close: () => real.close(),
    };
    const c = new NgClient(addr, { transport: lossy, retransmitMs: 50, timeoutMs: 3000 });
    try {
      const callId = `lossy-${Date.now()}`;
      const r = await c.request('offer', {
        'call-id': callId,
        'from-tag': 'a',
        sdp: sdp(40030),
        ICE: 'remove',
      });
      expect(String(r.sdp)).toMatch(/^m=audio \d+ RTP\/AVP/m);
      expect(c.stats.retransmits).toBeGreaterThanOrEqual(2);
      const cookies = new Set(sent.map((m) => m.toString('latin1', 0, m.indexOf(0x20))));
      expect(cookies.size).toBe(1);
      await c.request('delete', { 'call-id': callId });
    } finally {
      c.close();
    }
  });

  it('times out with media-engine-timeout against an address where nothing answers', async () => {
    const port = await freeUdpPort();
    const deaf = createSocket('udp4'); // bound, so no ICMP port-unreachable; reads and ignores
    await new Promise<void>((r) => deaf.bind(port, '127.0.0.1', () => r()));
    let got = 0;
    deaf.on('message', () => got++);
    const c = new NgClient(`udp:127.0.0.1:${port}`, { timeoutMs: 600, retransmitMs: 100 });
    try {
      const e = await c.ping().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(NgError);
      expect((e as NgError).code).toBe('media-engine-timeout');
      expect(got).toBeGreaterThanOrEqual(3); // the first send plus retransmissions
    } finally {
      c.close();
      deaf.close();
    }
  });

  it('rtpengine refuses a hostile request with an error the client reports, and stays up', async () => {
    const c = new NgClient(rtpe.url);
    try {
      const e = await c
        .request('offer', { 'call-id': 'bad', 'from-tag': 'a', sdp: 'not sdp at all' })
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(NgError);
      expect((e as NgError).reason).toBe('error');
      const e2 = await c.request('no such command').catch((x: unknown) => x);
      expect((e2 as NgError).reason).toBe('error');
      // raw garbage straight at the ng port
      const s = createSocket('udp4');
      for (const junk of ['', 'x', 'cookie', 'cookie d', 'c i1e', `c ${'l'.repeat(5000)}`])
        s.send(Buffer.from(junk), rtpe.ngPort, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      s.close();
      await c.ping();
      expect(decodeDict(encode({ ok: 1 }))).toEqual({ ok: 1 });
    } finally {
      c.close();
    }
  });
});
