// Serializer, builders and sanity layer (RFC 3261 §7, §8.1.1, §8.2.6, §18.3).
import { describe, expect, test } from 'vitest';
import {
  BRANCH_COOKIE,
  checkMessage,
  createRequest,
  createResponse,
  generateBranch,
  generateCallId,
  generateTag,
  parseMessage,
  parseUri,
  serializeMessage,
  type SipRequest,
} from '../../src/syntax/index.js';
import { crlf, dec, mustParse, view } from './helpers.js';

const invite = `INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP  pc33.atlanta.example.com ;branch=z9hG4bK776asdhds
via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKprx, SIP/2.0/UDP edge.example.com;branch=z9hG4bKedge
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
X-Odd:    kept    exactly   
Content-Type: application/sdp
Content-Length: 5

v=0
`;

function asRequest(text: string): SipRequest {
  const m = mustParse(text);
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
}

describe('serializeMessage', () => {
  test('§7: an untouched parsed message serializes to its exact bytes', () => {
    const bytes = crlf(invite);
    const r = parseMessage(bytes);
    expect(r.ok && serializeMessage(r.message)).toEqual(bytes);
  });
  test('§16.6: a proxy that adds a Via keeps every other header byte-exact', () => {
    const m = asRequest(invite);
    m.headers.prepend('Via', 'SIP/2.0/UDP me.example;branch=z9hG4bKme');
    const out = dec(serializeMessage(m));
    expect(out).toContain(
      'Via: SIP/2.0/UDP me.example;branch=z9hG4bKme\r\nVia: SIP/2.0/UDP  pc33.atlanta.example.com ;branch=z9hG4bK776asdhds\r\n',
    );
    expect(out).toContain('X-Odd:    kept    exactly   \r\n');
    expect(out.startsWith('INVITE sip:bob@biloxi.example.com SIP/2.0\r\n')).toBe(true);
  });
  test('§16.7: removing the top Via value splits a comma list', () => {
    const m = asRequest(invite);
    m.headers.shift('via');
    expect(m.headers.shift('via')).toBe('SIP/2.0/TCP proxy.example.com;branch=z9hG4bKprx');
    expect(m.headers.via().map((v) => v.host)).toEqual(['edge.example.com']);
  });
  test('§20.14: Content-Length is recomputed from a changed body', () => {
    const m = asRequest(invite);
    m.body = new TextEncoder().encode('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n');
    const again = parseMessage(serializeMessage(m));
    expect(again.ok && again.message.headers.contentLength()).toBe(m.body.length);
    expect(again.ok && dec(again.message.body)).toBe(dec(m.body));
  });
  test('§16.5: a new Request-URI is formatted, the rest of the start line kept', () => {
    const m = asRequest(invite);
    const u = parseUri('sip:bob@192.0.2.4:5070;transport=tcp');
    if (!u.ok) throw new Error('uri');
    m.uri = u.value;
    expect(dec(serializeMessage(m)).split('\r\n')[0]).toBe(
      'INVITE sip:bob@192.0.2.4:5070;transport=tcp SIP/2.0',
    );
  });
  test('a header value set with a line break cannot inject a header', () => {
    const m = asRequest(invite);
    m.headers.set('Subject', 'hi\r\nEvil: yes');
    const again = parseMessage(serializeMessage(m));
    expect(again.ok && again.message.headers.has('evil')).toBe(false);
  });
  test('serialize(parse(x)) after edits re-parses to the same structure', () => {
    const m = asRequest(invite);
    m.headers.set('Max-Forwards', '69');
    m.headers.remove('x-odd');
    const again = parseMessage(serializeMessage(m));
    if (!again.ok) throw new Error(again.error.reason);
    expect(view(again.message)).toEqual(view(m));
  });
});

