// Table tests for the SIP grammar (RFC 3261 §7, §19, §20, §25).
import { describe, expect, test } from 'vitest';
import {
  canonicalHeaderName,
  formatNameAddr,
  formatUri,
  parseMessage,
  parseNameAddr,
  parseParams,
  parseUri,
  parseVia,
  splitList,
  type SipUri,
} from '../../src/syntax/index.js';
import { crlf, mustParse } from './helpers.js';

const base = `OPTIONS sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds
Max-Forwards: 70
To: <sip:bob@example.com>
From: Alice <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 OPTIONS
`;

function withHeaders(extra: string, body = ''): string {
  return `${base}${extra}Content-Length: ${body.length}\n\n${body}`;
}

describe('§7.3.3 compact forms', () => {
  const table: Array<[string, string]> = [
    ['i', 'call-id'],
    ['m', 'contact'],
    ['f', 'from'],
    ['t', 'to'],
    ['v', 'via'],
    ['l', 'content-length'],
    ['c', 'content-type'],
    ['k', 'supported'],
    ['s', 'subject'],
    ['e', 'content-encoding'],
    ['o', 'event'],
    ['r', 'refer-to'],
    ['u', 'allow-events'],
    ['b', 'referred-by'],
    ['x', 'session-expires'],
    ['y', 'identity'],
    ['a', 'accept-contact'],
    ['j', 'reject-contact'],
    ['d', 'request-disposition'],
  ];
  for (const [short, long] of table) {
    test(`§7.3.3: the compact form "${short}" is the same header as ${long}`, () => {
      expect(canonicalHeaderName(short)).toBe(long);
      expect(canonicalHeaderName(short.toUpperCase())).toBe(long);
    });
  }
  test('§7.3.3: a message mixing compact and long forms reads both as one header', () => {
    const m = mustParse(withHeaders('k: timer\nSupported: 100rel\nM: <sip:a@b.example>\n'));
    expect(m.headers.getAll('supported')).toEqual(['timer', '100rel']);
    expect(m.headers.contact()).toHaveLength(1);
  });
});

describe('§7.3.1 header field format', () => {
  test('§7.3.1: header names are case-insensitive', () => {
    const m = mustParse(withHeaders('x-CUSTOM: one\n'));
    expect(m.headers.get('X-Custom')).toBe('one');
    expect(m.headers.has('x-custom')).toBe(true);
  });
  test('§7.3.1: a folded header line is joined with a single space', () => {
    const m = mustParse(withHeaders('Subject: first part\n   second part\n\tthird\n'));
    expect(m.headers.get('subject')).toBe('first part second part third');
  });
  test('§7.3.1: whitespace around the colon and the value is not part of the value', () => {
    const m = mustParse(withHeaders('Subject   :    spaced   \n'));
    expect(m.headers.get('subject')).toBe('spaced');
  });
  test('§7.3.1: an empty header value is allowed', () => {
    const m = mustParse(withHeaders('Subject:\n'));
    expect(m.headers.get('subject')).toBe('');
  });
  test('§7.3.1: several values on one line split on commas outside quotes and <>', () => {
    const m = mustParse(
      withHeaders('Contact: "Doe, John" <sip:j,k@a.example;x=1>, <sip:k@b.example>;q=0.5\n'),
    );
    expect(m.headers.getAll('contact')).toEqual([
      '"Doe, John" <sip:j,k@a.example;x=1>',
      '<sip:k@b.example>;q=0.5',
    ]);
    expect(m.headers.contact().map((c) => (c.star ? '*' : c.displayName))).toEqual([
      'Doe, John',
      undefined,
    ]);
  });
  test('§7.3.1: several header lines and a comma list give the same values', () => {
    const a = mustParse(
      withHeaders(
        'Via: SIP/2.0/TCP b.example;branch=z9hG4bKb, SIP/2.0/UDP c.example;branch=z9hG4bKc\n',
      ),
    );
    const b = mustParse(
      withHeaders(
        'Via: SIP/2.0/TCP b.example;branch=z9hG4bKb\nVia: SIP/2.0/UDP c.example;branch=z9hG4bKc\n',
      ),
    );
    expect(a.headers.via()).toEqual(b.headers.via());
    expect(a.headers.via()).toHaveLength(3);
  });
  test('§7.3.1: WWW-Authenticate, Authorization and Proxy-* values are never split on commas', () => {
    const v = 'Digest realm="atlanta.com", nonce="84a4cc6f", qop="auth,auth-int", algorithm=MD5';
    const m = mustParse(
      withHeaders(
        `Authorization: ${v}\nProxy-Authorization: ${v}\nWWW-Authenticate: ${v}\nProxy-Authenticate: ${v}\n`,
      ),
    );
    for (const h of [
      'authorization',
      'proxy-authorization',
      'www-authenticate',
      'proxy-authenticate',
    ]) {
      expect(m.headers.getAll(h)).toEqual([v]);
    }
  });
  test('§7.3.1: unknown headers are kept, in order, and not split', () => {
    const m = mustParse(withHeaders('X-B: 1, 2\nX-A: a\n'));
    expect(m.headers.getAll('x-b')).toEqual(['1, 2']);
    const names = m.headers.entries().map(([n]) => n);
    expect(names.indexOf('X-B')).toBeLessThan(names.indexOf('X-A'));
  });
  test('§7.3.1: a header line without a colon makes the message unparseable (with a partial for a 400)', () => {
    const r = parseMessage(crlf(withHeaders('NoColonHere\n')));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('bad-header');
      expect(r.partial?.headers.callId()).toBe('a84b4c76e66710@pc33.example.com');
    }
  });
  test('§7.5: CRLFs before the start line are ignored', () => {
    const r = parseMessage(crlf('\n\n' + withHeaders('')));
    expect(r.ok).toBe(true);
  });
});

