// Load generator for load.int.test.ts, run in a child process so the server under test has its
// own core: N connections each join a distinct room, then half leave on purpose and half drop
// their transport. Bounded by count and by a deadline. Prints one JSON line with the result.
import { io } from 'socket.io-client';

const [url, countArg, concurrencyArg, deadlineArg, protocolArg, prefix] = process.argv.slice(2);
const count = Number(countArg);
const concurrency = Number(concurrencyArg);
const deadline = Date.now() + Number(deadlineArg);
const protocol = Number(protocolArg);

let next = 0;
let done = 0;
let failures = 0;
let firstError;

async function joinAndGo(i, localAddress) {
  const client = io(url, {
    transports: ['websocket'],
    rejectUnauthorized: false,
    reconnection: false,
    forceNew: true,
    auth: { protocol },
    localAddress,
  });
  try {
    await new Promise((resolve, reject) => {
      client.once('connect', resolve);
      client.once('connect_error', reject);
    });
    const ack = await client
      .timeout(10_000)
      .emitWithAck('join', { room: `${prefix}-${i}`, name: 'Load' });
    if (!ack.ok) throw new Error(`join refused: ${ack.error.code}`);
    done++;
  } finally {
    if (i % 2 === 1) client.io.engine.close();
    else client.disconnect();
  }
}

const started = Date.now();
await Promise.all(
  Array.from({ length: concurrency }, async (_, w) => {
    for (;;) {
      const i = next++;
      if (i >= count || Date.now() > deadline) return;
      await joinAndGo(i, `127.0.0.${2 + (w % 16)}`).catch((err) => {
        failures++;
        firstError ??= String(err?.message ?? err);
      });
    }
  }),
);
process.stdout.write(
  `${JSON.stringify({ done, failures, firstError, elapsedMs: Date.now() - started })}\n`,
);
