/**
 * DTMF INFO bodies (dtmf.ts), pure: what trunks send (Cisco's dtmf-relay, the bare
 * application/dtmf digit) and what hostile peers send (no digit, garbage durations, huge bodies).
 */
import { describe, expect, it } from 'vitest';
import type { SipRequest } from '@tfx/sip';
import type { Leg, SbcCall } from '../src/call.js';
import {
  DTMF_QUEUE_MAX,
  DtmfInterworking,
  INFO_DEFAULT_MS,
  INFO_MAX_BODY,
  INFO_MAX_MS,
  INFO_MIN_MS,
  callerDtmf,
  dtmfRelayBody,
  parseDtmfInfo,
  withDtmf,
} from '../src/dtmf.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const relay = (s: string): ReturnType<typeof parseDtmfInfo> =>
  parseDtmfInfo('application/dtmf-relay', b(s));

describe('parseDtmfInfo', () => {
  it('reads dtmf-relay bodies as trunks send them', () => {
    expect(relay('Signal=5\r\nDuration=160\r\n')).toEqual({
      ok: true,
      digit: '5',
      durationMs: 160,
    });
    expect(relay('Signal= #\nDuration= 250')).toEqual({ ok: true, digit: '#', durationMs: 250 });
    expect(relay('signal=*\r\n')).toEqual({ ok: true, digit: '*', durationMs: INFO_DEFAULT_MS });
    expect(relay('Signal=a\r\nDuration=100\r\n')).toEqual({
      ok: true,
      digit: 'A',
      durationMs: 100,
    });
    // Event numbers (RFC 4733 §3.2) some PBXes write: 10 = *, 11 = #, 12–15 = A–D.
    expect(relay('Signal=11\r\nDuration=100\r\n')).toMatchObject({ ok: true, digit: '#' });
    expect(relay('Signal=10')).toMatchObject({ ok: true, digit: '*' });
  });

  it('reads the bare application/dtmf digit', () => {
    expect(parseDtmfInfo('application/dtmf', b('7\r\n'))).toEqual({
      ok: true,
      digit: '7',
      durationMs: INFO_DEFAULT_MS,
    });
    expect(parseDtmfInfo('application/dtmf', b('77')).ok).toBe(false);
  });

  it('refuses bodies without a digit', () => {
    for (const body of [
      '',
      'Duration=160',
      'Signal=\r\nDuration=160',
      'Signal=E',
      'Signal=16',
      'Signal=55',
      'Signal=1; DROP TABLE',
      'Signal=\u0000',
      '\u0000\u0001\u0002\u00ff',
      'Signal',
      '=5',
    ])
      expect(relay(body).ok, JSON.stringify(body)).toBe(false);
    expect(relay('Signal=5'.padEnd(INFO_MAX_BODY + 1, ' '))).toEqual({
      ok: false,
      reason: `body over ${INFO_MAX_BODY} bytes`,
    });
  });

  it('reads garbage durations as the default and clamps huge or tiny ones', () => {
    for (const d of ['abc', '-5', '1e9', '0x10', '', '99999999999999', '12.5'])
      expect(relay(`Signal=1\r\nDuration=${d}`), d).toEqual({
        ok: true,
        digit: '1',
        durationMs: INFO_DEFAULT_MS,
      });
    expect(relay('Signal=1\r\nDuration=999999999')).toMatchObject({ durationMs: INFO_MAX_MS });
    expect(relay('Signal=1\r\nDuration=1')).toMatchObject({ durationMs: INFO_MIN_MS });
    // The first Signal= and Duration= count; later ones are ignored.
    expect(relay('Signal=2\r\nSignal=3\r\nDuration=90\r\nDuration=5000')).toEqual({
      ok: true,
      digit: '2',
      durationMs: 90,
    });
  });

  it('survives random bytes (never throws)', () => {
    let seed = 7;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(rnd() * 64);
      const body = new Uint8Array(n).map(() => Math.floor(rnd() * 256));
      const r = parseDtmfInfo(i % 2 ? 'application/dtmf' : 'application/dtmf-relay', body);
      if (r.ok) expect('0123456789*#ABCD').toContain(r.digit);
    }
  });
});