describe('§7.1 and §7.2 start lines', () => {
  test('§7.1: unknown methods are tokens and parse', () => {
    const m = mustParse(
      withHeaders('')
        .replace('OPTIONS sip', 'FOOBAR sip')
        .replace('314159 OPTIONS', '314159 FOOBAR'),
    );
    expect(m.kind === 'request' && m.method).toBe('FOOBAR');
  });
  test('§7.2: a Status-Line gives status and reason phrase', () => {
    const m = mustParse(
      withHeaders('').replace('OPTIONS sip:bob@example.com SIP/2.0', 'SIP/2.0 486 Busy Here'),
    );
    expect(m.kind === 'response' && [m.status, m.reason]).toEqual([486, 'Busy Here']);
  });
  const bad: Array<[string, string, string]> = [
    ['§7.2: a two-digit status code', 'SIP/2.0 99 Low', 'bad-status-code'],
    ['§7.2: a status code of 700', 'SIP/2.0 700 High', 'bad-status-code'],
    ['§7.1: a Request-Line with two SPs', 'OPTIONS  sip:bob@example.com SIP/2.0', 'bad-start-line'],
    ['§7.1: a Request-Line without a version', 'OPTIONS sip:bob@example.com', 'bad-start-line'],
    [
      '§25.1: a version that is not SIP/digits.digits',
      'OPTIONS sip:bob@example.com SIP/two',
      'bad-version',
    ],
    [
      '§8.2.2: a version other than 2.0',
      'OPTIONS sip:bob@example.com SIP/3.0',
      'unsupported-version',
    ],
    [
      '§19.1.2: a bad escape in the Request-URI',
      'OPTIONS sip:b%4@example.com SIP/2.0',
      'bad-request-uri',
    ],
    ['§25.1: a method that is not a token', 'OP@TIONS sip:bob@example.com SIP/2.0', 'bad-method'],
  ];
  for (const [name, line, code] of bad) {
    test(`${name} is a "${code}" error`, () => {
      const r = parseMessage(
        crlf(withHeaders('').replace('OPTIONS sip:bob@example.com SIP/2.0', line)),
      );
      expect(r.ok ? 'ok' : r.error.code).toBe(code);
    });
  }
});

