import { describe, expect, it } from 'vitest';
import { canonicalHost } from '../../src/syntax/host.js';
import { isIPv4, isIPv6 } from '../../src/syntax/uri.js';

// The allocation-free scanners (issue #14) keep the grammar of RFC 3261 §25.1 IPv4address and
// RFC 5118 §4.4 IPv6address.
describe('IP literal scanners', () => {
  it.each(['127.0.0.1', '0.0.0.0', '255.255.255.255', '010.1.1.1', '192.0.2.1'])('IPv4 %s', (h) =>
    expect(isIPv4(h)).toBe(true),
  );
  it.each([
    '',
    '.',
    '1.2.3',
    '1.2.3.4.',
    '.1.2.3.4',
    '1..2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '1.2.3.1000',
    '1.2.3.a',
    'a.b.c.d',
    'example.com',
    '1.2.3.4 ',
    '::1',
  ])('not IPv4 %j', (h) => expect(isIPv4(h)).toBe(false));

  it.each(['::1', '2001:db8::1', '::ffff:192.0.2.1', '2001:db8::192.0.2.1', '1:2:3:4:5:6:7:8'])(
    'IPv6 %s',
    (h) => expect(isIPv6(h)).toBe(true),
  );
  it.each(['127.0.0.1', 'example.com', 'x', '2001:db8:::192.0.2.1', '1:2:3:4:5:6:7:8:9', ':'])(
    'not IPv6 %j',
    (h) => expect(isIPv6(h)).toBe(false),
  );

  it('canonicalHost is unchanged for names and IPv4 and still folds IPv6', () => {
    expect(canonicalHost('127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalHost(' Example.COM ')).toBe('example.com');
    expect(canonicalHost('[::FFFF:192.0.2.1]')).toBe('192.0.2.1');
    expect(canonicalHost('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalHost('fe80::1%eth0')).toBe('fe80::1');
  });
});