describe('builders', () => {
  test('§8.1.1.7: a branch starts with z9hG4bK and carries at least 64 random bits', () => {
    const a = generateBranch();
    expect(a.startsWith(BRANCH_COOKIE)).toBe(true);
    expect(a.length - BRANCH_COOKIE.length).toBeGreaterThanOrEqual(16);
    expect(generateBranch()).not.toBe(a);
    expect(generateTag()).not.toBe(generateTag());
    expect(generateCallId('h.example')).toMatch(/^[0-9a-f]{32}@h\.example$/);
  });
  test('§8.1.1: createRequest has the mandatory header fields and parses back', () => {
    const req = createRequest({
      method: 'INVITE',
      uri: 'sip:bob@biloxi.example.com',
      from: '"Alice" <sip:alice@atlanta.example.com>;tag=88sja8x',
      to: '<sip:bob@biloxi.example.com>',
      via: { transport: 'udp', host: 'pc33.atlanta.example.com', rport: true },
      contact: '<sip:alice@pc33.atlanta.example.com>',
      body: 'v=0\r\n',
      contentType: 'application/sdp',
    });
    const r = parseMessage(serializeMessage(req));
    expect(checkMessage(r)).toEqual({ action: 'accept' });
    if (!r.ok) throw new Error('parse');
    expect(r.message.headers.via()[0]).toMatchObject({ transport: 'UDP', rport: null });
    expect(r.message.headers.maxForwards()).toBe(70);
    expect(r.message.headers.cseq()).toEqual({ seq: 1, method: 'INVITE' });
  });
  test('§8.2.6.2: a response copies Via, From, To, Call-ID and CSeq and adds a To tag', () => {
    const req = asRequest(invite);
    const res = createResponse(req, 180, undefined, { toTag: 'abc' });
    const r = parseMessage(serializeMessage(res));
    if (!r.ok || r.message.kind !== 'response') throw new Error('parse');
    expect(r.message.reason).toBe('Ringing');
    expect(r.message.headers.via()).toEqual(req.headers.via());
    expect(r.message.headers.getAll('via')).toEqual(req.headers.getAll('via'));
    expect(r.message.headers.from()).toEqual(req.headers.from());
    expect(r.message.headers.to()?.tag).toBe('abc');
    expect(r.message.headers.callId()).toBe(req.headers.callId());
    expect(r.message.headers.cseq()).toEqual(req.headers.cseq());
    expect(dec(serializeMessage(res))).toContain(
      'Via: SIP/2.0/UDP  pc33.atlanta.example.com ;branch=z9hG4bK776asdhds\r\n',
    );
  });
  test('§8.2.6.2: a 100 Trying gets no To tag', () => {
    const res = createResponse(asRequest(invite), 100);
    expect(res.headers.to()?.tag).toBeUndefined();
  });
  test('§8.2.6.2: an existing To tag is kept', () => {
    const req = asRequest(
      invite.replace(
        'To: Bob <sip:bob@biloxi.example.com>',
        'To: Bob <sip:bob@biloxi.example.com>;tag=t1',
      ),
    );
    expect(createResponse(req, 200).headers.to()?.tag).toBe('t1');
  });
});

describe('sanity layer', () => {
  test('§18.1.1: a message larger than maxBytes gets a 513', () => {
    const r = parseMessage(crlf(invite), { maxBytes: 100 });
    expect(checkMessage(r)).toMatchObject({ action: 'reject', status: 513 });
  });
  test('§8.2.2.3: a proxy checks Proxy-Require and lists the unsupported tags', () => {
    const r = parseMessage(
      crlf(invite.replace('Max-Forwards: 70', 'Max-Forwards: 70\nProxy-Require: foo, bar')),
    );
    expect(checkMessage(r, { role: 'proxy', supportedExtensions: ['bar'] })).toMatchObject({
      status: 420,
      unsupported: ['foo'],
    });
    expect(checkMessage(r, { role: 'uas' })).toEqual({ action: 'accept' });
  });
  test('§17: an ACK that is malformed is dropped, never answered', () => {
    const r = parseMessage(crlf(invite.replace('INVITE sip', 'ACK sip')));
    expect(checkMessage(r)).toMatchObject({ action: 'drop' });
  });
  test('§8.1.1: a request without Via is dropped (no response can be sent)', () => {
    const r = parseMessage(crlf(invite.replace(/^via?:.*\n/gim, '')));
    expect(checkMessage(r)).toMatchObject({ action: 'drop' });
  });
  test('§10.3: Contact "*" with a non-zero Expires gets a 400', () => {
    const text = invite
      .replace(/INVITE/g, 'REGISTER')
      .replace('Max-Forwards: 70', 'Max-Forwards: 70\nContact: *\nExpires: 5');
    expect(checkMessage(parseMessage(crlf(text)))).toMatchObject({ status: 400 });
  });
  test('§20.22: a Max-Forwards above 255 gets a 400', () => {
    const r = parseMessage(crlf(invite.replace('Max-Forwards: 70', 'Max-Forwards: 99999999999')));
    expect(checkMessage(r)).toMatchObject({ status: 400 });
  });
  test('§18.3: a Content-Length larger than the body gets a 400, and an empty input is dropped', () => {
    expect(
      checkMessage(parseMessage(crlf(invite.replace('Content-Length: 5', 'Content-Length: 40')))),
    ).toMatchObject({ status: 400 });
    expect(checkMessage(parseMessage(new Uint8Array(0)))).toMatchObject({ action: 'drop' });
  });
});

describe('safeReasonPhrase', () => {
  test('§25.1: a Reason-Phrase built from hostile input carries no CR, LF or control characters', async () => {
    const { safeReasonPhrase } = await import('../../src/syntax/index.js');
    const phrase = safeReasonPhrase('Bad Request: bad header "X\r\nInjected: 1\u0000"');
    // eslint-disable-next-line no-control-regex
    expect(phrase).not.toMatch(/[\r\n\u0000]/);
    expect(safeReasonPhrase('x'.repeat(500)).length).toBe(120);
  });
});
