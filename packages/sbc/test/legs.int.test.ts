/**
 * What happens on one leg and what reaches the other, with user agents of our own SIP stack on
 * their own loopback addresses (a phone at 127.0.0.21 in the public zone, a trunk at 127.0.0.11 in
 * the core): OPTIONS in a dialog answered by the SBC; a failed leg ending the other (a 481 to an
 * in-dialog request, a 408 when the far side is gone, a transport error on TCP, a media timeout
 * from the engine); RFC 4028 session timers per leg on an injected clock (refresh at half the
 * interval on the SBC's leg, a phone's refresh keeping only its own leg alive, expiry ending both).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import type { MediaEngine } from '@tfx/media';
import { createBuiltinEngine } from '@tfx/media';
import {
  ManualClock,
  UserAgentCore,
  type DialogSession,
  type ServerInvite,
  type SipRequest,
  type SipResponse,
} from '@tfx/sip';
import { Sbc, type ZoneSpec } from '../src/index.js';
import { CORE, PHONE, PUBLIC, TRUNK, zone } from './harness.js';

const SDP = (address: string, port: number): string =>
  [
    'v=0',
    `o=ua 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');

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

/** The engine deletes a call's media session shortly after the call ends. */
async function noMedia(engine: MediaEngine): Promise<void> {
  for (let i = 0; i < 100 && (await engine.list()).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(await engine.list()).toEqual([]);
}

interface Ua {
  readonly ua: UserAgentCore;
  readonly port: number;
  readonly invites: ServerInvite[];
}

async function ua(address: string, transport: 'udp' | 'tcp' = 'udp'): Promise<Ua> {
  const invites: ServerInvite[] = [];
  const core = new UserAgentCore({
    user: 'ua',
    via: transport,
    timers: { T1: 200, T2: 1600 },
    onInvite: (inv) => {
      invites.push(inv);
      inv.accept({ body: SDP(address, 30_000), contentType: 'application/sdp' });
    },
  });
  const [l] = await core.start([{ transport, address, port: 0 }]);
  return { ua: core, port: l!.port, invites };
}

describe('one leg and the other: OPTIONS, failures, session timers', () => {
  const open: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of open.splice(0).reverse()) await c();
  });

  async function rig(
    o: {
      transport?: 'udp' | 'tcp';
      engine?: MediaEngine;
      clock?: ManualClock;
      zones?: ZoneSpec[];
    } = {},
  ): Promise<{ sbc: Sbc; engine: MediaEngine; phone: Ua; trunk: Ua; dial(): Promise<Call> }> {
    const base = 40000 + 2 * Math.floor(Math.random() * 5000);
    const engine =
      o.engine ??
      (await createBuiltinEngine({
        portMin: base,
        portMax: base + 99,
        workers: 1,
        mediaTimeoutMs: 0,
      }));
    if (!o.engine) open.push(() => engine.close());
    const phone = await ua(PHONE);
    open.push(() => phone.ua.close());
    const t = o.transport ?? 'udp';
    const trunk = await ua(TRUNK, t);
    open.push(() => trunk.ua.close());
    const sbc = new Sbc({
      zones: o.zones ?? [zone('public', PUBLIC), zone('core', CORE)],
      trunks: [
        {
          name: 'trunk',
          zone: 'core',
          uri: `sip:${TRUNK}:${trunk.port}${t === 'tcp' ? ';transport=tcp' : ''}`,
        },
      ],
      routes: [{ match: { zone: 'public' }, to: ['trunk'] }],
      engine,
      timers: { T1: 200, T2: 1600 },
      ...(o.clock && { clock: o.clock }),
    });
    const listeners = await sbc.start();
    open.push(() => sbc.close());
    const port = listeners.find((l) => l.address === PUBLIC && l.transport === 'udp')!.port;
    return {
      sbc,
      engine,
      phone,
      trunk,
      async dial() {
        const c: Call = { ends: [] };
        phone.ua.call(
          {
            uri: `sip:4420001@${PUBLIC}:${port}`,
            body: SDP(PHONE, 31_000),
            contentType: 'application/sdp',
          },
          { onAccepted: (s) => (c.a = s) },
        );
        const a = await waitFor(() => c.a, 'the call answered');
        const b = await waitFor(() => trunk.invites[0]?.session, 'the trunk leg');
        c.b = b;
        a.events = { ...a.events, onTerminated: (why) => c.ends.push(`a:${why}`) };
        b.events = { ...b.events, onTerminated: (why) => c.ends.push(`b:${why}`) };
        return c;
      },
    };
  }

  interface Call {
    a?: DialogSession;
    b?: DialogSession;
    ends: string[];
  }

  const info = (s: DialogSession): Promise<SipResponse> =>
    new Promise((res) => s.request('INFO', { body: 'x', contentType: 'text/plain' }, res));

  it('answers OPTIONS inside a dialog itself (§11.2) with Allow; the other leg sees nothing', async () => {
    const { trunk, dial, sbc } = await rig();
    const c = await dial();
    const seen: string[] = [];
    c.b!.events = {
      ...c.b!.events,
      onRequest: (r: SipRequest, respond) => (seen.push(r.method), respond(200)),
    };
    const r = await new Promise<SipResponse>((res) => c.a!.request('OPTIONS', {}, res));
    expect(r.status).toBe(200);
    const allow = r.headers.getAll('allow').join(', ');
    expect(allow).toMatch(/^INVITE, ACK, CANCEL, BYE, OPTIONS/);
    expect(allow).not.toMatch(/REFER/);
    expect(seen).toEqual([]);
    expect(trunk.invites).toHaveLength(1);
    expect(sbc.callCount).toBe(1);
    c.a!.bye();
    await waitFor(() => sbc.callCount === 0, 'the call ended');
  });

  it('lists REFER in Allow of a zone that executes transfers (OPTIONS out of dialog)', async () => {
    const { sbc } = await rig({
      zones: [{ ...zone('public', PUBLIC), refer: 'execute' }, zone('core', CORE)],
    });
    const port = sbc.zones
      .get('public')!
      .listeners()
      .find((l) => l.transport === 'udp')!.port;
    const sock = createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, PHONE, () => res()));
    const reply = await new Promise<string>((res) => {
      sock.once('message', (m) => res(m.toString('latin1')));
      sock.send(
        [
          `OPTIONS sip:${PUBLIC}:${port} SIP/2.0`,
          `Via: SIP/2.0/UDP ${PHONE}:${sock.address().port};branch=z9hG4bK-opt-${Date.now()}`,
          'Max-Forwards: 70',
          `From: <sip:probe@${PHONE}>;tag=p1`,
          `To: <sip:${PUBLIC}:${port}>`,
          `Call-ID: opt-${Date.now()}@${PHONE}`,
          'CSeq: 1 OPTIONS',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
        port,
        PUBLIC,
      );
    });
    sock.close();
    expect(reply).toMatch(/^SIP\/2\.0 200 /);
    expect(reply).toMatch(/^Allow: .*\bREFER\b/m);
    expect(reply).toMatch(/^Supported: .*\btimer\b/m);
  });

  it('ends both legs when the far side answers an in-dialog request 481 (§12.2.1.2)', async () => {
    const { trunk, dial, sbc, engine } = await rig();
    const c = await dial();
    // The trunk forgets the dialog (a restart): its layer answers 481 to the next request.
    trunk.ua.dialogs.dialogs.delete(c.b!.dialog.key);
    const r = await info(c.a!);
    expect([481, 408]).toContain(r.status);
    await waitFor(() => sbc.callCount === 0, 'the call ended');
    // The caller's leg ended: by the SBC's BYE, or by the 481 relayed to its INFO.
    expect(c.ends.some((e) => e === 'a:remote-bye' || e === 'a:failed')).toBe(true);
    expect(sbc.counters.ended['leg-failed']).toBe(1);
    await noMedia(engine);
  });

  it('ends both legs when an in-dialog request to a vanished far side times out (408, §8.1.3.1)', async () => {
    const { trunk, dial, sbc, engine } = await rig();
    const c = await dial();
    await trunk.ua.close(); // no BYE: the trunk is simply gone
    const r = await info(c.a!);
    expect(r.status).toBe(408);
    await waitFor(() => sbc.callCount === 0, 'the call ended');
    expect(sbc.counters.ended['leg-failed']).toBe(1);
    await noMedia(engine);
  }, 60_000);

  it('ends both legs on a transport error toward a TCP leg (503, §8.1.3.1)', async () => {
    const { trunk, dial, sbc, engine } = await rig({ transport: 'tcp' });
    const c = await dial();
    await trunk.ua.close(); // its listener and connections close: the next request cannot go
    const r = await info(c.a!);
    expect([503, 408]).toContain(r.status);
    await waitFor(() => sbc.callCount === 0, 'the call ended');
    expect(c.ends.some((e) => e.startsWith('a:'))).toBe(true);
    expect(sbc.counters.ended['leg-failed']).toBe(1);
    await noMedia(engine);
  }, 60_000);

  it('ends both legs with BYE on a media timeout from the engine', async () => {
    const base = 40000 + 2 * Math.floor(Math.random() * 5000);
    const engine = await createBuiltinEngine({
      portMin: base,
      portMax: base + 99,
      workers: 1,
      mediaTimeoutMs: 1500,
    });
    open.push(() => engine.close());
    const { dial, sbc } = await rig({ engine });
    const c = await dial(); // no RTP flows
    await waitFor(() => (c.ends.length === 2 ? true : undefined), 'both legs ended');
    expect(c.ends.sort()).toEqual(['a:remote-bye', 'b:remote-bye']);
    expect(sbc.counters.ended['media-timeout']).toBe(1);
    await noMedia(engine);
  });

  it('runs each leg’s session timer on the SBC’s clock (RFC 4028 §10): refreshes its own leg at half the interval, keeps a leg a refresh reached, ends both when one expires', async () => {
    const clock = new ManualClock(Date.now());
    const { dial, sbc } = await rig({ clock });
    const c = await dial();
    // The phone asked 1800 s and refreshes its leg (§9: it supports timer, so refresher=uac);
    // the trunk's leg has the core zone's 1800 s and the trunk picked uac: the SBC refreshes.
    const updates: number[] = [];
    c.b!.events = {
      ...c.b!.events,
      onRequest: (r, respond) => {
        if (r.method === 'UPDATE') updates.push(clock.now());
        respond(200);
      },
    };
    const t0 = clock.now();
    const settle = (): Promise<unknown> => new Promise((res) => setTimeout(res, 300));
    // The phone refreshes its own leg at 850 s (an UPDATE without a body): answered by the SBC
    // with the phone's interval, nothing crosses.
    clock.advance(850_000);
    const r = await new Promise<SipResponse>((res) => c.a!.update({}, res));
    expect(r.status).toBe(200);
    expect(r.headers.get('session-expires')).toBe('1800;refresher=uac');
    expect(updates).toEqual([]);
    // The SBC refreshes the trunk's leg at half its interval: 900 s, 1800 s (each answered
    // before the clock moves on, so no transaction timer outruns the real network).
    clock.advance(50_000);
    await waitFor(() => updates.length === 1, 'the SBC refreshed the trunk’s leg');
    expect(updates[0]! - t0).toBe(900_000);
    await settle();
    clock.advance(900_000);
    await waitFor(() => updates.length === 2, 'the second refresh');
    await settle();
    // The phone's first interval would have expired at 1768 s: its refresh keeps it to 2618 s.
    clock.advance(817_000);
    await settle();
    expect(sbc.callCount).toBe(1);
    expect(c.ends).toEqual([]);
    // The phone never refreshes again: at 850 + 1800 − 32 s its leg expires and both end.
    clock.advance(2_000);
    await waitFor(() => (c.ends.length === 2 ? true : undefined), 'both legs ended');
    expect(c.ends.sort()).toEqual(['a:remote-bye', 'b:remote-bye']);
    expect(sbc.counters.ended['session-expired']).toBe(1);
  });
});
