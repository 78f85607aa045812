import { describe, expect, it } from 'vitest';
import { parseMessage, type SipMessage } from '../../src/syntax/index.js';
import type { ConnectionRef } from '../../src/transport/index.js';
import { InvalidHostAliases, isInvalidHost } from '../../src/transport/aliases.js';

function msg(text: string): SipMessage {
  const r = parseMessage(new TextEncoder().encode(text));
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
}

function request(viaHost: string, contact?: string): SipMessage {
  return msg(
    [
      'REGISTER sip:example.com SIP/2.0',
      `Via: SIP/2.0/WSS ${viaHost};branch=z9hG4bK1`,
      'Max-Forwards: 70',
      'From: <sip:a@example.com>;tag=1',
      'To: <sip:a@example.com>',
      'Call-ID: c1',
      'CSeq: 1 REGISTER',
      ...(contact ? [`Contact: ${contact}`] : []),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

function conn(id: string, address = '127.0.0.1'): ConnectionRef & { closed: boolean } {
  return {
    id,
    transport: 'ws',
    local: { address: '127.0.0.1', port: 80 },
    remote: { address, port: 40000 },
    direction: 'inbound',
    closed: false,
    send: async () => {},
    close() {
      this.closed = true;
    },
  };
}

describe('.invalid hosts of WebSocket clients (RFC 7118 §5, RFC 6761 §6.4)', () => {
  it('recognises the .invalid special-use domain only', () => {
    expect(isInvalidHost('abc.invalid')).toBe(true);
    expect(isInvalidHost('ABC.Invalid.')).toBe(true);
    expect(isInvalidHost('invalid.example.com')).toBe(false);
    expect(isInvalidHost('127.0.0.1')).toBe(false);
  });

  it('learns the Via and Contact hosts of a request and maps them to its connection until it closes', () => {
    const t = new InvalidHostAliases();
    const c = conn('ws-1');
    t.learn(request('via1.invalid', '<sip:u@ct1.invalid;transport=ws>'), c);
    expect(t.lookup('via1.invalid')).toBe(c);
    expect(t.lookup('CT1.INVALID')).toBe(c);
    c.closed = true;
    expect(t.lookup('ct1.invalid')).toBeUndefined();
    t.forget(c);
    expect(t.size).toBe(0);
  });

  it('never learns a real host from a header', () => {
    const t = new InvalidHostAliases();
    t.learn(request('198.51.100.7', '<sip:u@victim.example.com>'), conn('ws-1'));
    expect(t.size).toBe(0);
    expect(t.lookup('victim.example.com')).toBeUndefined();
  });

  it('a client on another IP cannot take over a host bound to an open connection; the same IP (a reconnect) can', () => {
    const t = new InvalidHostAliases();
    const first = conn('ws-1', '127.0.0.1');
    t.learn(request('h.invalid'), first);
    const thief = conn('ws-2', '127.0.0.2');
    t.learn(request('h.invalid'), thief);
    expect(t.lookup('h.invalid')).toBe(first);
    expect(t.conflicts).toBe(1);
    const reconnect = conn('ws-3', '127.0.0.1');
    t.learn(request('h.invalid'), reconnect);
    expect(t.lookup('h.invalid')).toBe(reconnect);
    // Forgetting the old connection leaves the new binding alone.
    t.forget(first);
    expect(t.lookup('h.invalid')).toBe(reconnect);
  });

  it('binds at most a few hosts per connection (a client cannot fill the table)', () => {
    const t = new InvalidHostAliases();
    const c = conn('ws-1');
    for (let i = 0; i < 50; i++) t.learn(request(`h${i}.invalid`), c);
    expect(t.size).toBeLessThanOrEqual(4);
  });
});
