// bench/signalling, the scale-out hop's codec alone (docs/benchmarks.md "Scale-out", 2026-12-07):
// CPU per crossing message of encode → node stream entry → decode → the packet the target's
// socket gets, in one process, alternated rounds, 12 messages per entry (the scale-out bench's
// offer + answer + 10 candidates of a pair).
//   inline JSON  the form before 2026-12-07: the item inside the batch's JSON, JSON.parse on the
//                receiving node, socket.io's Encoder (as socket.emit) for the target's socket
//   pass-through this build: encodeRelayed once on the sending node, the packet its own field,
//                decodeEntry (with the packet's structural check) on the receiving node
//   npx tsc -b packages/server && node bench/signalling/hop-codec.mjs [--rounds 6] [--n 20000]
import { Encoder } from 'socket.io-parser';
import { ENVELOPE_KINDS } from '../../packages/server/dist/cluster/envelope.js';
import { encodeRelayed } from '../../packages/server/dist/cluster/envelope.js';
import { decodeEntry, encodeEntry } from '../../packages/server/dist/cluster/wire.js';

const opt = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return Number(i > 0 ? process.argv[i + 1] : dflt);
};
const ROUNDS = opt('rounds', 6);
const N = opt('n', 20000);
const encoder = new Encoder();
let sdp = 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
for (let n = 0; sdp.length < 2900; n++)
  sdp += `a=rtpmap:${96 + (n % 30)} VP8/90000 a=rtcp-fb:${96 + (n % 30)} nack pli\r\n`;
const items = Array.from({ length: 12 }, (_, i) => {
  const kind = i < 2 ? ['offer', 'answer'][i] : 'candidate';
  const data =
    kind === 'candidate'
      ? {
          candidate: `candidate:${i} 1 udp 2122260223 127.0.0.1 ${40000 + i} typ host generation 0`,
          sdpMid: '0',
          sdpMLineIndex: 0,
        }
      : { type: kind, sdp: `${sdp}a=x-bench-seq:${i}` };
  return { event: 'signal', payload: { from: 'Qm9iLXBlZXItaWQtMDAx', kind, data } };
});
const room = 'bench-0001';
const to = 'QWxpY2UtcGVlci1pZC0w';
let sink = 0;
function inlineJson() {
  const raw = JSON.stringify({ v: 1, b: items.map((item) => ({ t: 'deliver', room, to, item })) });
  for (const env of JSON.parse(raw).b)
    if (typeof env.room === 'string' && ENVELOPE_KINDS.includes(env.t))
      sink += encoder.encode({ type: 2, nsp: '/', data: [env.item.event, env.item.payload] })[0]
        .length;
}
function passThrough() {
  const batch = items.map((item) => ({
    t: 'deliver',
    room,
    to,
    from: item.payload.from,
    event: item.event,
    packet: encodeRelayed(item),
  }));
  for (const env of decodeEntry(encodeEntry(1, batch), 1).envelopes) sink += env.packet.length;
}
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const results = { 'inline JSON': [], 'pass-through': [] };
for (let round = 0; round < ROUNDS; round++)
  for (const [name, fn] of [
    ['inline JSON', inlineJson],
    ['pass-through', passThrough],
  ]) {
    for (let i = 0; i < N / 10; i++) fn();
    const t = cpu();
    for (let i = 0; i < N; i++) fn();
    results[name].push((cpu() - t) / (N * items.length));
  }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
for (const [name, xs] of Object.entries(results))
  process.stdout.write(
    `${name}: ${xs.map((x) => x.toFixed(2)).join(', ')} µs per crossing message (median ${median(xs).toFixed(2)})\n`,
  );
if (sink === 0) process.exit(1);
