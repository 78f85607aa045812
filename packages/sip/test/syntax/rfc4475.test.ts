// RFC 4475 (SIP Torture Test Messages) §3: one row per message, with the outcome the RFC
// states for it. Fixtures are the RFC's bytes (see ../fixtures/rfc4475/README.md).
import { describe, expect, test } from 'vitest';
import {
  checkMessage,
  parseMessage,
  serializeMessage,
  type SanityVerdict,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../src/syntax/index.js';
import { dec, fixture, view } from './helpers.js';

type Expect = 'accept' | 'drop' | number;

interface Row {
  file: string;
  section: string;
  says: string;
  expect: Expect;
  check?: (m: SipMessage) => void;
}

const req = (m: SipMessage): SipRequest => {
  if (m.kind !== 'request') throw new Error('not a request');
  return m;
};
const res = (m: SipMessage): SipResponse => {
  if (m.kind !== 'response') throw new Error('not a response');
  return m;
};

const rows: Row[] = [
  // §3.1.1 Valid messages
  {
    file: 'wsinv',
    section: '§3.1.1.1',
    says: 'a short tortuous INVITE (folding, odd whitespace, escaped quotes) is valid',
    expect: 'accept',
    check: (m) => {
      const h = m.headers;
      expect(h.from()?.displayName).toBe('J Rosenberg \\"');
      expect(h.from()?.tag).toBe('98asjd8');
      expect(h.to()?.tag).toBe('1918181833n');
      expect(h.maxForwards()).toBe(68);
      expect(h.cseq()).toEqual({ seq: 9, method: 'INVITE' });
      expect(h.via().map((v) => [v.transport, v.host, v.branch])).toEqual([
        ['UDP', '192.0.2.2', '390skdjuw'],
        ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
        ['UDP', '192.168.255.111', 'z9hG4bK30239'],
      ]);
      const c = h.contact()[0]!;
      expect(c.star).toBe(false);
      if (!c.star) {
        expect(c.displayName).toBe('Quoted string ""');
        expect(c.q).toBe(0.33);
        expect(c.params.get('newparam')).toBe('newvalue');
        expect(c.params.get('secondparam')).toBeNull();
      }
      expect(h.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
      expect(h.get('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
      expect(h.get('subject')).toBe('');
      expect(h.route()[0]?.uri).toMatchObject({ host: 'services.example.com' });
      expect(m.body.length).toBe(150);
    },
  },
  {
    file: 'intmeth',
    section: '§3.1.1.2',
    says: 'a wide range of valid characters in method, URI, header names and values is valid',
    expect: 'accept',
    check: (m) => {
      const r = req(m);
      expect(r.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
      expect(r.uri).toMatchObject({
        kind: 'sip',
        host: 'example.com',
        user: "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*",
      });
      expect(r.uri.kind === 'sip' && r.uri.password).toBe(
        "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)",
      );
      expect(r.headers.to()?.displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
      expect(r.headers.cseq()?.method).toBe(r.method);
    },
  },
  {
    file: 'esc01',
    section: '§3.1.1.3',
    says: 'valid %-escaping in URIs is unescaped',
    expect: 'accept',
    check: (m) => {
      const r = req(m);
      expect(r.uri).toMatchObject({ user: 'sips:user@example.com', host: 'example.net' });
      expect(r.headers.to()?.uri).toMatchObject({ user: 'user' });
      expect(r.headers.from()?.uri).toMatchObject({ user: 'I have spaces' });
      const c = r.headers.contact()[0]!;
      expect(!c.star && c.uri.kind === 'sip' && [...c.uri.params]).toEqual([
        ['lr', null],
        ['name', 'value%41'],
      ]);
      expect(r.headers.get('c')).toBe('application/sdp');
    },
  },
  {
    file: 'escnull',
    section: '§3.1.1.4',
    says: 'escaped NULs in URIs are valid',
    expect: 'accept',
    check: (m) => {
      expect(m.headers.to()?.uri).toMatchObject({ user: 'null-\x00-null' });
      expect(
        m.headers.contact().map((c) => (!c.star && c.uri.kind === 'sip' ? c.uri.user : '')),
      ).toEqual(['\x00', '\x00\x00']);
    },
  },
  {
    file: 'esc02',
    section: '§3.1.1.5',
    says: 'a "%" that is not an escape in a method, display name or header name is taken literally',
    expect: 'accept',
    check: (m) => {
      const r = req(m);
      expect(r.method).toBe('RE%47IST%45R');
      expect(r.headers.to()?.displayName).toBe('%Z%45');
      expect(r.headers.via()[0]?.branch).toBe('z9hG4bK209%fzsnel234');
      expect(r.headers.contact()).toHaveLength(2);
      expect(r.headers.get('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
    },
  },
  {
    file: 'lwsdisp',
    section: '§3.1.1.6',
    says: 'no LWS between a display name and "<" is valid',
    expect: 'accept',
    check: (m) => expect(m.headers.from()?.displayName).toBe('caller'),
  },
  {
    file: 'longreq',
    section: '§3.1.1.7',
    says: 'long values in header fields are valid',
    expect: 'accept',
    check: (m) => {
      const h = m.headers;
      expect(h.via()).toHaveLength(34);
      expect(h.to()?.displayName).toMatch(/^I have a user name of (extreme){10} proportion$/);
      expect(h.from()?.uri).toMatchObject({ user: 'amazinglylongcallername'.repeat(5) });
      expect(h.callId()).toMatch(/^longreq\.one(really){20}longcallid$/);
      expect(
        h.get(
          'unknown-longlonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglonglong-name',
        ),
      ).toBeDefined();
    },
  },
  {
    file: 'dblreq',
    section: '§3.1.1.8',
    says: 'extra octets after Content-Length in a UDP datagram are ignored',
    expect: 'accept',
    check: (m) => {
      expect(req(m).method).toBe('REGISTER');
      expect(m.body.length).toBe(0);
      expect(dec(serializeMessage(m))).not.toContain('INVITE');
    },
  },
  {
    file: 'semiuri',
    section: '§3.1.1.9',
    says: 'a semicolon in the user part of a Request-URI is part of the user',
    expect: 'accept',
    check: (m) => {
      expect(req(m).uri).toMatchObject({ user: 'user;par=u@example.net', host: 'example.com' });
      expect(m.headers.getAll('accept')).toHaveLength(6);
    },
  },
  {
    file: 'transports',
    section: '§3.1.1.10',
    says: 'varied and unknown transport types in Via are valid',
    expect: 'accept',
    check: (m) =>
      expect(m.headers.via().map((v) => v.transport)).toEqual([
        'UDP',
        'SCTP',
        'TLS',
        'UNKNOWN',
        'TCP',
      ]),
  },
  {
    file: 'mpart01',
    section: '§3.1.1.11',
    says: 'a multipart MIME body with binary parts is kept byte-exact',
    expect: 'accept',
    check: (m) => {
      expect(m.headers.get('content-type')).toBe('multipart/mixed;boundary=7a9cbec02ceef655');
      expect(m.body.length).toBe(Number(m.headers.get('content-length')));
      expect(dec(m.body.subarray(0, 18))).toBe('--7a9cbec02ceef655');
    },
  },
  {
    file: 'unreason',
    section: '§3.1.1.12',
    says: 'an unusual reason phrase (UTF-8, symbols) is valid',
    expect: 'accept',
    check: (m) => {
      expect(res(m).status).toBe(200);
      expect(res(m).reason.startsWith('= 2**3 * 5**2 ')).toBe(true);
      expect(res(m).reason).toContain('сто');
    },
  },
  {
    file: 'noreason',
    section: '§3.1.1.13',
    says: 'an empty reason phrase is valid',
    expect: 'accept',
    check: (m) => {
      expect(res(m).status).toBe(100);
      expect(res(m).reason).toBe('');
    },
  },
  // §3.1.2 Invalid messages
  {
    file: 'badinv01',
    section: '§3.1.2.1',
    says: 'extraneous header field separators get a 400',
    expect: 400,
  },
  {
    file: 'clerr',
    section: '§3.1.2.2',
    says: 'a Content-Length larger than the message gets a 400',
    expect: 400,
  },
  { file: 'ncl', section: '§3.1.2.3', says: 'a negative Content-Length gets a 400', expect: 400 },
  {
    file: 'scalar02',
    section: '§3.1.2.4',
    says: 'request scalar fields with overlarge values get a 400',
    expect: 400,
  },
  {
    file: 'scalarlg',
    section: '§3.1.2.5',
    says: 'a response with overlarge scalar fields is discarded',
    expect: 'drop',
  },
  {
    file: 'quotbal',
    section: '§3.1.2.6',
    says: 'an unterminated quoted string in a display name gets a 400',
    expect: 400,
  },
  {
    file: 'ltgtruri',
    section: '§3.1.2.7',
    says: '<> enclosing the Request-URI gets a 400',
    expect: 400,
  },
  {
    file: 'lwsruri',
    section: '§3.1.2.8',
    says: 'LWS embedded in the Request-URI gets a 400',
    expect: 400,
  },
  {
    file: 'lwsstart',
    section: '§3.1.2.9',
    says: 'several SP between Request-Line elements get a 400',
    expect: 400,
  },
  {
    file: 'trws',
    section: '§3.1.2.10',
    says: 'SP at the end of the Request-Line gets a 400',
    expect: 400,
  },
  {
    file: 'escruri',
    section: '§3.1.2.11',
    says: 'escaped headers in the Request-URI get a 400',
    expect: 400,
  },
  {
    file: 'baddate',
    section: '§3.1.2.12',
    says: 'a Date with a time zone other than GMT gets a 400',
    expect: 400,
  },
  {
    file: 'regbadct',
    section: '§3.1.2.13',
    says: 'a Contact URI with "?" not enclosed in <> gets a 400',
    expect: 400,
  },
  {
    file: 'badaspec',
    section: '§3.1.2.14',
    says: 'spaces within an addr-spec get a 400',
    expect: 400,
  },
  {
    file: 'baddn',
    section: '§3.1.2.15',
    says: 'non-token characters in an unquoted display name get a 400',
    expect: 400,
  },
  {
    file: 'badvers',
    section: '§3.1.2.16',
    says: 'an unknown protocol version gets a 505',
    expect: 505,
  },
  {
    file: 'mismatch01',
    section: '§3.1.2.17',
    says: 'a CSeq method different from the Request-Line method gets a 400',
    expect: 400,
  },
  {
    file: 'mismatch02',
    section: '§3.1.2.18',
    says: 'an unknown method with a mismatched CSeq method gets a 400',
    expect: 400,
  },
  {
    file: 'bigcode',
    section: '§3.1.2.19',
    says: 'a response with an overlarge status code is discarded',
    expect: 'drop',
  },
  // §3.2 Transaction layer
  {
    file: 'badbranch',
    section: '§3.2.1',
    says: 'a branch that is only the magic cookie parses, and may be rejected with a 400 (we do)',
    expect: 400,
    check: (m) => expect(m.headers.via()[0]?.branch).toBe('z9hG4bK'),
  },
  // §3.3 Application layer
  {
    file: 'insuf',
    section: '§3.3.1',
    says: 'missing required header fields get a 400',
    expect: 400,
  },
  {
    file: 'unkscm',
    section: '§3.3.2',
    says: 'a Request-URI with an unknown scheme gets a 416',
    expect: 416,
  },
  {
    file: 'novelsc',
    section: '§3.3.3',
    says: 'a known but atypical Request-URI scheme parses, and gets a 416',
    expect: 416,
    check: (m) => expect(req(m).uri).toMatchObject({ kind: 'other', scheme: 'soap.beep' }),
  },
  {
    file: 'unksm2',
    section: '§3.3.4',
    says: 'unknown URI schemes in header fields parse (a registrar, not the parser, refuses them)',
    expect: 'accept',
    check: (m) => {
      expect(m.headers.to()?.uri).toEqual({
        kind: 'other',
        scheme: 'isbn',
        raw: 'isbn:2983792873',
      });
      expect(m.headers.from()?.uri).toMatchObject({ kind: 'other', scheme: 'http' });
    },
  },
  {
    file: 'bext01',
    section: '§3.3.5',
    says: 'an unknown Require option tag gets a 420',
    expect: 420,
  },
  {
    file: 'invut',
    section: '§3.3.6',
    says: 'an unknown Content-Type parses (the UA answers 415, not the parser)',
    expect: 'accept',
  },
  {
    file: 'regaut01',
    section: '§3.3.7',
    says: 'an unknown Authorization scheme parses and the value is never split on commas',
    expect: 'accept',
    check: (m) =>
      expect(m.headers.getAll('authorization')).toEqual(['NoOneKnowsThisScheme opaque-data=here']),
  },
  {
    file: 'multi01',
    section: '§3.3.8',
    says: 'several values in single-value header fields get a 400',
    expect: 400,
  },
  {
    file: 'mcl01',
    section: '§3.3.9',
    says: 'several Content-Length values get a 400',
    expect: 400,
  },
  {
    file: 'bcast',
    section: '§3.3.10',
    says: 'a 200 OK with a broadcast Via parses (routing policy is not the parser’s)',
    expect: 'accept',
    check: (m) => expect(m.headers.via()[1]?.host).toBe('255.255.255.255'),
  },
  {
    file: 'zeromf',
    section: '§3.3.11',
    says: 'Max-Forwards 0 parses and is exposed for the 483 of upper layers',
    expect: 'accept',
    check: (m) => expect(m.headers.maxForwards()).toBe(0),
  },
  {
    file: 'cparam01',
    section: '§3.3.12',
    says: 'a Contact addr-spec parameter is a header parameter',
    expect: 'accept',
    check: (m) => {
      const c = m.headers.contact()[0]!;
      expect(
        !c.star && c.params.has('unknownparam') && c.uri.kind === 'sip' && c.uri.params.size,
      ).toBe(0);
    },
  },
  {
    file: 'cparam02',
    section: '§3.3.13',
    says: 'a parameter inside <> is a URI parameter',
    expect: 'accept',
    check: (m) => {
      const c = m.headers.contact()[0]!;
      expect(
        !c.star && c.params.size === 0 && c.uri.kind === 'sip' && c.uri.params.has('unknownparam'),
      ).toBe(true);
    },
  },
  {
    file: 'regescrt',
    section: '§3.3.14',
    says: 'a Contact URI with an escaped header parses with the header unescaped',
    expect: 'accept',
    check: (m) => {
      const c = m.headers.contact()[0]!;
      expect(!c.star && c.uri.kind === 'sip' && c.uri.headers).toEqual([
        ['Route', '<sip:sip.example.com>'],
      ]);
    },
  },
  {
    file: 'sdp01',
    section: '§3.3.15',
    says: 'an unacceptable Accept offering parses (the UA answers 415)',
    expect: 'accept',
  },
  // §3.4 Backward compatibility
  {
    file: 'inv2543',
    section: '§3.4.1',
    says: 'an RFC 2543 INVITE (no Max-Forwards, no branch cookie) is accepted',
    expect: 'accept',
    check: (m) => {
      expect(m.headers.maxForwards()).toBeUndefined();
      expect(m.headers.via()[0]?.branch).toBeUndefined();
    },
  },
];

function outcome(v: SanityVerdict): Expect {
  return v.action === 'reject' ? v.status : v.action;
}

describe('RFC 4475 torture tests', () => {
  test('§3: the table covers all 49 messages', () => {
    expect(new Set(rows.map((r) => r.file)).size).toBe(49);
  });

  for (const row of rows) {
    test(`${row.section} ${row.file}: ${row.says}`, () => {
      const bytes = fixture('rfc4475', `${row.file}.dat`);
      const parsed = parseMessage(bytes);
      const verdict = checkMessage(parsed);
      expect(outcome(verdict)).toBe(row.expect);
      if (verdict.action === 'reject') expect(verdict.request.headers.has('via')).toBe(true);
      if (row.expect === 'accept' || row.check !== undefined) {
        if (!parsed.ok) throw new Error(`expected a parse: ${parsed.error.reason}`);
        row.check?.(parsed.message);
      }
      if (row.expect === 'accept' && parsed.ok) {
        // Round trip: parse(serialize(parse(x))) equals parse(x), and serialize is a fixed point.
        const once = serializeMessage(parsed.message);
        const again = parseMessage(once);
        if (!again.ok) throw new Error(`re-parse failed: ${again.error.reason}`);
        expect(view(again.message)).toEqual(view(parsed.message));
        expect(serializeMessage(again.message)).toEqual(once);
      }
    });
  }
});
