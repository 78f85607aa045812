/**
 * The SIP server's policy (pipeline.ts: reqInit → withinDialog → auth → registrar → location →
 * relay, with the registrar, users, location store, gate and digest) on the proxy core, on the
 * in-memory lossy network with a manual clock (packages/sip/test/support): registration with
 * digest, bans, forking to registered contacts (parallel and serial), CANCEL, 3xx recursion,
 * Timer C, §16.7 best response and challenge aggregation, and loss.
 */
import { tmpdir } from 'node:os';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  DigestServer,
  Gate,
  NonceManager,
  TIMER_C_MS,
  canonicalHost,
  nodeDigestHash,
  nodeNonceCrypto,
  type Endpoint,
  type SipResponse,
  type SipUri,
} from '../../../sip/src/index.js';
import { Pipeline, type PipelineDeps, type RequestContext } from '../../src/sip/pipeline.js';
import { Registrar } from '../../src/sip/registrar.js';
import { MemoryLocationStore } from '../../src/sip/location.js';
import { SipMetrics } from '../../src/sip/metrics.js';
import { SipUsers } from '../../src/sip/users.js';
import {
  Net,
  P,
  Uac,
  Uas,
  dropOnce,
  proxyNode,
  what,
  type UacOptions,
  type UacRequest,
  type UasScript,
} from '../../../sip/test/support/agents.js';
import type { NetOptions } from '../../../sip/test/support/net.js';

const DOMAIN = 'tfx.test';
const PASSWORDS: Record<string, string> = { alice: 'pw-alice', bob: 'pw-bob', carol: 'pw-carol' };
const BAN_AFTER = 3;

const B1: Endpoint = { address: '10.0.1.1', port: 5060 };
const B2: Endpoint = { address: '10.0.1.2', port: 5060 };
const B3: Endpoint = { address: '10.0.1.3', port: 5060 };

let nextHost = 0;
/** A fresh address for a registering or calling UA. */
const uaAt = (port = 5060): Endpoint => ({ address: `10.0.2.${++nextHost % 250}`, port });

/**
 * The parties on the network come from @tfx/sip's test support, which imports the package's
 * sources, as vitest runs @tfx/sip for the server too (the `source` export condition): the
 * same classes at run time. The type checker sees the server's @tfx/sip through the built
 * .d.ts, whose classes differ nominally (#private); this crosses that line where the pipeline
 * meets the core.
 */
const same = <T>(x: unknown): T => x as T;

