/**
 * The REGISTER client (RFC 3261 §10.2) on the lossy in-memory network with a ManualClock,
 * against a registrar built on the real digest server (DigestServer, NonceManager): digest
 * answers, refresh before expiry, 423 Min-Expires, failures and retry, unregister.
 */
import { describe, expect, it } from 'vitest';
import {
  DigestServer,
  NonceManager,
  computeHa1,
  nodeDigestHash,
  nodeNonceCrypto,
} from '../../src/auth/index.js';
import { createResponse, type SipRequest, type SipResponse } from '../../src/syntax/index.js';
import type { IncomingRequest } from '../../src/transaction/index.js';
import { Registration, type RegistrationInfo, type RegistrationState } from '../../src/ua/index.js';
import { network, type NetworkOptions } from '../transaction/harness.js';

interface RegistrarPolicy {
  /** Min-Expires: shorter requests get 423. */
  minExpires?: number;
  /** The most it grants. */
  maxExpires?: number;
  password?: string;
  /** Answer nothing (a dead registrar). */
  silent?: boolean;
  /** Answer this status instead (e.g. 503), with Retry-After 30. */
  status?: number;
}

function setup(
  policy: RegistrarPolicy = {},
  net: NetworkOptions = {},
  reg: {
    password?: string;
    expires?: number;
    retryDelay?: (failures: number) => number;
    refreshDelay?: (seconds: number) => number;
  } = {},
) {
  const realm = 'tfx.test';
  const box: { clock?: { now(): number } } = {};
  const nonces = new NonceManager({
    secret: 'a-test-secret-of-32-characters!!',
    crypto: nodeNonceCrypto,
    clock: { now: () => box.clock?.now() ?? 0 },
  });
  const digest = new DigestServer({ realm, hash: nodeDigestHash, nonces });
  const requests: SipRequest[] = [];
  const bindings: number[] = [];
  const registrar = async (i: IncomingRequest) => {
    const req = i.request;
    requests.push(req);
    if (policy.silent) return;
    const send = (r: SipResponse) => i.transaction?.respond(r);
    if (policy.status) {
      send(createResponse(req, policy.status, undefined, { headers: [['Retry-After', '30']] }));
      return;
    }
    const verdict = await digest.verify({
      header: req.headers.getAll('authorization'),
      method: req.method,
      requestUri: req.uriText,
      lookupHa1: (user, r, alg) =>
        user === 'alice'
          ? computeHa1(nodeDigestHash, alg, user, r, policy.password ?? 'pw')
          : undefined,
    });
    if (!verdict.ok) {
      const ch = digest.challenge(verdict.action === 'challenge' && verdict.stale);
      send(
        verdict.action === 'challenge'
          ? createResponse(req, 401, undefined, {
              headers: ch.values.map((v) => [ch.headerName, v] as const),
            })
          : createResponse(req, verdict.status),
      );
      return;
    }
    const asked = req.headers.expires() ?? 3600;
    if (asked > 0 && policy.minExpires !== undefined && asked < policy.minExpires) {
      send(
        createResponse(req, 423, undefined, {
          headers: [['Min-Expires', String(policy.minExpires)]],
        }),
      );
      return;
    }
    const granted = Math.min(asked, policy.maxExpires ?? asked);
    bindings.push(granted);
    const contact = req.headers.get('contact') ?? '';
    send(
      createResponse(req, 200, undefined, {
        headers: granted > 0 ? [['Contact', `${contact};expires=${granted}`]] : [],
      }),
    );
  };
  const n = network(
    { onRequest: () => {}, onStrayResponse: () => {} },
    { onRequest: (i) => void registrar(i), onStrayResponse: () => {} },
    net,
  );
  box.clock = n.clock;
  const states: Array<[RegistrationState, RegistrationInfo]> = [];
  const r = new Registration({
    clock: n.clock,
    registrar: 'sip:10.0.0.2',
    aor: 'sip:alice@tfx.test',
    contact: () => '<sip:alice@10.0.0.1:5060>',
    via: () => ({ transport: 'UDP', host: '10.0.0.1', port: 5060 }),
    password: reg.password ?? 'pw',
    expires: reg.expires ?? 600,
    hash: nodeDigestHash,
    cnonce: () => 'c0ffee',
    retryAfter: 20,
    ...(reg.retryDelay && { retryDelay: reg.retryDelay }),
    ...(reg.refreshDelay && { refreshDelay: reg.refreshDelay }),
    send: (req, onFinal) => {
      n.a.sendRequest(req, n.target, {
        onResponse: (resp) => resp.status >= 200 && onFinal(resp),
        onError: () => onFinal(undefined),
      });
    },
    onStateChange: (s, info) => states.push([s, info]),
  });
  /** Advances the clock in small steps, letting the registrar's async digest check run. */
  const run = async (ms: number, step = 50) => {
    for (let t = 0; t < ms; t += step) {
      n.clock.advance(step);
      for (let k = 0; k < 6; k++) await Promise.resolve();
    }
  };
  return { n, r, states, requests, bindings, run };
}

