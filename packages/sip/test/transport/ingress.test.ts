import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseMessage, type SipMessage } from '../../src/syntax/index.js';
import {
  DROP_REASONS,
  Ingress,
  type InboundMessage,
  type IngressOptions,
  type ReceiveContext,
  type TransportCounters,
} from '../../src/transport/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

const udpCtx: ReceiveContext = {
  transport: 'udp',
  local: { address: '192.0.2.100', port: 5060 },
  remote: { address: '192.0.2.1', port: 9988 },
};

function request(lines: string[], body = ''): Uint8Array {
  return enc.encode(
    [...lines, `Content-Length: ${enc.encode(body).length}`].join('\r\n') + '\r\n\r\n' + body,
  );
}

const OPTIONS_LINES = [
  'OPTIONS sip:bob@192.0.2.100 SIP/2.0',
  'Via: SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff',
  'Max-Forwards: 70',
  'From: <sip:alice@example.com>;tag=1928301774',
  'To: <sip:bob@example.com>',
  'Call-ID: a84b4c76e66710',
  'CSeq: 63104 OPTIONS',
];
const OPTIONS = request(OPTIONS_LINES);

const OK_LINES = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/UDP 192.0.2.100:5060;branch=z9hG4bK776asdhds',
  'From: <sip:bob@example.com>;tag=a6c85cf',
  'To: <sip:alice@example.com>;tag=1928301774',
  'Call-ID: b84b4c76e66711',
  'CSeq: 1 OPTIONS',
];
const OK = request(OK_LINES);

function setup(options: IngressOptions = {}) {
  const replies: Array<{ text: string; ctx: ReceiveContext }> = [];
  const delivered: InboundMessage[] = [];
  const ingress = new Ingress(
    { isOurVia: (via) => via.host === '192.0.2.100' && (via.port ?? 5060) === 5060, ...options },
    { reply: (bytes, ctx) => replies.push({ text: dec.decode(bytes), ctx }) },
  );
  ingress.setHandler((m) => delivered.push(m));
  return { ingress, replies, delivered };
}

function topVia(message: SipMessage): string | undefined {
  return message.headers.getAll('via')[0];
}

function balanced(c: TransportCounters): boolean {
  const drops = DROP_REASONS.reduce((sum, r) => sum + c.drops[r], 0);
  return c.received === c.delivered + c.keepalives + drops;
}

