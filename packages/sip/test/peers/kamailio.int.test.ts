/**
 * Against Debian's Kamailio (the reference SIP server), started from a config of ours
 * (kamailio.ts): the UA core's REGISTER client registers with digest over UDP, TCP and WS (a
 * WebSocket it opens), an outbound WebSocket flow of ours to its `websocket` module (RFC 7118), our
 * transport's client CRLF keep-alives (RFC 5626 §4.4.1) are answered by a
 * server no one here wrote, and the config itself is proven to challenge and accept digest
 * REGISTERs (with sipsak, a third party client) so the registration test of the UA core stands
 * on a known-good registrar.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/time/index.js';
import {
  UserAgentCore,
  type RegistrationInfo,
  type RegistrationState,
} from '../../src/ua/index.js';
import { TransportLayer, type InboundMessage } from '../../src/transport/index.js';
import type { StreamConnection } from '../../src/transport/connection.js';
import { freePort, until } from './harness.js';
import { startKamailio } from './kamailio.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function kamailio(ws = false) {
  const k = await startKamailio({
    port: await freePort(),
    ...(ws && { wsPort: await freePort('tcp') }),
    user: 'alice',
    password: 'alice-pw-1',
  });
  cleanup.push(() => k.stop());
  return k;
}

function options(sentBy: { host: string; port: number }, transport: string, to: string): string {
  return [
    `OPTIONS ${to} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${sentBy.host}:${sentBy.port};branch=z9hG4bK-k-${Math.random().toString(36).slice(2)};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@${sentBy.host}>;tag=k1`,
    `To: <${to}>`,
    `Call-ID: k-${Math.random().toString(36).slice(2)}@127.0.0.1`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('against Kamailio', () => {
  it.each(['udp', 'tcp', 'ws'] as const)(
    'the UA core registers with digest to Kamailio over %s (401, credentials, 200), is refused with a wrong password, and unregisters',
    async (transport) => {
      // Over WS the UA core opens the WebSocket itself (an outbound flow to Kamailio's module).
      const k = await kamailio(transport === 'ws');
      const ua = new UserAgentCore({ user: 'alice', via: transport });
      cleanup.push(() => ua.close());
      await ua.start([{ transport, address: '127.0.0.1', port: 0 }]);
      const t = transport === 'udp' ? '' : `;transport=${transport}`;
      const port = transport === 'ws' ? k.wsPort! : k.port;
      const register = (password: string) => {
        const states: Array<[RegistrationState, RegistrationInfo]> = [];
        const reg = ua.register({
          registrar: `sip:127.0.0.1:${port}${t}`,
          aor: `sip:alice@${k.realm}`,
          username: 'alice',
          password,
          expires: 60,
          onStateChange: (s, info) => states.push([s, info]),
        });
        reg.register();
        return { reg, states };
      };
      const good = register('alice-pw-1');
      await until(
        () => good.states.some(([s]) => s === 'registered' || s === 'failed'),
        'the registration',
      );
      expect(good.reg.state, JSON.stringify(good.states) + k.peer.output()).toBe('registered');
      // Kamailio saved our binding (its log line, from our config's xlog after save()).
      await until(
        () => /REGISTERED alice contact <sip:alice@127\.0\.0\.1:\d+/.test(k.peer.output()),
        'the binding',
      );
      expect(good.reg.counters.challenges).toBeGreaterThanOrEqual(1);
      const flows = ua.stack.transport!.connections();
      if (transport !== 'udp') {
        expect(flows.map((c) => [c.transport, c.direction])).toContainEqual([
          transport,
          'outbound',
        ]);
      }

      const bad = register('not-the-password');
      await until(() => bad.states.some(([s]) => s === 'failed'), 'the refusal');
      expect(bad.states.find(([s]) => s === 'failed')?.[1].reason).toBe('auth');

      good.reg.unregister();
      await until(() => good.reg.state === 'unregistered', 'the unregistration');
      await until(
        () => /REGISTERED alice contact .* expires 0/.test(k.peer.output()),
        'Expires: 0 at Kamailio',
      );
    },
  );

  it('RFC 7118 §4.1: an outbound WebSocket flow to Kamailio (websocket module) carries our request and its answer back', async () => {
    const k = await kamailio(true);
    const layer = new TransportLayer({ isOurVia: () => true });
    cleanup.push(() => layer.close());
    await layer.listen({ transport: 'ws', address: '127.0.0.1', port: 0 });
    const inbound: InboundMessage[] = [];
    layer.onMessage((m) => inbound.push(m));
    const to = `sip:127.0.0.1:${k.wsPort};transport=ws`;
    const r = await layer.send(new TextEncoder().encode(options(layer.sentBy('ws')!, 'WS', to)), {
      transport: 'ws',
      address: '127.0.0.1',
      port: k.wsPort!,
    });
    expect(r.transport).toBe('ws');
    await until(() => inbound.length === 1, "Kamailio's answer over the WebSocket");
    const answer = inbound[0]!;
    expect(answer.message.kind === 'response' && answer.message.status).toBe(405);
    expect(answer.ctx.connection?.id).toBe(r.flow);
    expect(answer.ctx.connection?.direction).toBe('outbound');
    // The flow is reused for the next request.
    const again = await layer.send(
      new TextEncoder().encode(options(layer.sentBy('ws')!, 'WS', to)),
      {
        transport: 'ws',
        address: '127.0.0.1',
        port: k.wsPort!,
      },
    );
    expect(again.flow).toBe(r.flow);
    await until(() => inbound.length === 2, 'the second answer');
  });

  it('RFC 5626 §4.4.1: Kamailio answers our client double-CRLF pings on a TCP flow we opened with CRLF pongs, and the flow stays up', async () => {
    const k = await kamailio();
    const clock = new ManualClock();
    const layer = new TransportLayer({ clock, keepAliveIntervalMs: 30_000, isOurVia: () => true });
    cleanup.push(() => layer.close());
    await layer.listen({ transport: 'tcp', address: '127.0.0.1', port: 0 });
    const inbound: InboundMessage[] = [];
    layer.onMessage((m) => inbound.push(m));
    const sentBy = layer.sentBy('tcp')!;
    const options = [
      `OPTIONS sip:127.0.0.1:${k.port};transport=tcp SIP/2.0`,
      `Via: SIP/2.0/TCP ${sentBy.host}:${sentBy.port};branch=z9hG4bK-ka-${Date.now()};rport`,
      'Max-Forwards: 70',
      `From: <sip:probe@${sentBy.host}>;tag=ka1`,
      `To: <sip:127.0.0.1:${k.port}>`,
      `Call-ID: ka-${Date.now()}@127.0.0.1`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const r = await layer.send(new TextEncoder().encode(options), {
      transport: 'tcp',
      address: '127.0.0.1',
      port: k.port,
    });
    await until(() => inbound.length === 1, "Kamailio's 405");
    expect(inbound[0]?.message.kind === 'response' && inbound[0].message.status).toBe(405);
    const connection = layer.connection(r.flow!) as StreamConnection;
    for (let round = 1; round <= 2; round++) {
      for (let i = 0; i < 60_000 && connection.keepAliveState?.state !== 'awaiting-pong'; i++) {
        clock.advance(1);
      }
      expect(connection.keepAliveState?.state).toBe('awaiting-pong');
      await until(() => connection.keepAliveState?.pongs === round, `Kamailio's pong ${round}`);
      clock.advance(10_000);
      expect(connection.closed).toBe(false);
    }
    expect(layer.counters.keepalives).toBe(2);
  });

  it('our Kamailio config challenges a REGISTER (401, digest) and accepts the right password only (checked with sipsak)', async () => {
    const k = await kamailio();
    const run = (password: string) =>
      spawnSync(
        'sipsak',
        [
          '-U',
          '-s',
          `sip:alice@127.0.0.1:${k.port}`,
          '-a',
          password,
          '-C',
          'sip:alice@127.0.0.1:5999',
          '-i',
          '-vv',
        ],
        { encoding: 'utf8', timeout: 20_000 },
      );
    const good = run('alice-pw-1');
    expect(good.status, good.stdout + good.stderr).toBe(0);
    await until(() => /REGISTERED alice/.test(k.peer.output()), 'the binding to be saved');
    const bad = run('wrong-password');
    expect(bad.status).not.toBe(0);
  });
});
