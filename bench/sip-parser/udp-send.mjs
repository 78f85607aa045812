// CPU per UDP datagram sent by a dgram socket with Node's default lookup (dns.lookup: an IP
// literal is answered on the next tick) and with the SIP transport's `ipLiteralLookup`
// (answered at once), alternated in one process (issue #23). A receiver socket in the same
// process counts what arrives (same cost for both). Bounded: --n datagrams a round, --rounds.
//   node bench/sip-parser/udp-send.mjs [--root DIR] [--n 100000] [--rounds 5]
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const root = resolve(arg('root', '.'));
const N = Number(arg('n', '100000'));
const ROUNDS = Number(arg('rounds', '5'));
const HOST = '127.0.52.1';
const { ipLiteralLookup } = await import(
  pathToFileURL(join(root, 'packages/sip/dist/transport/listeners.js')).href
);

const rx = createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
let got = 0;
rx.on('message', () => got++);
rx.bind(0, HOST);
await once(rx, 'listening');
const port = rx.address().port;
const payload = Buffer.alloc(900, 0x41); // about an INVITE

async function round(lookup) {
  const tx = createSocket(lookup ? { type: 'udp4', lookup } : { type: 'udp4' });
  const listening = once(tx, 'listening'); // emitted inside bind with a synchronous lookup
  tx.bind(0, HOST);
  await listening;
  got = 0;
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    tx.send(payload, port, HOST);
    if (i % 200 === 199) await new Promise((r) => setImmediate(r));
  }
  const until = Date.now() + 2000;
  while (got < N && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  const c = process.cpuUsage(c0);
  tx.close();
  return { us: (c.user + c.system) / N, got };
}

const rows = { default: [], literal: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, lookup] of r % 2
    ? [
        ['literal', ipLiteralLookup],
        ['default', undefined],
      ]
    : [
        ['default', undefined],
        ['literal', ipLiteralLookup],
      ]) {
    const x = await round(lookup);
    rows[name].push(x.us);
    console.log(
      `${name.padEnd(8)} round ${r + 1}: ${x.us.toFixed(2)} µs CPU per datagram (sent and received), ${x.got}/${N} received`,
    );
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(
  `median: default ${med(rows.default).toFixed(2)} µs, ipLiteralLookup ${med(rows.literal).toFixed(2)} µs`,
);
rx.close();
