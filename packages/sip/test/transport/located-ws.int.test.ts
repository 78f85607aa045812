/**
 * Located WebSocket targets are no longer skipped: a SipStack resolves a `transport=ws` URI by
 * RFC 3263 (SRV `_sip._ws`, RFC 7118 §5) and its request goes out over a WebSocket it opens.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipStack } from '../../src/stack/index.js';
import { createRequest, parseUri } from '../../src/syntax/index.js';
import { TransportLayer, type InboundMessage } from '../../src/transport/index.js';
import type { DnsLookup } from '../../src/locate/index.js';
import { waitFor } from './helpers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('located ws/wss targets (RFC 3263 + RFC 7118 §5)', () => {
  it('a transport=ws URI is located by SRV _sip._ws and the request goes out over a new WebSocket', async () => {
    const server = new TransportLayer();
    cleanups.push(() => server.close());
    const listener = await server.listen({
      transport: 'ws',
      address: '127.0.0.1',
      port: 0,
      path: '/',
    });
    const got: InboundMessage[] = [];
    server.onMessage((m) => got.push(m));
    const queried: string[] = [];
    const dns: DnsLookup = {
      naptr: async () => [],
      srv: async (name) => {
        queried.push(name);
        return name === '_sip._ws.ws.example'
          ? [{ name: 'edge.ws.example', port: listener.port, priority: 10, weight: 1 }]
          : [];
      },
      addresses: async (name) => (name === 'edge.ws.example' ? ['127.0.0.1'] : []),
    };
    const stack = new SipStack({ tu: { onRequest: () => {} }, dns });
    cleanups.push(() => stack.close());
    await stack.start([{ transport: 'ws', address: '127.0.0.1', port: 0 }]);
    const uri = parseUri('sip:svc@ws.example;transport=ws');
    if (!uri.ok || uri.value.kind !== 'sip') throw new Error('bad uri');
    const hops = await stack.locate(uri.value);
    expect(queried).toContain('_sip._ws.ws.example');
    expect(hops).toEqual([
      { transport: 'ws', remote: { address: '127.0.0.1', port: listener.port } },
    ]);
    const sentBy = stack.sentBy('ws')!;
    const request = createRequest({
      method: 'OPTIONS',
      uri: 'sip:svc@ws.example;transport=ws',
      from: '<sip:a@example.com>;tag=1',
      to: '<sip:svc@ws.example>',
      via: { transport: 'WS', host: sentBy.host, port: sentBy.port },
    });
    const sent = await stack.forward(request, hops[0]!);
    expect(sent.transport).toBe('ws');
    await waitFor(() => got.length === 1, 10_000, 'the OPTIONS over the WebSocket');
    expect(got[0]?.ctx.transport).toBe('ws');
    expect(stack.transport!.connections()[0]?.direction).toBe('outbound');
  });
});
