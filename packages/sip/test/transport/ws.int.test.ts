import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer as createHttpsServer } from 'node:https';
import { get as httpsGet } from 'node:https';
import selfsigned from 'selfsigned';
import { WebSocket } from 'ws';
import { Registerer, RegistererState, UserAgent, type Message } from 'sip.js';
import { createResponse, type SipRequest } from '../../src/syntax/index.js';
import {
  TransportLayer,
  type InboundMessage,
  type TransportLayerOptions,
} from '../../src/transport/index.js';
import { waitFor } from './helpers.js';

const enc = new TextEncoder();

interface Pems {
  cert: string;
  private: string;
}

describe('WebSocket transports, RFC 7118 (real sockets on loopback)', () => {
  let pems: Pems;
  const cleanups: Array<() => unknown> = [];
  const globals = globalThis as { WebSocket?: unknown };
  const savedWebSocket = globals.WebSocket;

  beforeAll(async () => {
    pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    // Node 20 has no global WebSocket: SIP.js gets the `ws` package's, trusting the test certificate.
    const ca = pems.cert;
    globals.WebSocket = class TestWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { ca });
      }
    };
  });
  afterAll(() => {
    globals.WebSocket = savedWebSocket;
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A registrar stand-in: answers REGISTER 200 with the Contact, records everything delivered. */
  function serve(layer: TransportLayer): InboundMessage[] {
    const inbound: InboundMessage[] = [];
    layer.onMessage((m) => {
      inbound.push(m);
      if (m.message.kind !== 'request') return;
      const headers: Array<[string, string]> =
        m.message.method === 'REGISTER'
          ? [['Contact', `${m.message.headers.get('contact')};expires=600`]]
          : [];
      void layer.sendResponse(createResponse(m.message, 200, 'OK', { headers }), m.ctx);
    });
    return inbound;
  }

  async function sipJsClient(url: string) {
    const messages: string[] = [];
    const ua = new UserAgent({
      uri: UserAgent.makeURI('sip:alice@example.com'),
      transportOptions: { server: url, traceSip: false },
      logBuiltinEnabled: false,
      delegate: {
        onMessage: (m: Message) => {
          messages.push(m.request.body);
          void m.accept(); // SIP.js answers 200 only when told to
        },
      },
    });
    cleanups.push(() => ua.stop());
    await ua.start();
    const registerer = new Registerer(ua, { expires: 600 });
    return { ua, registerer, messages };
  }

  /** Sends a MESSAGE to the registered UA over the flow its REGISTER came on. */
  async function messageTo(
    layer: TransportLayer,
    register: InboundMessage,
    transport: 'ws' | 'wss',
    text: string,
  ) {
    const contact = (register.message as SipRequest).headers.contact()[0];
    const target = contact && !contact.star && contact.uri.kind === 'sip' ? contact.uri : undefined;
    if (!target) throw new Error('REGISTER without a Contact');
    const sentBy = layer.sentBy(transport);
    const request = [
      `MESSAGE sip:${target.user}@${target.host} SIP/2.0`,
      `Via: SIP/2.0/${transport.toUpperCase()} ${sentBy?.host}:${sentBy?.port};branch=z9hG4bK${Date.now()}`,
      'Max-Forwards: 70',
      'From: <sip:server@example.com>;tag=srv1',
      'To: <sip:alice@example.com>',
      `Call-ID: msg-${Date.now()}`,
      'CSeq: 1 MESSAGE',
      'Content-Type: text/plain',
      `Content-Length: ${enc.encode(text).length}`,
      '',
      text,
    ].join('\r\n');
    return layer.send(enc.encode(request), { flowToken: layer.flowTokenFor(register.ctx) });
  }

  it.each(['ws', 'wss'] as const)(
    'RFC 7118 §5: a SIP.js user agent over %s registers through the ingress and gets requests and responses on its own connection',
    async (transport) => {
      const options: TransportLayerOptions = {};
      const layer = new TransportLayer(options);
      cleanups.push(() => layer.close());
      const listener =
        transport === 'wss'
          ? await layer.listen({
              transport,
              address: '127.0.0.1',
              port: 0,
              cert: pems.cert,
              key: pems.private,
            })
          : await layer.listen({ transport, address: '127.0.0.1', port: 0 });
      expect(listener.path).toBe('/sip');
      const inbound = serve(layer);

      const { registerer, messages } = await sipJsClient(
        `${transport}://127.0.0.1:${listener.port}/sip`,
      );
      await registerer.register();
      await waitFor(
        () => registerer.state === RegistererState.Registered,
        10_000,
        'SIP.js to register',
      );

      const register = inbound.find(
        (m) => m.message.kind === 'request' && m.message.method === 'REGISTER',
      );
      expect(register?.ctx.transport).toBe(transport);
      expect(register?.ctx.connection?.transport).toBe(transport);
      // RFC 7118 §5.2: the Via of a SIP-over-WebSocket client names the WS/WSS transport.
      expect(register?.message.headers.via()[0]?.transport).toBe(transport.toUpperCase());
      expect(register?.message.headers.via()[0]?.received).toBe('127.0.0.1');

      // A request to the UA goes over its WebSocket (connection reuse via the flow token).
      const sent = await messageTo(layer, register!, transport, 'hello over the flow');
      expect(sent.flow).toBe(register?.ctx.connection?.id);
      await waitFor(() => messages.length === 1, 10_000, 'SIP.js to receive the MESSAGE');
      expect(messages[0]).toBe('hello over the flow');
      // Its 200 comes back through the ingress: our Via, same connection.
      await waitFor(
        () => inbound.some((m) => m.message.kind === 'response'),
        10_000,
        'the 200 to MESSAGE',
      );
      const answer = inbound.find((m) => m.message.kind === 'response')!;
      expect(answer.ctx.connection?.id).toBe(register?.ctx.connection?.id);
      expect(layer.connections()).toHaveLength(1);
    },
  );

  it('RFC 7118 §4.1: the WebSocket endpoint attaches to an existing HTTPS server at /sip, leaving other paths to it', async () => {
    const https = createHttpsServer({ cert: pems.cert, key: pems.private }, (_req, res) =>
      res.end('platform page'),
    );
    https.listen(0, '127.0.0.1');
    await once(https, 'listening');
    cleanups.push(() => {
      https.closeAllConnections();
      return new Promise((r) => https.close(r));
    });
    const port = (https.address() as { port: number }).port;
    const layer = new TransportLayer();
    cleanups.push(() => layer.close());
    const listener = layer.attachWebSocket(https, { path: '/sip' });
    expect(listener).toMatchObject({ transport: 'wss', port, path: '/sip', attached: true });
    const inbound = serve(layer);

    const { ua, registerer } = await sipJsClient(`wss://127.0.0.1:${port}/sip`);
    await registerer.register();
    await waitFor(
      () => registerer.state === RegistererState.Registered,
      10_000,
      'SIP.js to register',
    );
    expect(inbound[0]?.ctx.transport).toBe('wss');

    // The platform's own pages are untouched.
    const body = await new Promise<string>((resolve, reject) => {
      httpsGet({ host: '127.0.0.1', port, path: '/', ca: pems.cert }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toBe('platform page');

    // Closing the layer closes the WebSocket connections but not the platform's server.
    await ua.stop();
    await layer.close();
    expect(layer.connections()).toHaveLength(0);
    expect(https.listening).toBe(true);
  });

  it('RFC 7118 §4.1: a handshake without the "sip" subprotocol is refused', async () => {
    const layer = new TransportLayer();
    cleanups.push(() => layer.close());
    const listener = await layer.listen({ transport: 'ws', address: '127.0.0.1', port: 0 });
    const ws = new WebSocket(`ws://127.0.0.1:${listener.port}/sip`);
    ws.on('error', () => {}); // terminating a refused handshake reports an error: expected here
    cleanups.push(() => ws.terminate());
    const [, response] = (await once(ws, 'unexpected-response')) as [
      unknown,
      { statusCode: number },
    ];
    expect(response.statusCode).toBe(400);
    expect(layer.connections()).toHaveLength(0);
  });

  async function rawWs(port: number) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/sip`, 'sip');
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    expect(ws.protocol).toBe('sip');
    const frames: string[] = [];
    let closed = false;
    ws.on('message', (d: Buffer) => frames.push(d.toString()));
    ws.on('close', () => (closed = true));
    return { ws, frames, isClosed: () => closed };
  }

  it('RFC 5626 §3.5.1: a CRLF ping in a WebSocket frame is answered with a CRLF pong', async () => {
    const layer = new TransportLayer();
    cleanups.push(() => layer.close());
    const listener = await layer.listen({ transport: 'ws', address: '127.0.0.1', port: 0 });
    const { ws, frames } = await rawWs(listener.port);
    ws.send('\r\n\r\n');
    await waitFor(() => frames.length === 1, 10_000, 'the pong');
    expect(frames[0]).toBe('\r\n');
    expect(layer.counters.keepalives).toBe(1);
  });

  it('an idle WebSocket connection is closed after idleTimeoutMs', async () => {
    const layer = new TransportLayer({ idleTimeoutMs: 300, wsPingIntervalMs: 0 });
    cleanups.push(() => layer.close());
    const listener = await layer.listen({ transport: 'ws', address: '127.0.0.1', port: 0 });
    const { isClosed } = await rawWs(listener.port);
    await waitFor(() => layer.connections().length === 1);
    await waitFor(isClosed, 10_000, 'the idle WebSocket to close');
    expect(layer.connections()).toHaveLength(0);
  });

  it('a WebSocket peer that stops answering pings is closed', async () => {
    const layer = new TransportLayer({ idleTimeoutMs: 0, wsPingIntervalMs: 150 });
    cleanups.push(() => layer.close());
    const listener = await layer.listen({ transport: 'ws', address: '127.0.0.1', port: 0 });
    const { ws } = await rawWs(listener.port);
    await waitFor(() => layer.connections().length === 1);
    // Let a few ping rounds pass while the peer still answers: it stays.
    await new Promise((r) => setTimeout(r, 500));
    expect(layer.connections()).toHaveLength(1);
    // Freeze the peer: its pongs stop.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await waitFor(() => layer.connections().length === 0, 10_000, 'the silent peer to be dropped');
  });

  it('a WebSocket frame larger than maxMessageBytes closes that connection', async () => {
    const layer = new TransportLayer({ maxMessageBytes: 2000 });
    cleanups.push(() => layer.close());
    const listener = await layer.listen({ transport: 'ws', address: '127.0.0.1', port: 0 });
    const { ws, isClosed } = await rawWs(listener.port);
    ws.send('x'.repeat(5000));
    await waitFor(isClosed, 10_000, 'the connection to close');
    expect(layer.connections()).toHaveLength(0);
  });
});
