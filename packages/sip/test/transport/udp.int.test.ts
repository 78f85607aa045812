import { afterEach, describe, expect, it } from 'vitest';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createResponse, parseMessage, type SipRequest } from '../../src/syntax/index.js';
import { TransportLayer } from '../../src/transport/index.js';
import { collect, sipRequest, waitFor } from './helpers.js';

const dec = new TextDecoder();
const enc = new TextEncoder();

describe('UDP transport (real sockets on loopback)', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function udpClient(type: 'udp4' | 'udp6', address: string) {
    const socket: UdpSocket = createSocket(type);
    socket.bind(0, address);
    await once(socket, 'listening');
    cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
    const got: string[] = [];
    socket.on('message', (m) => got.push(dec.decode(m)));
    return { socket, got, port: socket.address().port };
  }

  function echoServer(layer: TransportLayer) {
    const inbound = collect(layer);
    layer.onMessage((m) => {
      inbound.push(m);
      if (m.message.kind === 'request') {
        void layer.sendResponse(createResponse(m.message, 200, 'OK'), m.ctx);
      }
    });
    return inbound;
  }

  it.each([
    ['IPv4', 'udp4', '127.0.0.1'],
    ['IPv6', 'udp6', '::1'],
  ] as const)(
    'RFC 3581 §4: over %s a request with rport is answered at its source port with received and rport stamped',
    async (_name, type, address) => {
      const layer = new TransportLayer();
      cleanups.push(() => layer.close());
      const listener = await layer.listen({ transport: 'udp', address, port: 0 });
      expect(listener.port).toBeGreaterThan(0);
      expect(listener.address).toBe(address);
      const inbound = echoServer(layer);
      const client = await udpClient(type, address);

      client.socket.send(sipRequest({ sentBy: 'client.invalid:5099' }), listener.port, address);
      await waitFor(() => client.got.length === 1, 10_000, 'the 200 OK');

      const ctx = inbound[0]!.ctx;
      expect(ctx).toMatchObject({
        transport: 'udp',
        local: { address, port: listener.port },
        remote: { address, port: client.port },
      });
      const response = parseMessage(enc.encode(client.got[0]!));
      expect(response.ok && response.message.kind === 'response' && response.message.status).toBe(
        200,
      );
      const via = response.ok ? response.message.headers.via()[0] : undefined;
      expect(via?.received).toBe(address);
      expect(via?.rport).toBe(client.port);
      expect(layer.counters).toMatchObject({ received: 1, delivered: 1, sent: 1 });
    },
  );

  it('a UDP listener asks the kernel for a 4 MiB receive buffer (SO_RCVBUF)', async () => {
    const layer = new TransportLayer();
    cleanups.push(() => layer.close());
    const listener = await layer.listen({ transport: 'udp', address: '127.0.0.1', port: 0 });
    // Linux doubles the requested value for bookkeeping, capped by net.core.rmem_max (4 MiB on
    // these machines; a host with a lower cap grants less, and the layer logs a warning).
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    expect(listener.recvBufferSize).toBeGreaterThanOrEqual(Math.min(4 * 1024 * 1024, 2 * rmemMax));
    expect(rmemMax, 'net.core.rmem_max on this machine').toBeGreaterThanOrEqual(4 * 1024 * 1024);
  });

  it('RFC 3261 §18.2.1: malformed requests are answered 400 to their source, and garbage is only counted', async () => {
    const layer = new TransportLayer();
    cleanups.push(() => layer.close());
    const listener = await layer.listen({ transport: 'udp', address: '127.0.0.1', port: 0 });
    const inbound = collect(layer);
    const client = await udpClient('udp4', '127.0.0.1');
    const noCallId = sipRequest().replace(/Call-ID: [^\r]*\r\n/, '');
    client.socket.send(noCallId, listener.port, '127.0.0.1');
    client.socket.send(Buffer.from([0, 1, 2, 3, 4]), listener.port, '127.0.0.1');
    await waitFor(() => layer.counters.received === 2 && client.got.length === 1);
    expect(client.got[0]).toMatch(/^SIP\/2\.0 400 /);
    expect(inbound).toHaveLength(0);
    expect(layer.counters.parseErrors).toBe(1);
    expect(layer.counters.drops).toMatchObject({ sanity: 1, 'parse-error': 1 });
  });

  it('send() delivers a request to a UDP peer over the listener of its address family', async () => {
    const layer = new TransportLayer();
    cleanups.push(() => layer.close());
    const v6 = await layer.listen({ transport: 'udp', address: '::1', port: 0 });
    await layer.listen({ transport: 'udp', address: '127.0.0.1', port: 0 });
    const client = await udpClient('udp6', '::1');
    const parsed = parseMessage(enc.encode(sipRequest({ method: 'MESSAGE', body: 'hi' })));
    if (!parsed.ok) throw new Error('fixture does not parse');
    const result = await layer.send(parsed.message, {
      transport: 'udp',
      address: '::1',
      port: client.port,
    });
    expect(result).toMatchObject({ transport: 'udp', local: { address: '::1', port: v6.port } });
    await waitFor(() => client.got.length === 1);
    expect(client.got[0]).toMatch(/^MESSAGE sip:/);
  });

  it('RFC 5626 §5.2: a flow token for a UDP client sends from the socket its request reached, to its source address and port', async () => {
    const layer = new TransportLayer();
    cleanups.push(() => layer.close());
    const first = await layer.listen({ transport: 'udp', address: '127.0.0.1', port: 0 });
    const second = await layer.listen({ transport: 'udp', address: '127.0.0.1', port: 0 });
    const inbound = collect(layer);
    const client = await udpClient('udp4', '127.0.0.1');
    const sources: number[] = [];
    client.socket.on('message', (_m, rinfo) => sources.push(rinfo.port));
    client.socket.send(sipRequest({ method: 'REGISTER' }), second.port, '127.0.0.1');
    await waitFor(() => inbound.length === 1);
    const token = layer.flowTokenFor(inbound[0]!.ctx);
    const result = await layer.send(
      enc.encode(sipRequest({ method: 'MESSAGE', body: 'via the flow' })),
      {
        flowToken: token,
      },
    );
    expect(result.local.port).toBe(second.port);
    expect(result.local.port).not.toBe(first.port);
    await waitFor(() => client.got.length === 1);
    expect(sources).toEqual([second.port]);
    expect(client.got[0]).toContain('via the flow');
  });

  describe('RFC 3261 §18.1.1: large requests', () => {
    function largeRequest(): SipRequest {
      const parsed = parseMessage(
        enc.encode(
          sipRequest({
            method: 'MESSAGE',
            body: 'x'.repeat(1500),
            extra: ['Content-Type: text/plain'],
          }),
        ),
      );
      if (!parsed.ok || parsed.message.kind !== 'request')
        throw new Error('fixture does not parse');
      return parsed.message;
    }

    it('RFC 3261 §18.1.1: a request larger than 1300 bytes goes over TCP, with the top Via changed to TCP', async () => {
      const layer = new TransportLayer();
      cleanups.push(() => layer.close());
      await layer.listen({ transport: 'udp', address: '127.0.0.1', port: 0 });
      await layer.listen({ transport: 'tcp', address: '127.0.0.1', port: 0 });
      let received = '';
      const sockets: Socket[] = [];
      const peer: Server = createServer((s) => {
        sockets.push(s);
        s.on('data', (d) => (received += d.toString('latin1')));
      });
      peer.listen(0, '127.0.0.1');
      await once(peer, 'listening');
      cleanups.push(() => {
        for (const s of sockets) s.destroy();
        return new Promise((r) => peer.close(r));
      });
      const port = (peer.address() as { port: number }).port;

      const result = await layer.send(largeRequest(), {
        transport: 'udp',
        address: '127.0.0.1',
        port,
      });
      expect(result.transport).toBe('tcp');
      await waitFor(() => received.includes('x'.repeat(1500)));
      expect(received).toMatch(/\r\nVia: SIP\/2\.0\/TCP client\.invalid:5099;/);
    });

    it('RFC 3261 §18.1.1: when the TCP connection is refused the request is retried over UDP', async () => {
      const layer = new TransportLayer();
      cleanups.push(() => layer.close());
      await layer.listen({ transport: 'udp', address: '127.0.0.1', port: 0 });
      await layer.listen({ transport: 'tcp', address: '127.0.0.1', port: 0 });
      // A UDP-only peer: nothing listens on its port over TCP.
      const client = await udpClient('udp4', '127.0.0.1');
      const result = await layer.send(largeRequest(), {
        transport: 'udp',
        address: '127.0.0.1',
        port: client.port,
      });
      expect(result.transport).toBe('udp');
      await waitFor(() => client.got.length === 1);
      expect(client.got[0]).toMatch(/\r\nVia: SIP\/2\.0\/UDP /);
    });
  });
});
