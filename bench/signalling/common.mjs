// Shared helpers of the signalling benchmarks (run.mjs, scale-out.mjs).
import { createInterface } from 'node:readline';

/** Reads JSON lines from a child's stdout; returns next(ms, what) → the next parsed object. */
export function lineReader(stream) {
  const queue = [];
  const waiting = [];
  createInterface({ input: stream }).on('line', (l) => {
    let o;
    try {
      o = JSON.parse(l);
    } catch {
      return;
    }
    const w = waiting.shift();
    if (w) w(o);
    else queue.push(o);
  });
  return (ms, what) =>
    new Promise((resolve, reject) => {
      if (queue.length) return resolve(queue.shift());
      const t = setTimeout(() => reject(new Error(`timeout waiting for ${what}`)), ms);
      waiting.push((o) => {
        clearTimeout(t);
        resolve(o);
      });
    });
}

/** Stops a server child gracefully (SIGTERM, then SIGKILL), tolerating one that never started. */
export async function stop(child) {
  if (!child || child.exitCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  process.kill(child.pid, 'SIGTERM');
  const t = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 10_000);
  await gone;
  clearTimeout(t);
}
