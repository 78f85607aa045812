import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import {
  createRequest,
  parseMessage,
  serializeFields,
  serializeMessage,
  serializeOwned,
} from '../../src/syntax/index.js';
import { crlf, dec, mustParse } from './helpers.js';

const KEEP: ReadonlySet<string> = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

function reparsed(bytes: Uint8Array) {
  const r = parseMessage(bytes);
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
}

describe('serializeFields (what a lingering transaction keeps of its request)', () => {
  test('keeps the start line and the chosen fields byte-exact, in order, without the body', () => {
    const m = mustParse(`INVITE sip:bob@b.example SIP/2.0
Via: SIP/2.0/UDP a.example;branch=z9hG4bK1
Max-Forwards: 70
From: <sip:a@a.example>;tag=1
To: <sip:bob@b.example>
Call-ID: c1
CSeq: 1 INVITE
Content-Type: application/sdp
Content-Length: 4

v=0
`);
    expect(dec(serializeFields(m, KEEP))).toBe(
      'INVITE sip:bob@b.example SIP/2.0\r\nVia: SIP/2.0/UDP a.example;branch=z9hG4bK1\r\n' +
        'From: <sip:a@a.example>;tag=1\r\nTo: <sip:bob@b.example>\r\nCall-ID: c1\r\n' +
        'CSeq: 1 INVITE\r\n\r\n',
    );
  });

  test('compact forms, folded lines and several Via values in one line read back the same', () => {
    const m = mustParse(`BYE sip:bob@b.example SIP/2.0
v: SIP/2.0/UDP p.example;branch=z9hG4bKp, SIP/2.0/TCP a.example;branch=z9hG4bKa
f: <sip:a@a.example>
 ;tag=1
t: <sip:bob@b.example>;tag=2
i: c1
CSeq:
\t2 BYE
Subject: dropped
l: 0

`);
    const back = reparsed(serializeFields(m, KEEP));
    expect(back.headers.via().map((v) => v.branch)).toEqual(['z9hG4bKp', 'z9hG4bKa']);
    expect(back.headers.from()?.tag).toBe('1');
    expect(back.headers.to()?.tag).toBe('2');
    expect(back.headers.callId()).toBe('c1');
    expect(back.headers.cseq()).toEqual({ seq: 2, method: 'BYE' });
    expect(back.headers.has('subject')).toBe(false);
    expect(back.body.length).toBe(0);
  });

  test('changed fields and a changed Request-URI are written canonically', () => {
    const m = mustParse(`OPTIONS sip:a@a.example SIP/2.0
Via: SIP/2.0/UDP a.example;branch=z9hG4bK1
From: <sip:a@a.example>;tag=1
To: <sip:a@a.example>
Call-ID: c1
CSeq: 1 OPTIONS

`);
    m.headers.prepend('Via', 'SIP/2.0/UDP proxy.example;branch=z9hG4bKproxy');
    const back = reparsed(serializeFields(m, KEEP));
    expect(back.headers.via().map((v) => v.host)).toEqual(['proxy.example', 'a.example']);
    const built = createRequest({
      method: 'MESSAGE',
      uri: 'sip:bob@b.example',
      from: '<sip:a@a.example>;tag=9',
      to: '<sip:bob@b.example>',
      callId: 'built',
      cseq: 3,
      via: { transport: 'UDP', host: 'a.example', port: 5060, branch: 'z9hG4bKb' },
    });
    const b2 = reparsed(serializeFields(built, KEEP));
    expect(b2.kind === 'request' && b2.uriText).toBe('sip:bob@b.example');
    expect(b2.headers.cseq()).toEqual({ seq: 3, method: 'MESSAGE' });
  });

  test('a huge message keeps only the small fields, in a buffer of their own', () => {
    const big = 'x'.repeat(30_000);
    const m = mustParse(`MESSAGE sip:bob@b.example SIP/2.0
Via: SIP/2.0/UDP a.example;branch=z9hG4bK1
From: <sip:a@a.example>;tag=1
To: <sip:bob@b.example>
Call-ID: c1
CSeq: 1 MESSAGE
X-Padding: ${big}
Content-Length: ${big.length}

${big}`);
    const bytes = serializeFields(m, KEEP);
    expect(bytes.length).toBeLessThan(300);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
  });

  test('reads back to the same kept fields for arbitrary header values (property)', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9.!%*_+`'~-]{1,20}$/);
    fc.assert(
      fc.property(token, token, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (tag, callId, seq) => {
        const m = mustParse(`REGISTER sip:b.example SIP/2.0
Via: SIP/2.0/UDP a.example;branch=z9hG4bK${tag}
From: <sip:a@b.example>;tag=${tag}
To: <sip:a@b.example>
Call-ID: ${callId}
CSeq: ${seq} REGISTER
Contact: <sip:a@192.0.2.1>

`);
        const back = reparsed(serializeFields(m, KEEP));
        expect(back.headers.callId()).toBe(callId);
        expect(back.headers.from()?.tag).toBe(tag);
        expect(back.headers.cseq()?.seq).toBe(seq);
        expect(back.headers.contact()).toEqual([]);
      }),
    );
  });
});

describe('serializeOwned', () => {
  test('the bytes of serializeMessage, in a buffer that holds nothing else', () => {
    const wire = crlf(`SIP/2.0 200 OK
Via: SIP/2.0/UDP a.example;branch=z9hG4bK1
From: <sip:a@a.example>;tag=1
To: <sip:a@a.example>;tag=2
Call-ID: c1
CSeq: 1 OPTIONS
Content-Length: 0

`);
    const datagram = new Uint8Array(wire.length + 100);
    datagram.set(wire, 50);
    const m = reparsed(datagram.subarray(50, 50 + wire.length));
    const owned = serializeOwned(m);
    expect(dec(owned)).toBe(dec(serializeMessage(m)));
    expect(owned.buffer.byteLength).toBe(owned.length);
    m.headers.shift('via');
    expect(dec(serializeOwned(m))).toBe(dec(serializeMessage(m)));
  });

  test('reuses the bytes just serialized only while the message is unchanged', () => {
    const m = mustParse(`SIP/2.0 180 Ringing
Via: SIP/2.0/UDP p.example;branch=z9hG4bKp
Via: SIP/2.0/UDP a.example;branch=z9hG4bK1
From: <sip:a@a.example>;tag=1
To: <sip:a@a.example>;tag=2
Call-ID: c1
CSeq: 1 INVITE

`);
    m.headers.shift('via');
    const sent = serializeMessage(m);
    expect(serializeOwned(m)).toBe(sent);
    if (m.kind !== 'response') throw new Error('a response');
    m.status = 183;
    expect(dec(serializeOwned(m))).toContain('SIP/2.0 183 Ringing');
    m.headers.append('Subject', 'later');
    expect(dec(serializeOwned(m))).toContain('Subject: later');
    m.body = new TextEncoder().encode('x');
    expect(dec(serializeOwned(m))).toContain('Content-Length: 1');
  });
});
