// Property and fuzz tests: the parser never throws or hangs, and every accepted message
// round-trips (serialize → parse gives the same structure; serialize is then a fixed point).
// Longer run: FUZZ_RUNS=200000 npx vitest run --project unit packages/sip/test/syntax/fuzz.test.ts
import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  checkMessage,
  parseMessage,
  serializeMessage,
  type ParseResult,
} from '../../src/syntax/index.js';
import { crlf, fixture, view } from './helpers.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 600);
const SEED = Number(process.env['FUZZ_SEED'] ?? 4475);
const params = { seed: SEED, numRuns: RUNS };

const corpus: Uint8Array[] = readdirSync(new URL('../fixtures/rfc4475/', import.meta.url))
  .filter((f) => f.endsWith('.dat'))
  .map((f) => fixture('rfc4475', f));

/** Parse, sanity-check, and for accepted messages check the round trip. Returns the parse result. */
function exercise(bytes: Uint8Array): ParseResult {
  const r = parseMessage(bytes);
  const verdict = checkMessage(r);
  if (r.ok) {
    expect(r.message.headers.size).toBeLessThanOrEqual(bytes.length);
    expect(r.message.body.length).toBeLessThanOrEqual(bytes.length);
  }
  if (verdict.action === 'accept' && r.ok) {
    const once = serializeMessage(r.message);
    const again = parseMessage(once);
    if (!again.ok) throw new Error(`accepted message does not re-parse: ${again.error.reason}`);
    expect(view(again.message)).toEqual(view(r.message));
    expect(serializeMessage(again.message)).toEqual(once);
  }
  return r;
}

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.constantFrom('\r\n', '\0', '\r\n ', ',', ';', '"', '<', ':', '\r\n\r\n', '%'),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    len: fc.integer({ min: 1, max: 8 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(src: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = src;
  for (const m of ms) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === 'flip') {
      b = b.slice();
      if (b.length > 0) b[at] = m.byte;
    } else if (m.kind === 'truncate') b = b.subarray(0, at);
    else if (m.kind === 'insert') {
      const ins = new TextEncoder().encode(m.text);
      const out = new Uint8Array(b.length + ins.length);
      out.set(b.subarray(0, at));
      out.set(ins, at);
      out.set(b.subarray(at), at + ins.length);
      b = out;
    } else {
      const end = Math.min(b.length, at + m.len);
      const out = new Uint8Array(b.length - (end - at));
      out.set(b.subarray(0, at));
      out.set(b.subarray(end), at);
      b = out;
    }
  }
  return b;
}

// Generators for valid messages.
const tokenChar = fc.constantFrom(
  ..."abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-.!%*_+`'~".split(''),
);
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 });
const alnum = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split('')),
  minLength: 1,
  maxLength: 10,
});
const hostname = fc
  .tuple(
    fc.array(alnum, { minLength: 0, maxLength: 3 }),
    fc.string({
      unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'.split('')),
      minLength: 1,
      maxLength: 6,
    }),
  )
  .map(([labels, top]) => [...labels, top].join('.'));
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
const ipv6 = fc.constantFrom(
  '[2001:db8::1]',
  '[::1]',
  '[2001:db8:0:0:1:0:0:1]',
  '[::ffff:192.0.2.1]',
  '[fe80::a:b]',
);
const host = fc.oneof(hostname, ipv4, ipv6);
const port = fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined });
const userChars = fc.constantFrom(..."abcXYZ019-_.!~*'()&=+$,;?/".split(''), '%20', '%40', '%3A');
const user = fc.string({ unit: userChars, minLength: 1, maxLength: 10 });
const uriParam = fc.oneof(
  fc.constantFrom(';lr', ';transport=tcp', ';ob', ';user=phone', ';maddr=192.0.2.1'),
  alnum.map((a) => `;${a}`),
  fc.tuple(alnum, alnum).map(([a, b]) => `;${a}=${b}`),
);
const sipUri = fc
  .tuple(
    fc.constantFrom('sip', 'sips'),
    fc.option(user, { nil: undefined }),
    host,
    port,
    fc.array(uriParam, { maxLength: 3 }),
  )
  .map(
    ([s, u, h, p, ps]) =>
      `${s}:${u !== undefined ? u + '@' : ''}${h}${p !== undefined ? ':' + p : ''}${[...new Set(ps.map((x) => x.split('=')[0]))].length === ps.length ? ps.join('') : ''}`,
  );
const qdChar = fc.constantFrom(
  'a',
  'B',
  ' ',
  ',',
  ';',
  '<',
  '>',
  '\\"',
  '\\\\',
  'é',
  '漢',
  ':',
  '@',
);
const displayName = fc.oneof(
  fc.constant(''),
  fc.string({ unit: qdChar, maxLength: 12 }).map((s) => `"${s}" `),
  fc.array(token, { minLength: 1, maxLength: 3 }).map((t) => t.join(' ') + ' '),
);
const tag = token;
const nameAddr = fc.tuple(displayName, sipUri).map(([d, u]) => `${d}<${u}>`);
const lws = fc.constantFrom(' ', '  ', '\r\n ', '\t', '\r\n\t  ');
const via = fc
  .tuple(fc.constantFrom('UDP', 'TCP', 'TLS', 'WS', 'WSS', 'SCTP'), host, port, token, fc.boolean())
  .map(
    ([t, h, p, b, r]) =>
      `SIP/2.0/${t} ${h}${p !== undefined ? ':' + p : ''};branch=z9hG4bK${b}${r ? ';rport' : ''}`,
  );
