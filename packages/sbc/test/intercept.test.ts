/**
 * Lawful intercept's pure parts (intercept.ts): which calls match a target (user, number,
 * source CIDR), and what a caller's INVITE is matched on.
 */
import { describe, expect, it } from 'vitest';
import { parseMessage, type SipRequest } from '@tfx/sip';
import { canonicalNumber, factsOf, matchTarget, type InterceptTarget } from '../src/index.js';

const invite = (headers: string, ruri = 'sip:+4420794600@127.0.0.10'): SipRequest => {
  const text =
    `INVITE ${ruri} SIP/2.0\r\n` +
    'Via: SIP/2.0/UDP 127.0.0.12:5060;branch=z9hG4bK1\r\n' +
    'Call-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n' +
    `${headers}Content-Length: 0\r\n\r\n`;
  const r = parseMessage(new TextEncoder().encode(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad test message');
  return r.message;
};

const t = (kind: InterceptTarget['kind'], value: string): InterceptTarget => ({
  id: `li-t-${kind}`,
  kind,
  value,
});

describe('lawful intercept matching', () => {
  const req = invite(
    'From: <sip:Alice@example.org>;tag=1\r\nTo: <sip:bob@example.org>\r\n' +
      'P-Asserted-Identity: <tel:+15551234567>\r\n',
  );
  const facts = factsOf(req, '+4420794600', 'alice-auth', '192.0.2.7');

  it('matches a user on the caller (any case), its digest user or the callee', () => {
    expect(matchTarget([t('user', 'alice')], facts)?.id).toBe('li-t-user');
    expect(matchTarget([t('user', 'alice-auth')], facts)).toBeDefined();
    expect(matchTarget([t('user', 'bob')], facts)).toBeDefined();
    expect(matchTarget([t('user', 'carol')], facts)).toBeUndefined();
  });

  it('matches a number on the called number, or the asserted calling one, separators aside', () => {
    expect(matchTarget([t('number', '+44 (20) 794-600')], facts)).toBeDefined();
    expect(matchTarget([t('number', '+15551234567')], facts)).toBeDefined();
    expect(matchTarget([t('number', '4420794600')], facts)).toBeUndefined();
    expect(canonicalNumber('+1 (555) 123-4567')).toBe('+15551234567');
  });

  it('matches a source address in a CIDR, IPv4 and IPv6, and nothing for another family', () => {
    expect(matchTarget([t('source', '192.0.2.0/24')], facts)).toBeDefined();
    expect(matchTarget([t('source', '192.0.3.0/24')], facts)).toBeUndefined();
    expect(matchTarget([t('source', '2001:db8::/32')], facts)).toBeUndefined();
    const v6 = factsOf(req, undefined, undefined, '2001:db8::7');
    expect(matchTarget([t('source', '2001:db8::/32')], v6)).toBeDefined();
  });

  it('never matches on an unparsable target or source (no throw)', () => {
    expect(matchTarget([t('source', 'not-a-cidr')], facts)).toBeUndefined();
    const odd = factsOf(req, undefined, undefined, 'garbage');
    expect(matchTarget([t('source', '0.0.0.0/0')], odd)).toBeUndefined();
    expect(matchTarget([], facts)).toBeUndefined();
  });

  it('takes the first matching target', () => {
    expect(matchTarget([t('number', '999'), t('source', '192.0.2.7')], facts)?.kind).toBe('source');
  });
});
