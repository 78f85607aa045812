/**
 * The pure parts of the upstream registration (upstream.ts): the refresh schedule (RFC 3261
 * §10.2.1: refresh before the granted expiry) and the backoff after failures, with hostile grants
 * that must not make a tight REGISTER loop; then `UpstreamRegistrations` on a ManualClock with a
 * fake zone and registrar: refresh, backoff, reload (keep / change / remove) and close.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, createResponse, type SipRequest, type SipResponse } from '@tfx/sip';
import {
  UPSTREAM_MIN_REFRESH_SECONDS,
  UPSTREAM_RETRY_MAX_SECONDS,
  UpstreamRegistrations,
  refreshSeconds,
  retrySeconds,
  type UpstreamSpec,
} from '../src/upstream.js';
import type { TrunkSpec } from '../src/types.js';
import type { ZoneAgent } from '../src/zone.js';

describe('upstream refresh schedule', () => {
  it.each([
    [3600, 3600, 3240],
    [600, 600, 540],
    [60, 600, 54],
    [20, 20, 15],
    [30, 60, 25],
  ])('a %i s grant (asked %i s) is refreshed after %i s', (granted, asked, at) => {
    expect(refreshSeconds(granted, asked)).toBe(at);
  });

  it('never refreshes sooner than 5 s, whatever the carrier grants', () => {
    for (const g of [1, 2, 5, 9, 10])
      expect(refreshSeconds(g, 600)).toBe(UPSTREAM_MIN_REFRESH_SECONDS);
  });

  it('a grant that is no positive finite number falls back to what was asked for', () => {
    for (const g of [0, -5, NaN, Infinity, -Infinity]) expect(refreshSeconds(g, 600)).toBe(540);
    expect(refreshSeconds(NaN, NaN)).toBe(UPSTREAM_MIN_REFRESH_SECONDS);
    expect(refreshSeconds(0, 0)).toBe(UPSTREAM_MIN_REFRESH_SECONDS);
  });

  it('a huge grant stays within a timer’s range', () => {
    expect(refreshSeconds(2 ** 40, 600) * 1000).toBeLessThan(2 ** 31);
  });
});

describe('upstream backoff after failures', () => {
  it('doubles from the base per failure in a row, up to 600 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retrySeconds(n, 30))).toEqual([
      30, 60, 120, 240, 480, 600, 600,
    ]);
    expect(retrySeconds(1)).toBe(30);
    expect(retrySeconds(1_000_000, 30)).toBe(UPSTREAM_RETRY_MAX_SECONDS);
  });

  it('hostile inputs count as the first failure with a sane base (never below 1 s, never a loop)', () => {
    for (const n of [0, -1, NaN, 1.5, Infinity]) expect(retrySeconds(n, 30)).toBe(30);
    for (const b of [0, -3, NaN, 0.001]) expect(retrySeconds(1, b)).toBe(30);
    expect(retrySeconds(1, 5)).toBe(5);
    expect(retrySeconds(2, 10_000)).toBe(UPSTREAM_RETRY_MAX_SECONDS);
  });
});

// --- the registrations on a manual clock, with a fake zone and registrar ------------------------

interface FakeRegistrar {
  /** Every REGISTER sent: its Expires and Contact. */
  readonly seen: { expires: string | undefined; contact: string | undefined }[];
  /** What the registrar answers (status, the granted expiry in the Contact, extra fields). */
  answer: { status: number; grant?: number | string; headers?: [string, string][] };
}

function fakeZone(reg: FakeRegistrar, clock: ManualClock): ZoneAgent {
  const zone = {
    name: 'carrier',
    hopFor: (uri: { host: string; port?: number }) => ({
      transport: 'udp',
      address: uri.host,
      port: uri.port ?? 5060,
    }),
    stack: {
      sentBy: () => ({ host: '192.0.2.10', port: 5090 }),
      sendRequest: (
        req: SipRequest,
        _hop: unknown,
        l: { onResponse(r: SipResponse): void; onError(): void },
      ) => {
        const expires = req.headers.get('expires');
        const contact = req.headers.get('contact');
        reg.seen.push({ expires, contact });
        const { status, grant, headers = [] } = reg.answer;
        clock.setTimer(10, () =>
          l.onResponse(
            createResponse(req, status, undefined, {
              headers: [
                ...(status < 300 && expires !== '0'
                  ? [['Contact', `${contact ?? ''};expires=${grant ?? expires ?? 60}`] as const]
                  : []),
                ...headers,
              ],
            }),
          ),
        );
      },
    },
  };
  return zone as unknown as ZoneAgent;
}

function trunk(o: Partial<UpstreamSpec> = {}, name = 'carrier'): TrunkSpec {
  return {
    name,
    zone: 'carrier',
    uri: 'sip:192.0.2.7:5060',
    register: { user: 'tfx', password: 'pw', expiresSeconds: 60, ...o },
  };
}

function rig(answer: FakeRegistrar['answer']) {
  const clock = new ManualClock(1_000_000);
  const reg: FakeRegistrar = { seen: [], answer };
  const zones = new Map([['carrier', fakeZone(reg, clock)]]);
  const up = new UpstreamRegistrations({ zones, clock });
  /** Advances in 100 ms steps (each response is 10 ms away). */
  const run = (ms: number) => {
    for (let t = 0; t < ms; t += 100) clock.advance(100);
  };
  return { clock, reg, up, run };
}

