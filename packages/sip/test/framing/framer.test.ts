import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  StreamFramer,
  FramingError,
  type FrameEvent,
  type FramerOptions,
} from '../../src/framing/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function msg(headers: string[], body = '', lengthHeader?: string): string {
  const cl = lengthHeader ?? `Content-Length: ${enc.encode(body).length}`;
  return [...headers, cl].join('\r\n') + '\r\n\r\n' + body;
}

const INVITE = msg(
  [
    'INVITE sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/TCP client.example.com:5060;branch=z9hG4bK74bf9',
    'Max-Forwards: 70',
    'From: Alice <sip:alice@example.com>;tag=9fxced76sl',
    'To: Bob <sip:bob@example.com>',
    'Call-ID: 3848276298220188511@client.example.com',
    'CSeq: 1 INVITE',
    'Content-Type: application/sdp',
  ],
  'v=0\r\no=alice 2890844526 2890844526 IN IP4 client.example.com\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n',
);
const COMPACT = msg(
  ['MESSAGE sip:bob@example.com SIP/2.0', 'v: SIP/2.0/TCP h;branch=z9hG4bK1', 'i: abc'],
  'héllo ✓',
  `l: ${enc.encode('héllo ✓').length}`,
);
const FOLDED = msg(
  ['OPTIONS sip:x@example.com SIP/2.0', 'Call-ID: f'],
  'abc',
  'CONTENT-length\t:\r\n   3',
);
const NO_BODY = msg(['REGISTER sip:example.com SIP/2.0', 'Call-ID: r'], '', 'Content-Length: 0');
const RESPONSE = msg(['SIP/2.0 200 OK', 'Call-ID: r'], '', 'Content-Length:0');

/** Feeds the chunks and folds the events into a comparable transcript. */
function run(chunks: Uint8Array[], options?: FramerOptions): string[] {
  const framer = new StreamFramer(options);
  const out: string[] = [];
  for (const chunk of chunks) {
    for (const e of framer.push(chunk)) out.push(describeEvent(e));
  }
  return out;
}

function describeEvent(e: FrameEvent): string {
  switch (e.type) {
    case 'message':
      return `message:${dec.decode(e.bytes)}`;
    case 'error':
      return `error:${e.error.reason}`;
    default:
      return e.type;
  }
}

function splitAt(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const sorted = [...new Set(points)].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of sorted) {
    chunks.push(bytes.slice(prev, p));
    prev = p;
  }
  chunks.push(bytes.slice(prev));
  return chunks;
}

describe('StreamFramer: whole messages by Content-Length', () => {
  it.each([
    ['an INVITE with an SDP body', INVITE],
    ['a MESSAGE with compact l: and a multi-byte UTF-8 body', COMPACT],
    ['a request whose Content-Length is folded over two lines', FOLDED],
    ['a REGISTER without body', NO_BODY],
    ['a response', RESPONSE],
  ])('RFC 3261 §18.3: %s is framed identically at every split point', (_name, text) => {
    const bytes = enc.encode(text);
    const whole = run([bytes]);
    expect(whole).toEqual([`message:${text}`]);
    for (let p = 0; p <= bytes.length; p++) {
      expect(run(splitAt(bytes, [p]))).toEqual(whole);
    }
  });

  it('RFC 3261 §18.3: pipelined messages with keep-alives between them split at every pair of points give the same events', () => {
    const text = NO_BODY + '\r\n\r\n' + COMPACT + '\r\n' + RESPONSE;
    const bytes = enc.encode(text);
    const whole = run([bytes]);
    expect(whole).toEqual([
      `message:${NO_BODY}`,
      'ping',
      `message:${COMPACT}`,
      'pong',
      `message:${RESPONSE}`,
    ]);
    for (let p = 0; p <= bytes.length; p += 3) {
      for (let q = p; q <= bytes.length; q += 7) {
        expect(run(splitAt(bytes, [p, q]))).toEqual(whole);
      }
    }
  });

  it('RFC 3261 §18.3: any random chunking of a pipelined stream yields the same messages (fast-check)', () => {
    const parts = [INVITE, '\r\n\r\n', COMPACT, FOLDED, '\r\n', NO_BODY, RESPONSE];
    const bytes = enc.encode(parts.join(''));
    const whole = run([bytes]);
    expect(whole.filter((e) => e.startsWith('message:'))).toHaveLength(5);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 40 }),
        (points) => {
          expect(run(splitAt(bytes, points))).toEqual(whole);
        },
      ),
      { seed: 3261, numRuns: 300 },
    );
  });

  it('RFC 3261 §18.3: a message delivered one byte at a time is framed once', () => {
    const bytes = enc.encode(INVITE + INVITE);
    const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
    expect(run(chunks)).toEqual([`message:${INVITE}`, `message:${INVITE}`]);
  });

  it('emitted messages are copies that later pushes do not overwrite', () => {
    const framer = new StreamFramer();
    const [first] = framer.push(enc.encode(NO_BODY));
    framer.push(enc.encode(RESPONSE));
    expect(first?.type === 'message' && dec.decode(first.bytes)).toBe(NO_BODY);
    expect(framer.buffered).toBe(0);
  });
});

