import { describe, expect, it } from 'vitest';
import type { Via } from '../../src/syntax/index.js';
import {
  canonicalHost,
  responseDestination,
  rewriteTopVia,
  setViaTransport,
  stampVia,
  type ConnectionRef,
  type ReceiveContext,
} from '../../src/transport/index.js';

/** A Via as the syntax layer would type it (kept local so these tests need no parser). */
function via(
  transport: string,
  host: string,
  port: number | undefined,
  params: Record<string, string | null> = {},
): Via {
  const map = new Map(Object.entries(params));
  const rport = map.has('rport')
    ? map.get('rport') === null
      ? null
      : Number(map.get('rport'))
    : undefined;
  return {
    protocol: 'SIP/2.0',
    transport,
    host,
    ...(port === undefined ? {} : { port }),
    params: map,
    ...(map.get('branch') ? { branch: map.get('branch') as string } : {}),
    ...(map.get('received') ? { received: map.get('received') as string } : {}),
    ...(rport === undefined ? {} : { rport }),
  };
}

describe('stampVia: received and rport on requests', () => {
  it('RFC 3581 §4: a valueless rport is filled with the source port, and received is added', () => {
    // The example of RFC 3581 §4: a client at 10.1.1.1:4540 behind a NAT that maps it to 192.0.2.1:9988.
    const raw = 'SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff';
    const v = via('UDP', '10.1.1.1', 4540, { rport: null, branch: 'z9hG4bKkjshdyff' });
    expect(stampVia(raw, v, { address: '192.0.2.1', port: 9988 })).toBe(
      'SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bKkjshdyff',
    );
  });

  it('RFC 3581 §4: received is inserted with rport even when the source equals the sent-by address', () => {
    const raw = 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport';
    const v = via('UDP', '192.0.2.1', 5060, { branch: 'z9hG4bK1', rport: null });
    expect(stampVia(raw, v, { address: '192.0.2.1', port: 5060 })).toBe(
      'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;received=192.0.2.1;rport=5060',
    );
  });

  it('RFC 3261 §18.2.1: received is added when the sent-by IP differs from the source address', () => {
    const raw = 'SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bK2';
    const v = via('TCP', '10.0.0.5', 5060, { branch: 'z9hG4bK2' });
    expect(stampVia(raw, v, { address: '198.51.100.7', port: 40000 })).toBe(
      'SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bK2;received=198.51.100.7',
    );
  });

  it('RFC 3261 §18.2.1: received is added when the sent-by host is a domain name', () => {
    const raw = 'SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK3';
    const v = via('UDP', 'pc33.atlanta.com', undefined, { branch: 'z9hG4bK3' });
    expect(stampVia(raw, v, { address: '192.0.2.4', port: 5060 })).toBe(
      'SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK3;received=192.0.2.4',
    );
  });

  it('RFC 3261 §18.2.1: nothing changes when sent-by is the source IP and rport was not asked for', () => {
    const raw = 'SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK4';
    const v = via('UDP', '192.0.2.4', 5060, { branch: 'z9hG4bK4' });
    expect(stampVia(raw, v, { address: '192.0.2.4', port: 33333 })).toBeUndefined();
  });

  it('RFC 3261 §18.2.1: a received the client wrote itself is replaced by the real source address', () => {
    const raw = 'SIP/2.0/UDP 10.0.0.1;received=203.0.113.66;branch=z9hG4bK5';
    const v = via('UDP', '10.0.0.1', undefined, { received: '203.0.113.66', branch: 'z9hG4bK5' });
    expect(stampVia(raw, v, { address: '192.0.2.9', port: 5060 })).toBe(
      'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK5;received=192.0.2.9',
    );
  });

  it('RFC 5118 §4.5: an IPv6 source goes into received without brackets, and equal IPv6 spellings match', () => {
    const raw = 'SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK6;rport';
    const v = via('UDP', '[2001:db8::9:1]', undefined, { branch: 'z9hG4bK6', rport: null });
    expect(stampVia(raw, v, { address: '2001:db8:0:0:0:0:9:1', port: 5062 })).toBe(
      'SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bK6;received=2001:db8::9:1;rport=5062',
    );
    const same = via('UDP', '[2001:DB8::9:1]', 5060, { branch: 'z9hG4bK7' });
    expect(
      stampVia('SIP/2.0/UDP [2001:DB8::9:1]:5060;branch=z9hG4bK7', same, {
        address: '2001:db8::9:1',
        port: 1,
      }),
    ).toBeUndefined();
  });

  it('an IPv4-mapped IPv6 source (dual-stack socket) compares equal to the plain IPv4 sent-by', () => {
    expect(canonicalHost('::ffff:192.0.2.1')).toBe('192.0.2.1');
    const v = via('UDP', '192.0.2.1', 5060, { branch: 'z9hG4bK8' });
    expect(
      stampVia('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK8', v, {
        address: '::ffff:192.0.2.1',
        port: 5060,
      }),
    ).toBeUndefined();
  });

  it('RFC 3261 §18.1.1: the top Via transport can be switched from UDP to TCP', () => {
    expect(setViaTransport('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK9', 'tcp')).toBe(
      'SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK9',
    );
  });
});

