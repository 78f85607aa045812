// The built-in engine in a process of its own, so the bench can pin it to one core (taskset) and
// read its CPU from /proc: the relay's workers and its main thread, nothing of the load generator.
// Commands come over the IPC channel: { id, method, args } → { id, ok } | { id, err }.
// Runs the compiled package (npm run bench:media builds it first).
import { createBuiltinEngine } from '../../packages/media/dist/builtin/index.js';

const [portMin, portMax, workers] = process.argv.slice(2).map(Number);
const engine = await createBuiltinEngine({
  portMin,
  portMax,
  workers,
  floodPps: 1_000_000,
  mediaTimeoutMs: 0,
});
process.on('message', async (m) => {
  try {
    const ok = await engine[m.method](...m.args);
    process.send({ id: m.id, ok: m.method === 'delete' || m.method === 'query' ? null : ok });
  } catch (e) {
    process.send({ id: m.id, err: String(e?.message ?? e) });
  }
});
process.on('disconnect', async () => {
  await engine.close();
  process.exit(0);
});
process.send({ ready: true });