describe('§19.1 SIP and SIPS URIs', () => {
  const good: Array<[string, Partial<SipUri>]> = [
    [
      'sip:alice@atlanta.com',
      { scheme: 'sip', user: 'alice', host: 'atlanta.com', hostKind: 'name' },
    ],
    ['sip:alice:secretword@atlanta.com;transport=tcp', { user: 'alice', password: 'secretword' }],
    ['sips:alice@atlanta.com?subject=project%20x&priority=urgent', { scheme: 'sips' }],
    [
      'sip:+1-212-555-1212:1234@gateway.com;user=phone',
      { user: '+1-212-555-1212', password: '1234' },
    ],
    ['sips:1212@gateway.com', { user: '1212' }],
    ['sip:alice@192.0.2.4', { host: '192.0.2.4', hostKind: 'ipv4' }],
    ['sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com', { host: 'atlanta.com' }],
    ['sip:alice;day=tuesday@atlanta.com', { user: 'alice;day=tuesday' }],
    [
      'sip:[2001:db8::1]:5061;transport=tls',
      { host: '[2001:db8::1]', hostKind: 'ipv6', port: 5061 },
    ],
    ['SIP:Alice@ATLANTA.com', { scheme: 'sip', user: 'Alice', host: 'atlanta.com' }],
    ['sip:proxy.example.com;lr', { host: 'proxy.example.com' }],
  ];
  for (const [text, fields] of good) {
    test(`§19.1.1: "${text}" parses`, () => {
      const r = parseUri(text);
      if (!r.ok) throw new Error(r.error.reason);
      expect(r.value).toMatchObject(fields);
      // formatting then parsing again gives the same URI
      const again = parseUri(formatUri(r.value));
      expect(again.ok && again.value).toEqual(r.value);
    });
  }
  test('§19.1.1: transport, lr, maddr, user, ob and valueless params are read', () => {
    const r = parseUri('sip:a@b.example;transport=TCP;lr;maddr=239.255.255.1;user=phone;ob;x');
    expect(r.ok && [...(r.value as SipUri).params]).toEqual([
      ['transport', 'TCP'],
      ['lr', null],
      ['maddr', '239.255.255.1'],
      ['user', 'phone'],
      ['ob', null],
      ['x', null],
    ]);
  });
  test('§19.1.1: URI headers are unescaped and kept in order', () => {
    const r = parseUri('sip:a@b.example?Subject=hello%20there&Priority=urgent');
    expect(r.ok && (r.value as SipUri).headers).toEqual([
      ['Subject', 'hello there'],
      ['Priority', 'urgent'],
    ]);
  });
  test('§19.1.2: characters outside the user set are escaped when formatting', () => {
    const r = parseUri('sip:sips%3Auser%40example.com@example.net');
    expect(r.ok && formatUri(r.value)).toBe('sip:sips%3Auser%40example.com@example.net');
  });
  test('§19.1: tel: and other schemes are kept raw', () => {
    expect(parseUri('tel:+1-201-555-0123')).toEqual({
      ok: true,
      value: { kind: 'other', scheme: 'tel', raw: 'tel:+1-201-555-0123' },
    });
    expect(parseUri('urn:service:sos')).toMatchObject({ ok: true, value: { scheme: 'urn' } });
  });
  const bad = [
    'sip:',
    'sip:@example.com',
    'sip:a@',
    'sip:a@example.com:99999',
    'sip:a@example.com:',
    'sip:a@[2001:db8::1',
    'sip:a@[2001:db8:::1:2:3:4:5:6:7]',
    'sip:a%zz@example.com',
    'sip:a@exa mple.com',
    'sip:a@example.com;=x',
    'sip:a@-bad-.com',
    'nocolon',
    'sip:a@1.2.3.256',
  ];
  for (const text of bad) {
    test(`§25.1: "${text}" is not a valid URI`, () => {
      expect(parseUri(text).ok).toBe(false);
    });
  }
});