describe('Ingress: the one receive path', () => {
  it('RFC 3581 §4: a valueless rport is filled with the source port before the request is delivered', () => {
    const { ingress, delivered } = setup();
    expect(ingress.receive(OPTIONS, udpCtx)).toBe('delivered');
    expect(delivered).toHaveLength(1);
    const inbound = delivered[0]!;
    expect(inbound.ctx).toBe(udpCtx);
    expect(topVia(inbound.message)).toBe(
      'SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bKkjshdyff',
    );
    expect(inbound.message.headers.via()[0]?.rport).toBe(9988);
    expect(inbound.message.headers.via()[0]?.received).toBe('192.0.2.1');
  });

  it('RFC 3261 §18.2.1: received is added when the sent-by differs from the source, and the Via stays first', () => {
    const { ingress, delivered } = setup();
    const lines = [...OPTIONS_LINES];
    lines[1] =
      'Via: SIP/2.0/TCP client.example.com:5060;branch=z9hG4bK1, SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2';
    ingress.receive(request(lines), { ...udpCtx, transport: 'tcp' });
    const vias = delivered[0]!.message.headers.via();
    expect(vias.map((v) => v.host)).toEqual(['client.example.com', 'proxy.example.com']);
    expect(vias[0]?.received).toBe('192.0.2.1');
    expect(vias[1]?.received).toBeUndefined();
  });

  it('RFC 3261 §8.1.1: a request without Call-ID is answered 400 on the same flow and not delivered', () => {
    const { ingress, replies, delivered } = setup();
    const lines = OPTIONS_LINES.filter((l) => !l.startsWith('Call-ID'));
    expect(ingress.receive(request(lines), udpCtx)).toBe('sanity');
    expect(delivered).toHaveLength(0);
    expect(replies).toHaveLength(1);
    expect(replies[0]?.text).toMatch(/^SIP\/2\.0 400 /);
    expect(replies[0]?.ctx).toBe(udpCtx);
    // The answer carries the stamped Via, so it routes back through the NAT (RFC 3581 §4).
    expect(replies[0]?.text).toContain('received=192.0.2.1;rport=9988');
    expect(ingress.counters.replied).toBe(1);
    expect(ingress.counters.drops.sanity).toBe(1);
  });

  it('RFC 3261 §8.2.2.3: an unknown Require option tag is answered 420 listing it in Unsupported', () => {
    const { ingress, replies } = setup();
    ingress.receive(request([...OPTIONS_LINES, 'Require: foo, 100rel']), udpCtx);
    expect(replies[0]?.text).toMatch(/^SIP\/2\.0 420 /);
    expect(replies[0]?.text).toMatch(/\r\nUnsupported: foo, 100rel\r\n/);
  });

  it('RFC 3261 §17: a malformed ACK is never answered', () => {
    const { ingress, replies } = setup();
    const lines = [
      'ACK sip:bob@192.0.2.100 SIP/2.0',
      ...OPTIONS_LINES.slice(1, 5),
      'CSeq: 63104 ACK',
    ];
    expect(ingress.receive(request(lines), udpCtx)).toBe('sanity');
    expect(replies).toHaveLength(0);
  });

  it('RFC 3261 §21.5.14: a request larger than the limit is answered 513 Message Too Large', () => {
    const { ingress, replies, delivered } = setup({ maxMessageBytes: 1000 });
    const big = request([...OPTIONS_LINES, 'Content-Type: text/plain'], 'x'.repeat(2000));
    expect(ingress.receive(big, udpCtx)).toBe('too-large');
    expect(delivered).toHaveLength(0);
    expect(replies[0]?.text).toMatch(/^SIP\/2\.0 513 /);
    expect(ingress.counters.drops['too-large']).toBe(1);
    expect(ingress.counters.parseErrors).toBe(0);
  });

  it('an oversized request is dropped without an answer when replyTooLarge is off', () => {
    const { ingress, replies } = setup({ maxMessageBytes: 1000, replyTooLarge: false });
    ingress.receive(request(OPTIONS_LINES, 'x'.repeat(2000)), udpCtx);
    expect(replies).toHaveLength(0);
    expect(ingress.counters.drops['too-large']).toBe(1);
  });

  it('bytes that are not SIP at all are dropped and counted as a parse error', () => {
    const { ingress, replies } = setup();
    expect(ingress.receive(enc.encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), udpCtx)).toBe(
      'parse-error',
    );
    expect(ingress.receive(Uint8Array.of(0, 1, 0, 0x21, 0x12, 0xa4, 0x42), udpCtx)).toBe(
      'parse-error',
    );
    expect(replies).toHaveLength(0);
    expect(ingress.counters.parseErrors).toBe(2);
  });

  it('RFC 3261 §18.1.2: a response whose top Via is not ours is silently discarded', () => {
    const { ingress, delivered } = setup();
    const lines = [...OK_LINES];
    lines[1] = 'Via: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bK776asdhds';
    expect(ingress.receive(request(lines), udpCtx)).toBe('via-not-ours');
    expect(delivered).toHaveLength(0);
    expect(ingress.counters.drops['via-not-ours']).toBe(1);
  });

  it('RFC 3261 §18.1.2: a response whose top Via is ours is delivered unchanged', () => {
    const { ingress, delivered } = setup();
    expect(ingress.receive(OK, udpCtx)).toBe('delivered');
    expect(delivered[0]?.message.kind).toBe('response');
    expect(topVia(delivered[0]!.message)).toBe(
      'SIP/2.0/UDP 192.0.2.100:5060;branch=z9hG4bK776asdhds',
    );
  });

  it('RFC 5626 §3.5.1: a CRLF keep-alive is counted, not parsed', () => {
    const { ingress } = setup();
    expect(ingress.receive(enc.encode('\r\n\r\n'), udpCtx)).toBe('keepalive');
    expect(ingress.counters.keepalives).toBe(1);
    expect(ingress.counters.parseErrors).toBe(0);
  });

  it('a throwing upper layer is contained and counted; with no upper layer messages are dropped', () => {
    const { ingress } = setup();
    ingress.setHandler(() => {
      throw new Error('boom');
    });
    expect(ingress.receive(OPTIONS, udpCtx)).toBe('handler-error');
    ingress.setHandler(undefined);
    expect(ingress.receive(OPTIONS, udpCtx)).toBe('no-handler');
    ingress.close();
    expect(ingress.receive(OPTIONS, udpCtx)).toBe('closed');
    expect(balanced(ingress.counters)).toBe(true);
  });
});