describe('upstream registrations (fake zone, manual clock)', () => {
  it('registers, reports the binding, and refreshes at granted − max(5 s, 10 %)', () => {
    const t = rig({ status: 200 });
    t.up.apply([trunk({ realm: 'carrier.example', contactUser: 'in' })]);
    t.run(200);
    const s = t.up.status('carrier');
    expect(s).toMatchObject({
      state: 'registered',
      lastStatus: 200,
      aor: 'sip:tfx@carrier.example',
    });
    expect(s?.expiresAt).toBe(1_000_000 + 10 + 60_000);
    expect(t.reg.seen[0]?.contact).toBe('<sip:in@192.0.2.10:5090>');
    t.run(54_000);
    expect(t.reg.seen).toHaveLength(2);
    expect(t.up.status('carrier')?.refreshes).toBe(1);
  });

  it('a hostile grant of 1 s makes no tight loop: at most one REGISTER per 5 s', () => {
    const t = rig({ status: 200, grant: 1 });
    t.up.apply([trunk()]);
    t.run(60_000);
    expect(t.reg.seen.length).toBeLessThanOrEqual(13);
    expect(t.reg.seen.length).toBeGreaterThanOrEqual(10);
  });

  it('a refusal is `failed` with its status, retried after 30 s, then 60 s (backoff)', () => {
    const t = rig({ status: 403 });
    t.up.apply([trunk()]);
    t.run(200);
    expect(t.up.status('carrier')).toMatchObject({
      state: 'failed',
      lastStatus: 403,
      reason: 'status',
    });
    t.run(29_000);
    expect(t.reg.seen).toHaveLength(1);
    t.run(1_500);
    expect(t.reg.seen).toHaveLength(2);
    t.run(58_000);
    expect(t.reg.seen).toHaveLength(2);
    t.run(2_500);
    expect(t.reg.seen).toHaveLength(3);
    expect(t.up.status('carrier')?.failures).toBe(3);
  });

  it('a reload keeps an unchanged registration, re-registers a changed one (Expires: 0 first) and unregisters a removed one', () => {
    const t = rig({ status: 200 });
    t.up.apply([trunk(), trunk({}, 'other')]);
    t.run(200);
    expect(t.reg.seen).toHaveLength(2);
    t.up.apply([trunk(), trunk({}, 'other')]);
    t.run(200);
    expect(t.reg.seen).toHaveLength(2);
    t.up.apply([trunk({ expiresSeconds: 120 }), trunk({}, 'other')]);
    t.run(200);
    expect(
      t.reg.seen
        .slice(2)
        .map((r) => r.expires)
        .sort(),
    ).toEqual(['0', '120']);
    expect(t.up.status('carrier')?.state).toBe('registered');
    t.up.apply([trunk({ expiresSeconds: 120 })]);
    t.run(200);
    expect(t.reg.seen.at(-1)?.expires).toBe('0');
    expect(t.up.status('other')).toBeUndefined();
    expect(t.up.list().map((s) => s.trunk)).toEqual(['carrier']);
  });

  it('close() unregisters what it holds, not what failed; twice is harmless; apply after close does nothing', async () => {
    const t = rig({ status: 200 });
    t.up.apply([trunk()]);
    t.run(200);
    const closing = t.up.close(1000);
    t.run(200);
    await closing;
    expect(t.reg.seen.at(-1)?.expires).toBe('0');
    await t.up.close();
    t.up.apply([trunk()]);
    t.run(200);
    expect(t.reg.seen).toHaveLength(2);
    const f = rig({ status: 500 });
    f.up.apply([trunk()]);
    f.run(200);
    await f.up.close(10);
    expect(f.reg.seen).toHaveLength(1);
  });

  const authAnswers: [string, FakeRegistrar['answer']][] = [
    ['a 401 without a challenge', { status: 401 }],
    [
      'a 401 with a garbage challenge',
      { status: 401, headers: [['WWW-Authenticate', 'Digest ,,,=']] },
    ],
    [
      'a 407 with an unknown scheme',
      { status: 407, headers: [['Proxy-Authenticate', 'Negotiate abc']] },
    ],
  ];
  it.each(authAnswers)('%s fails it (`auth`) and it backs off', (_name, answer) => {
    const t = rig(answer);
    t.up.apply([trunk()]);
    t.run(200);
    expect(t.up.status('carrier')).toMatchObject({ state: 'failed', reason: 'auth' });
    t.run(29_000);
    expect(t.reg.seen).toHaveLength(1);
  });

  it('a 2xx with a garbage or huge expiry neither loops nor overflows a timer', () => {
    for (const grant of ['abc', '-5', '99999999999999']) {
      const t = rig({ status: 200, grant });
      t.up.apply([trunk()]);
      t.run(30_000);
      expect(t.up.status('carrier')?.state).toBe('registered');
      expect(t.reg.seen.length).toBeLessThanOrEqual(2);
    }
  });

  it('a trunk whose zone is unknown or whose URI is bad is not started (no throw)', () => {
    const t = rig({ status: 200 });
    t.up.apply([
      { ...trunk(), zone: 'nowhere' },
      { ...trunk({}, 'bad'), uri: 'not a uri' },
    ]);
    t.run(200);
    expect(t.reg.seen).toHaveLength(0);
    expect(t.up.list()).toEqual([]);
  });
});
