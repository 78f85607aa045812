/**
 * B2BUA behaviour with user agents of our own SIP stack (UserAgentCore over real UDP on loopback,
 * each on its own address): BYE from either side, failures relayed and failover, routing and
 * limits, the late offer (RFC 3264 §5), OPTIONS answered locally, re-INVITE and UPDATE both ways (hold, resume), INFO relayed,
 * and close() ending live calls on both legs. The sipp tests prove the same
 * paths against an independent SIP implementation; these check the SBC's decisions in detail.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import type { MediaEngine } from '@tfx/media';
import {
  UserAgentCore,
  type ClientInvite,
  type DialogSession,
  type ServerInvite,
  type SipRequest,
  type SipResponse,
} from '@tfx/sip';
import type { ZoneSpec } from '../src/index.js';
import { CORE, PHONE, PUBLIC, TRUNK, builtinEngine, startSbc, zone, type Rig } from './harness.js';

const SDP = (address: string, port: number, dir = 'sendrecv'): string =>
  [
    'v=0',
    `o=ua 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    `a=${dir}`,
    '',
  ].join('\r\n');

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function waitFor<T>(fn: () => T | undefined, what: string, ms = 20_000): Promise<T> {
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
  /** What the UA does with a new INVITE (default: ring, then answer with SDP). */
  onInvite: (inv: ServerInvite) => void;
}

async function ua(address: string): Promise<Ua> {
  const h: { self?: Ua } = {};
  const core = new UserAgentCore({
    user: 'ua',
    timers: { T1: 200, T2: 1600 },
    onInvite: (inv) => {
      h.self?.invites.push(inv);
      h.self?.onInvite(inv);
    },
  });
  const [l] = await core.start([{ transport: 'udp', address, port: 0 }]);
  const self: Ua = {
    ua: core,
    port: l!.port,
    invites: [],
    onInvite: (inv) => {
      inv.progress(180);
      inv.accept({ body: SDP(address, 30_000), contentType: 'application/sdp' });
    },
  };
  h.self = self;
  return self;
}

interface Placed {
  readonly invite: ClientInvite;
  readonly progress: SipResponse[];
  accepted?: DialogSession;
  failed?: SipResponse | 'error';
}

function place(from: Ua, uri: string, body: string | undefined = SDP(PHONE, 31_000)): Placed {
  const p: { -readonly [K in keyof Placed]: Placed[K] } = {
    invite: undefined as unknown as ClientInvite,
    progress: [],
  };
  p.invite = from.ua.call(
    { uri, ...(body !== undefined && { body, contentType: 'application/sdp' }) },
    {
      onProgress: (r) => p.progress.push(r),
      onAccepted: (s) => (p.accepted = s),
      onFailed: (r) => (p.failed = r ?? 'error'),
    },
  );
  return p;
}

