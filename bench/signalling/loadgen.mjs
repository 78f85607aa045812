// Load generator for bench/signalling (run by run.mjs, pinned to its own core).
// Opens N socket.io clients in rooms of 2–4, joins them, then for every pair in a room relays an
// offer and an answer (~3 KB each) and 10 ICE candidates (5 each way), paced at --rate msg/s.
// Talks to run.mjs over stdin/stdout, one JSON object per line:
//   → {"phase":"joined",…}   ← "go"      (run.mjs samples the server's CPU between the two)
//   → {"phase":"relayed",…}  ← "done"
//   → {"phase":"result",…}
// Every message is counted; the run fails if one is lost, duplicated or mis-stamped.
import { createInterface } from 'node:readline';
import { io } from 'socket.io-client';

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce(
      (acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc),
      [],
    ),
);
// One URL, or several separated by commas (scale-out: client i goes to URL i mod n).
const URLS = String(args.url).split(',');
const N = Number(args.clients ?? 1000);
const MODE = args.mode ?? 'bare'; // 'tfx' | 'bare'
const RATE = Number(args.rate ?? 4000);
const ADDRESSES = Number(args.addresses ?? 200);
const PROTOCOL = Number(args.protocol ?? 1);
const PHASE_TIMEOUT_MS = Number(args['phase-timeout'] ?? 120_000);
const CONCURRENCY = 200;

const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const lines = createInterface({ input: process.stdin });
const waitLine = (word) =>
  new Promise((resolve) => lines.on('line', (l) => l.trim() === word && resolve()));
const now = () => Number(process.hrtime.bigint()) / 1e6; // ms

