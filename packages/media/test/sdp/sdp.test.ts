import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  answerDirection,
  direction,
  mediaConnection,
  parseSdp,
  rejectedMedia,
  rewriteForLeg,
  rtcpAttribute,
  rtpMaps,
  serializeSdp,
  type SessionDescription,
} from '../../src/sdp/index.js';

const PHONE = [
  'v=0',
  'o=alice 2890844526 2890844526 IN IP4 10.0.0.5',
  's=-',
  'c=IN IP4 10.0.0.5',
  't=0 0',
  'm=audio 49170 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=rtcp:49171',
  'a=sendonly',
  'm=video 0 RTP/AVP 31',
  '',
].join('\r\n');

function parsed(text: string): SessionDescription {
  const r = parseSdp(text);
  if (!r.ok) throw new Error(r.error.reason);
  return r.sdp;
}

describe('SDP parse and serialize (RFC 4566)', () => {
  it('reads sessions, media sections, connection, direction, rtpmap (static PTs filled in) and a=rtcp', () => {
    const s = parsed(PHONE);
    expect(s.media).toHaveLength(2);
    const m = s.media[0]!;
    expect(m).toMatchObject({
      media: 'audio',
      port: 49170,
      proto: 'RTP/AVP',
      formats: ['0', '8', '101'],
    });
    expect(mediaConnection(s, m)?.address).toBe('10.0.0.5');
    expect(direction(s, m)).toBe('sendonly');
    expect(direction(s, s.media[1]!)).toBe('sendrecv');
    expect(rtpMaps(m).map((r) => `${r.pt} ${r.encoding}/${r.clockRate}`)).toEqual([
      '0 PCMU/8000',
      '8 PCMA/8000',
      '101 telephone-event/8000',
    ]);
    expect(rtcpAttribute(m)).toEqual({ port: 49171 });
  });

  it('serializes what it parsed byte for byte (CRLF), and accepts LF-only input (RFC 4566 §5 SHOULD)', () => {
    expect(serializeSdp(parsed(PHONE))).toBe(PHONE);
    expect(serializeSdp(parsed(PHONE.replace(/\r\n/g, '\n')))).toBe(PHONE);
  });

  it.each([
    ['empty', '', 'syntax'],
    ['not v=0 first', 'o=a 1 1 IN IP4 1.2.3.4\r\nv=0\r\n', 'syntax'],
    ['no o=', 'v=0\r\ns=-\r\n', 'syntax'],
    ['bad o=', 'v=0\r\no=a 1 IN IP4\r\ns=-\r\n', 'syntax'],
    ['no s=', 'v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\n', 'syntax'],
    ['garbage line', 'v=0\r\nhello\r\n', 'syntax'],
    ['bad m= port', 'v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio x RTP/AVP 0\r\n', 'syntax'],
    [
      'm= port over 65535',
      'v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 70000 RTP/AVP 0\r\n',
      'syntax',
    ],
    [
      'm= without formats',
      'v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 4000 RTP/AVP\r\n',
      'syntax',
    ],
    ['bad c=', 'v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN\r\n', 'syntax'],
    ['blank line inside', 'v=0\r\n\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\n', 'syntax'],
    ['NUL in a line', 'v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=\0\r\n', 'syntax'],
    ['1 MB', 'v=0\r\n' + 'a=x\r\n'.repeat(200_000), 'too-large'],
    [
      '500 m-lines',
      'v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\n' + 'm=audio 4000 RTP/AVP 0\r\n'.repeat(500),
      'too-many-media',
    ],
    ['too many lines', 'v=0\r\n' + 'a=x\r\n'.repeat(3000), 'too-many-lines'],
  ])('refuses %s with a typed error', (_name, text, code) => {
    const r = parseSdp(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(code);
  });

  it('keeps an unknown transport as given (the engine decides to reject it)', () => {
    const s = parsed('v=0\r\no=a 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 4000 TCP/MSRP *\r\n');
    expect(s.media[0]!.proto).toBe('TCP/MSRP');
  });
});

describe('RFC 3264 offer/answer', () => {
  it.each([
    ['sendrecv', 'sendrecv', 'sendrecv'],
    ['sendonly', 'sendrecv', 'recvonly'],
    ['recvonly', 'sendrecv', 'sendonly'],
    ['inactive', 'sendrecv', 'inactive'],
    ['sendrecv', 'sendonly', 'sendonly'],
    ['sendonly', 'sendonly', 'inactive'],
    ['sendrecv', 'inactive', 'inactive'],
  ] as const)('§6.1: offered %s, wanted %s → answered %s', (offered, wanted, answered) => {
    expect(answerDirection(offered, wanted)).toBe(answered);
  });

  it('§6: a rejected stream keeps its m= position with port 0 and one format', () => {
    const m = rejectedMedia(parsed(PHONE).media[0]!);
    expect(m).toMatchObject({ port: 0, formats: ['0'], lines: [] });
  });
});

describe('rewrite for a leg', () => {
  it('puts the relay into o=, c=, m= and a=rtcp, drops transport attributes, relists codecs with the leg PTs', () => {
    const input = parsed(
      PHONE.replace(
        'a=ptime:20',
        'a=ptime:20\r\na=ice-ufrag:x\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\r\na=ssrc:1 cname:x',
      ),
    );
    const out = rewriteForLeg(input, {
      address: '192.0.2.1',
      family: 'IP4',
      origin: { sessionId: '77', version: 3 },
      media: [
        {
          port: 30000,
          rtcpPort: 30001,
          rtcpMux: false,
          proto: 'RTP/AVP',
          codecs: [
            { pt: 0, encoding: 'PCMU', clockRate: 8000 },
            { pt: 96, encoding: 'telephone-event', clockRate: 8000, fmtp: '0-16' },
          ],
          direction: 'sendonly',
        },
        { port: 0, rtcpMux: false, proto: 'RTP/AVP', codecs: [], direction: 'inactive' },
      ],
    });
    const text = serializeSdp(out);
    expect(text).toContain('o=- 77 3 IN IP4 192.0.2.1\r\n');
    expect(text).toContain('c=IN IP4 192.0.2.1\r\n');
    expect(text).toContain('m=audio 30000 RTP/AVP 0 96\r\n');
    expect(text).toContain('a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\n');
    expect(text).toContain('a=rtcp:30001\r\n');
    expect(text).toContain('a=ptime:20\r\n');
    expect(text).toContain('m=video 0 RTP/AVP 31\r\n');
    for (const gone of ['10.0.0.5', 'ice-ufrag', 'crypto', 'ssrc', '49170', '101'])
      expect(text).not.toContain(gone);
    expect(parseSdp(text).ok).toBe(true);
  });
});

describe('SDP fuzz (fast-check)', () => {
  it('never throws on arbitrary text, and answers ok or a typed error', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        const r = parseSdp(s);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on mutated real SDP (lines dropped, duplicated, cut, garbled)', () => {
    const lines = PHONE.split('\r\n');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(lines.length - 1), fc.nat(60), fc.string({ maxLength: 8 })), {
          maxLength: 8,
        }),
        (edits) => {
          const l = [...lines];
          for (const [i, cut, ins] of edits) l[i] = l[i]!.slice(0, cut) + ins + l[i]!.slice(cut);
          const r = parseSdp(l.join('\r\n'));
          if (r.ok) expect(parseSdp(serializeSdp(r.sdp))).toEqual(r);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('round-trips generated SDP: parse(serialize(x)) equals x', () => {
    const token = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}$/);
    const mediaArb = fc.record({
      media: fc.constantFrom('audio', 'video', 'application'),
      port: fc.integer({ min: 0, max: 65535 }),
      proto: fc.constantFrom('RTP/AVP', 'RTP/SAVP', 'UDP/TLS/RTP/SAVPF', 'TCP/MSRP'),
      formats: fc.array(fc.integer({ min: 0, max: 127 }).map(String), {
        minLength: 1,
        maxLength: 5,
      }),
      lines: fc.array(
        token.map((v) => ({ type: 'a', value: v })),
        { maxLength: 5 },
      ),
    });
    fc.assert(
      fc.property(fc.array(mediaArb, { maxLength: 6 }), token, (media, user) => {
        const sdp: SessionDescription = {
          session: [
            { type: 'v', value: '0' },
            { type: 'o', value: `${user} 1 2 IN IP4 192.0.2.9` },
            { type: 's', value: '-' },
            { type: 't', value: '0 0' },
          ],
          media,
        };
        const r = parseSdp(serializeSdp(sdp));
        expect(r).toEqual({ ok: true, sdp });
      }),
      { numRuns: 500 },
    );
  });
});