/** The SIP server's element on the network: ProxyCore + the pipeline with its policy parts. */
function server(o: NetOptions & { recurse3xx?: boolean } = {}) {
  const net = new Net(o);
  const registry = new Registry();
  const location = new MemoryLocationStore();
  const extra = Array.from({ length: 12 }, (_, k) => ({ username: `u${k}`, password: `pw-u${k}` }));
  const users = new SipUsers(
    DOMAIN,
    [
      ...Object.entries(PASSWORDS).map(([username, password]) => ({ username, password })),
      ...extra,
    ],
    tmpdir(),
  );
  const gate = new Gate({ ratePerSecond: 10_000, banAfter: BAN_AFTER, banMs: 600_000 });
  const metrics = new SipMetrics(registry, {
    registrations: () => 0,
    dialogs: () => 0,
    transactions: () => 0,
    bans: () => gate.list(net.clock.now()).length,
  });
  const nonces = new NonceManager({
    secret: 's'.repeat(32),
    crypto: nodeNonceCrypto,
    clock: net.clock,
  });
  const digest = { realm: DOMAIN, hash: nodeDigestHash, nonces, algorithms: ['MD5' as const] };
  const errors: unknown[] = [];
  const isUs = (uri: SipUri, checkPort: boolean) => {
    const host = canonicalHost(uri.host);
    if (host !== DOMAIN && host !== P.address) return false;
    if (!checkPort || (host === DOMAIN && uri.port === undefined)) return true;
    return (uri.port ?? 5060) === P.port;
  };
  // The core's hooks call the pipeline, which is built on the core.
  const late: { pipeline?: Pipeline } = {};
  const { core, failures, transactions } = proxyNode(net, {
    gate,
    statelessly: (request) => late.pipeline!.statelessly(same(request)),
    hooks: {
      onReply: (rctx, branch, response) =>
        late.pipeline!.onReply(same(rctx), same(branch), same(response)),
      onFailure: (rctx, best) => same(late.pipeline!.onFailure(same(rctx), same(best))),
    },
    onRequest: (pr) => {
      const rc = same<RequestContext>({
        ...pr,
        now: net.clock.now(),
        flowTokens: [],
        authUser: undefined,
      });
      const failed = (err: unknown) => {
        errors.push(err);
        core.reply(pr, 500);
      };
      try {
        const pending = late.pipeline!.run(rc);
        if (pending) pending.catch(failed);
      } catch (err) {
        failed(err);
      }
    },
  });
  late.pipeline = new Pipeline(
    same<PipelineDeps>({
      core,
      stack: {
        isUs,
        flowTokenFor: () => undefined,
        resolveFlowToken: () => undefined,
        flowOpen: () => true,
        locate: async () => [],
      },
      registrar: new Registrar({
        store: location,
        minExpires: 60,
        maxExpires: 3600,
        defaultExpires: 3600,
      }),
      location,
      users,
      guard: gate,
      metrics,
      registrarAuth: new DigestServer({ ...digest, proxy: false }),
      proxyAuth: new DigestServer({ ...digest, proxy: true }),
      domain: DOMAIN,
      recurse3xx: o.recurse3xx ?? true,
    }),
  );
  const counter = async (c: { get(): Promise<{ values: Array<{ value: number }> }> }) =>
    (await c.get()).values.reduce((n, v) => n + v.value, 0);
  return { net, core, gate, location, metrics, errors, failures, counter, transactions };
}

type Server = ReturnType<typeof server>;

function ua(s: Server, user: string, o: Partial<UacOptions> = {}): Uac {
  return new Uac(s.net, {
    at: o.at ?? uaAt(),
    from: o.from ?? `sip:${user}@${DOMAIN}`,
    ...(user in PASSWORDS || /^u\d+$/.test(user)
      ? { auth: { username: user, password: PASSWORDS[user] ?? `pw-${user}` } }
      : {}),
    ...o,
  });
}

/** REGISTERs `user` with a Contact naming `contactAt` (and q), answering the digest challenge. */
async function register(s: Server, user: string, contactAt: Endpoint, q?: number) {
  const u = ua(s, user);
  u.send({
    method: 'REGISTER',
    uri: `sip:${DOMAIN}`,
    to: `sip:${user}@${DOMAIN}`,
    headers: [
      [
        'Contact',
        `<sip:uas@${contactAt.address}:${contactAt.port}>${q !== undefined ? `;q=${q}` : ''}`,
      ],
    ],
  });
  await s.net.settle();
  return u;
}

/** Callees registered as bob: one UAS per script, at B1, B2, B3, with optional q-values. */
async function callees(s: Server, scripts: Array<UasScript & { q?: number }>) {
  const at = [B1, B2, B3];
  const out: Uas[] = [];
  for (const [k, script] of scripts.entries()) {
    out.push(new Uas(s.net, at[k]!, script));
    await register(s, 'bob', at[k]!, script.q);
  }
  return out;
}

/** A caller from a foreign domain (no digest asked, §16: the callee is ours). */
function caller(s: Server): Uac {
  return new Uac(s.net, { at: uaAt(), from: 'sip:carol@example.com' });
}

function call(u: Uac, uri = `sip:bob@${DOMAIN}`) {
  u.send({ method: 'INVITE', uri });
}

const finalOf = (u: Uac): SipResponse | undefined =>
  [...u.responses].reverse().find((r) => r.status >= 200);