describe('Ingress: fuzzing the receive path (fast-check)', () => {
  const samples = [OPTIONS, OK, request([...OPTIONS_LINES, 'Content-Type: text/plain'], 'hello')];

  const mutated = fc.oneof(
    // Pure noise.
    fc.uint8Array({ maxLength: 1500 }),
    // Byte flips in a valid message.
    fc
      .tuple(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      )
      .map(([base, flips]) => {
        const copy = base.slice();
        for (const [i, b] of flips) copy[i % copy.length] = b;
        return copy;
      }),
    // Truncations and random splices.
    fc
      .tuple(fc.constantFrom(...samples), fc.nat(), fc.uint8Array({ maxLength: 40 }))
      .map(([base, at, junk]) => {
        const cut = at % (base.length + 1);
        const out = new Uint8Array(cut + junk.length);
        out.set(base.subarray(0, cut));
        out.set(junk, cut);
        return out;
      }),
    // Header-level mutations: duplicated, removed or absurd headers.
    fc
      .tuple(
        fc.constantFrom(OPTIONS_LINES, OK_LINES),
        fc.nat(),
        fc.constantFrom(
          'Content-Length: 99999999999',
          'Content-Length: -1',
          'CSeq: 1 INVITE',
          'Via: SIP/2.0/UDP ;;;',
          'Via: garbage',
          'Max-Forwards: -3',
          'To: <sip:a@[::1',
          'Call-ID:',
          'Require: x',
          'v: SIP/2.0/WSS df7jal23ls0d.invalid;rport;branch=z9hG4bK',
        ),
        fc.boolean(),
      )
      .map(([lines, i, extra, replace]) => {
        const copy = [...lines];
        const at = 1 + (i % (copy.length - 1));
        if (replace) copy[at] = extra;
        else copy.splice(at, 0, extra);
        return enc.encode(copy.join('\r\n') + '\r\n\r\n');
      }),
  );

  it('random and mutated datagrams never throw, and every one ends in exactly one counted outcome', () => {
    const { ingress, replies, delivered } = setup();
    let n = 0;
    fc.assert(
      fc.property(
        mutated,
        fc.constantFrom<ReceiveContext['transport']>('udp', 'tcp', 'ws'),
        (bytes, transport) => {
          n++;
          const outcome = ingress.receive(bytes, { ...udpCtx, transport });
          expect(typeof outcome).toBe('string');
          expect(balanced(ingress.counters)).toBe(true);
        },
      ),
      { seed: 3261, numRuns: 1500 },
    );
    const c = ingress.counters;
    expect(c.received).toBe(n);
    expect(c.delivered).toBe(delivered.length);
    expect(c.replied).toBe(replies.length);
    // Every answer is a response that itself parses.
    for (const r of replies) expect(parseMessage(enc.encode(r.text)).ok).toBe(true);
    // Every delivered request carries a received parameter on its top Via (the source differs).
    for (const m of delivered) {
      if (m.message.kind === 'request')
        expect(m.message.headers.via()[0]?.received).toBe('192.0.2.1');
    }
  });
});
