// RFC 5118 (SIP torture tests for IPv6) §4, messages written from the RFC's text
// (../fixtures/rfc5118/README.md).
import { describe, expect, test } from 'vitest';
import {
  checkMessage,
  parseMessage,
  serializeMessage,
  type SipMessage,
} from '../../src/syntax/index.js';
import { fixture, view } from './helpers.js';

function load(name: string): ReturnType<typeof parseMessage> {
  return parseMessage(fixture('rfc5118', `${name}.sip`));
}

function accepted(name: string): SipMessage {
  const r = load(name);
  expect(checkMessage(r)).toEqual({ action: 'accept' });
  if (!r.ok) throw new Error(r.error.reason);
  const again = parseMessage(serializeMessage(r.message));
  if (!again.ok) throw new Error(again.error.reason);
  expect(view(again.message)).toEqual(view(r.message));
  return r.message;
}

describe('RFC 5118 IPv6 torture tests', () => {
  test('§4.1 ipv6-good: IPv6 references in the Request-URI, Via and Contact parse', () => {
    const m = accepted('ipv6-good');
    expect(m.kind === 'request' && m.uri).toMatchObject({
      host: '[2001:db8::10]',
      hostKind: 'ipv6',
    });
    expect(m.headers.via()[0]).toMatchObject({ host: '[2001:db8::9:1]', branch: 'z9hG4bKas3-111' });
    const c = m.headers.contact()[0]!;
    expect(!c.star && c.uri).toMatchObject({ host: '[2001:db8::1]', user: 'caller' });
  });

  test('§4.2 ipv6-bad: an IPv6 address without brackets in the Request-URI gets a 400', () => {
    const r = load('ipv6-bad');
    expect(r.ok).toBe(false);
    expect(checkMessage(r)).toMatchObject({ action: 'reject', status: 400 });
  });

  test('§4.3 port-ambiguous: a trailing ":5070" inside the brackets is part of the address, not a port', () => {
    const m = accepted('port-ambiguous');
    expect(m.kind === 'request' && m.uri).toMatchObject({ host: '[2001:db8::10:5070]' });
    expect(m.kind === 'request' && m.uri.kind === 'sip' && m.uri.port).toBeUndefined();
  });

  test('§4.3 port-unambiguous: a port after the closing bracket is the port', () => {
    const m = accepted('port-unambiguous');
    expect(m.kind === 'request' && m.uri).toMatchObject({ host: '[2001:db8::10]', port: 5070 });
  });

  test('§4.4 ipv6-bug-abnf-3-colons: "::" followed by ":" before an IPv4 tail is invalid (RFC 5954 fixed the ABNF) and gets a 400', () => {
    const r = load('ipv6-bug-abnf-3-colons');
    expect(r.ok).toBe(false);
    expect(checkMessage(r)).toMatchObject({ action: 'reject', status: 400 });
  });

  test('§4.4 ipv6-correct-abnf-2-colons: "::" followed by an IPv4 tail is valid', () => {
    const m = accepted('ipv6-correct-abnf-2-colons');
    expect(m.kind === 'request' && m.uri).toMatchObject({ host: '[2001:db8::192.0.2.1]' });
  });

  test('§4.5 ipv4-mapped: IPv4-mapped IPv6 addresses parse in Via (with port) and Contact', () => {
    const m = accepted('ipv4-mapped');
    expect(m.headers.via().map((v) => [v.host, v.port])).toEqual([
      ['[::ffff:192.0.2.10]', 19823],
      ['[::ffff:192.0.2.2]', undefined],
    ]);
  });

  test('§4.6 mult-ip-in-header: IPv4 and IPv6 Via values and a received parameter coexist', () => {
    const m = accepted('mult-ip-in-header');
    expect(m.headers.via().map((v) => [v.host, v.port, v.received])).toEqual([
      ['[2001:db8::9:1]', 6050, undefined],
      ['192.0.2.1', undefined, undefined],
      ['[2001:db8::9:255]', undefined, '192.0.2.200'],
    ]);
  });

  test('§4.7 mult-ip-in-sdp: a body with IPv4 and IPv6 connection lines is kept byte-exact', () => {
    const m = accepted('mult-ip-in-sdp');
    expect(new TextDecoder().decode(m.body)).toContain('c=IN IP6 2001:db8::1');
    expect(m.body.length).toBe(m.headers.contentLength());
  });
});
