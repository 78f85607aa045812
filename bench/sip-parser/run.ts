// SIP parser benchmark: messages/s for typical messages, parse-only (lazy), parse + access
// of Via/From/To/CSeq/Call-ID, serialize of an untouched message and of a proxied one (one
// Via added). Side by side with sip.js's parser (a JS SIP stack, installed at the root) as a
// reference: sip.js parses Via/From/To/CSeq/Call-ID eagerly and takes a string.
// Run: npm run bench:sip-parser  (BENCH_MS=… per case, default 400)
import { LoggerFactory, Parser } from 'sip.js/lib/core/index.js';
import {
  parseMessage,
  serializeMessage,
  type SipMessage,
} from '../../packages/sip/src/syntax/index.js';

const MS = Number(process.env['BENCH_MS'] ?? 400);
const enc = new TextEncoder();
const lines = (s: string): string => s.replace(/\r?\n/g, '\r\n');

function sdp(targetBytes: number): string {
  const head = `v=0
o=alice 2890844526 2890844526 IN IP4 198.51.100.7
s=-
c=IN IP4 198.51.100.7
t=0 0
m=audio 49170 RTP/AVP 0 8 97 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:97 iLBC/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
`;
  let s = head;
  let i = 0;
  while (s.length < targetBytes)
    s += `a=candidate:${i++} 1 UDP 2122260223 192.0.2.${i % 250} ${50000 + i} typ host\n`;
  return lines(s);
}

function invite(body: string): string {
  return (
    lines(`INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE
Supported: replaces, timer
User-Agent: TFX bench
Content-Type: application/sdp
Content-Length: ${body.length}

`) + body
  );
}

const ok200 = lines(`SIP/2.0 200 OK
Via: SIP/2.0/UDP proxy.biloxi.example.com:5060;branch=z9hG4bK4b43c2ff8.1;received=192.0.2.3
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5060
Record-Route: <sip:proxy.biloxi.example.com;lr>
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:bob@192.0.2.4>
Content-Length: 0

`);

const register = lines(`REGISTER sip:registrar.biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds7;rport
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: Bob <sip:bob@biloxi.example.com>;tag=456248
Call-ID: 843817637684230@998sdasdh09
CSeq: 1826 REGISTER
Contact: <sip:bob@192.0.2.4;ob>;expires=7200;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"
Expires: 7200
Content-Length: 0

`);

const cases: Array<[string, string]> = [
  ['INVITE + 300 B SDP', invite(sdp(300))],
  ['200 OK', ok200],
  ['REGISTER', register],
  ['INVITE + 8 KB SDP', invite(sdp(8192))],
];

function rate(fn: () => void): number {
  for (let i = 0; i < 2000; i++) fn(); // warm-up
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < MS) {
    for (let i = 0; i < 200; i++) fn();
    n += 200;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

function access(m: SipMessage): void {
  const h = m.headers;
  if (h.via().length === 0 || !h.from() || !h.to() || !h.cseq() || !h.callId())
    throw new Error('access failed');
}

const logger = new LoggerFactory();
logger.builtinEnabled = false;
const log = logger.getLogger('bench');

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US').padStart(11);
const rows: string[] = [];
rows.push(
  `| message | bytes | parse (lazy) | parse + access | serialize untouched | proxy: +Via, serialize | sip.js parse | ratio (ours parse+access / sip.js) |`,
);
rows.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [name, text] of cases) {
  const bytes = enc.encode(text);
  const first = parseMessage(bytes);
  if (!first.ok) throw new Error(`${name}: ${first.error.reason}`);
  const parsed = first.message;
  const parseOnly = rate(() => {
    parseMessage(bytes);
  });
  const parseAccess = rate(() => {
    const r = parseMessage(bytes);
    if (r.ok) access(r.message);
  });
  const ser = rate(() => {
    serializeMessage(parsed);
  });
  const proxy = rate(() => {
    const r = parseMessage(bytes);
    if (!r.ok) return;
    r.message.headers.prepend('Via', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKproxy1');
    serializeMessage(r.message);
  });
  if (!Parser.parseMessage(text, log)) throw new Error(`sip.js could not parse ${name}`);
  const sipjs = rate(() => {
    const m = Parser.parseMessage(text, log);
    if (!m || !m.from || !m.to || !m.callId || !m.cseq) throw new Error('sip.js');
  });
  rows.push(
    `| ${name} | ${bytes.length} | ${fmt(parseOnly)} | ${fmt(parseAccess)} | ${fmt(ser)} | ${fmt(proxy)} | ${fmt(sipjs)} | ${(parseAccess / sipjs).toFixed(1)}× |`,
  );
}
console.log(`SIP parser, messages/s (node ${process.version}, ${MS} ms per cell)\n`);
console.log(rows.join('\n'));