describe('StreamFramer: CRLF keep-alives', () => {
  it('RFC 5626 §3.5.1: a double-CRLF ping is reported so the transport can answer with a pong', () => {
    expect(run([enc.encode('\r\n\r\n')])).toEqual(['ping']);
    expect(run([enc.encode('\r\n\r\n\r\n\r\n')])).toEqual(['ping', 'ping']);
  });

  it('RFC 5626 §3.5.1: a ping split across two chunks is still one ping', () => {
    expect(run([enc.encode('\r\n'), enc.encode('\r\n')])).toEqual(['ping']);
    expect(run([enc.encode('\r'), enc.encode('\n\r'), enc.encode('\n')])).toEqual(['ping']);
  });

  it('RFC 3261 §7.5: a single CRLF before a start-line is ignored (reported as a pong, never as a message)', () => {
    expect(run([enc.encode('\r\n' + NO_BODY)])).toEqual(['pong', `message:${NO_BODY}`]);
  });

  it('RFC 5626 §3.5.1: a lone CRLF waits for the next byte before it is classified', () => {
    const framer = new StreamFramer();
    expect(framer.push(enc.encode('\r\n'))).toEqual([]);
    expect(framer.buffered).toBe(2);
    expect(framer.push(enc.encode('S')).map((e) => e.type)).toEqual(['pong']);
  });
});