const extraHeader = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('X-', 'P-', 'Foo-'),
      token,
      fc.string({ unit: fc.constantFrom('a', ' ', ',', ';', '=', '"', '1'), maxLength: 20 }),
    )
    .map(([p, n, v]) => `${p}${n}: ${v}`),
  fc.array(token, { minLength: 1, maxLength: 3 }).map((t) => `k: ${t.join(', ')}`),
  fc.tuple(nameAddr, lws).map(([a, w]) => `Route:${w}${a}`),
  fc.constantFrom(
    'Subject: hello',
    's: ',
    'Accept: application/sdp, text/plain',
    'Authorization: Digest username="a", realm="b,c", nonce="x"',
  ),
);

const validMessage = fc
  .record({
    method: fc.oneof(fc.constantFrom('INVITE', 'OPTIONS', 'REGISTER', 'BYE', 'MESSAGE'), token),
    uri: sipUri,
    vias: fc.array(via, { minLength: 1, maxLength: 3 }),
    viaOneLine: fc.boolean(),
    from: nameAddr,
    fromTag: tag,
    to: nameAddr,
    callId: fc
      .tuple(token, fc.option(hostname, { nil: undefined }))
      .map(([a, b]) => (b !== undefined ? `${a}@${b}` : a)),
    cseq: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    maxForwards: fc.integer({ min: 0, max: 255 }),
    compact: fc.boolean(),
    extra: fc.array(extraHeader, { maxLength: 5 }),
    body: fc.string({ maxLength: 60 }),
    fold: lws,
  })
  .map((m) => {
    const c = (long: string, short: string): string => (m.compact ? short : long);
    const lines = [
      `${m.method} ${m.uri} SIP/2.0`,
      ...(m.viaOneLine
        ? [`${c('Via', 'v')}: ${m.vias.join(',' + m.fold)}`]
        : m.vias.map((v) => `Via: ${v}`)),
      `${c('From', 'f')}:${m.fold}${m.from};tag=${m.fromTag}`,
      `${c('To', 't')}: ${m.to}`,
      `${c('Call-ID', 'i')}: ${m.callId}`,
      `CSeq: ${m.cseq}${m.fold}${m.method}`,
      `Max-Forwards: ${m.maxForwards}`,
      ...m.extra,
    ];
    const body = new TextEncoder().encode(m.body);
    const head = new TextEncoder().encode(
      lines.join('\r\n') + `\r\n${c('Content-Length', 'l')}: ${body.length}\r\n\r\n`,
    );
    const out = new Uint8Array(head.length + body.length);
    out.set(head);
    out.set(body, head.length);
    return out;
  });

describe('fuzz: the parser never throws and accepted messages round-trip', () => {
  test('random bytes never make parseMessage or checkMessage throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        exercise(bytes);
      }),
      params,
    );
  });

  test('random SIP-shaped text never makes parseMessage or checkMessage throw', () => {
    const piece = fc.constantFrom(
      'INVITE ',
      'SIP/2.0',
      ' ',
      '\r\n',
      '\r\n ',
      ':',
      ';',
      ',',
      '<sip:a@b>',
      '"',
      '\\',
      'Via',
      'v: SIP/2.0/UDP h',
      'l: 3',
      'tag=',
      '[::1]',
      '%',
      '@',
      '\0',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 80 }), (parts) => {
        exercise(new TextEncoder().encode(parts.join('')));
      }),
      params,
    );
  });

  test('mutated RFC 4475 messages (byte flips, truncations, inserted CRLF/NUL) never throw; accepted ones round-trip', () => {
    fc.assert(
      fc.property(
        fc.nat(corpus.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (i, ms) => {
          exercise(mutate(corpus[i]!, ms));
        },
      ),
      params,
    );
  });

  test('generated valid messages parse, are accepted, and round-trip to a fixed point', () => {
    fc.assert(
      fc.property(validMessage, (bytes) => {
        const r = exercise(bytes);
        if (!r.ok)
          throw new Error(
            `valid message rejected: ${r.error.reason}\n${new TextDecoder().decode(bytes)}`,
          );
        const v = checkMessage(r);
        if (v.action !== 'accept')
          throw new Error(
            `valid message not accepted: ${JSON.stringify(v.action === 'reject' ? v.reason : v)}\n${new TextDecoder().decode(bytes)}`,
          );
        expect(serializeMessage(r.message)).toEqual(bytes);
      }),
      params,
    );
  });

  // No stopwatch here (tests assert behaviour, bench/sip-parser measures time): a parser that
  // rescans folded lines or quotes is quadratic, and 100k of them would then take minutes, far
  // past this test's timeout, while a linear scan takes milliseconds even on a loaded machine.
  test(
    'a hostile message (100k folded lines, deep quotes) parses without a quadratic rescan',
    { timeout: 60_000 },
    () => {
      const many =
        'INVITE sip:a@b SIP/2.0\r\nSubject: x' +
        '\r\n y'.repeat(50_000) +
        '\r\n' +
        'X: "' +
        '\\"'.repeat(50_000) +
        '"\r\n\r\n';
      const r = parseMessage(crlf(many), { maxBytes: 1 << 20 });
      expect(r.ok && r.message.headers.get('subject')?.length).toBe(1 + 2 * 50_000);
    },
  );
});
