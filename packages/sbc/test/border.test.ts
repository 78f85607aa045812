/**
 * The pure parts of the SBC's border security (issue #17 item 4): the CIDR matcher of the zone
 * ACLs (IPv4, IPv6, mapped addresses, hostile input), the blacklist with expiry on a manual
 * clock, the access stages (acl → blacklist) and the toll-fraud counters per account.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, silentLogger } from '@tfx/sip';
import { Acl, Blacklist, FraudGuard, ZoneAccess, parseAddress, parseCidr } from '../src/index.js';

describe('CIDR parsing and matching', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.0.2.7', '192.0.2.7/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:db8::/32', '2001:db8::/32'],
    ['2001:DB8:0:0:1::1', '2001:db8::1:0:0:1/128'],
    ['::1', '::1/128'],
    ['::', '::/0'.replace('/0', '/128')],
    ['fe80::1%lo', 'fe80::1/128'],
    ['::ffff:192.0.2.1', '192.0.2.1/32'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8/128'],
  ])('%s is %s', (input, text) => {
    expect(parseCidr(input)?.text).toBe(text);
  });

  it.each([
    '',
    '10.0.0.0/33',
    '10.0.0/8',
    '256.0.0.1',
    '010.0.0.1',
    '10.0.0.1/',
    '10.0.0.1/-1',
    '10.0.0.1/8/8',
    '2001:db8::/129',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':1',
    'gggg::1',
    'example.com',
    '10.0.0.1 ',
    '1'.repeat(80),
    '::ffff:10.0.0.0/95',
  ])('refuses %j', (input) => {
    expect(parseCidr(input)).toBeUndefined();
  });

  it('an ACL with a deny list drops only the denied prefix (deny wins over allow)', () => {
    const acl = new Acl({
      deny: ['127.0.0.23', '10.0.0.0/8'],
      allow: ['10.0.0.0/8', '127.0.0.0/8'],
    });
    expect(acl.decide('127.0.0.23')).toEqual({ allowed: false, rule: 'deny 127.0.0.23/32' });
    expect(acl.decide('10.9.9.9').allowed).toBe(false);
    expect(acl.decide('127.0.0.21')).toEqual({ allowed: true, rule: 'allow 127.0.0.0/8' });
    expect(acl.decide('192.0.2.1')).toEqual({ allowed: false, rule: 'not on the allow list' });
  });

  it('an allow-only list lets only it in, IPv4-mapped sources matched as IPv4, IPv6 by prefix', () => {
    const acl = new Acl({ allow: ['127.0.0.21/32', '2001:db8:1::/48'] });
    expect(acl.decide('127.0.0.21').allowed).toBe(true);
    expect(acl.decide('::ffff:127.0.0.21').allowed).toBe(true);
    expect(acl.decide('127.0.0.22').allowed).toBe(false);
    expect(acl.decide('2001:db8:1:ffff::9').allowed).toBe(true);
    expect(acl.decide('2001:db8:2::9').allowed).toBe(false);
    expect(acl.decide('not an address').allowed).toBe(false);
    expect(new Acl({}).empty).toBe(true);
    expect(new Acl({ allow: [] }).decide('127.0.0.1').allowed).toBe(false);
  });

  it('a bad entry is refused naming it', () => {
    expect(() => new Acl({ deny: ['10.0.0.0/8', '10.0.0.0/40'] }, 'sbc.zones.public.acl')).toThrow(
      'sbc.zones.public.acl.deny[1]: 10.0.0.0/40 is not an address or CIDR',
    );
  });

  it('parseAddress tells families apart', () => {
    expect(parseAddress('127.0.0.1')?.family).toBe(4);
    expect(parseAddress('[::1]')?.family).toBe(6);
    expect(parseAddress('::1')?.bits).toBe(1n);
  });
});

describe('the blacklist (manual clock)', () => {
  it('drops a host until its expiry, then forgets it', () => {
    const clock = new ManualClock(1000);
    const bl = new Blacklist(clock);
    bl.add({
      address: '192.0.2.7',
      origin: 'flood',
      reason: 'x',
      zone: 'public',
      durationMs: 5000,
    });
    expect(bl.match('192.0.2.7', 'public')?.origin).toBe('flood');
    expect(bl.match('192.0.2.7', 'core')).toBeUndefined(); // the ban's own zone only
    expect(bl.match('192.0.2.8', 'public')).toBeUndefined();
    clock.advance(4999);
    expect(bl.match('192.0.2.7', 'public')).toBeDefined();
    clock.advance(1);
    expect(bl.match('192.0.2.7', 'public')).toBeUndefined();
    expect(bl.list()).toEqual([]);
  });

  it('a manual prefix entry without zone or expiry applies everywhere until lifted', () => {
    const clock = new ManualClock(0);
    const bl = new Blacklist(clock);
    const e = bl.add({ address: '2001:db8::/32', origin: 'manual', reason: 'by hand' });
    expect(e).toEqual({ cidr: '2001:db8::/32', origin: 'manual', reason: 'by hand', since: 0 });
    expect(bl.match('2001:db8:5::1', 'core')?.cidr).toBe('2001:db8::/32');
    clock.advance(365 * 86_400_000);
    expect(bl.match('2001:db8:5::1', 'public')).toBeDefined();
    expect(bl.lift('2001:db8:0::/32')).toBe(1);
    expect(bl.match('2001:db8:5::1', 'public')).toBeUndefined();
    expect(bl.lift('2001:db8::/32')).toBe(0);
  });

  it('refuses malformed addresses and durations; stays bounded', () => {
    const bl = new Blacklist(new ManualClock(0), 3);
    expect(() => bl.add({ address: '10.0.0.0/33', origin: 'manual', reason: '' })).toThrow(
      TypeError,
    );
    for (const d of [0, -1, Number.NaN, Infinity])
      expect(() =>
        bl.add({ address: '10.0.0.1', origin: 'manual', reason: '', durationMs: d }),
      ).toThrow(TypeError);
    expect(() => bl.lift('nope')).toThrow(TypeError);
    bl.add({ address: '10.0.0.1', origin: 'manual', reason: 'keep' });
    for (let i = 2; i < 10; i++) bl.add({ address: `10.0.0.${i}`, origin: 'flood', reason: '' });
    expect(bl.size).toBe(3);
    expect(bl.match('10.0.0.1', 'z')?.reason).toBe('keep');
  });
});

describe('the access stages (acl → blacklist)', () => {
  it('counts every decision, and a blacklisted source is dropped after the ACL let it in', () => {
    const clock = new ManualClock(0);
    const bl = new Blacklist(clock);
    const access = new ZoneAccess({
      zone: 'public',
      acl: { deny: ['127.0.0.66'] },
      blacklist: bl,
      clock,
      logger: silentLogger,
    });
    expect(access.screen('127.0.0.66')).toBe(false);
    expect(access.screen('127.0.0.21')).toBe(true);
    bl.add({ address: '127.0.0.21', origin: 'manual', reason: 'r', durationMs: 1000 });
    expect(access.screen('127.0.0.21')).toBe(false);
    clock.advance(1000);
    expect(access.screen('127.0.0.21')).toBe(true);
    expect(access.counters).toEqual({ acl: { allowed: 3, denied: 1 }, blacklist: { dropped: 1 } });
  });
});

describe('toll-fraud limits per account', () => {
  it('is off until configured', () => {
    expect(new FraudGuard({}).off).toBe(true);
    expect(new FraudGuard({ maxDurationMs: 1000 }).off).toBe(false);
  });

  it('refuses a denied destination with 403, whatever the other limits', () => {
    const g = new FraudGuard({ deniedDestinations: ['^\\+1900', '^00'] });
    expect(g.admit('alice', 'c1', '+19005551234', 0)).toMatchObject({
      ok: false,
      status: 403,
      rule: '^\\+1900',
    });
    expect(g.admit('alice', 'c2', '0044123', 0)).toMatchObject({ ok: false, status: 403 });
    expect(g.admit('alice', 'c3', '+4420001', 0)).toEqual({ ok: true });
    expect(g.counters.refused['denied-destination']).toBe(2);
    expect(() => new FraudGuard({ deniedDestinations: ['('] }, 'z')).toThrow(
      'z.deniedDestinations[0]',
    );
  });

  it('limits concurrent calls per account (486), per account, released when a call ends', () => {
    const g = new FraudGuard({ maxConcurrent: 2 });
    expect(g.admit('alice', 'c1', '1', 0).ok).toBe(true);
    expect(g.admit('alice', 'c2', '1', 0).ok).toBe(true);
    expect(g.admit('alice', 'c3', '1', 0)).toMatchObject({
      ok: false,
      status: 486,
      reason: 'concurrent',
    });
    expect(g.admit('bob', 'c4', '1', 0).ok).toBe(true);
    g.release('alice', 'c1');
    g.release('alice', 'c1'); // idempotent
    expect(g.live('alice')).toBe(1);
    expect(g.admit('alice', 'c5', '1', 0).ok).toBe(true);
    expect(g.counters.refused.concurrent).toBe(1);
  });

  it('limits calls per minute per account on a sliding window (503 with Retry-After)', () => {
    const g = new FraudGuard({ callsPerMinute: 3 });
    for (const t of [0, 10_000, 20_000]) {
      expect(g.admit('alice', `c${t}`, '1', t).ok).toBe(true);
      g.release('alice', `c${t}`);
    }
    expect(g.admit('alice', 'x', '1', 30_000)).toEqual({
      ok: false,
      status: 503,
      reason: 'rate',
      rule: '3 calls per minute',
      retryAfter: 30,
    });
    expect(g.admit('bob', 'b', '1', 30_000).ok).toBe(true);
    // The first call leaves the window at 60 s: one more is let in, then refused again.
    expect(g.admit('alice', 'y', '1', 60_000).ok).toBe(true);
    expect(g.admit('alice', 'z', '1', 60_001)).toMatchObject({ ok: false, retryAfter: 10 });
  });
});