function pct(values, p) {
  if (values.length === 0) return 0;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function pool(items, limit, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}

function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`timeout: ${what}`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

// --- layout: rooms of 2, 3, 4, 2, 3, 4, … -----------------------------------------------------------
const rooms = [];
{
  let left = N;
  let k = 0;
  while (left > 0) {
    let size = [2, 3, 4][k++ % 3];
    if (left - size === 1) size += 1; // never leave a room of one
    if (size > left) size = left;
    rooms.push(size);
    left -= size;
  }
}
const clients = []; // { i, room, socket, peerId }
rooms.forEach((size, r) => {
  for (let j = 0; j < size; j++)
    clients.push({
      i: clients.length,
      room: `bench-${r.toString(36).padStart(4, '0')}`,
      socket: undefined,
      peerId: undefined,
    });
});

const SDP = (() => {
  const lines = [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'a=group:BUNDLE 0 1',
    'a=msid-semantic: WMS',
  ];
  let n = 0;
  while (lines.join('\r\n').length < 2900)
    lines.push(`a=rtpmap:${96 + (n % 30)} VP8/90000 a=rtcp-fb:${96 + (n++ % 30)} nack pli`);
  return lines.join('\r\n');
})();

let errors = 0;
const errorSamples = [];
const noteError = (what) => {
  errors++;
  if (errorSamples.length < 10) errorSamples.push(what);
};

// --- connect ------------------------------------------------------------------------------------------
const connectTimes = [];
const t0 = now();
await withTimeout(
  pool(clients, CONCURRENCY, (c) => {
    const started = now();
    return new Promise((resolve) => {
      const socket = io(URLS[c.i % URLS.length], {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        timeout: 20_000,
        localAddress: `127.0.0.${2 + (c.i % ADDRESSES)}`,
        ...(MODE === 'tfx' ? { auth: { protocol: PROTOCOL } } : {}),
      });
      c.socket = socket;
      socket.once('connect', () => {
        connectTimes.push(now() - started);
        resolve();
      });
      socket.once('connect_error', (err) => {
        noteError(`connect_error ${err.message} ${JSON.stringify(err.data ?? '')}`);
        resolve();
      });
      socket.on('event-error', (e) => noteError(`event-error ${JSON.stringify(e)}`));
    });
  }),
  PHASE_TIMEOUT_MS,
  'connect',
);
const connectMs = now() - t0;

// --- join ---------------------------------------------------------------------------------------------
const joinTimes = [];
const t1 = now();
await withTimeout(
  pool(clients, CONCURRENCY, (c) => {
    if (!c.socket?.connected) return Promise.resolve();
    const started = now();
    return new Promise((resolve) => {
      c.socket.emit('join', { room: c.room, name: `client ${c.i}` }, (ack) => {
        joinTimes.push(now() - started);
        if (ack?.ok) c.peerId = ack.peerId;
        else noteError(`join ${JSON.stringify(ack)}`);
        resolve();
      });
    });
  }),
  PHASE_TIMEOUT_MS,
  'join',
);
const joinMs = now() - t1;
const joined = clients.filter((c) => c.peerId).length;
out({ phase: 'joined', clients: N, connected: connectTimes.length, joined, errors });
await waitLine('go');

// --- relay ----------------------------------------------------------------------------------------------
const byRoom = new Map();
for (const c of clients) if (c.peerId) byRoom.set(c.room, [...(byRoom.get(c.room) ?? []), c]);
const pairs = [];
for (const members of byRoom.values())
  for (let a = 0; a < members.length; a++)
    for (let b = a + 1; b < members.length; b++) pairs.push([members[a], members[b]]);
const byPeer = new Map(clients.filter((c) => c.peerId).map((c) => [c.peerId, c]));

let seq = 0;
let sent = 0;
let received = 0;
let misStamped = 0;
const inflight = new Map(); // seq → { at, from, to }
const latencies = [];
const CANDIDATES_EACH_WAY = 5;

function send(from, to, kind, extra) {
  const s = ++seq;
  const data =
    kind === 'candidate'
      ? {
          candidate: `candidate:${s} 1 udp 2122260223 127.0.0.1 ${40000 + (s % 20000)} typ host generation 0 ufrag bnch seq ${s}`,
          sdpMid: '0',
          sdpMLineIndex: 0,
        }
      : { type: kind, sdp: `${SDP}\r\na=x-bench-seq:${s}${extra ?? ''}` };
  inflight.set(s, { at: now(), from: from.peerId, to: to.peerId });
  sent++;
  from.socket.emit('signal', { to: to.peerId, kind, data });
}

let relayResolve;
const relayDone = new Promise((r) => (relayResolve = r));
const expected = pairs.length * (2 + 2 * CANDIDATES_EACH_WAY);

for (const c of byPeer.values()) {
  c.socket.on('signal', (msg) => {
    const text = msg?.kind === 'candidate' ? msg.data?.candidate : msg?.data?.sdp;
    const m = /seq[: ](\d+)/.exec(text ?? '');
    const rec = m ? inflight.get(Number(m[1])) : undefined;
    if (!rec) return noteError(`unexpected or duplicate signal ${msg?.kind}`);
    inflight.delete(Number(m[1]));
    if (rec.to !== c.peerId || rec.from !== msg.from) misStamped++;
    received++;
    latencies.push(now() - rec.at);
    const peer = byPeer.get(msg.from);
    if (peer && msg.kind === 'offer') {
      send(c, peer, 'answer');
      for (let k = 0; k < CANDIDATES_EACH_WAY; k++) send(c, peer, 'candidate');
    } else if (peer && msg.kind === 'answer') {
      for (let k = 0; k < CANDIDATES_EACH_WAY; k++) send(c, peer, 'candidate');
    }
    if (received === expected) relayResolve();
  });
}

// Start pairs paced so that messages flow at about RATE per second (12 messages per pair).
const perPair = 2 + 2 * CANDIDATES_EACH_WAY;
const t2 = now();
let started = 0;
await new Promise((resolve) => {
  const tick = setInterval(() => {
    const due = Math.min(pairs.length, Math.floor(((now() - t2) / 1000) * (RATE / perPair)) + 1);
    while (started < due) {
      const [a, b] = pairs[started++];
      send(a, b, 'offer');
    }
    if (started >= pairs.length) {
      clearInterval(tick);
      resolve();
    }
  }, 5);
});
await withTimeout(relayDone, Math.max(30_000, (expected / RATE) * 3000), 'relay').catch((e) =>
  noteError(e.message),
);
const relayMs = now() - t2;
out({ phase: 'relayed', sent, received });
await waitLine('done');

for (const c of clients) c.socket?.close();
const lost = sent - received;
out({
  phase: 'result',
  mode: MODE,
  clients: N,
  rooms: rooms.length,
  pairs: pairs.length,
  connected: connectTimes.length,
  joined,
  connectionsPerSecond: connectTimes.length / (connectMs / 1000),
  joinsPerSecond: joinTimes.length / (joinMs / 1000),
  connectP50Ms: pct(connectTimes, 50),
  joinP50Ms: pct(joinTimes, 50),
  joinP99Ms: pct(joinTimes, 99),
  expected,
  sent,
  received,
  lost,
  misStamped,
  relayMs,
  relayedPerSecond: received / (relayMs / 1000),
  relayP50Ms: pct(latencies, 50),
  relayP99Ms: pct(latencies, 99),
  errors,
  errorSamples,
});
setTimeout(() => process.exit(0), 200);
