/**
 * The B2BUA's offer/answer and early dialogs with real sipp peers on their own loopback
 * addresses (issue #17 item 2): late offer (RFC 3264 §5: leg B's INVITE goes without SDP, B's 2xx
 * offers, the SBC rewrites it into A's 2xx, A's ACK answers and the SBC rewrites that into B's
 * ACK) over UDP and TCP with media anchored on both engines; re-INVITE without SDP both ways;
 * early media; a forking far side's early dialogs kept apart toward the caller (§12.1.2) with
 * the losing fork's 2xx ACKed and BYEd (§13.2.2.4); 100rel terminated per leg both ways
 * (RFC 3262); hostile ACKs (no answer, not SDP) ending both legs with BYE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaEngine } from '@tfx/media';
import { createBuiltinEngine, RtpengineEngine } from '@tfx/media';
import { startRtpengine, type RtpengineProcess } from '../../media/test/rtpengine/harness.js';
import {
  CORE,
  PHONE,
  PUBLIC,
  TRUNK,
  freePort,
  header,
  sipp,
  startSbc,
  startUas,
  echoCalleeArgs,
  sum,
  tagOf,
  watchRtp,
  type Rig,
  type SippRun,
} from './harness.js';
import {
  calleeXml,
  callerXml,
  scenarioFile,
  type CalleeOptions,
  type CallerOptions,
} from './offer-answer-flows.js';

type EngineMaker = () => Promise<{ engine: MediaEngine; stop(): Promise<void> }>;

const builtin: EngineMaker = async () => {
  const base = 40000 + 2 * Math.floor(Math.random() * 5000);
  const engine = await createBuiltinEngine({
    portMin: base,
    portMax: base + 199,
    workers: 1,
    mediaTimeoutMs: 0,
  });
  return { engine, stop: () => engine.close() };
};

const rtpengine: EngineMaker = async () => {
  const rtpe: RtpengineProcess = await startRtpengine({
    ports: 100,
    interfaces: { public: PUBLIC, core: CORE },
  });
  const engine = new RtpengineEngine({
    instances: [rtpe.url],
    interfaces: { public: 'public', core: 'core' },
  });
  return {
    engine,
    async stop() {
      await engine.close();
      await rtpe.stop();
    },
  };
};

interface Outcome {
  readonly a: SippRun;
  readonly b: SippRun;
  readonly rig: Rig;
  readonly rtpToCaller: Map<string, number>;
  readonly rtpToCallee: Map<string, number>;
}

/** One call phone (public, 127.0.0.21) → SBC → trunk (core, 127.0.0.11), both sipp ours. */
async function run(
  engine: MediaEngine,
  o: {
    transport: 'udp' | 'tcp';
    caller: Omit<CallerOptions, 'zoneAddress'>;
    callee: Omit<CalleeOptions, 'zoneAddress'>;
  },
): Promise<Outcome> {
  const callerPort = await freePort(PHONE);
  const callerMedia = await freePort(PHONE, true);
  const t = o.transport === 'tcp' ? ';transport=tcp' : '';
  const sippT = o.transport === 'tcp' ? 't1' : 'u1';
  // The trunk first: it holds its port before the SBC can send it anything.
  const uas = await startUas(
    TRUNK,
    echoCalleeArgs(
      scenarioFile('callee', calleeXml({ ...o.callee, zoneAddress: CORE })),
      TRUNK,
      sippT,
    ),
    { transport: o.transport, timeoutMs: 40_000 },
  );
  const callee = uas.handle;
  const calleePort = uas.port;
  const calleeMedia = uas.media;
  const rig = await startSbc(
    engine,
    [{ name: 'far', zone: 'core', uri: `sip:${TRUNK}:${calleePort}${t}` }],
    [{ match: { zone: 'public' }, to: ['far'] }],
  );
  const rtpToCaller = await watchRtp(PHONE, [callerMedia]);
  const rtpToCallee = await watchRtp(TRUNK, [calleeMedia]);
  try {
    const caller = sipp(
      [
        `${PUBLIC}:${rig.port('public', o.transport)}`,
        '-sf',
        scenarioFile('caller', callerXml({ ...o.caller, zoneAddress: PUBLIC })),
        '-i',
        PHONE,
        '-p',
        String(callerPort),
        '-mi',
        PHONE,
        '-mp',
        String(callerMedia),
        '-key',
        'rtcp',
        String(callerMedia + 1),
        '-t',
        sippT,
        '-s',
        '4420001',
        '-key',
        'caller',
        'alice',
        '-m',
        '1',
      ],
      40_000,
    );
    const [a, b] = await Promise.all([caller.done, callee.done]);
    expect(a.code, `caller sipp:\n${a.output}\n${a.trace}\ncallee sipp:\n${b.output}`).toBe(0);
    expect(b.code, `callee sipp:\n${b.output}\n${b.trace}`).toBe(0);
    // Both legs and the media session are gone.
    await until(async () => rig.sbc.callCount === 0 && (await engine.list()).length === 0);
    return { a, b, rig, rtpToCaller: rtpToCaller.sources, rtpToCallee: rtpToCallee.sources };
  } finally {
    await rtpToCaller.stop();
    await rtpToCallee.stop();
    await rig.close();
  }
}

