import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_TARGET_LENGTH,
  cleanPhrase,
  failureReason,
  nextCallState,
  parseDialTarget,
  validDtmf,
  type CallEvent,
  type CallSnapshot,
} from '../src/sip/index.js';

const D = 'tfx.test';

describe('parseDialTarget: what a person types becomes a Request-URI', () => {
  it.each([
    ['+1 (555) 010-2000', 'sip:+15550102000@tfx.test', '+15550102000'],
    ['4420001', 'sip:4420001@tfx.test', '4420001'],
    ['*97#', 'sip:*97%23@tfx.test', '*97#'],
    ['alice', 'sip:alice@tfx.test', 'alice'],
    ['alice@example.org', 'sip:alice@example.org', 'alice@example.org'],
    ['sip:bob@127.0.0.11:5070', 'sip:bob@127.0.0.11:5070', 'bob@127.0.0.11:5070'],
    ['SIPS:bob@[2001:db8::1]', 'sips:bob@[2001:db8::1]', 'bob@[2001:db8::1]'],
  ])('%s → %s', (input, uri, display) => {
    expect(parseDialTarget(input, D)).toEqual({ ok: true, uri, display });
  });

  it.each([
    ['', 'Enter a number'],
    ['   ', 'Enter a number'],
    ['+', 'at least one digit'],
    ['1'.repeat(33), 'at most 32 digits'],
    ['x'.repeat(MAX_TARGET_LENGTH + 1), 'too long'],
    // RFC 3261 §25.1 allows `;` and `?` in a user part and a URI: a typed address may not carry
    // parameters or headers (`?Route=…`) into our INVITE.
    ['sip:bob@evil.example;transport=tcp', 'Parameters'],
    ['sip:bob@host?Route=%3Csip:evil%3E', 'Parameters'],
    ['bob@host\r\nVia: SIP/2.0/UDP evil', 'no spaces'],
    ['bob\u0000@host', 'no spaces'],
    ['<sip:bob@host>', 'no spaces'],
    ['"Bob" bob@host', 'no spaces'],
    ['tel:+15550100', 'Only sip:'],
    ['http://example.org', 'Only sip:'],
    ['bob@-bad-.host', 'host'],
    ['bob@host:0', 'host'],
    ['bob@host:70000', 'host'],
    ['bob@', 'host'],
    ['@host', 'user part'],
    ['b%zzob@host', 'user part'],
  ])('refuses %j with a sentence', (input, words) => {
    const r = parseDialTarget(input, D);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(words);
  });

  it('refuses to dial when the configured domain itself is not a host', () => {
    expect(parseDialTarget('123', 'evil host;x=1')).toEqual({
      ok: false,
      error: 'The SIP domain is not valid.',
    });
  });

  it('never yields a URI with whitespace, angle brackets, quotes, parameters or headers (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (s) => {
        const r = parseDialTarget(s, D);
        if (r.ok) {
          expect(r.uri).toMatch(/^sips?:[^\s<>";?]+$/);
          expect(r.uri.length).toBeLessThan(MAX_TARGET_LENGTH + 20);
        } else expect(r.error.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('is not slow on pathological input (a 1 MB string is refused by length first)', () => {
    expect(parseDialTarget('1-'.repeat(500_000), D).ok).toBe(false);
    expect(parseDialTarget('a'.repeat(250) + '@' + 'b.'.repeat(3), D).ok).toBe(false);
  });
});

describe('validDtmf: what reaches RTCDTMFSender.insertDTMF (W3C WebRTC §7.2)', () => {
  it('takes 0-9, A-D, * # and the pause', () => {
    expect(validDtmf('0123456789ABCDabcd*#,')).toBe(true);
  });
  it.each(['', 'E', '1 2', '1\n', '１', 'x'.repeat(65), '1'.repeat(65)])('refuses %j', (t) => {
    expect(validDtmf(t)).toBe(false);
  });
});

describe('failureReason: a final status in words, the network’s phrase cleaned', () => {
  it.each([
    [486, 'Busy Here', 'Busy (486 Busy Here)'],
    [404, 'Not Found', 'Number not found (404 Not Found)'],
    [403, 'Forbidden', 'Not allowed: this account may not call that destination (403 Forbidden)'],
    [
      503,
      'Service Unavailable',
      'The service is busy: try again shortly (503 Service Unavailable)',
    ],
    [407, '', 'Sign-in required: anonymous callers cannot dial out'],
    [599, undefined, 'The phone network failed'],
    [450, undefined, 'The call failed'],
  ])('%i %s', (status, phrase, text) => {
    expect(failureReason(status, phrase)).toBe(text);
  });

  it('copes with statuses and phrases no server should send', () => {
    expect(failureReason(NaN, 'x')).toBe('The call failed (? x)');
    expect(failureReason(200)).toBe('The call failed');
    expect(failureReason(-1, 42)).toBe('The call failed');
    const huge = failureReason(480, 'A'.repeat(100_000));
    expect(huge.length).toBeLessThan(120);
    expect(cleanPhrase('Busy\r\nX-Injected: 1\u0000')).toBe('Busy  X-Injected: 1');
  });
});

describe('nextCallState: the call state machine', () => {
  const run = (start: CallSnapshot, events: CallEvent[]): CallSnapshot[] => {
    const out: CallSnapshot[] = [start];
    for (const e of events) out.push(nextCallState(out.at(-1)!, e) ?? out.at(-1)!);
    return out;
  };

  it('an outgoing call: 100 (hop-by-hop, no change) → 180 ringing → 200 connected → hang up', () => {
    expect(
      run({ state: 'dialling' }, [
        { type: 'provisional', status: 100 },
        { type: 'provisional', status: 180 },
        { type: 'provisional', status: 183 },
        { type: 'answered' },
        { type: 'hangup' },
      ]).map((s) => s.state),
    ).toEqual(['dialling', 'dialling', 'ringing', 'ringing', 'connected', 'ended']);
  });

  it('a refusal fails the call with its reason and status; later events change nothing', () => {
    const s = run({ state: 'ringing' }, [
      { type: 'final', status: 486, phrase: 'Busy Here' },
      { type: 'answered' },
      { type: 'remote-ended' },
      { type: 'hangup' },
    ]);
    expect(s.at(-1)).toEqual({ state: 'failed', reason: 'Busy (486 Busy Here)', status: 486 });
  });

  it('our own CANCEL answered 487 ends the call as cancelled, not failed (RFC 3261 §9.1)', () => {
    expect(nextCallState({ state: 'ringing' }, { type: 'final', status: 487 })).toEqual({
      state: 'ended',
      reason: 'Cancelled',
      status: 487,
    });
  });

  it('an incoming call: answer → connecting → connected → the other side hangs up', () => {
    expect(
      run({ state: 'incoming' }, [
        { type: 'provisional', status: 180 },
        { type: 'answer' },
        { type: 'answered' },
        { type: 'remote-ended' },
      ]).map((s) => [s.state, s.reason]),
    ).toEqual([
      ['incoming', undefined],
      ['incoming', undefined],
      ['connecting', undefined],
      ['connected', undefined],
      ['ended', 'The other side hung up'],
    ]);
  });

  it('a ringing incoming call that the caller cancels, or that we decline, ends', () => {
    expect(nextCallState({ state: 'incoming' }, { type: 'remote-ended' })?.reason).toBe(
      'The caller gave up',
    );
    expect(nextCallState({ state: 'incoming' }, { type: 'hangup' })?.reason).toBe('Declined');
  });

  it('a final response after the call connected is ignored (a retransmission, a late fork)', () => {
    expect(nextCallState({ state: 'connected' }, { type: 'final', status: 500 })).toBeNull();
  });

  it('any sequence of events ends in at most one final state and never leaves it (property)', () => {
    const ev: fc.Arbitrary<CallEvent> = fc.oneof(
      fc.integer({ min: -5, max: 800 }).map((status) => ({ type: 'provisional', status }) as const),
      fc.constant({ type: 'answered' } as const),
      fc.constant({ type: 'answer' } as const),
      fc
        .tuple(fc.integer({ min: -5, max: 800 }), fc.string({ maxLength: 500 }))
        .map(([status, phrase]) => ({ type: 'final', status, phrase }) as const),
      fc.string({ maxLength: 1000 }).map((reason) => ({ type: 'error', reason }) as const),
      fc.constant({ type: 'hangup' } as const),
      fc.constant({ type: 'remote-ended' } as const),
    );
    fc.assert(
      fc.property(
        fc.constantFrom<CallSnapshot>({ state: 'dialling' }, { state: 'incoming' }),
        fc.array(ev, { maxLength: 30 }),
        (start, events) => {
          const states = run(start, events);
          const first = states.findIndex((s) => s.state === 'ended' || s.state === 'failed');
          if (first >= 0) for (const s of states.slice(first)) expect(s).toBe(states[first]);
          for (const s of states) expect((s.reason ?? '').length).toBeLessThanOrEqual(200);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
