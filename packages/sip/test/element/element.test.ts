import { describe, expect, it } from 'vitest';
import {
  BRANCH_COOKIE,
  BRANCH_PREFIX,
  canonicalHost,
  copyRequest,
  createRequest,
  formatVia,
  hasLooped,
  hopOf,
  loopHash,
  newBranch,
  parseMessage,
  parseUri,
  serializeMessage,
  recordRouteValue,
  statelessBranch,
  viaValue,
  withUri,
  type SipRequest,
} from '../../src/index.js';

function invite(uri = 'sip:bob@example.com'): SipRequest {
  return createRequest({
    method: 'INVITE',
    uri,
    from: '<sip:alice@example.com>;tag=a1',
    to: '<sip:bob@example.com>',
    callId: 'c1',
    via: { transport: 'udp', host: '192.0.2.1', port: 5060, branch: `${BRANCH_COOKIE}x1` },
  });
}

function reparse(r: SipRequest): SipRequest {
  const m = parseMessage(serializeMessage(r));
  if (!m.ok || m.message.kind !== 'request') throw new Error('reparse');
  return m.message;
}

describe('element helpers (RFC 3261 §16)', () => {
  it('one host canonicaliser: brackets, case, RFC 5952 IPv6 and IPv4-mapped addresses', () => {
    expect(canonicalHost('[2001:DB8:0:0:0:0:0:1]')).toBe('2001:db8::1');
    expect(canonicalHost('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalHost('Example.COM')).toBe('example.com');
    expect(canonicalHost('fe80::1%eth0')).toBe('fe80::1');
  });

  it('one branch cookie: every branch begins with z9hG4bK (§8.1.1.7)', () => {
    expect(BRANCH_PREFIX.startsWith(BRANCH_COOKIE)).toBe(true);
    expect(newBranch('00000000').startsWith(BRANCH_COOKIE)).toBe(true);
    expect(statelessBranch(invite()).startsWith(BRANCH_COOKIE)).toBe(true);
  });

  it('one Via builder: brackets IPv6, adds rport when asked (RFC 3581)', () => {
    expect(formatVia({ transport: 'tcp', host: '::1', port: 5, branch: 'z9hG4bKb' })).toBe(
      'SIP/2.0/TCP [::1]:5;branch=z9hG4bKb',
    );
    expect(viaValue({ host: '10.0.0.1', port: 5060 }, 'udp', 'z9hG4bKq')).toBe(
      'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKq;rport',
    );
  });

  it('Record-Route names us with lr and, when given, a flow token as the user part', () => {
    expect(recordRouteValue({ host: '::1', port: 5061 }, 'tls', 'tok')).toBe(
      '<sip:tok@[::1]:5061;transport=tls;lr>',
    );
  });

  it('§16.3 step 4: a request carrying our branch with the same hash has looped', () => {
    const r = invite();
    const out = copyRequest(r);
    out.headers.prepend(
      'Via',
      viaValue({ host: '10.0.0.1', port: 5060 }, 'udp', newBranch(loopHash(r))),
    );
    expect(hasLooped(reparse(out))).toBe(true);
  });

  it('§16.3 step 4: a spiral (the Request-URI changed) is not a loop', () => {
    const r = invite();
    const out = copyRequest(r);
    out.headers.prepend(
      'Via',
      viaValue({ host: '10.0.0.1', port: 5060 }, 'udp', newBranch(loopHash(r))),
    );
    const u = parseUri('sip:bob@192.0.2.9:5070');
    if (!u.ok) throw new Error('uri');
    withUri(out, u.value);
    expect(hasLooped(reparse(out))).toBe(false);
    expect(hasLooped(r)).toBe(false);
  });

  it('copyRequest leaves the original untouched', () => {
    const r = invite();
    const out = copyRequest(r);
    out.headers.set('Max-Forwards', '1');
    expect(r.headers.maxForwards()).toBe(70);
  });

  it('hopOf: transport parameter, sips and default ports (§19.1.2)', () => {
    const hop = (s: string) => {
      const u = parseUri(s);
      if (!u.ok) throw new Error(s);
      return hopOf(u.value);
    };
    expect(hop('sip:a@[2001:db8::1]')).toEqual({
      transport: 'udp',
      remote: { address: '2001:db8::1', port: 5060 },
    });
    expect(hop('sips:a@h.example')?.remote.port).toBe(5061);
    expect(hop('sip:a@h;transport=tcp')?.transport).toBe('tcp');
    expect(hop('sip:a@h;transport=sctp')).toBeUndefined();
    expect(hop('tel:+123')).toBeUndefined();
  });
});