describe('SBC B2BUA decisions, with user agents on their own loopback addresses', () => {
  let engine: MediaEngine;
  const open: Array<{ close(): Promise<void> }> = [];
  beforeAll(async () => {
    engine = await builtinEngine();
  });
  afterEach(async () => {
    for (const c of open.splice(0).reverse()) await c.close();
  });
  afterAll(async () => {
    await engine?.close();
  });

  /** A phone in the public zone, a trunk UA in the core, the SBC between (public → trunk). */
  async function rig(
    extra: {
      trunks?: number;
      routeUser?: string;
      maxCalls?: number;
      normalize?: ZoneSpec['normalize'];
    } = {},
  ): Promise<{
    rig: Rig;
    phone: Ua;
    trunks: Ua[];
    dial: (user?: string, body?: string) => Placed;
  }> {
    const phone = await ua(PHONE);
    open.push(phone.ua);
    const trunks: Ua[] = [];
    for (let i = 0; i < (extra.trunks ?? 1); i++) {
      const t = await ua(i === 0 ? TRUNK : `127.0.0.1${1 + i}`);
      open.push(t.ua);
      trunks.push(t);
    }
    const r = await startSbc(
      engine,
      trunks.map((t, i) => ({
        name: `t${i}`,
        zone: 'core',
        uri: `sip:${i === 0 ? TRUNK : `127.0.0.1${1 + i}`}:${t.port}`,
      })),
      [
        {
          match: { zone: 'public', ...(extra.routeUser && { user: extra.routeUser }) },
          to: trunks.map((_, i) => `t${i}`),
        },
      ],
      [
        {
          ...zone('public', PUBLIC),
          limits: { maxCalls: extra.maxCalls ?? 0 },
          ...(extra.normalize && { normalize: extra.normalize }),
        },
        zone('core', CORE),
      ],
    );
    open.push(r);
    const port = r.port('public', 'udp');
    return {
      rig: r,
      phone,
      trunks,
      dial: (user = '4420001', body) => place(phone, `sip:${user}@${PUBLIC}:${port}`, body),
    };
  }

  it('a BYE from the callee ends the caller leg with BYE and deletes the media session (§15)', async () => {
    const { rig: r, phone, trunks, dial } = await rig();
    const call = dial();
    const a = await waitFor(() => call.accepted, 'the caller answered');
    const b = await waitFor(() => trunks[0]!.invites[0]?.session, 'the callee dialog');
    let ended: string | undefined;
    a.events = { onTerminated: (why) => (ended = why) };
    expect(await engine.list()).toHaveLength(1);
    b.bye();
    await waitFor(() => ended, 'the caller leg ended');
    expect(ended).toBe('remote-bye');
    await waitFor(() => (r.sbc.callCount === 0 ? true : undefined), 'the call gone');
    expect(await engine.list()).toEqual([]);
    expect(r.sbc.counters.ended['callee-bye']).toBe(1);
    void phone;
  });

  it('each leg has its own Call-ID and tags; the callee sees the zone address, never the caller', async () => {
    const { trunks, dial } = await rig();
    const call = dial();
    const a = await waitFor(() => call.accepted, 'answered');
    const inv = trunks[0]!.invites[0]!.request;
    expect(inv.headers.callId()).not.toBe(call.invite.request.headers.callId());
    expect(inv.headers.from()?.tag).not.toBe(call.invite.request.headers.from()?.tag);
    expect(a.dialog.id.remoteTag).not.toBe(trunks[0]!.invites[0]!.toTag);
    const wire = new TextDecoder().decode(inv.raw ?? new Uint8Array());
    expect(wire).not.toContain(PHONE);
    expect(wire).toContain(`c=IN IP4 ${CORE}`);
    a.bye();
  });

  it("relays the callee's failure to the caller: 486 as is, 407 as 403, 302 as 480", async () => {
    const { trunks, dial } = await rig();
    for (const [theirs, ours] of [
      [486, 486],
      [407, 403],
      [302, 480],
    ] as const) {
      trunks[0]!.onInvite = (inv) => inv.reject(theirs);
      const call = dial();
      const f = await waitFor(() => call.failed, `the ${theirs}`);
      expect(f === 'error' ? 0 : f.status).toBe(ours);
    }
  });

  it('fails over to the next trunk on 503 before any provisional response', async () => {
    const { rig: r, trunks, dial } = await rig({ trunks: 2 });
    trunks[0]!.onInvite = (inv) => inv.reject(503);
    const call = dial();
    await waitFor(() => call.accepted, 'answered by the second trunk');
    expect(trunks[0]!.invites).toHaveLength(1);
    expect(trunks[1]!.invites).toHaveLength(1);
    expect(r.sbc.calls()[0]?.b.trunk).toBe('t1');
    call.accepted!.bye();
  });

  it('answers 404 when no route matches, and 503 over the zone call limit', async () => {
    const { rig: r, dial } = await rig({ routeUser: '^44', maxCalls: 1 });
    const none = dial('3312345');
    expect(await waitFor(() => none.failed, '404')).toMatchObject({ status: 404 });
    expect(r.sbc.counters.noRoute).toBe(1);
    const first = dial('4411');
    await waitFor(() => first.accepted, 'the first call');
    const second = dial('4412');
    expect(await waitFor(() => second.failed, '503')).toMatchObject({ status: 503 });
    expect(r.sbc.counters.overLimit).toBe(1);
    first.accepted!.bye();
  });

  it('normalizes the called user as the call enters (00 → +): the trunk sees it in its Request-URI and To, and routes match it', async () => {
    const { trunks, dial } = await rig({
      normalize: [{ user: 'ruri', match: '^00', replace: '+' }],
      routeUser: '^\\+44',
    });
    const call = dial('00442071234567');
    const a = await waitFor(() => call.accepted, 'answered');
    const inv = trunks[0]!.invites[0]!.request;
    expect(inv.uriText).toMatch(/^sip:\+442071234567@/);
    expect(inv.headers.to()?.uri).toMatchObject({ user: '+442071234567' });
    a.bye();
  });

  it('refuses an INVITE whose SDP the engine cannot read with 400, counted, with no call or media left', async () => {
    const { rig: r, trunks, dial } = await rig();
    const call = dial('4420001', 'v=0\r\nthis is not SDP\r\nm=audio banana\r\n');
    expect(await waitFor(() => call.failed, 'the refusal')).toMatchObject({ status: 400 });
    expect(r.sbc.counters.mediaRefused).toBe(1);
    expect(trunks[0]!.invites).toHaveLength(0);
    await waitFor(() => (r.sbc.callCount === 0 ? true : undefined), 'no call');
    expect(await engine.list()).toEqual([]);
  });

  it('RFC 3264 §5 late offer: leg B goes without SDP, the trunk offers in its 200, the phone answers in its ACK and the trunk gets the answer in its ACK', async () => {
    const { rig: r, phone, trunks } = await rig();
    const trunk = trunks[0]!;
    let trunkAck: SipRequest | undefined;
    trunk.onInvite = (inv) => {
      inv.progress(180);
      const s = inv.accept({ body: SDP(TRUNK, 30_000), contentType: 'application/sdp' });
      s.events.onAck = (ack) => (trunkAck = ack);
    };
    const call: { accepted?: DialogSession } = {};
    let offer = '';
    phone.ua.call(
      { uri: `sip:4420001@${PUBLIC}:${r.port('public', 'udp')}`, deferAck: true },
      {
        onAccepted: (s, resp) => {
          call.accepted = s;
          offer = text(resp.body);
        },
      },
    );
    const a = await waitFor(() => call.accepted, 'the 200');
    expect(trunk.invites[0]!.request.body.length).toBe(0);
    expect(offer).toContain(`c=IN IP4 ${PUBLIC}`);
    expect(offer).not.toContain(TRUNK);
    a.ack({ body: SDP(PHONE, 31_000), contentType: 'application/sdp' });
    const ack = await waitFor(() => trunkAck, "the trunk's ACK");
    expect(text(ack.body)).toContain(`c=IN IP4 ${CORE}`);
    expect(text(ack.body)).not.toContain(PHONE);
    expect(r.sbc.calls()[0]?.state).toBe('confirmed');
    a.bye();
    await waitFor(() => (r.sbc.callCount === 0 ? true : undefined), 'no call');
  });

  it('RFC 3264 §5: a 200 without SDP to a late offer is ACKed and BYEd; the caller gets 488 and nothing is left', async () => {
    const { rig: r, trunks, dial } = await rig();
    let ended: string | undefined;
    trunks[0]!.onInvite = (inv) => {
      const s = inv.accept();
      s.events.onTerminated = (why) => (ended = why);
    };
    const call = dial('4420001', '');
    expect(await waitFor(() => call.failed, '488')).toMatchObject({ status: 488 });
    expect(await waitFor(() => ended, "the trunk's BYE")).toBe('remote-bye');
    await waitFor(() => (r.sbc.callCount === 0 ? true : undefined), 'no call');
    expect(await engine.list()).toEqual([]);
  });

  it('answers OPTIONS itself (§11.2) with Allow and no Server header; other requests 405', async () => {
    const { rig: r } = await rig();
    const sock = createSocket('udp4');
    await new Promise<void>((res) => sock.bind(0, PHONE, () => res()));
    const port = r.port('public', 'udp');
    const send = (method: string): Promise<string> =>
      new Promise((res) => {
        sock.once('message', (m) => res(m.toString('latin1')));
        sock.send(
          [
            `${method} sip:${PUBLIC}:${port} SIP/2.0`,
            `Via: SIP/2.0/UDP ${PHONE}:${sock.address().port};branch=z9hG4bK-${method}-${Date.now()}`,
            'Max-Forwards: 70',
            `From: <sip:probe@${PHONE}>;tag=p1`,
            `To: <sip:${PUBLIC}:${port}>`,
            `Call-ID: opt-${method}-${Date.now()}@${PHONE}`,
            `CSeq: 1 ${method}`,
            'Content-Length: 0',
            '',
            '',
          ].join('\r\n'),
          port,
          PUBLIC,
        );
      });
    try {
      const ok = await send('OPTIONS');
      expect(ok).toMatch(/^SIP\/2\.0 200 /);
      expect(ok).toMatch(/^Allow: INVITE, ACK, CANCEL, BYE, OPTIONS/m);
      expect(ok).not.toMatch(/^(Server|User-Agent):/im);
      expect(ok).not.toContain(CORE);
      expect(await send('MESSAGE')).toMatch(/^SIP\/2\.0 405 /);
    } finally {
      sock.close();
    }
    expect(r.sbc.zones.get('public')?.counters.options).toBe(1);
  });

  it('relays re-INVITE hold and resume from the caller, and from the callee, through the engine (§14)', async () => {
    const { trunks, dial } = await rig();
    const call = dial();
    const a = await waitFor(() => call.accepted, 'answered');
    const b = await waitFor(() => trunks[0]!.invites[0]?.session, 'callee dialog');
    const offers: string[] = [];
    b.events = {
      onReinvite: (inv) => {
        offers.push(text(inv.request.body));
        inv.accept({ body: SDP(TRUNK, 30_000, 'recvonly'), contentType: 'application/sdp' });
      },
    };
    // caller holds
    const results: SipResponse[] = [];
    a.reinvite({ body: SDP(PHONE, 31_000, 'sendonly'), contentType: 'application/sdp' }, (r) =>
      results.push(r),
    );
    await waitFor(() => results[0], 'the 200 to the hold');
    expect(results[0]!.status).toBe(200);
    expect(offers[0]).toMatch(/a=sendonly/);
    expect(offers[0]).toContain(`c=IN IP4 ${CORE}`);
    expect(text(results[0]!.body)).toMatch(/a=recvonly/);
    expect(text(results[0]!.body)).toContain(`c=IN IP4 ${PUBLIC}`);
    // callee resumes (re-INVITE the other way)
    const aOffers: string[] = [];
    a.events = {
      ...a.events,
      onReinvite: (inv) => {
        aOffers.push(text(inv.request.body));
        inv.accept({ body: SDP(PHONE, 31_000), contentType: 'application/sdp' });
      },
    };
    const back: SipResponse[] = [];
    b.reinvite({ body: SDP(TRUNK, 30_000), contentType: 'application/sdp' }, (r) => back.push(r));
    await waitFor(() => back[0], 'the 200 to the resume');
    expect(back[0]!.status).toBe(200);
    expect(aOffers[0]).toMatch(/a=sendrecv/);
    expect(aOffers[0]).toContain(`c=IN IP4 ${PUBLIC}`);
    expect(aOffers[0]).not.toContain(TRUNK);
    a.bye();
  });

  it('resolves re-INVITE glare from both sides at once: 491 (§14.2), retries after the §14.1 timers, both offers end in 200', async () => {
    const { trunks, dial } = await rig();
    const call = dial();
    const a = await waitFor(() => call.accepted, 'answered');
    const b = await waitFor(() => trunks[0]!.invites[0]?.session, 'callee dialog');
    const answer = (address: string, port: number) => (inv: ServerInvite) =>
      inv.accept({ body: SDP(address, port), contentType: 'application/sdp' });
    a.events = { onReinvite: answer(PHONE, 31_000) };
    b.events = { onReinvite: answer(TRUNK, 30_000) };
    const done: string[] = [];
    b.reinvite({ body: SDP(TRUNK, 30_000, 'sendonly'), contentType: 'application/sdp' }, (r) =>
      done.push(`b:${r.status}`),
    );
    a.reinvite({ body: SDP(PHONE, 31_000, 'sendonly'), contentType: 'application/sdp' }, (r) =>
      done.push(`a:${r.status}`),
    );
    await waitFor(() => (done.length === 2 ? true : undefined), 'both re-INVITEs answered', 30_000);
    expect(done.sort()).toEqual(['a:200', 'b:200']);
    // Each side's offer met the other's somewhere: at least one 491 on the way.
    expect([...a.reinviteResults, ...b.reinviteResults]).toContain(491);
    a.bye();
  }, 60_000);

  it('relays UPDATE with an offer (RFC 3311) and INFO to the other leg', async () => {
    const { trunks, dial } = await rig();
    const call = dial();
    const a = await waitFor(() => call.accepted, 'answered');
    const b = await waitFor(() => trunks[0]!.invites[0]?.session, 'callee dialog');
    const seen: string[] = [];
    b.events = {
      onRequest: (req, respond) => {
        seen.push(`${req.method} ${text(req.body).includes('a=sendonly') ? 'hold' : ''}`.trim());
        if (req.method === 'UPDATE')
          respond(200, { body: SDP(TRUNK, 30_000, 'recvonly'), contentType: 'application/sdp' });
        else respond(200);
      },
    };
    const upd: SipResponse[] = [];
    a.update({ body: SDP(PHONE, 31_000, 'sendonly'), contentType: 'application/sdp' }, (r) =>
      upd.push(r),
    );
    await waitFor(() => upd[0], 'the UPDATE answered');
    expect(upd[0]!.status).toBe(200);
    expect(text(upd[0]!.body)).toContain(`c=IN IP4 ${PUBLIC}`);
    const info: SipResponse[] = [];
    a.request(
      'INFO',
      { body: 'Signal=5\r\nDuration=160\r\n', contentType: 'application/dtmf-relay' },
      (r) => info.push(r),
    );
    await waitFor(() => info[0], 'the INFO answered');
    expect(info[0]!.status).toBe(200);
    expect(seen).toEqual(['UPDATE hold', 'INFO']);
    a.bye();
  });

  it('close() ends a live call on both legs with BYE and deletes its media', async () => {
    const { rig: r, trunks, dial } = await rig();
    const call = dial();
    const a = await waitFor(() => call.accepted, 'answered');
    const b = await waitFor(() => trunks[0]!.invites[0]?.session, 'callee dialog');
    const ends: string[] = [];
    a.events = { onTerminated: (why) => ends.push(`a:${why}`) };
    b.events = { onTerminated: (why) => ends.push(`b:${why}`) };
    await r.close();
    await r.close(); // idempotent
    await waitFor(() => (ends.length === 2 ? true : undefined), 'both legs ended');
    expect(ends.sort()).toEqual(['a:remote-bye', 'b:remote-bye']);
    expect(await engine.list()).toEqual([]);
    expect(r.sbc.counters.ended.shutdown).toBe(1);
  });
});