describe('pipeline: registrar (§10.3) with digest', () => {
  it('401 first, then 200 with the binding listed; the location store has it', async () => {
    const s = server();
    const u = await register(s, 'alice', B1);
    expect(u.finals).toEqual([401, 200]);
    expect(finalOf(u)!.headers.getAll('contact')[0]).toMatch(
      /^<sip:uas@10\.0\.1\.1:5060>;expires=3600/,
    );
    const bindings = await s.location.lookup(`sip:alice@${DOMAIN}`, s.net.clock.now());
    expect(bindings.map((b) => b.uri)).toEqual(['sip:uas@10.0.1.1:5060']);
  });

  const cases: Array<[string, UacRequest, string, number]> = [
    ['digest uri = the Request-URI', {}, 'alice', 200],
    [
      'digest uri = the address the request was sent to (sipp)',
      { digestUri: 'sip:10.0.0.1:5060' },
      'alice',
      200,
    ],
    ['digest uri naming another resource', { digestUri: 'sip:elsewhere.example' }, 'alice', 400],
    ['a registration for another user', { to: `sip:bob@${DOMAIN}` }, 'alice', 403],
    [
      'an interval too brief',
      { headers: [['Contact', '<sip:a@10.9.9.9>;expires=10']] },
      'alice',
      423,
    ],
    ['another domain', { uri: 'sip:example.org', to: 'sip:alice@example.org' }, 'alice', 403],
  ];
  it.each(cases.map(([n, r, u, st]) => [`${n} → ${st}`, r, u, st] as const))(
    '%s',
    async (_name, req, user, status) => {
      const s = server();
      const u = ua(s, user);
      u.send({ method: 'REGISTER', uri: `sip:${DOMAIN}`, to: `sip:${user}@${DOMAIN}`, ...req });
      await s.net.settle();
      expect(u.finals.at(-1)).toBe(status);
      expect(s.errors).toEqual([]);
    },
  );

  it('the sent-to digest uri is counted; a uri mismatch never bans (client mistake, not a password)', async () => {
    const s = server();
    const u = ua(s, 'alice');
    u.send({ method: 'REGISTER', uri: `sip:${DOMAIN}`, digestUri: 'sip:10.0.0.1:5060' });
    await s.net.settle();
    expect(await s.counter(s.metrics.digestUriSentTo)).toBe(1);
    const bad = ua(s, 'alice', { at: { address: '10.0.3.1', port: 5060 } });
    for (let k = 0; k < BAN_AFTER * 6; k++) {
      bad.send({ method: 'REGISTER', uri: `sip:${DOMAIN}`, digestUri: 'sip:elsewhere.example' });
      await s.net.advance(1000); // within the gate's one-minute window
    }
    expect(bad.finals.filter((x) => x === 400)).toHaveLength(BAN_AFTER * 6);
    expect(s.gate.list(s.net.clock.now())).toEqual([]);
  });
});

describe('pipeline: bans (per source and user, then per source)', () => {
  // One second per round: the gate counts failures within a minute (a settle would run every
  // lingering transaction's 32 s timers between rounds).
  it('many users behind one address keep registering while one of them keeps failing', async () => {
    const s = server();
    const office = '10.0.3.7';
    const wrong = ua(s, 'alice', {
      at: { address: office, port: 5999 },
      auth: { username: 'alice', password: 'not-it' },
    });
    const others = Array.from({ length: 6 }, (_, k) =>
      ua(s, `u${k}`, { at: { address: office, port: 6000 + k } }),
    );
    for (let round = 0; round < BAN_AFTER * 3; round++) {
      wrong.send({ method: 'REGISTER', uri: `sip:${DOMAIN}` });
      for (const o of others) o.send({ method: 'REGISTER', uri: `sip:${DOMAIN}` });
      await s.net.advance(1000);
    }
    for (const o of others) expect(o.finals.filter((x) => x === 200)).toHaveLength(BAN_AFTER * 3);
    expect(wrong.finals.filter((x) => x === 200)).toEqual([]);
    const bans = s.gate.list(s.net.clock.now());
    expect(bans.map((b) => `${b.kind} ${b.value} ${b.source ?? ''}`)).toEqual([
      `user alice ${office}`,
    ]);
  });

  it("a cracker's address is banned: its failures keep counting during the user ban", async () => {
    const s = server();
    const cracker = '10.0.3.66';
    for (let k = 0; k < BAN_AFTER * 6; k++) {
      const u = ua(s, 'alice', {
        at: { address: cracker, port: 7000 + k },
        auth: { username: 'alice', password: `guess-${k}` },
      });
      u.send({ method: 'REGISTER', uri: `sip:${DOMAIN}` });
      await s.net.advance(1000);
    }
    const bans = s.gate.list(s.net.clock.now());
    expect(bans.some((b) => b.kind === 'ip' && b.value === cracker)).toBe(true);
    // The right password from that address is refused now, by the gate before the pipeline.
    const late = ua(s, 'alice', { at: { address: cracker, port: 7999 } });
    late.send({ method: 'REGISTER', uri: `sip:${DOMAIN}` });
    await s.net.advance(1000);
    expect(late.finals).toEqual([403]);
    // Elsewhere alice still registers.
    const home = ua(s, 'alice');
    home.send({ method: 'REGISTER', uri: `sip:${DOMAIN}` });
    await s.net.advance(1000);
    expect(home.finals).toEqual([401, 200]);
  });
});

