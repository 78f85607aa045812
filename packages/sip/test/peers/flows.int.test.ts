/**
 * sipp follows the RFC 3262 (PRACK), RFC 3311 (UPDATE) and RFC 4028 (session-timer refresh)
 * call flows straight at the user-agent core (flows.ts; the same scenarios run through the TFX
 * proxy in packages/server/test/sip/ua-flows.int.test.ts). sipp exits 0 only when every
 * message matched, including the header checks (RSeq, Require, Session-Expires, the answer).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, runSipp, until, type Peer } from './harness.js';
import { flowFile, flowUserAgent, type Flow } from './flows.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('sipp call flows straight at the user-agent core', () => {
  it.each(['prack', 'update', 'timer'] as const)('%s flow: sipp exits 0', async (flow: Flow) => {
    const { ua, handler } = flowUserAgent(flow);
    cleanup.push(() => ua.close());
    const [l] = await ua.start([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
    const port = await freePort();
    const peer: Peer = runSipp([
      `127.0.0.1:${l!.port}`,
      '-sf',
      flowFile(flow, { auth: false }),
      '-i',
      '127.0.0.1',
      '-p',
      String(port),
      '-s',
      'bob',
      '-key',
      'domain',
      `127.0.0.1:${l!.port}`,
      '-key',
      'caller',
      'alice',
    ]);
    cleanup.push(() => peer.stop());
    expect(await peer.exit, peer.output()).toBe(0);
    await until(() => handler.ended !== undefined, 'the BYE');
    expect(handler.ended).toBe('remote-bye');
    expect(handler.seen).toEqual(handler.expected);
  });
});
