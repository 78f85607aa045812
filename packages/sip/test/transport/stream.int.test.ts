import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import selfsigned from 'selfsigned';
import { createResponse, parseMessage, serializeMessage } from '../../src/syntax/index.js';
import { TransportLayer, type TransportLayerOptions } from '../../src/transport/index.js';
import { RawClient, collect, sipRequest, waitFor } from './helpers.js';

const enc = new TextEncoder();

describe('TCP and TLS transports (real sockets on loopback)', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function tcpLayer(options: TransportLayerOptions = {}, address = '127.0.0.1') {
    const layer = new TransportLayer(options);
    cleanups.push(() => layer.close());
    const listener = await layer.listen({ transport: 'tcp', address, port: 0 });
    const inbound = collect(layer);
    return { layer, listener, inbound };
  }

  function answerEverything(layer: TransportLayer) {
    layer.onMessage((m) => {
      if (m.message.kind === 'request') {
        void layer.sendResponse(createResponse(m.message, 200, 'OK'), m.ctx);
      }
    });
  }

  async function client(port: number, host = '127.0.0.1') {
    const c = await RawClient.open(host, port);
    cleanups.push(() => c.close());
    return c;
  }

  it('RFC 3261 §18.3: pipelined and fragmented requests on one connection are each delivered once', async () => {
    const { listener, inbound } = await tcpLayer();
    const c = await client(listener.port);
    const a = sipRequest({ transport: 'TCP', callId: 'a' });
    const b = sipRequest({ transport: 'TCP', callId: 'b', method: 'MESSAGE', body: 'héllo' });
    const d = sipRequest({ transport: 'TCP', callId: 'd' });
    // RawClient writes latin1: send the UTF-8 bytes of each message as latin1 characters.
    await c.write(Buffer.from(a + b, 'utf8').toString('latin1')); // pipelined in one segment
    const bytes = Buffer.from(d, 'utf8').toString('latin1');
    for (const piece of [bytes.slice(0, 7), bytes.slice(7, 80), bytes.slice(80)]) {
      await c.write(piece); // fragmented
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(() => inbound.length === 3, 10_000, 'three requests');
    expect(inbound.map((m) => m.message.headers.callId())).toEqual(['a', 'b', 'd']);
    expect(new TextDecoder().decode(inbound[1]!.message.body)).toBe('héllo');
    const ctx = inbound[0]!.ctx;
    expect(ctx.transport).toBe('tcp');
    expect(ctx.connection?.id).toBe(inbound[2]!.ctx.connection?.id);
    expect(ctx.connection?.direction).toBe('inbound');
  });

  it('RFC 3261 §18.2.1: over IPv6 (::1) a TCP request is delivered with received stamped and answered on its connection', async () => {
    const { layer, listener, inbound } = await tcpLayer({}, '::1');
    expect(listener.family).toBe(6);
    layer.onMessage((m) => {
      inbound.push(m);
      if (m.message.kind === 'request')
        void layer.sendResponse(createResponse(m.message, 200, 'OK'), m.ctx);
    });
    const c = await client(listener.port, '::1');
    await c.write(sipRequest({ transport: 'TCP', sentBy: '[2001:db8::1]:5060', rport: false }));
    await waitFor(() => c.statusLines().length === 1, 10_000, 'the 200 OK');
    expect(inbound[0]?.ctx.remote.address).toBe('::1');
    expect(inbound[0]?.message.headers.via()[0]?.received).toBe('::1');
  });

  it('RFC 3261 §18.2.2: responses go back over the connection the request came on', async () => {
    const { layer, listener } = await tcpLayer();
    answerEverything(layer);
    const c = await client(listener.port);
    // The sent-by names a port nobody listens on: only the existing connection can carry the answer.
    await c.write(sipRequest({ transport: 'TCP', sentBy: '127.0.0.1:9', callId: 'x' }));
    await waitFor(() => c.statusLines().length === 1, 10_000, 'the 200 OK');
    expect(c.statusLines()).toEqual(['SIP/2.0 200 OK']);
    expect(layer.counters.sent).toBe(1);
  });

  it('RFC 5626 §3.5.1: a double-CRLF ping on a TCP connection is answered with a single CRLF pong', async () => {
    const { layer, listener } = await tcpLayer();
    const c = await client(listener.port);
    await c.write('\r\n\r\n');
    await waitFor(() => c.text === '\r\n', 10_000, 'the pong');
    expect(layer.counters.keepalives).toBe(1);
    expect(layer.counters.parseErrors).toBe(0);
  });

  it('RFC 3261 §18.3: a bad Content-Length closes that connection and only that one', async () => {
    const { layer, listener, inbound } = await tcpLayer();
    const bad = await client(listener.port);
    const good = await client(listener.port);
    await waitFor(() => layer.connections().length === 2);
    await bad.write('OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nContent-Length: -7\r\n\r\n');
    await waitFor(() => bad.closed, 10_000, 'the bad connection to close');
    await good.write(sipRequest({ transport: 'TCP', callId: 'still-here' }));
    await waitFor(() => inbound.length === 1, 10_000, 'the good request');
    expect(inbound[0]?.message.headers.callId()).toBe('still-here');
    expect(good.closed).toBe(false);
    expect(layer.connections()).toHaveLength(1);
    expect(layer.counters.framingErrors).toBe(1);
  });

  it('RFC 3261 §18.3: a stream message without Content-Length closes the connection', async () => {
    const { layer, listener } = await tcpLayer();
    const c = await client(listener.port);
    await c.write('OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nCall-ID: z\r\n\r\n');
    await waitFor(() => c.closed, 10_000, 'the connection to close');
    expect(layer.counters.framingErrors).toBe(1);
  });

  it('a connection idle for longer than idleTimeoutMs is closed, and activity keeps one open', async () => {
    const { layer, listener } = await tcpLayer({ idleTimeoutMs: 400 });
    const idle = await client(listener.port);
    const busy = await client(listener.port);
    const keepBusy = setInterval(() => void busy.write('\r\n\r\n'), 100);
    cleanups.push(() => clearInterval(keepBusy));
    await waitFor(() => idle.closed, 10_000, 'the idle connection to close');
    expect(busy.closed).toBe(false);
    clearInterval(keepBusy);
    await waitFor(() => busy.closed, 10_000, 'the formerly busy connection to close');
    expect(layer.connections()).toHaveLength(0);
  });

  it('maxConnectionsPerIp refuses connections past the limit and counts them', async () => {
    const { layer, listener } = await tcpLayer({ maxConnectionsPerIp: 2 });
    await client(listener.port);
    await client(listener.port);
    await waitFor(() => layer.connections().length === 2);
    const third = await client(listener.port);
    await waitFor(() => third.closed, 10_000, 'the third connection to be refused');
    expect(layer.counters.refusedConnections).toBe(1);
    expect(layer.connections()).toHaveLength(2);
  });

  it('maxConnections bounds the total number of connections', async () => {
    const { layer, listener } = await tcpLayer({ maxConnections: 1 });
    await client(listener.port);
    await waitFor(() => layer.connections().length === 1);
    const second = await client(listener.port);
    await waitFor(() => second.closed, 10_000, 'the second connection to be refused');
    expect(layer.counters.refusedConnections).toBe(1);
  });

  it('outbound TCP connections are opened on demand, reused, and carry the answers back in', async () => {
    const { layer, inbound } = await tcpLayer();
    const accepted: RawClient[] = [];
    const peer: Server = createServer((s: Socket) => accepted.push(RawClient.wrap(s)));
    peer.listen(0, '::1');
    await once(peer, 'listening');
    cleanups.push(() => {
      for (const a of accepted) a.close();
      return new Promise((r) => peer.close(r));
    });
    const port = (peer.address() as { port: number }).port;
    const sentBy = layer.sentBy('tcp');
    expect(sentBy?.host).toBe('127.0.0.1');
    const request = (callId: string) => {
      const parsed = parseMessage(
        enc.encode(
          sipRequest({
            transport: 'TCP',
            sentBy: `${sentBy?.host}:${sentBy?.port}`,
            callId,
            rport: false,
          }),
        ),
      );
      if (!parsed.ok) throw new Error('fixture does not parse');
      return parsed.message;
    };
    const first = await layer.send(request('one'), { transport: 'tcp', address: '::1', port });
    const second = await layer.send(request('two'), { transport: 'tcp', address: '::1', port });
    expect(second.flow).toBe(first.flow);
    await waitFor(
      () => (accepted[0]?.text.match(/^OPTIONS /gm) ?? []).length === 2,
      10_000,
      'both requests',
    );
    expect(accepted).toHaveLength(1);

    // The peer answers on the same connection; the response comes in through the ingress.
    const text = accepted[0]!.text;
    const req = parseMessage(enc.encode(text.slice(0, text.indexOf('\r\n\r\n') + 4)));
    if (!req.ok || req.message.kind !== 'request') throw new Error('peer got no request');
    await accepted[0]!.write(
      Buffer.from(serializeMessage(createResponse(req.message, 200, 'OK'))).toString('latin1'),
    );
    await waitFor(() => inbound.length === 1, 10_000, 'the response');
    expect(inbound[0]?.message.kind).toBe('response');
    expect(inbound[0]?.ctx.connection?.id).toBe(first.flow);
    expect(inbound[0]?.ctx.connection?.direction).toBe('outbound');
  });

  it('RFC 5626 §5.2: a request sent with a flow token goes over the connection the token names; a forged one is refused', async () => {
    const { layer, listener, inbound } = await tcpLayer();
    const c = await client(listener.port);
    await c.write(sipRequest({ transport: 'TCP', method: 'REGISTER', callId: 'reg' }));
    await waitFor(() => inbound.length === 1);
    const token = layer.flowTokenFor(inbound[0]!.ctx);
    await layer.send(
      enc.encode(sipRequest({ method: 'MESSAGE', callId: 'to-the-ua', body: 'ping' })),
      {
        flowToken: token,
      },
    );
    await waitFor(() => c.text.includes('to-the-ua'), 10_000, 'the request on the registered flow');
    const forged = token.slice(0, -2) + (token.endsWith('AA') ? 'BB' : 'AA');
    await expect(layer.send(enc.encode('x'), { flowToken: forged })).rejects.toMatchObject({
      code: 'forbidden',
    });
    c.close();
    await waitFor(() => layer.connections().length === 0);
    await expect(layer.send(enc.encode('x'), { flowToken: token })).rejects.toMatchObject({
      code: 'sip-transport-error',
      details: { reason: 'flow-failed' },
    });
  });

  it('close() is idempotent, closes listeners and connections, and later use fails clearly', async () => {
    const { layer, listener } = await tcpLayer();
    const c = await client(listener.port);
    await waitFor(() => layer.connections().length === 1);
    await Promise.all([layer.close(), layer.close()]);
    await layer.close();
    await waitFor(() => c.closed, 10_000, 'the connection to close');
    expect(layer.connections()).toHaveLength(0);
    expect(layer.listeners()).toHaveLength(0);
    await expect(
      layer.listen({ transport: 'tcp', address: '127.0.0.1', port: 0 }),
    ).rejects.toMatchObject({
      code: 'shutting-down',
    });
    await expect(
      layer.send(enc.encode('x'), { transport: 'udp', address: '127.0.0.1', port: 9 }),
    ).rejects.toThrow(/closed/);
    await expect(RawClient.open('127.0.0.1', listener.port)).rejects.toThrow(/ECONNREFUSED/);
  });

  describe('TLS', () => {
    it('RFC 3261 §26.2: a TLS listener with a given certificate serves a Node tls client, answering on its connection', async () => {
      const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
        keyType: 'ec',
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
      });
      const layer = new TransportLayer();
      cleanups.push(() => layer.close());
      const listener = await layer.listen({
        transport: 'tls',
        address: '127.0.0.1',
        port: 0,
        cert: pems.cert,
        key: pems.private,
      });
      answerEverything(layer);
      const inbound: string[] = [];
      layer.onMessage((m) => {
        inbound.push(m.ctx.transport);
        if (m.message.kind === 'request')
          void layer.sendResponse(createResponse(m.message, 200, 'OK'), m.ctx);
      });
      const socket = tlsConnect({ host: '127.0.0.1', port: listener.port, ca: pems.cert });
      cleanups.push(() => socket.destroy());
      await once(socket, 'secureConnect');
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.write(
        sipRequest({ transport: 'TLS', callId: 't1' }) +
          sipRequest({ transport: 'TLS', callId: 't2' }),
      );
      await waitFor(
        () => (text.match(/SIP\/2\.0 200 OK/g) ?? []).length === 2,
        10_000,
        'two answers',
      );
      expect(inbound).toEqual(['tls', 'tls']);

      // And outbound: the layer opens a TLS connection to another TLS listener, trusting the test CA.
      const other = new TransportLayer({ tlsClient: { ca: pems.cert } });
      cleanups.push(() => other.close());
      const sent = await other.send(enc.encode(sipRequest({ transport: 'TLS', callId: 't3' })), {
        transport: 'tls',
        address: '127.0.0.1',
        port: listener.port,
      });
      expect(sent.transport).toBe('tls');
      await waitFor(() => inbound.length === 3, 10_000, 'the outbound TLS request');
    });
  });
});