describe('pipeline: requests to the server and policy answers', () => {
  const cases: Array<[string, UacRequest, number]> = [
    ['OPTIONS to the server', { method: 'OPTIONS', uri: `sip:${DOMAIN}` }, 200],
    ['INVITE to an unknown user', { method: 'INVITE', uri: `sip:nobody@${DOMAIN}` }, 404],
    [
      'INVITE to a known user with no contact',
      { method: 'INVITE', uri: `sip:alice@${DOMAIN}` },
      404,
    ],
    ['Max-Forwards 0', { method: 'INVITE', uri: `sip:bob@${DOMAIN}`, maxForwards: 0 }, 483],
    [
      'Proxy-Require we do not know',
      { method: 'INVITE', uri: `sip:bob@${DOMAIN}`, headers: [['Proxy-Require', 'foo']] },
      420,
    ],
    [
      'a foreign caller to a foreign domain (no open relay)',
      { method: 'INVITE', uri: 'sip:x@elsewhere.example' },
      403,
    ],
  ];
  it.each(cases.map(([n, r, st]) => [`${n} → ${st}`, r, st] as const))(
    '%s',
    async (_name, req, status) => {
      const s = server();
      const u = caller(s);
      u.send(req);
      await s.net.settle();
      expect(u.finals).toEqual([status]);
      if (status === 200) expect(finalOf(u)!.headers.get('allow')).toContain('INVITE');
    },
  );

  it('OPTIONS to the server is answered statelessly (no transaction), the same To tag each time', async () => {
    const s = server();
    const u = caller(s);
    u.send({ method: 'OPTIONS', uri: `sip:${DOMAIN}` });
    await s.net.advance(50);
    expect(u.finals).toEqual([200]);
    expect(s.transactions.counters.stateless).toBe(1);
    expect(s.transactions.size).toBe(0);
    // The same request again (a retransmission whose answer was lost) gets the same answer.
    const request = s.net.log.find((e) => e.message.kind === 'request')!.message;
    s.net.send(u.at, P, request);
    await s.net.advance(50);
    const answers = s.net.log
      .filter((e) => e.message.kind === 'response')
      .map((e) => (e.message as SipResponse).headers.to()?.tag);
    expect(answers).toHaveLength(2);
    expect(answers[0]).toMatch(/^sl[0-9a-f]{8}$/);
    expect(answers[1]).toBe(answers[0]);
    // OPTIONS to a user goes through a transaction (and the location stage) as before.
    u.send({ method: 'OPTIONS', uri: `sip:nobody@${DOMAIN}` });
    await s.net.advance(50);
    expect(u.finals.at(-1)).toBe(404);
    expect(s.transactions.counters.stateless).toBe(2);
  });

  it('a caller of our domain is challenged (407); the callee never sees its credentials', async () => {
    const s = server();
    const [b1] = await callees(s, [{ final: { status: 200 } }]);
    const alice = ua(s, 'alice');
    call(alice);
    await s.net.settle();
    expect(alice.finals).toEqual([407, 200]);
    expect(b1!.invites).toHaveLength(1);
    expect(b1!.invites[0]!.headers.getAll('proxy-authorization')).toEqual([]);
    expect(b1!.acks).toHaveLength(1);
  });
});