describe('§20.10 name-addr and addr-spec', () => {
  const table: Array<[string, string | undefined, string, Record<string, string | null>]> = [
    ['"Alice" <sip:alice@a.example>;tag=1', 'Alice', 'sip:alice@a.example', { tag: '1' }],
    ['Alice Liddell <sip:alice@a.example>', 'Alice Liddell', 'sip:alice@a.example', {}],
    [
      '<sip:alice@a.example;transport=tcp>;expires=60',
      undefined,
      'sip:alice@a.example;transport=tcp',
      { expires: '60' },
    ],
    ['sip:alice@a.example;tag=xyz', undefined, 'sip:alice@a.example', { tag: 'xyz' }],
    ['"\\"quoted\\" \\\\ name" <sip:q@a.example>', '"quoted" \\ name', 'sip:q@a.example', {}],
    ['"" <sip:empty@a.example>', '', 'sip:empty@a.example', {}],
    ['  <sip:a@[2001:db8::1]:5060> ; lr ', undefined, 'sip:a@[2001:db8::1]:5060', { lr: null }],
    ['<tel:+15551234>', undefined, 'tel:+15551234', {}],
    ['"Ünïcödé" <sip:u@a.example>', 'Ünïcödé', 'sip:u@a.example', {}],
  ];
  for (const [text, dn, uri, params] of table) {
    test(`§20.10: ${JSON.stringify(text)} reads as display ${JSON.stringify(dn)}`, () => {
      const r = parseNameAddr(text);
      if (!r.ok) throw new Error(r.error.reason);
      expect(r.value.displayName).toBe(dn);
      expect(formatUri(r.value.uri)).toBe(uri);
      expect(Object.fromEntries(r.value.params)).toEqual(params);
      const again = parseNameAddr(formatNameAddr(r.value));
      expect(again.ok && again.value).toEqual(r.value);
    });
  }
  const bad = [
    '"unterminated <sip:a@b.example>',
    'Bell, Alexander <sip:a@b.example>',
    '< sip:a@b.example >',
    'sip:a@b.example?x=y',
    '<sip:a@b.example',
    '<sip:a@b.example>;;',
    '<sip:a@b.example>;tag',
  ];
  for (const text of bad) {
    test(`§20.10: ${JSON.stringify(text)} is rejected`, () => {
      expect(parseNameAddr(text).ok).toBe(false);
    });
  }
});

describe('§20.42 Via', () => {
  test('§20.42: transport, host, port and branch, received, rport are read', () => {
    const r = parseVia(
      'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc;received=198.51.100.7;rport=40000',
    );
    expect(r.ok && r.value).toMatchObject({
      protocol: 'SIP/2.0',
      transport: 'UDP',
      host: '192.0.2.1',
      port: 5060,
      branch: 'z9hG4bKabc',
      received: '198.51.100.7',
      rport: 40000,
    });
  });
  test('RFC 3581 §4: a valueless rport is null', () => {
    const r = parseVia('SIP/2.0/TCP host.example;rport;branch=z9hG4bKx');
    expect(r.ok && r.value.rport).toBeNull();
  });
  test('§20.42: LWS around "/" and ":" is allowed', () => {
    const r = parseVia('SIP / 2.0 / ws  h.example : 8080 ; branch = z9hG4bKq');
    expect(r.ok && r.value).toMatchObject({
      transport: 'WS',
      host: 'h.example',
      port: 8080,
      branch: 'z9hG4bKq',
    });
  });
  for (const bad of [
    'SIP/2.0 host',
    'SIP/2.0/UDP',
    'SIP/2.0/UDP host:x',
    'SIP/2.0/UDP host;branch',
    'SIP/2.0/UDP host;rport=99999',
  ]) {
    test(`§20.42: "${bad}" is rejected`, () => {
      expect(parseVia(bad).ok).toBe(false);
    });
  }
});