describe('REGISTER client (RFC 3261 §10.2)', () => {
  it('§22.2: answers the 401 with digest and is registered; the granted expiry is the one of its Contact', async () => {
    const t = setup({ maxExpires: 300 });
    t.r.register();
    await t.run(2000);
    expect(t.states.map(([s]) => s)).toEqual(['registering', 'registered']);
    expect(t.states[1]![1]).toMatchObject({ status: 200, expires: 300 });
    expect(t.requests).toHaveLength(2);
    expect(t.requests[0]!.headers.get('authorization')).toBeUndefined();
    expect(t.requests[1]!.headers.get('authorization')).toMatch(/^Digest .*username="alice"/);
    // §10.2: one Call-ID, CSeq + 1 per REGISTER.
    expect(new Set(t.requests.map((q) => q.headers.callId())).size).toBe(1);
    expect(t.requests[1]!.headers.cseq()!.seq).toBe(t.requests[0]!.headers.cseq()!.seq + 1);
    expect(t.r.counters.challenges).toBe(1);
  });

  for (const [granted, refreshAt] of [
    [60, 54],
    [600, 540],
    [3600, 3240],
    [8, 3],
  ] as const) {
    it(`refreshes a ${granted} s binding at expires − max(5 s, 10 %) = ${refreshAt} s, and stays registered`, async () => {
      const t = setup({ maxExpires: granted }, {}, { expires: granted });
      t.r.register();
      await t.run(1000);
      const before = t.requests.length;
      await t.run(refreshAt * 1000 - 1500, refreshAt > 100 ? 500 : 50);
      expect(t.requests.length).toBe(before);
      await t.run(2000);
      expect(t.requests.length).toBeGreaterThan(before);
      expect(t.r.state).toBe('registered');
      expect(t.r.counters.refreshes).toBe(1);
    });
  }

  it('keeps a registration up for two hours on a lossy network (20 % loss)', async () => {
    const t = setup({ maxExpires: 120 }, { loss: 0.2, seed: 4 }, { expires: 120 });
    t.r.register();
    await t.run(2 * 3600_000, 1000);
    expect(t.r.state).toBe('registered');
    expect(t.r.counters.refreshes).toBeGreaterThanOrEqual(60);
  });

  it('§10.2.8: 423 Interval Too Brief → retries with the Min-Expires', async () => {
    const t = setup({ minExpires: 1800 }, {}, { expires: 60 });
    t.r.register();
    await t.run(3000);
    expect(t.r.state).toBe('registered');
    expect(t.r.expires).toBe(1800);
    expect(t.requests.at(-1)!.headers.get('expires')).toBe('1800');
    expect(t.r.counters.intervalTooBrief).toBe(1);
  });

  it('wrong password: the registrar refuses the credentials (403), it fails, then retries after retryAfter', async () => {
    const t = setup({}, {}, { password: 'wrong' });
    t.r.register();
    await t.run(2000);
    expect(t.r.state).toBe('failed');
    expect(t.states.at(-1)![1]).toMatchObject({ status: 403, reason: 'status' });
    const n = t.requests.length;
    expect(n).toBe(2);
    await t.run(21_000, 200);
    expect(t.requests.length).toBeGreaterThan(n);
  });

  it('backs off after failures in a row (retryDelay: 10 s, then 20 s), and a 2xx resets the count', async () => {
    const t = setup({}, {}, { password: 'wrong', retryDelay: (n) => 10 * 2 ** (n - 1) });
    t.r.register();
    await t.run(2000);
    expect(t.r.state).toBe('failed');
    expect(t.requests).toHaveLength(2);
    await t.run(7_000, 200); // +9 s: the first wait (10 s) is not over
    expect(t.requests).toHaveLength(2);
    await t.run(3_000, 200); // +12 s: one retry round (REGISTER, 401, digest, 403)
    expect(t.requests).toHaveLength(4);
    await t.run(17_000, 200); // +29 s: the second wait (20 s from ~10 s) is not over
    expect(t.requests).toHaveLength(4);
    await t.run(4_000, 200);
    expect(t.requests).toHaveLength(6);
  });

  it('with retryDelay a Retry-After shorter than the backoff is not honoured (no tight loop), a longer one is', async () => {
    const t = setup({ status: 503 }, {}, { retryDelay: () => 60 });
    t.r.register();
    await t.run(1000);
    expect(t.r.state).toBe('failed');
    await t.run(45_000, 500); // Retry-After says 30 s; the backoff says 60 s
    expect(t.requests).toHaveLength(1);
    await t.run(16_000, 500);
    expect(t.requests).toHaveLength(2);
    const u = setup({ status: 503 }, {}, { retryDelay: () => 5 });
    u.r.register();
    await u.run(20_000, 500); // Retry-After 30 s outweighs a 5 s backoff
    expect(u.requests).toHaveLength(1);
    await u.run(12_000, 500);
    expect(u.requests).toHaveLength(2);
  });

  it('refreshDelay replaces the default refresh schedule', async () => {
    const t = setup({}, {}, { expires: 600, refreshDelay: () => 100_000 });
    t.r.register();
    await t.run(2000);
    expect(t.r.state).toBe('registered');
    const n = t.requests.length;
    await t.run(97_000, 1000);
    expect(t.requests).toHaveLength(n);
    await t.run(3_000, 500);
    expect(t.requests.length).toBeGreaterThan(n);
  });

  it('a 503 with Retry-After fails it and it registers again after Retry-After; a silent registrar → timeout', async () => {
    const t = setup({ status: 503 });
    t.r.register();
    await t.run(1000);
    expect(t.r.state).toBe('failed');
    expect(t.states.at(-1)![1]).toMatchObject({ status: 503, reason: 'status' });
    await t.run(29_000, 500);
    expect(t.requests).toHaveLength(1);
    await t.run(2_000, 100);
    expect(t.requests).toHaveLength(2);
    const s = setup({ silent: true });
    s.r.register();
    await s.run(40_000, 500);
    expect(s.r.state).toBe('failed');
    expect(s.states.at(-1)![1].reason).toBe('timeout');
  });

  it('§10.2.2: unregister sends Expires: 0 (answering the challenge) and ends unregistered; close() stops refreshes', async () => {
    const t = setup();
    t.r.register();
    await t.run(1000);
    t.r.unregister();
    await t.run(2000);
    expect(t.r.state).toBe('unregistered');
    expect(t.requests.at(-1)!.headers.get('expires')).toBe('0');
    expect(t.bindings.at(-1)).toBe(0);
    t.r.register();
    await t.run(1000);
    t.r.close();
    t.r.close();
    const n = t.requests.length;
    await t.run(700_000, 5000);
    expect(t.requests.length).toBe(n);
    expect(() => t.r.register()).toThrow(/closed/);
  });
});
