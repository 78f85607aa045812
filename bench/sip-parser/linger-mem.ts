// Heap held per lingering transaction pair (server + client INVITE, both in Accepted, as a
// proxy keeps them 32 s after a 200), measured after a full GC. Run: node --expose-gc
// --import tsx bench/sip-parser/linger-mem.ts
import {
  ManualClock,
  TransactionLayer,
  parseMessage,
  SipHeaders,
  type SipRequest,
  type SipResponse,
} from '../../packages/sip/src/index.js';

const enc = new TextEncoder();
const lines = (s: string): string => s.replace(/\r?\n/g, '\r\n');
const sdp = lines(`v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
`);
const invite = (i: number): string =>
  lines(`INVITE sip:bob@bench.tfx SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-${i}-1-0;rport
From: sipp <sip:caller@foreign.example>;tag=${i}SIPpTag001
To: <sip:bob@bench.tfx>
Call-ID: ${i}-12345@127.0.0.1
CSeq: 1 INVITE
Contact: sip:sipp@127.0.0.1:5061
Max-Forwards: 70
Subject: Performance Test
Content-Type: application/sdp
Content-Length: ${sdp.length}

`) + sdp;
const ok = (i: number): string =>
  lines(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtfx-${i};rport=5060
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-${i}-1-0;rport=5061;received=127.0.0.1
Record-Route: <sip:127.0.0.1:5060;transport=udp;lr>
From: sipp <sip:caller@foreign.example>;tag=${i}SIPpTag001
To: <sip:bob@bench.tfx>;tag=${i}SIPpTag012
Call-ID: ${i}-12345@127.0.0.1
CSeq: 1 INVITE
Contact: <sip:127.0.0.1:5062;transport=UDP>
Content-Type: application/sdp
Content-Length: ${sdp.length}

`) + sdp;

const ctx = {
  transport: 'udp' as const,
  local: { address: '127.0.0.1', port: 5060 },
  remote: { address: '127.0.0.1', port: 5061 },
};
let server: { respond(r: SipResponse): void } | undefined;
const layer = new TransactionLayer({
  send: () => undefined,
  clock: new ManualClock(),
  tu: {
    onRequest: (inc) => {
      server = inc.transaction;
    },
  },
});
const N = Number(process.env['N'] ?? 20000);
const gc = (globalThis as { gc?: () => void }).gc!;
gc();
const before = process.memoryUsage();
for (let i = 0; i < N; i++) {
  const req = (parseMessage(enc.encode(invite(i))) as { message: SipRequest }).message;
  req.headers.via();
  req.headers.cseq();
  layer.handleIncoming(req, ctx);
  const out: SipRequest = { ...req, headers: new SipHeaders([...req.headers.fields()]) };
  out.headers.prepend('Via', `SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKtfx-${i};rport`);
  out.headers.set('Max-Forwards', '69');
  layer.sendRequest(out, ctx, { onResponse: () => {} });
  const res = (parseMessage(enc.encode(ok(i))) as { message: SipResponse }).message;
  layer.handleIncoming(res, ctx);
  res.headers.shift('via');
  server!.respond(res);
}
gc();
const after = process.memoryUsage();
console.log(
  `${N} transaction pairs: heap ${((after.heapUsed - before.heapUsed) / N).toFixed(0)} B/pair, external+arrayBuffers ${((after.external - before.external + after.arrayBuffers - before.arrayBuffers) / N).toFixed(0)} B/pair, live ${layer.size}`,
);