describe('rewriteTopVia: the §18.1.1 transport switch on serialized bytes', () => {
  it('RFC 3261 §18.1.1: only the top Via value changes, in compact form too, and a binary body is kept byte for byte', () => {
    const head = enc(
      'MESSAGE sip:b@example.com SIP/2.0\r\nv: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK0\r\nVia: SIP/2.0/UDP c;branch=z9hG4bKc\r\nl: 4\r\n\r\n',
    );
    const body = Uint8Array.of(0xff, 0x00, 0x80, 0xc3);
    const bytes = new Uint8Array([...head, ...body]);
    const out = rewriteTopVia(bytes, (v) => setViaTransport(v, 'tcp'));
    expect(out).toBeDefined();
    const text = Buffer.from(out!).toString('latin1');
    expect(text).toContain(
      'v: SIP/2.0/TCP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK0\r\n',
    );
    expect(text).toContain('Via: SIP/2.0/UDP c;branch=z9hG4bKc\r\n');
    expect([...out!.subarray(out!.length - 4)]).toEqual([...body]);
    expect(rewriteTopVia(enc('OPTIONS sip:x SIP/2.0\r\nl: 0\r\n\r\n'), (v) => v)).toBeUndefined();
  });
});

function enc(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

describe('responseDestination: where a response goes', () => {
  const udpCtx: ReceiveContext = {
    transport: 'udp',
    local: { address: '192.0.2.100', port: 5060 },
    remote: { address: '192.0.2.1', port: 9988 },
  };
  function fakeConnection(closed: boolean): ConnectionRef {
    return {
      id: 'tcp-1',
      transport: 'tcp',
      local: { address: '192.0.2.100', port: 5060 },
      remote: { address: '192.0.2.1', port: 40000 },
      direction: 'inbound',
      closed,
      send: async () => {},
      close: () => {},
    };
  }

  it('RFC 3581 §4: with received and rport, the response goes to the received address and rport port', () => {
    const v = via('UDP', '10.1.1.1', 4540, { received: '192.0.2.1', rport: '9988' });
    expect(responseDestination(v, udpCtx)).toEqual({
      kind: 'address',
      transport: 'udp',
      address: '192.0.2.1',
      port: 9988,
    });
  });

  it('RFC 3261 §18.2.2: with received only, the response goes to received at the sent-by port', () => {
    const v = via('UDP', '10.1.1.1', 4540, { received: '192.0.2.1' });
    expect(responseDestination(v, udpCtx)).toEqual({
      kind: 'address',
      transport: 'udp',
      address: '192.0.2.1',
      port: 4540,
    });
  });

  it('RFC 3261 §18.2.2: maddr wins over received for unreliable transports, at the sent-by port or 5060', () => {
    const v = via('UDP', '10.1.1.1', undefined, { maddr: '239.255.255.1', received: '192.0.2.1' });
    expect(responseDestination(v, udpCtx)).toEqual({
      kind: 'address',
      transport: 'udp',
      address: '239.255.255.1',
      port: 5060,
    });
  });

  it('RFC 3261 §18.2.2: otherwise the response goes to the sent-by address and port', () => {
    const v = via('UDP', '192.0.2.1', 5070);
    expect(responseDestination(v)).toEqual({
      kind: 'address',
      transport: 'udp',
      address: '192.0.2.1',
      port: 5070,
    });
  });

  it('RFC 3261 §18.2.2: over a reliable transport the response uses the open connection of the request', () => {
    const connection = fakeConnection(false);
    const v = via('TCP', '10.1.1.1', 5060, { received: '192.0.2.1' });
    const dest = responseDestination(v, { ...udpCtx, transport: 'tcp', connection });
    expect(dest).toEqual({ kind: 'connection', connection });
  });

  it('RFC 3261 §18.2.2: when that connection is closed, a new one goes to received at the sent-by port', () => {
    const v = via('TLS', '10.1.1.1', undefined, { received: '192.0.2.1' });
    const dest = responseDestination(v, {
      ...udpCtx,
      transport: 'tls',
      connection: fakeConnection(true),
    });
    expect(dest).toEqual({ kind: 'address', transport: 'tls', address: '192.0.2.1', port: 5061 });
  });
});
