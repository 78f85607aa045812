// The CDR store under a call rate (issue #23): --rate records a second for --seconds into a
// fresh folder (the default 200 ms sync), reporting process CPU per record and the event loop's
// delay (p99, max: a synchronous fdatasync stalls every call's messages for its length).
//   node bench/sip-parser/cdr-store.mjs [--root DIR] [--rate 1000] [--seconds 4]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const root = resolve(arg('root', '.'));
const RATE = Number(arg('rate', '1000'));
const SECONDS = Number(arg('seconds', '4'));
const { CdrStore } = await import(
  pathToFileURL(join(root, 'packages/server/dist/store/cdr.js')).href
);
const dir = mkdtempSync(join(tmpdir(), 'tfx-cdr-bench-'));
const store = new CdrStore(dir);
const at = new Date().toISOString();
const record = (i) => ({
  kind: 'proxy',
  id: `proxy-${i}`,
  callId: `${i}-bench@127.0.52.1`,
  bCallId: undefined,
  aZone: 'proxy',
  bZone: 'proxy',
  trunk: '127.0.52.2:5060',
  tries: [{ trunk: '127.0.52.2:5060', status: 200, at }],
  caller: { from: 'sipp', to: 'callee', ruri: 'callee' },
  callee: { from: 'sipp', to: 'callee', ruri: 'callee' },
  start: at,
  ring: at,
  answer: at,
  end: at,
  duration: 0,
  final: 200,
  reason: 'caller-bye',
});
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
const c0 = process.cpuUsage();
const t0 = Date.now();
let n = 0;
while (Date.now() - t0 < SECONDS * 1000) {
  const due = Math.floor(((Date.now() - t0) * RATE) / 1000);
  while (n < due) store.write(record(n++));
  await new Promise((r) => setTimeout(r, 1));
}
const c = process.cpuUsage(c0);
h.disable();
await store.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    root,
    records: n,
    cpuUsPerRecord: +((c.user + c.system) / n).toFixed(2),
    loopDelayP99Ms: +(h.percentile(99) / 1e6).toFixed(2),
    loopDelayMaxMs: +(h.max / 1e6).toFixed(2),
  }),
);
