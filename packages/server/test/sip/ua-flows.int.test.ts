/**
 * The RFC 3262 (PRACK), RFC 3311 (UPDATE) and RFC 4028 (session-timer refresh) call flows
 * through the TFX proxy, against the user-agent core: the UA core registers as bob (its Contact
 * bound by a digest REGISTER), sipp calls bob@tfx.test as alice (407, digest), and every
 * in-dialog request (PRACK, ACK, UPDATE, BYE) follows the proxy's Record-Route. The scenarios
 * are the ones that run straight at the UA core (packages/sip/test/peers/flows.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DOMAIN,
  PASSWORDS,
  keys,
  register,
  sipp,
  type SipTestServer,
  startSipServer,
} from './harness.js';
import { flowFile, flowUserAgent, type Flow } from '../../../sip/test/peers/flows.js';

let server: SipTestServer;
beforeAll(async () => {
  server = await startSipServer();
});
afterAll(async () => {
  await server?.close();
});

describe('call flows through the TFX proxy to the user-agent core', () => {
  it.each(['prack', 'update', 'timer'] as const)(
    '%s flow: sipp (alice) → TFX proxy → UA core (bob) completes, in-dialog requests Record-Routed',
    async (flow: Flow) => {
      const { ua, handler } = flowUserAgent(flow);
      try {
        const [l] = await ua.start([{ transport: 'udp', address: '127.0.0.1', port: 0 }]);
        const reg = await register(server, 'bob', l!.port);
        expect(reg.successful, reg.output).toBe(1);
        const r = await sipp([
          `127.0.0.1:${server.port}`,
          '-sf',
          flowFile(flow, { auth: true }),
          '-i',
          '127.0.0.1',
          '-t',
          'u1',
          '-s',
          'bob',
          '-au',
          'alice',
          '-ap',
          PASSWORDS.alice!,
          ...keys({ domain: DOMAIN, caller: 'alice' }),
          '-m',
          '1',
        ]);
        expect(r.successful, r.output).toBe(1);
        expect(r.failed).toBe(0);
        const start = Date.now();
        while (handler.ended === undefined && Date.now() - start < 20_000) {
          await new Promise((res) => setTimeout(res, 20));
        }
        expect(handler.ended).toBe('remote-bye');
        expect(handler.seen).toEqual(handler.expected);
        // The proxy Record-Routed the dialog: the UA core's in-dialog requests came from it.
        const fromProxy = ua.stack.transport!.counters.delivered;
        expect(fromProxy).toBeGreaterThanOrEqual(handler.expected.length + 2);
      } finally {
        await ua.close();
      }
    },
  );
});