async function until(cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const first = (msgs: readonly string[], re: RegExp): string =>
  msgs.find((m) => re.test(m.split('\n')[0] ?? '')) ?? '';
const all = (msgs: readonly string[], re: RegExp): string[] =>
  msgs.filter((m) => re.test(m.split('\n')[0] ?? ''));
const bodyOf = (m: string): string =>
  m
    .split(/\r?\n\r?\n/)
    .slice(1)
    .join('\n\n')
    .trim();

/** RTP reached each side only from its zone's media address. */
function expectMedia(r: Outcome): void {
  expect(sum(r.rtpToCallee), 'RTP reached the callee').toBeGreaterThan(20);
  expect(sum(r.rtpToCaller), 'RTP echo reached the caller').toBeGreaterThan(20);
  expect([...r.rtpToCallee.keys()].map((k) => k.split(':')[0])).toEqual([CORE]);
  expect([...r.rtpToCaller.keys()].map((k) => k.split(':')[0])).toEqual([PUBLIC]);
}

describe.each([
  ['builtin', builtin],
  ['rtpengine', rtpengine],
] as const)(
  'late offer and offer-less re-INVITE through the SBC with real sipp peers (%s engine)',
  (_n, make) => {
    let engine: MediaEngine;
    let stop: () => Promise<void>;
    beforeAll(async () => {
      const e = await make();
      engine = e.engine;
      stop = e.stop;
    });
    afterAll(async () => {
      await stop?.();
    });

    it('RFC 3264 §5 over UDP: an INVITE without SDP reaches the trunk without SDP; its 200 offers (rewritten to the public address), the caller answers in the ACK, the trunk gets it in its ACK; media anchored; then re-INVITEs without SDP both ways', async () => {
      const r = await run(engine, {
        transport: 'udp',
        caller: { offer: false, ackAnswer: 'sdp', expectReinviteWithoutSdp: true },
        callee: { lateOffer: true, reinviteWithoutSdp: true, expectReinviteWithoutSdp: false },
      });
      // The trunk's INVITE had no body; the ACK the SBC sent it carries the answer of the core zone.
      const inv = first(r.b.received, /^INVITE /);
      expect(header(inv, 'Content-Length')).toBe('0');
      // Leg B of a late offer offers no 100rel (an offer in a reliable 18x would need its answer in
      // our PRACK).
      expect(header(inv, 'Supported') ?? '').not.toMatch(/100rel/);
      const acks = all(r.b.received, /^ACK /);
      expect(bodyOf(acks[0] ?? '')).toMatch(new RegExp(`c=IN IP4 ${CORE.replace(/\./g, '\\.')}`));
      expect(bodyOf(acks[0] ?? '')).not.toContain(PHONE);
      // The caller's 200 carried the SBC's offer: the public zone's address, nothing of the trunk.
      const ok = first(r.a.received, /^SIP\/2\.0 200/);
      expect(bodyOf(ok)).toContain(`c=IN IP4 ${PUBLIC}`);
      expect(ok).not.toContain(TRUNK);
      // The trunk's re-INVITE without SDP reached the caller without SDP (checked by the caller's
      // scenario) and the caller's 2xx offer came back to the trunk in the SBC's 2xx.
      const reOk = all(r.b.received, /^SIP\/2\.0 200/).find((m) =>
        /INVITE/.test(header(m, 'CSeq') ?? ''),
      );
      expect(bodyOf(reOk ?? '')).toContain(`c=IN IP4 ${CORE}`);
      expectMedia(r);
    }, 120_000);

    it('RFC 3264 §5 over TCP: the late offer with media anchored; the caller re-INVITEs without SDP and answers in its ACK', async () => {
      const r = await run(engine, {
        transport: 'tcp',
        caller: { offer: false, ackAnswer: 'sdp', reinviteWithoutSdp: true },
        callee: { lateOffer: true, expectReinviteWithoutSdp: true },
      });
      expect(header(first(r.b.received, /^INVITE /), 'Content-Length')).toBe('0');
      // Two ACKs reached the trunk (INVITE, re-INVITE), each with the answer rewritten to the core.
      const acks = all(r.b.received, /^ACK /);
      expect(acks).toHaveLength(2);
      for (const a of acks) expect(bodyOf(a)).toContain(`c=IN IP4 ${CORE}`);
      expectMedia(r);
    }, 120_000);

    for (const [what, ackAnswer] of [
      ['an ACK without the answer', 'none'],
      ['an ACK whose body is not SDP', 'garbage'],
    ] as const) {
      it(`RFC 3264 §5: ${what} for a late offer ends the call: the trunk gets its ACK, then BYE on both legs`, async () => {
        const r = await run(engine, {
          transport: 'udp',
          caller: { offer: false, ackAnswer, expectBye: true },
          callee: { lateOffer: true, ackWithoutAnswer: true },
        });
        const order = r.b.received.map((m) => /^(\S+)/.exec(m)?.[1]).filter((m) => m !== 'SIP/2.0');
        expect(order).toEqual(['INVITE', 'ACK', 'BYE']);
        // The trunk's ACK carries no answer the caller never gave.
        expect(header(first(r.b.received, /^ACK /), 'Content-Length')).toBe('0');
        const ended = r.rig.sbc.counters.ended;
        expect(ended['leg-failed'] + ended['media-failed']).toBe(1);
      }, 120_000);
    }
  },
);

describe('offer/answer edges through the SBC with real sipp peers (builtin engine)', () => {
  let engine: MediaEngine;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    const e = await builtin();
    engine = e.engine;
    stop = e.stop;
  });
  afterAll(async () => {
    await stop?.();
  });

  it('early media: a 180 without SDP passes without SDP, a 183 with SDP passes with the SDP rewritten to the public zone', async () => {
    const r = await run(engine, {
      transport: 'udp',
      caller: { offer: true },
      callee: { earlyMedia: true },
    });
    const ringing = first(r.a.received, /^SIP\/2\.0 180/);
    const progress = first(r.a.received, /^SIP\/2\.0 183/);
    expect(header(ringing, 'Content-Length')).toBe('0');
    expect(bodyOf(progress)).toContain(`c=IN IP4 ${PUBLIC}`);
    expect(progress).not.toContain(TRUNK);
    expect(progress).not.toContain(CORE);
    expectMedia(r);
  }, 120_000);

  it("§12.1.2 / §13.2.2.4: two early dialogs of a forking trunk reach the caller as two early dialogs (own To tags); the fork that answers wins, the other fork's 2xx is ACKed and BYEd", async () => {
    const r = await run(engine, {
      transport: 'udp',
      caller: { offer: true },
      callee: { fork: true },
    });
    const ringing = first(r.a.received, /^SIP\/2\.0 180/);
    const progress = first(r.a.received, /^SIP\/2\.0 183/);
    const ok = first(r.a.received, /^SIP\/2\.0 200/);
    const t180 = tagOf(header(ringing, 'To'));
    const t183 = tagOf(header(progress, 'To'));
    expect(t180).toBeDefined();
    expect(t183).toBeDefined();
    expect(t180).not.toBe(t183);
    // The fork that sent the 183 answered: the caller's 200 is on that early dialog.
    expect(tagOf(header(ok, 'To'))).toBe(t183);
    // None of the trunk's tags reach the caller.
    const trunkTags = new Set(r.b.sent.map((m) => tagOf(header(m, 'To'))).filter(Boolean));
    for (const t of [t180, t183]) expect(trunkTags.has(t)).toBe(false);
    // The trunk: ACK for each 2xx, a BYE for the losing fork, the caller's BYE on the winner.
    const byes = all(r.b.received, /^BYE /).map((m) => tagOf(header(m, 'To')));
    expect(byes).toHaveLength(2);
    expect(byes[0]).toMatch(/SIPpTag01/);
    expect(byes[1]).toMatch(/SIPpTag02/);
    expect(r.rig.sbc.counters.ended['caller-bye']).toBe(1);
  }, 120_000);

  it('RFC 3262 per leg: a caller requiring 100rel gets its 180 reliably and its PRACK is absorbed; the trunk (no 100rel) gets no PRACK', async () => {
    const r = await run(engine, {
      transport: 'udp',
      caller: { offer: true, require100rel: true },
      callee: {},
    });
    const inv = first(r.b.received, /^INVITE /);
    expect(header(inv, 'Require') ?? '').not.toMatch(/100rel/);
    expect(all(r.b.received, /^PRACK /)).toEqual([]);
    expect(header(first(r.a.received, /^SIP\/2\.0 180/), 'RSeq')).toMatch(/^\d+$/);
  }, 120_000);

  it("RFC 3262 §3 toward a 100rel caller: the trunk's 183 (early media) waits for the PRACK of the 180, goes reliably with its SDP rewritten, and the 200 waits for its PRACK", async () => {
    const r = await run(engine, {
      transport: 'udp',
      caller: { offer: true, require100rel: true, reliable183: true },
      callee: { earlyMedia: true },
    });
    const pracks = all(r.a.sent, /^PRACK /);
    expect(pracks).toHaveLength(2);
    // The caller's 200 came after its second PRACK was answered (sipp's order enforces it too).
    const order = r.a.received.map((m) => m.split('\n')[0]!.trim());
    const ok = order.findIndex(
      (l, i) =>
        l.startsWith('SIP/2.0 200') && /INVITE/.test(header(r.a.received[i]!, 'CSeq') ?? ''),
    );
    const prackOks = order
      .map((l, i) =>
        l.startsWith('SIP/2.0 200') && /PRACK/.test(header(r.a.received[i]!, 'CSeq') ?? '')
          ? i
          : -1,
      )
      .filter((i) => i >= 0);
    expect(prackOks).toHaveLength(2);
    expect(ok).toBeGreaterThan(prackOks[1]!);
    expect(all(r.b.received, /^PRACK /)).toEqual([]);
    expectMedia(r);
  }, 120_000);

  it('RFC 3262 per leg: a trunk sending reliable 180/183 is PRACKed by the SBC; the caller (no 100rel) gets them unreliably, the 183 with the SDP rewritten', async () => {
    const r = await run(engine, {
      transport: 'udp',
      caller: { offer: true },
      callee: { reliable: true },
    });
    expect(all(r.b.received, /^PRACK /)).toHaveLength(2);
    for (const m of all(r.a.received, /^SIP\/2\.0 18[03]/)) {
      expect(header(m, 'RSeq')).toBeUndefined();
      expect(header(m, 'Require')).toBeUndefined();
    }
    expect(bodyOf(first(r.a.received, /^SIP\/2\.0 183/))).toContain(`c=IN IP4 ${PUBLIC}`);
    expectMedia(r);
  }, 120_000);
});
