/**
 * The transport gaps of issue #16 on real sockets: outbound WebSocket flows (ws and wss),
 * `.invalid` WebSocket clients reached over their own connection, client CRLF keep-alives on a
 * ManualClock, the 503 for connections past the limit, and hostile input on each.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import selfsigned from 'selfsigned';
import { WebSocket, WebSocketServer } from 'ws';
import { ManualClock } from '../../src/time/index.js';
import { createResponse } from '../../src/syntax/index.js';
import {
  TransportLayer,
  type InboundMessage,
  type TransportLayerOptions,
} from '../../src/transport/index.js';
import type { StreamConnection } from '../../src/transport/connection.js';
import { RawClient, collect, sipRequest, waitFor } from './helpers.js';

const enc = new TextEncoder();

describe('transport gaps: outbound WebSocket, .invalid flows, keep-alives, overload 503', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function layerOf(options: TransportLayerOptions = {}): TransportLayer {
    const layer = new TransportLayer(options);
    cleanups.push(() => layer.close());
    return layer;
  }

  /** A server layer that answers every request 200 on the flow it came on. */
  function answering(layer: TransportLayer): InboundMessage[] {
    const inbound: InboundMessage[] = [];
    layer.onMessage((m) => {
      inbound.push(m);
      if (m.message.kind === 'request' && m.message.method !== 'ACK') {
        void layer.sendResponse(createResponse(m.message, 200, 'OK'), m.ctx);
      }
    });
    return inbound;
  }

  describe('outbound WebSocket (RFC 7118 §4.1)', () => {
    let pems: { cert: string; private: string };
    beforeAll(async () => {
      pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
        keyType: 'ec',
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
      });
    });

    it.each(['ws', 'wss'] as const)(
      'a request to a %s target opens a WebSocket with the sip subprotocol, reuses it, and the answer comes back on it',
      async (transport) => {
        const server = layerOf();
        const served = answering(server);
        const listener = await server.listen(
          transport === 'wss'
            ? {
                transport,
                address: '127.0.0.1',
                port: 0,
                path: '/',
                cert: pems.cert,
                key: pems.private,
              }
            : { transport, address: '127.0.0.1', port: 0, path: '/' },
        );
        const client = layerOf({
          isOurVia: () => true,
          tlsClient: { ca: pems.cert },
        });
        const got = collect(client);
        const first = await client.send(
          enc.encode(sipRequest({ transport: transport.toUpperCase(), sentBy: 'c.example' })),
          { transport, address: '127.0.0.1', port: listener.port },
        );
        expect(first.transport).toBe(transport);
        expect(first.flow).toBeDefined();
        await waitFor(() => got.length === 1, 10_000, 'the 200 over the WebSocket');
        expect(got[0]?.message.kind).toBe('response');
        expect(got[0]?.ctx.connection?.id).toBe(first.flow);
        expect(got[0]?.ctx.connection?.direction).toBe('outbound');
        // The server saw a WebSocket client of the right transport.
        expect(served[0]?.ctx.transport).toBe(transport);
        expect(served[0]?.ctx.connection?.direction).toBe('inbound');
        // A second request reuses the flow.
        const second = await client.send(
          enc.encode(sipRequest({ transport: transport.toUpperCase() })),
          {
            transport,
            address: '127.0.0.1',
            port: listener.port,
          },
        );
        expect(second.flow).toBe(first.flow);
        expect(client.connections()).toHaveLength(1);
        await waitFor(() => got.length === 2, 10_000, 'the second 200');
      },
    );

    it('wss to a server whose certificate is not trusted fails to connect, clearly', async () => {
      const server = layerOf();
      const listener = await server.listen({
        transport: 'wss',
        address: '127.0.0.1',
        port: 0,
        path: '/',
        cert: pems.cert,
        key: pems.private,
      });
      const client = layerOf();
      await expect(
        client.send(enc.encode(sipRequest()), {
          transport: 'wss',
          address: '127.0.0.1',
          port: listener.port,
        }),
      ).rejects.toMatchObject({
        code: 'sip-transport-error',
        details: { reason: 'connect-failed' },
      });
      expect(client.connections()).toHaveLength(0);
    });

    it('RFC 7118 §4.1: a server that does not select the "sip" subprotocol is refused, and so is a plain HTTP answer', async () => {
      const http = createHttpServer((_req, res) => res.end('not a websocket'));
      const wss = new WebSocketServer({ server: http, handleProtocols: () => false });
      http.listen(0, '127.0.0.1');
      await once(http, 'listening');
      cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
      cleanups.push(() => wss.close());
      const port = (http.address() as { port: number }).port;
      const client = layerOf({ wsClientPath: '/sip' });
      await expect(
        client.send(enc.encode(sipRequest()), { transport: 'ws', address: '127.0.0.1', port }),
      ).rejects.toThrow(/subprotocol/);
      // A server with no WebSocket at all on that path.
      const plain = createHttpServer((_req, res) => {
        res.statusCode = 404;
        res.end();
      });
      plain.listen(0, '127.0.0.1');
      await once(plain, 'listening');
      cleanups.push(() => new Promise<void>((r) => plain.close(() => r())));
      await expect(
        client.send(enc.encode(sipRequest()), {
          transport: 'ws',
          address: '127.0.0.1',
          port: (plain.address() as { port: number }).port,
        }),
      ).rejects.toThrow(/HTTP 404 instead of an upgrade/);
      expect(client.connections()).toHaveLength(0);
    });

    it('an outbound WebSocket whose server stops answering pings is closed (half-open flow)', async () => {
      const http = createHttpServer();
      const sockets: WebSocket[] = [];
      const wss = new WebSocketServer({ server: http, handleProtocols: () => 'sip' });
      // Its pings are answered automatically by the library; pausing the socket stops that.
      wss.on('connection', (ws) => sockets.push(ws));
      http.listen(0, '127.0.0.1');
      await once(http, 'listening');
      cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
      cleanups.push(() => {
        for (const s of sockets) s.terminate();
        wss.close();
      });
      const client = layerOf({ wsPingIntervalMs: 150, idleTimeoutMs: 0 });
      await client.send(enc.encode(sipRequest()), {
        transport: 'ws',
        address: '127.0.0.1',
        port: (http.address() as { port: number }).port,
      });
      await waitFor(() => sockets.length === 1);
      (sockets[0] as unknown as { _socket: { pause(): void } })._socket.pause();
      await waitFor(
        () => client.connections().length === 0,
        10_000,
        'the silent server to be dropped',
      );
    });
  });

  describe('WebSocket clients named by a .invalid host (RFC 7118 §5)', () => {
    async function wsClient(port: number, localAddress = '127.0.0.1') {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/sip`, 'sip', { localAddress });
      cleanups.push(() => ws.terminate());
      await once(ws, 'open');
      const frames: string[] = [];
      ws.on('message', (d: Buffer) => frames.push(d.toString()));
      return { ws, frames };
    }
    function register(host: string): string {
      return sipRequest({
        method: 'REGISTER',
        transport: 'WS',
        sentBy: host,
        extra: [`Contact: <sip:alice@${host};transport=ws>`],
      });
    }

    it('a request to sip:…@host.invalid goes over the connection that host came on; after it closes the send fails as flow-failed', async () => {
      const server = layerOf();
      const inbound = collect(server);
      const listener = await server.listen({ transport: 'ws', address: '127.0.0.1', port: 0 });
      const a = await wsClient(listener.port);
      const b = await wsClient(listener.port);
      a.ws.send(register('aaaa1111.invalid'));
      b.ws.send(register('bbbb2222.invalid'));
      await waitFor(() => inbound.length === 2, 10_000, 'both REGISTERs');
      const sent = await server.send(
        enc.encode(sipRequest({ method: 'OPTIONS', transport: 'WS', sentBy: '127.0.0.1' })),
        {
          transport: 'ws',
          address: 'bbbb2222.invalid',
          port: 80,
        },
      );
      await waitFor(() => b.frames.length === 1, 10_000, 'client b to get the OPTIONS');
      expect(b.frames[0]).toMatch(/^OPTIONS /);
      expect(a.frames).toHaveLength(0);
      const bInbound = inbound.find((m) => m.message.headers.get('contact')?.includes('bbbb2222'));
      expect(sent.flow).toBe(bInbound?.ctx.connection?.id);
      b.ws.close();
      await waitFor(() => server.connections().length === 1, 10_000, 'b to go');
      await expect(
        server.send(enc.encode(sipRequest()), {
          transport: 'ws',
          address: 'bbbb2222.invalid',
          port: 80,
        }),
      ).rejects.toMatchObject({ code: 'sip-transport-error', details: { reason: 'flow-failed' } });
      // A .invalid host never seen: the same clear failure, and no DNS lookup or connect attempt.
      await expect(
        server.send(enc.encode(sipRequest()), {
          transport: 'ws',
          address: 'never-seen.invalid',
          port: 80,
        }),
      ).rejects.toMatchObject({ details: { reason: 'flow-failed' } });
    });

    it('a client on another address cannot take over a .invalid host that an open connection holds', async () => {
      const server = layerOf();
      const inbound = collect(server);
      const listener = await server.listen({ transport: 'ws', address: '127.0.0.1', port: 0 });
      const owner = await wsClient(listener.port, '127.0.0.1');
      const thief = await wsClient(listener.port, '127.0.0.2');
      owner.ws.send(register('owned.invalid'));
      await waitFor(() => inbound.length === 1);
      thief.ws.send(register('owned.invalid'));
      await waitFor(() => inbound.length === 2);
      await server.send(enc.encode(sipRequest()), {
        transport: 'ws',
        address: 'owned.invalid',
        port: 80,
      });
      await waitFor(() => owner.frames.length === 1, 10_000, 'the owner to get it');
      expect(thief.frames).toHaveLength(0);
    });
  });

  describe('client CRLF keep-alives (RFC 5626 §4.4.1) on outbound TCP, on a ManualClock', () => {
    /** Moves the clock to the instant the next (jittered) ping is sent. */
    function advanceToPing(clock: ManualClock, connection: StreamConnection): void {
      for (let i = 0; i < 60_000 && connection.keepAliveState?.state !== 'awaiting-pong'; i++) {
        clock.advance(1);
      }
      expect(connection.keepAliveState?.state).toBe('awaiting-pong');
    }

    /** A raw TCP server; `pings()` counts the double CRLFs that followed the first request. */
    async function rawServer(pong: boolean) {
      const sockets: Socket[] = [];
      let text = '';
      const request = sipRequest({ transport: 'TCP', callId: 'ka' });
      const pings = () => Math.max(0, Math.floor((text.length - request.length) / 4));
      const srv: Server = createNetServer((s) => {
        sockets.push(s);
        s.setEncoding('latin1');
        s.on('data', (d: string) => {
          const before = pings();
          text += d;
          if (pong) for (let i = before; i < pings(); i++) s.write('\r\n');
        });
        s.on('error', () => {});
      });
      srv.listen(0, '127.0.0.1');
      await once(srv, 'listening');
      cleanups.push(() => {
        for (const s of sockets) s.destroy();
        return new Promise<void>((r) => srv.close(() => r()));
      });
      return { port: (srv.address() as { port: number }).port, request, pings };
    }

    it('pings with a double CRLF each interval; a server that pongs keeps the flow open', async () => {
      const server = await rawServer(true);
      const clock = new ManualClock();
      const client = layerOf({
        clock,
        keepAliveIntervalMs: 30_000,
        keepAlivePongTimeoutMs: 10_000,
      });
      const r = await client.send(enc.encode(server.request), {
        transport: 'tcp',
        address: '127.0.0.1',
        port: server.port,
      });
      const connection = client.connection(r.flow!) as StreamConnection;
      for (let round = 1; round <= 3; round++) {
        advanceToPing(clock, connection);
        await waitFor(() => server.pings() === round, 10_000, `ping ${round}`);
        await waitFor(() => connection.keepAliveState?.pongs === round, 10_000, `pong ${round}`);
        clock.advance(10_000);
        expect(connection.closed).toBe(false);
      }
      expect(client.counters.keepalives).toBe(3);
    });

    it('RFC 5626 §4.4.1: a server that does not pong within 10 s fails the flow: the connection closes', async () => {
      const server = await rawServer(false);
      const clock = new ManualClock();
      const client = layerOf({ clock, keepAliveIntervalMs: 30_000 });
      const r = await client.send(enc.encode(server.request), {
        transport: 'tcp',
        address: '127.0.0.1',
        port: server.port,
      });
      const connection = client.connection(r.flow!) as StreamConnection;
      advanceToPing(clock, connection);
      await waitFor(() => server.pings() === 1, 10_000, 'the ping');
      clock.advance(9_999);
      expect(connection.closed).toBe(false);
      clock.advance(1);
      expect(connection.closed).toBe(true);
      expect(connection.closeReason).toBe('keepalive-timeout');
      expect(client.connections()).toHaveLength(0);
    });

    it('our own TCP listener answers the client pings of another layer (both ends are TFX)', async () => {
      const server = layerOf();
      answering(server);
      const listener = await server.listen({ transport: 'tcp', address: '127.0.0.1', port: 0 });
      const clock = new ManualClock();
      const client = layerOf({ clock, keepAliveIntervalMs: 1000, isOurVia: () => true });
      collect(client);
      const r = await client.send(enc.encode(sipRequest({ transport: 'TCP' })), {
        transport: 'tcp',
        address: '127.0.0.1',
        port: listener.port,
      });
      const connection = client.connection(r.flow!) as StreamConnection;
      advanceToPing(clock, connection);
      await waitFor(() => connection.keepAliveState?.pongs === 1, 10_000, 'the pong');
      expect(server.counters.keepalives).toBe(1);
      clock.advance(10_000);
      expect(connection.closed).toBe(false);
    });

    it('refuses keepAlivePongTimeoutMs 0 with keep-alives on', () => {
      expect(
        () => new TransportLayer({ keepAliveIntervalMs: 1000, keepAlivePongTimeoutMs: 0 }),
      ).toThrow(/keepAlivePongTimeoutMs/);
    });
  });

  describe('connection limits answer 503 with Retry-After (RFC 3261 §21.5.4)', () => {
    it('a TCP connection past maxConnections gets 503 + Retry-After to its first request, then is closed, and counted', async () => {
      const server = layerOf({ maxConnections: 1, overloadRetryAfterSeconds: 17 });
      answering(server);
      const listener = await server.listen({ transport: 'tcp', address: '127.0.0.1', port: 0 });
      const first = await RawClient.open('127.0.0.1', listener.port);
      cleanups.push(() => first.close());
      await waitFor(() => server.connections().length === 1);
      const second = await RawClient.open('127.0.0.1', listener.port);
      cleanups.push(() => second.close());
      await second.write(sipRequest({ transport: 'TCP', sentBy: '127.0.0.1:5099' }));
      await waitFor(() => second.closed, 10_000, 'the overflowing connection to close');
      expect(second.statusLines()).toEqual(['SIP/2.0 503 Service Unavailable']);
      expect(second.text).toMatch(/\r\nRetry-After: 17\r\n/);
      expect(server.counters.refusedConnections).toBe(1);
      expect(server.counters.overloadReplies).toBe(1);
      // The admitted connection is untouched and served.
      await first.write(sipRequest({ transport: 'TCP' }));
      await waitFor(() => first.statusLines().length === 1);
      expect(first.statusLines()).toEqual(['SIP/2.0 200 OK']);
      expect(server.connections()).toHaveLength(1);
    });

    it('an overflowing connection that sends garbage, or nothing (half-open), is closed without a reply, bounded in time', async () => {
      const server = layerOf({ maxConnectionsPerIp: 1, connectTimeoutMs: 400 });
      const listener = await server.listen({ transport: 'tcp', address: '127.0.0.1', port: 0 });
      const first = await RawClient.open('127.0.0.1', listener.port);
      cleanups.push(() => first.close());
      await waitFor(() => server.connections().length === 1);
      const garbage = await RawClient.open('127.0.0.1', listener.port);
      cleanups.push(() => garbage.close());
      await garbage.write('\x16\x03\x01 not sip at all\r\nContent-Length: zz\r\n\r\n');
      const silent = await RawClient.open('127.0.0.1', listener.port);
      cleanups.push(() => silent.close());
      await waitFor(() => garbage.closed && silent.closed, 10_000, 'both to close');
      expect(garbage.text).toBe('');
      expect(silent.text).toBe('');
      expect(server.counters.refusedConnections).toBe(2);
      expect(server.counters.overloadReplies).toBe(0);
    });

    it('an ACK on an overflowing connection is never answered (RFC 3261 §17)', async () => {
      const server = layerOf({ maxConnections: 1 });
      const listener = await server.listen({ transport: 'tcp', address: '127.0.0.1', port: 0 });
      const first = await RawClient.open('127.0.0.1', listener.port);
      cleanups.push(() => first.close());
      await waitFor(() => server.connections().length === 1);
      const ack = await RawClient.open('127.0.0.1', listener.port);
      cleanups.push(() => ack.close());
      await ack.write(sipRequest({ method: 'ACK', transport: 'TCP' }));
      await waitFor(() => ack.closed, 10_000, 'the ACK connection to close');
      expect(ack.text).toBe('');
    });
  });

  describe('hostile input on WebSocket and TCP flows', () => {
    async function rawWs(port: number) {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/sip`, 'sip');
      cleanups.push(() => ws.terminate());
      await once(ws, 'open');
      const frames: string[] = [];
      let closed: number | undefined;
      ws.on('message', (d: Buffer) => frames.push(d.toString()));
      ws.on('close', (code: number) => (closed = code));
      ws.on('error', () => {});
      return { ws, frames, closeCode: () => closed };
    }

    it('garbage frames are counted as parse errors (bad requests answered 400) and the connection keeps serving', async () => {
      const server = layerOf();
      const served = answering(server);
      const listener = await server.listen({ transport: 'ws', address: '127.0.0.1', port: 0 });
      const c = await rawWs(listener.port);
      c.ws.send('hello, this is not SIP');
      c.ws.send(Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]), { binary: true });
      c.ws.send('INVITE sip:x SIP/2.0\r\nVia: garbage\r\n\r\n');
      c.ws.send(sipRequest({ transport: 'WS' }));
      await waitFor(() => served.length === 1, 10_000, 'the valid request');
      await waitFor(() => c.frames.some((f) => f.startsWith('SIP/2.0 200')), 10_000, 'its 200');
      const { drops } = server.counters;
      expect(drops['parse-error'] + drops.sanity).toBe(3);
      // The INVITE with a broken Via could not even be answered (no Via to answer to); the
      // others are not SIP: nothing is sent back but the 200, and the counters balance.
      expect(server.counters.received).toBe(server.counters.delivered + 3);
      expect(c.closeCode()).toBeUndefined();
      expect(server.connections()).toHaveLength(1);
    });

    it('invalid UTF-8 in a text frame and an oversized frame each close only their own connection, counted', async () => {
      const server = layerOf({ maxMessageBytes: 2000 });
      const served = answering(server);
      const listener = await server.listen({ transport: 'ws', address: '127.0.0.1', port: 0 });
      const good = await rawWs(listener.port);
      const badUtf8 = await rawWs(listener.port);
      const big = await rawWs(listener.port);
      // A text frame (opcode 1) whose payload is not UTF-8: RFC 6455 §8.1 → close 1007.
      badUtf8.ws.send(Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), { binary: false });
      big.ws.send('x'.repeat(5000));
      await waitFor(
        () => badUtf8.closeCode() !== undefined && big.closeCode() !== undefined,
        10_000,
        'the two hostile connections to close',
      );
      expect(badUtf8.closeCode()).toBe(1007);
      expect(big.closeCode()).toBe(1009);
      expect(server.counters.wsProtocolErrors).toBe(2);
      good.ws.send(sipRequest({ transport: 'WS' }));
      await waitFor(() => served.length === 1, 10_000, 'the good client to be served');
      expect(server.connections()).toHaveLength(1);
    });

    it('a half-open TCP client (half a message, then silence) is closed by the idle timer and nothing is delivered', async () => {
      const server = layerOf({ idleTimeoutMs: 300 });
      const served = answering(server);
      const listener = await server.listen({ transport: 'tcp', address: '127.0.0.1', port: 0 });
      const c = await RawClient.open('127.0.0.1', listener.port);
      cleanups.push(() => c.close());
      const whole = sipRequest({ transport: 'TCP', body: 'x'.repeat(100) });
      await c.write(whole.slice(0, whole.length - 40));
      await waitFor(() => c.closed, 10_000, 'the idle half-open connection to close');
      expect(served).toHaveLength(0);
      expect(server.connections()).toHaveLength(0);
    });

    it('a TCP client that half-closes (FIN) mid-message is forgotten; its partial message is not delivered', async () => {
      const server = layerOf();
      const served = answering(server);
      const listener = await server.listen({ transport: 'tcp', address: '127.0.0.1', port: 0 });
      const c = await RawClient.open('127.0.0.1', listener.port);
      cleanups.push(() => c.close());
      await waitFor(() => server.connections().length === 1);
      const whole = sipRequest({ transport: 'TCP', body: 'y'.repeat(50) });
      await c.write(whole.slice(0, 60));
      c.socket.end();
      await waitFor(
        () => server.connections().length === 0,
        10_000,
        'the connection to be forgotten',
      );
      expect(served).toHaveLength(0);
    });
  });
});