describe('typed accessors', () => {
  test('§20.16: CSeq gives number and method', () => {
    expect(mustParse(withHeaders('')).headers.cseq()).toEqual({ seq: 314159, method: 'OPTIONS' });
  });
  test('§20.10: Contact "*" is a star contact', () => {
    const m = mustParse(withHeaders('Contact: *\nExpires: 0\n'));
    expect(m.headers.contact()).toEqual([{ star: true }]);
    expect(m.headers.expires()).toBe(0);
  });
  test('§20.10: Contact expires and q are numbers', () => {
    const m = mustParse(withHeaders('Contact: <sip:a@b.example>;expires=3600;q=0.7\n'));
    expect(m.headers.contact()[0]).toMatchObject({ star: false, expires: 3600, q: 0.7 });
  });
  test('§20.30, §20.34: Route and Record-Route give name-addrs in order', () => {
    const m = mustParse(
      withHeaders(
        'Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>\nRoute: <sip:p3.example;lr>\n',
      ),
    );
    expect(m.headers.recordRoute().map((r) => formatUri(r.uri))).toEqual([
      'sip:p1.example;lr',
      'sip:p2.example;lr',
    ]);
    expect(m.headers.route()).toHaveLength(1);
  });
  test('typed accessors give undefined or a typed error, never throw, on bad values', () => {
    const m = mustParse(
      withHeaders('Max-Forwards: lots\nExpires: -1\n').replace('Max-Forwards: 70\n', ''),
    );
    expect(m.headers.maxForwards()).toBeUndefined();
    expect(m.headers.typed('max-forwards')).toMatchObject({
      ok: false,
      error: { code: 'bad-header-value' },
    });
    expect(m.headers.expires()).toBeUndefined();
    expect(m.headers.typed('route')).toEqual({ ok: true, value: [] });
  });
  test('§8.1.1.5: a CSeq number of 2**31 or more is a typed error', () => {
    const m = mustParse(withHeaders('').replace('314159 OPTIONS', '2147483648 OPTIONS'));
    expect(m.headers.cseq()).toBeUndefined();
  });
  test('a typed value is parsed once and cached until the header changes', () => {
    const m = mustParse(withHeaders(''));
    expect(m.headers.via()).toBe(m.headers.via());
    const before = m.headers.via();
    m.headers.prepend('Via', 'SIP/2.0/TCP proxy.example;branch=z9hG4bKp');
    expect(m.headers.via()).not.toBe(before);
    expect(m.headers.via()[0]?.host).toBe('proxy.example');
  });
  test('a change clears only its own header’s typed value, and every change is seen', () => {
    const m = mustParse(withHeaders(''));
    const to = m.headers.to();
    const via = m.headers.via();
    m.headers.shift('Via'); // the only Via: none left
    expect(m.headers.to()).toBe(to);
    expect(m.headers.via()).not.toBe(via);
    expect(m.headers.via()).toEqual([]);
    m.headers.append('Via', 'SIP/2.0/UDP a.example;branch=z9hG4bK1');
    expect(m.headers.via().map((v) => v.host)).toEqual(['a.example']);
    m.headers.remove('Via');
    expect(m.headers.via()).toEqual([]);
    m.headers.set('Via', 'SIP/2.0/UDP b.example;branch=z9hG4bK2');
    expect(m.headers.via().map((v) => v.host)).toEqual(['b.example']);
    expect(m.headers.to()).toBe(to);
  });
});

describe('generic parameters', () => {
  test('§25.1: parseParams reads tokens, quoted strings and valueless names', () => {
    const r = parseParams(';a=1;B="x y";c');
    expect(r.ok && [...r.value]).toEqual([
      ['a', '1'],
      ['b', '"x y"'],
      ['c', null],
    ]);
  });
  test('§7.3.1: splitList respects quotes with escaped quotes', () => {
    expect(splitList('"a \\", b" <sip:x>, c')).toEqual(['"a \\", b" <sip:x>', 'c']);
  });
});