describe('StreamFramer: hostile streams are fatal for the connection', () => {
  function errorOf(text: string, options?: FramerOptions): FramingError | undefined {
    const events = new StreamFramer(options).push(enc.encode(text));
    const last = events.at(-1);
    return last?.type === 'error' ? last.error : undefined;
  }

  it('RFC 3261 §18.3: a message without Content-Length on a stream is a framing error', () => {
    const error = errorOf('OPTIONS sip:x SIP/2.0\r\nCall-ID: a\r\n\r\n');
    expect(error).toBeInstanceOf(FramingError);
    expect(error?.reason).toBe('missing-content-length');
    expect(error?.code).toBe('sip-parse-error');
  });

  it.each([
    ['negative', '-1'],
    ['non-numeric', 'abc'],
    ['a number followed by junk', '12x'],
    ['two numbers', '1 2'],
    ['empty', ''],
    ['a float', '1.5'],
    ['absurdly long', '9'.repeat(40)],
  ])('RFC 3261 §20.14: a %s Content-Length is rejected', (_name, value) => {
    expect(errorOf(`OPTIONS sip:x SIP/2.0\r\nContent-Length: ${value}\r\n\r\n`)?.reason).toBe(
      'bad-content-length',
    );
  });

  it('RFC 3261 §20.14: two Content-Length headers with different values are rejected (no smuggling)', () => {
    expect(errorOf('OPTIONS sip:x SIP/2.0\r\nl: 0\r\nContent-Length: 5\r\n\r\nhello')?.reason).toBe(
      'bad-content-length',
    );
    expect(
      run([enc.encode('OPTIONS sip:x SIP/2.0\r\nl: 0\r\nContent-Length: 0\r\n\r\n')]),
    ).toHaveLength(1);
  });

  it('a Content-Length larger than the message limit is rejected before the body arrives', () => {
    const error = errorOf('OPTIONS sip:x SIP/2.0\r\nContent-Length: 9999999\r\n\r\n');
    expect(error?.reason).toBe('message-too-large');
    expect(error?.code).toBe('sip-too-large');
  });

  it('a header section larger than the limit is rejected without waiting for its end', () => {
    const framer = new StreamFramer({ maxHeaderBytes: 1024 });
    const events = framer.push(enc.encode('OPTIONS sip:x SIP/2.0\r\n' + 'X-A: b\r\n'.repeat(200)));
    expect(events.map(describeEvent)).toEqual(['error:header-too-large']);
    expect(framer.buffered).toBe(0);
  });

  it('the bytes held for one message are bounded by maxBufferBytes', () => {
    const framer = new StreamFramer({ maxBufferBytes: 100 });
    const events = framer.push(
      enc.encode('OPTIONS sip:x SIP/2.0\r\nContent-Length: 500\r\n\r\n' + 'x'.repeat(200)),
    );
    expect(events.map(describeEvent)).toEqual(['error:buffer-overflow']);
  });

  it('good messages before a bad one are delivered, then the error, and the framer stays failed', () => {
    const framer = new StreamFramer();
    const events = framer.push(
      enc.encode(NO_BODY + 'OPTIONS sip:x SIP/2.0\r\nContent-Length: -5\r\n\r\n'),
    );
    expect(events.map(describeEvent)).toEqual([`message:${NO_BODY}`, 'error:bad-content-length']);
    expect(framer.push(enc.encode(NO_BODY)).map(describeEvent)).toEqual([
      'error:bad-content-length',
    ]);
    expect(framer.error?.reason).toBe('bad-content-length');
  });

  it('random garbage never throws and never holds more than the buffer limit (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 20 }), (chunks) => {
        const framer = new StreamFramer({ maxHeaderBytes: 512, maxMessageBytes: 2048 });
        for (const chunk of chunks) {
          const events = framer.push(chunk);
          expect(framer.buffered).toBeLessThanOrEqual(2048);
          if (events.some((e) => e.type === 'error')) {
            expect(events.at(-1)?.type).toBe('error');
          }
        }
      }),
      { seed: 5626, numRuns: 300 },
    );
  });

  it('options below the minimum are refused at construction', () => {
    expect(() => new StreamFramer({ maxMessageBytes: 0 })).toThrow(RangeError);
  });
});

describe('StreamFramer.takeHeldPong (client keep-alives, RFC 5626 §4.4.1)', () => {
  it('consumes a lone held CRLF between messages, and nothing else', () => {
    const f = new StreamFramer();
    expect(f.push(new TextEncoder().encode('\r\n'))).toEqual([]);
    expect(f.buffered).toBe(2);
    expect(f.takeHeldPong()).toBe(true);
    expect(f.buffered).toBe(0);
    expect(f.takeHeldPong()).toBe(false);
    // Part of a message is never taken for a pong.
    f.push(new TextEncoder().encode('OPTIONS sip:a SIP/2.0\r\n'));
    expect(f.takeHeldPong()).toBe(false);
    const g = new StreamFramer();
    g.push(new TextEncoder().encode('\r'));
    expect(g.takeHeldPong()).toBe(false);
  });
});
