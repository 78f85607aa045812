/**
 * The SBC's executed transfer in the cases sipp scripts poorly, with user agents of our own stack
 * on their own loopback addresses (transferor phone 127.0.0.21 in the public zone, transferee
 * trunk 127.0.0.11 and target PBX 127.0.0.12 in the core): the transferor hanging up right after
 * the 202, a target that is busy, and both at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createBuiltinEngine, type MediaEngine } from '@tfx/media';
import { UserAgentCore, type DialogSession, type ServerInvite } from '@tfx/sip';
import { Sbc } from '../src/index.js';
import { CORE, PBX, PHONE, PUBLIC, TRUNK, zone } from './harness.js';

const SDP = (address: string, port: number): string =>
  `v=0\r\no=ua 1 1 IN IP4 ${address}\r\ns=-\r\nc=IN IP4 ${address}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;

function waitFor<T>(fn: () => T | undefined | false, what: string, ms = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      const v = fn();
      if (v !== undefined && v !== false) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

interface Ua {
  readonly ua: UserAgentCore;
  readonly port: number;
  readonly invites: ServerInvite[];
  /** Reinvites this UA answered, by its SDP offer. */
  readonly reinvites: string[];
  answer: (inv: ServerInvite) => void;
}

async function ua(address: string): Promise<Ua> {
  const h: { self?: Ua } = {};
  const core = new UserAgentCore({
    user: 'ua',
    timers: { T1: 200, T2: 1600 },
    onInvite: (inv) => {
      h.self!.invites.push(inv);
      h.self!.answer(inv);
    },
  });
  const [l] = await core.start([{ transport: 'udp', address, port: 0 }]);
  const self: Ua = {
    ua: core,
    port: l!.port,
    invites: [],
    reinvites: [],
    answer: (inv) => {
      const s = inv.accept({ body: SDP(address, 30_000), contentType: 'application/sdp' });
      s.events = {
        ...s.events,
        onReinvite: (re) => {
          self.reinvites.push(new TextDecoder().decode(re.request.body));
          re.accept({ body: SDP(address, 30_000), contentType: 'application/sdp' });
        },
      };
    },
  };
  h.self = self;
  return self;
}

describe('an executed transfer when a party leaves or the target fails', () => {
  const open: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of open.splice(0).reverse()) await c();
  });

  async function rig(): Promise<{
    sbc: Sbc;
    engine: MediaEngine;
    phone: Ua;
    trunk: Ua;
    pbx: Ua;
    call(): Promise<{ a: DialogSession; b: DialogSession }>;
  }> {
    const base = 40000 + 2 * Math.floor(Math.random() * 5000);
    const engine = await createBuiltinEngine({
      portMin: base,
      portMax: base + 99,
      workers: 1,
      mediaTimeoutMs: 0,
    });
    open.push(() => engine.close());
    const [phone, trunk, pbx] = await Promise.all([ua(PHONE), ua(TRUNK), ua(PBX)]);
    for (const u of [phone, trunk, pbx]) open.push(() => u.ua.close());
    const sbc = new Sbc({
      zones: [{ ...zone('public', PUBLIC), refer: 'execute' }, zone('core', CORE)],
      trunks: [
        { name: 'trunk', zone: 'core', uri: `sip:${TRUNK}:${trunk.port}` },
        { name: 'pbx', zone: 'core', uri: `sip:${PBX}:${pbx.port}` },
      ],
      routes: [
        { match: { zone: 'public', user: '^target$' }, to: ['pbx'] },
        { match: { zone: 'public' }, to: ['trunk'] },
      ],
      engine,
      timers: { T1: 200, T2: 1600 },
    });
    const listeners = await sbc.start();
    open.push(() => sbc.close());
    const port = listeners.find((l) => l.address === PUBLIC && l.transport === 'udp')!.port;
    return {
      sbc,
      engine,
      phone,
      trunk,
      pbx,
      async call() {
        let a: DialogSession | undefined;
        phone.ua.call(
          {
            uri: `sip:4420001@${PUBLIC}:${port}`,
            body: SDP(PHONE, 31_000),
            contentType: 'application/sdp',
          },
          { onAccepted: (s) => (a = s) },
        );
        const sa = await waitFor(() => a, 'the call answered');
        const sb = await waitFor(() => trunk.invites[0]?.session, 'the trunk leg');
        return { a: sa, b: sb };
      },
    };
  }

  it('completes a transfer whose transferor hung up right after the 202 (RFC 5589 §6)', async () => {
    const { sbc, phone, trunk, pbx, call } = await rig();
    const { a, b } = await call();
    const ends: string[] = [];
    b.events = { ...b.events, onTerminated: (why) => ends.push(`b:${why}`) };
    phone.ua.refer(a, `<sip:target@${PUBLIC}>`, {
      onResponse: (status) => {
        if (status === 202) a.bye();
      },
    });
    await waitFor(() => sbc.counters.transfers.executed === 1, 'the transfer');
    expect(pbx.invites).toHaveLength(1);
    expect(trunk.reinvites).toHaveLength(1);
    expect(trunk.reinvites[0]).toContain(`c=IN IP4 ${CORE}`);
    expect(sbc.callCount).toBe(1);
    expect(sbc.calls()[0]!.a.zone).toBe('core'); // the target took the transferor's place
    // The transferee hangs up: the target gets the BYE, the call is over.
    const targetEnds: string[] = [];
    const c = pbx.invites[0]!.session!;
    c.events = { ...c.events, onTerminated: (why) => targetEnds.push(why) };
    b.bye();
    await waitFor(() => targetEnds[0], 'the target’s BYE');
    expect(targetEnds).toEqual(['remote-bye']);
    expect(sbc.callCount).toBe(0);
    expect(ends).toEqual(['b:bye']);
  });

  it('NOTIFYs a busy target’s 486 and keeps the call as it was (RFC 3515 §2.4.5)', async () => {
    const { sbc, phone, trunk, pbx, call } = await rig();
    pbx.answer = (inv) => inv.reject(486);
    const { a } = await call();
    const progress: Array<[number | undefined, string]> = [];
    phone.ua.refer(a, `<sip:target@${PUBLIC}>`, {
      onProgress: (status, ss) => progress.push([status, ss.state]),
    });
    await waitFor(() => sbc.counters.transfers.failed === 1, 'the failed transfer');
    await waitFor(() => progress.some(([s]) => s === 486), 'the NOTIFY of the 486');
    expect(progress.at(-1)).toEqual([486, 'terminated']);
    expect(trunk.reinvites).toEqual([]);
    expect(sbc.callCount).toBe(1);
    expect(a.state).toBe('confirmed');
    a.bye();
    await waitFor(() => sbc.callCount === 0, 'the call ended');
    expect(sbc.counters.ended['caller-bye']).toBe(1);
  });

  it('ends the call when the target fails after the transferor left (transfer-failed): the transferee gets BYE', async () => {
    const { sbc, engine, phone, pbx, call } = await rig();
    pbx.answer = (inv) => inv.reject(486);
    const { a, b } = await call();
    const ends: string[] = [];
    b.events = { ...b.events, onTerminated: (why) => ends.push(why) };
    phone.ua.refer(a, `<sip:target@${PUBLIC}>`, {
      onResponse: (status) => {
        if (status === 202) a.bye();
      },
    });
    await waitFor(() => ends[0], 'the transferee’s BYE');
    expect(ends).toEqual(['remote-bye']);
    expect(sbc.counters.ended['transfer-failed']).toBe(1);
    for (let i = 0; i < 100 && (await engine.list()).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await engine.list()).toEqual([]);
  });
});