describe('the INFO the SBC sends and the trunk modes', () => {
  it('writes dtmf-relay with a bounded duration', () => {
    expect(dtmfRelayBody('#', 120)).toBe('Signal=#\r\nDuration=120\r\n');
    expect(dtmfRelayBody('1', 1e9)).toBe(`Signal=1\r\nDuration=${INFO_MAX_MS}\r\n`);
    expect(relay(dtmfRelayBody('D', 300))).toEqual({ ok: true, digit: 'D', durationMs: 300 });
  });

  it('gives a caller that is an info trunk the info mode', () => {
    const trunks = [
      { zone: 'core', uri: 'sip:127.0.0.11:5070', dtmf: 'info' as const },
      { zone: 'core', uri: 'sip:carrier@[::1]:5070;transport=tcp', dtmf: 'info' as const },
      { zone: 'core', uri: 'sip:127.0.0.12' },
    ];
    expect(callerDtmf(trunks, 'core', '127.0.0.11')).toBe('info');
    expect(callerDtmf(trunks, 'core', '::1')).toBe('info');
    expect(callerDtmf(trunks, 'public', '127.0.0.11')).toBeUndefined();
    expect(callerDtmf(trunks, 'core', '127.0.0.12')).toBeUndefined();
    const p = { dtmf: 'rfc4733' as const, zone: 'x' };
    expect(withDtmf(p, undefined)).toBe(p);
    expect(withDtmf(p, 'info')).toEqual({ dtmf: 'info', zone: 'x' });
  });
});

describe('DtmfInterworking bounds a flood', () => {
  it(`answers 503 past ${DTMF_QUEUE_MAX} digits waiting toward one leg, and plays them in order`, async () => {
    const played: string[] = [];
    const gates: Array<() => void> = [];
    const engine = {
      playDtmf: (_k: unknown, digit: string) =>
        new Promise<void>((resolve) => {
          played.push(digit);
          gates.push(resolve);
        }),
    };
    const dtmf = new DtmfInterworking(engine, () => undefined);
    const from = { profile: { dtmf: 'info' }, mediaTag: 'b' } as unknown as Leg;
    const to = {
      profile: { dtmf: 'rfc4733' },
      mediaTag: 'a',
      remoteSdp: 'm=audio 1 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n',
    } as unknown as Leg;
    const call = { id: 'c', mediaId: 'c', other: () => to } as unknown as SbcCall;
    const info = (body: string): SipRequest =>
      ({
        headers: { get: () => 'application/dtmf-relay' },
        body: Buffer.from(body),
      }) as unknown as SipRequest;
    const statuses: number[] = [];
    for (let i = 0; i < DTMF_QUEUE_MAX + 8; i++)
      dtmf.onInfo(call, from, info(`Signal=${i % 10}`), (st) => statuses.push(st), true);
    expect(statuses.filter((s) => s === 200)).toHaveLength(DTMF_QUEUE_MAX);
    expect(statuses.filter((s) => s === 503)).toHaveLength(8);
    expect(dtmf.counters.overflow).toBe(8);
    // One at a time, in order: each digit starts when the previous one finished.
    await new Promise((r) => setTimeout(r, 0));
    expect(played).toEqual(['0']);
    for (let i = 1; i < 4; i++) {
      gates[i - 1]!();
      await new Promise((r) => setTimeout(r, 0));
      expect(played).toHaveLength(i + 1);
    }
    expect(played).toEqual(['0', '1', '2', '3']);
    // Room again once digits finished.
    dtmf.onInfo(call, from, info('Signal=#'), (st) => statuses.push(st), true);
    expect(statuses.at(-1)).toBe(200);
  });
});
