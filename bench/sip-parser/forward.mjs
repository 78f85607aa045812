// CPU per message of the syntax work a proxy does on the bench's messages (as sipp sends
// them): parse, the sanity check, the headers the proxy reads, the edits of §16.6 (a Via and a
// Record-Route in front, Max-Forwards decremented) and the serialization; a 200 forwarded back
// (top Via removed); an OPTIONS answered with a 200 (createResponse). In-process, no sockets:
// a before/after comparison that does not depend on the machine's scheduling (only on its
// caches). Process CPU time (process.cpuUsage), garbage collection included.
//   node bench/sip-parser/forward.mjs [--root DIR] [--n 200000]
// --root: the checkout whose packages/sip/dist to measure (default: this one).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const root = resolve(arg('root', join(dirname(fileURLToPath(import.meta.url)), '..', '..')));
const N = Number(arg('n', '200000'));
const sip = await import(pathToFileURL(join(root, 'packages/sip/dist/syntax/index.js')).href);
const { parseMessage, serializeMessage, checkMessage, createResponse } = sip;

const enc = new TextEncoder();
const crlf = (s) => enc.encode(s.replace(/\r?\n/g, '\r\n'));
const sdp =
  'v=0\no=user1 53655765 2353687637 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n';
const invite = crlf(`INVITE sip:callee@bench.tfx SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-7983-1-0
From: <sip:caller@bench.invalid>;tag=1
To: <sip:callee@bench.tfx>
Call-ID: 1-7983@127.0.0.1
CSeq: 1 INVITE
Contact: <sip:caller@127.0.0.1:5070;transport=UDP>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: ${sdp.replace(/\n/g, '\r\n').length}

${sdp}`);
const ok200 = crlf(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:55821;branch=z9hG4bK.tfx.a1b2c3d4e5f6.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-7983-1-0
Record-Route: <sip:127.0.0.1:55821;lr>
From: <sip:caller@bench.invalid>;tag=1
To: <sip:callee@bench.tfx>;tag=7984SIPpTag011
Call-ID: 1-7983@127.0.0.1
CSeq: 1 INVITE
Contact: <sip:127.0.0.1:5080;transport=UDP>
Content-Type: application/sdp
Content-Length: ${sdp.replace(/\n/g, '\r\n').length}

${sdp}`);
const options = crlf(`OPTIONS sip:bench.tfx SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-9000-1-0
From: <sip:pinger@bench.invalid>;tag=9000
To: <sip:bench.tfx>
Call-ID: 1-9000@127.0.0.1
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

`);

function forwardInvite() {
  const r = parseMessage(invite);
  if (!r.ok || checkMessage(r).action !== 'accept') throw new Error('invite');
  const h = r.message.headers;
  let read = h.via()[0].params.get('branch').length;
  read += h.from().tag.length + (h.to().tag === undefined ? 0 : 1);
  h.callId();
  h.cseq();
  h.route();
  const mf = h.maxForwards();
  h.set('Max-Forwards', String(mf - 1));
  h.prepend('Record-Route', '<sip:127.0.0.1:55821;lr>');
  h.prepend('Via', 'SIP/2.0/UDP 127.0.0.1:55821;branch=z9hG4bK.tfx.a1b2c3d4e5f6.0');
  return serializeMessage(r.message).length + read;
}

function forward200() {
  const r = parseMessage(ok200);
  if (!r.ok || checkMessage(r).action !== 'accept') throw new Error('200');
  const h = r.message.headers;
  h.via()[0].params.get('branch');
  h.cseq();
  h.callId();
  h.shift('Via');
  return serializeMessage(r.message).length;
}

function answerOptions() {
  const r = parseMessage(options);
  if (!r.ok || checkMessage(r).action !== 'accept') throw new Error('options');
  const h = r.message.headers;
  const read = h.via()[0].params.get('branch').length + (h.to().tag === undefined ? 0 : 1);
  h.route();
  h.maxForwards();
  const res = createResponse(r.message, 200, 'OK', {
    toTag: 'a1b2c3',
    headers: [['Allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS']],
  });
  return serializeMessage(res).length + read;
}

function measure(fn) {
  for (let i = 0; i < 20000; i++) fn();
  const c0 = process.cpuUsage();
  let x = 0;
  for (let i = 0; i < N; i++) x += fn();
  const c = process.cpuUsage(c0);
  if (x === 0) throw new Error('nothing');
  return (c.user + c.system) / N;
}
const out = {};
for (const [name, fn] of [
  ['invite', forwardInvite],
  ['200', forward200],
  ['options', answerOptions],
])
  out[name] = Number(measure(fn).toFixed(3));
console.log(JSON.stringify({ root, ...out }));
