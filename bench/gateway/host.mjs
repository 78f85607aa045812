// The built-in engine in a process of its own for bench/gateway, so its CPU is read from /proc
// (every thread: the media worker, the main thread, V8's) and none of the load generator's. The
// first argument is the compiled media package to load (this worktree's, or a "before" copy's).
// Commands over IPC: { id, method, args } → { id, ok } | { id, err }; `elu` answers the media
// worker's event-loop utilisation since the previous `elu`; `rss` the resident memory (kB) after a
// garbage collection (node --expose-gc).
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [dist, portMin, portMax] = process.argv.slice(2);
const { createBuiltinEngine } = await import(pathToFileURL(join(dist, 'builtin', 'index.js')).href);
const engine = await createBuiltinEngine({
  portMin: Number(portMin),
  portMax: Number(portMax),
  workers: 1,
  mediaTimeoutMs: 0,
});
let mark = engine.workerThreads[0].performance.eventLoopUtilization();
process.on('message', async (m) => {
  try {
    if (m.method === 'elu') {
      const w = engine.workerThreads[0].performance;
      const now = w.eventLoopUtilization();
      const d = w.eventLoopUtilization(now, mark);
      mark = now;
      process.send({ id: m.id, ok: d.utilization });
      return;
    }
    if (m.method === 'rss') {
      globalThis.gc?.();
      process.send({ id: m.id, ok: Math.round(process.memoryUsage().rss / 1024) });
      return;
    }
    const ok = await engine[m.method](...m.args);
    process.send({ id: m.id, ok: m.method === 'delete' ? null : ok });
  } catch (e) {
    process.send({ id: m.id, err: String(e?.message ?? e) });
  }
});
process.on('disconnect', async () => {
  await engine.close();
  process.exit(0);
});
process.send({ ready: true });