describe('pipeline: forking to registered contacts (§16.6)', () => {
  it('parallel: equal q; the 200 wins over a 486, the ACK follows the Record-Route', async () => {
    const s = server();
    const [b1, b2] = await callees(s, [
      { final: { status: 486 } },
      { ring: true, final: { status: 200, afterMs: 1000 } },
    ]);
    const u = caller(s);
    call(u);
    await s.net.advance(100);
    expect(b1!.invites).toHaveLength(1);
    expect(b2!.invites).toHaveLength(1);
    expect(b2!.invites[0]!.headers.getAll('record-route')).toHaveLength(1);
    await s.net.settle();
    expect(u.finals).toEqual([200]);
    expect(b2!.acks).toHaveLength(1);
    expect(s.core.size).toBe(0);
  });

  it('serial: the q=0.5 contact is tried only after the q=1 contact failed', async () => {
    const s = server();
    const [b1, b2] = await callees(s, [
      { q: 0.5, final: { status: 200 } },
      { q: 1, ring: true, final: { status: 480, afterMs: 2000 } },
    ]);
    const u = caller(s);
    const start = s.net.clock.now();
    call(u);
    await s.net.advance(1000);
    expect(b2!.invites).toHaveLength(1);
    expect(b1!.invites).toHaveLength(0);
    await s.net.settle();
    expect(b1!.invitedAt! - start).toBeGreaterThanOrEqual(2000);
    expect(u.finals).toEqual([200]);
  });

  it('CANCEL from the caller: every ringing contact is cancelled, the caller gets 487', async () => {
    const s = server();
    const [b1, b2] = await callees(s, [{ ring: true }, { ring: true }]);
    const u = caller(s);
    call(u);
    await s.net.advance(200);
    u.cancel();
    await s.net.settle();
    expect(b1!.cancels).toHaveLength(1);
    expect(b2!.cancels).toHaveLength(1);
    expect(u.finals.filter((x) => x !== 200)).toEqual([487]);
  });

  it('a 2xx cancels the contacts still ringing; the caller sees one final', async () => {
    const s = server();
    const [b1, b2] = await callees(s, [
      { ring: true, final: { status: 200, afterMs: 500 } },
      { ring: true },
    ]);
    const u = caller(s);
    call(u);
    await s.net.settle();
    expect(b2!.cancels).toHaveLength(1);
    expect(b1!.cancels).toHaveLength(0);
    expect(u.finals).toEqual([200]);
  });

  it('Timer C: a contact ringing for ever is cancelled; the caller gets 487', async () => {
    const s = server();
    const [b1] = await callees(s, [{ ring: true }]);
    const u = caller(s);
    call(u);
    await s.net.advance(TIMER_C_MS - 1000);
    expect(b1!.cancels).toHaveLength(0);
    await s.net.settle();
    expect(b1!.cancels).toHaveLength(1);
    expect(u.finals).toEqual([487]);
  });
});

describe('pipeline: 3xx recursion (onFailure, sip.recurse3xx)', () => {
  const redirect: UasScript = {
    final: { status: 302, headers: [['Contact', `<sip:bob@${B3.address}:${B3.port}>`]] },
  };
  it.each([
    [true, [200], 1],
    [false, [302], 0],
  ])('recurse3xx %s → the caller gets %j', async (recurse3xx, finals, invited) => {
    const s = server({ recurse3xx });
    await callees(s, [redirect]);
    const b3 = new Uas(s.net, B3, { final: { status: 200 } });
    const u = caller(s);
    call(u);
    await s.net.settle();
    expect(b3.invites).toHaveLength(invited);
    expect(s.failures.map((f) => f?.status)).toEqual([302]);
    expect(u.finals).toEqual(finals);
  });

  it('a Contact already tried is not tried again (no redirect loop)', async () => {
    const s = server();
    const [b1] = await callees(s, [
      { final: { status: 302, headers: [['Contact', `<sip:uas@${B1.address}:${B1.port}>`]] } },
    ]);
    const u = caller(s);
    call(u);
    await s.net.settle();
    expect(b1!.invites).toHaveLength(1);
    expect(u.finals).toEqual([302]);
  });
});

describe('pipeline: the best response (§16.7)', () => {
  const cases: Array<[string, UasScript[], number[]]> = [
    [
      'a 6xx ends the search and cancels the others',
      [{ final: { status: 603, afterMs: 200 } }, { ring: true }],
      [603],
    ],
    ['4xx beats 5xx', [{ final: { status: 503 } }, { final: { status: 486 } }], [486]],
    ['a lone 503 becomes 500', [{ final: { status: 503 } }], [500]],
    [
      '3xx beats 4xx (without recursion to try)',
      [{ final: { status: 404 } }, { final: { status: 380 } }],
      [380],
    ],
  ];
  it.each(cases)('%s', async (_name, scripts, finals) => {
    const s = server({ recurse3xx: false });
    const uas = await callees(s, scripts);
    const u = caller(s);
    call(u);
    await s.net.settle();
    expect(u.finals).toEqual(finals);
    if (finals[0] === 603) expect(uas[1]!.cancels).toHaveLength(1);
  });

  it('401 and 407 from two contacts: the caller gets every challenge in one answer', async () => {
    const s = server();
    await callees(s, [
      { final: { status: 401, headers: [['WWW-Authenticate', 'Digest realm="b1", nonce="n1"']] } },
      {
        final: { status: 407, headers: [['Proxy-Authenticate', 'Digest realm="b2", nonce="n2"']] },
      },
      { final: { status: 480 } },
    ]);
    const u = caller(s);
    call(u);
    await s.net.settle();
    const final = finalOf(u)!;
    expect([401, 407]).toContain(final.status);
    expect(final.headers.getAll('www-authenticate')).toEqual(['Digest realm="b1", nonce="n1"']);
    expect(final.headers.getAll('proxy-authenticate')).toEqual(['Digest realm="b2", nonce="n2"']);
  });
});

describe('pipeline: loss (§17 retransmissions recover it)', () => {
  it.each([1, 2, 3, 4, 5, 6])(
    'seed %i, 25 %% loss: registration and a forked call complete',
    async (seed) => {
      const s = server({ loss: 0.25, seed, jitterMs: 5 });
      const [, b2] = await callees(s, [
        { final: { status: 486 } },
        { ring: true, final: { status: 200, afterMs: 300 } },
      ]);
      const bindings = await s.location.lookup(`sip:bob@${DOMAIN}`, s.net.clock.now());
      expect(bindings).toHaveLength(2);
      const u = caller(s);
      call(u);
      await s.net.settle();
      expect(u.finals[0]).toBe(200);
      expect(b2!.acks.length).toBeGreaterThan(0);
      expect(s.net.stats.dropped).toBeGreaterThan(0);
      expect(s.errors).toEqual([]);
    },
  );

  const drops: Array<
    [string, (f: Endpoint, t: Endpoint, m: Parameters<typeof what>[0]) => boolean]
  > = [
    [
      'the REGISTER with credentials',
      (_f, t, m) =>
        t.address === P.address && what(m) === 'REGISTER' && m.headers.has('authorization'),
    ],
    ['the 401', (_f, _t, m) => what(m) === '401 REGISTER'],
    ['the 200 to the REGISTER', (_f, _t, m) => what(m) === '200 REGISTER'],
  ];
  it.each(drops)('%s, lost once: the registration completes', async (_name, pred) => {
    const drop = dropOnce(pred);
    const s = server({ drop });
    await register(s, 'alice', B1);
    expect(drop.state.dropped).toBe(1);
    expect(await s.location.lookup(`sip:alice@${DOMAIN}`, s.net.clock.now())).toHaveLength(1);
  });
});
