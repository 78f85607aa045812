/**
 * Top functions of the built-in engine's media worker in bench/gateway's measured windows only
 * (`npm run bench:gateway -- --profile DIR`): the .cpuprofile of each engine's worker thread (the
 * host's second profile), its samples cut to the windows in DIR/windows.json (both on
 * CLOCK_MONOTONIC µs), self time per function, idle excluded.
 *   npx tsx bench/gateway/profile-top.ts DIR [N]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { GatewayResult } from './report.js';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: Node[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const dir = process.argv[2] ?? '.';
const top = Number(process.argv[3] ?? 15);
const windows = JSON.parse(readFileSync(join(dir, 'windows.json'), 'utf8')) as GatewayResult;
for (const engine of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
  // Per host process: profile 0 is its main thread, 1 the media worker.
  const files = readdirSync(join(dir, engine.name)).filter((f) => f.endsWith('.cpuprofile'));
  const worker = files.find((f) => /\.1\.\d+\.cpuprofile$/.test(f));
  if (!worker) continue;
  const p = JSON.parse(readFileSync(join(dir, engine.name, worker), 'utf8')) as Profile;
  for (const w of windows.results.filter((r) => r.engine === engine.name && r.windowMonoUs)) {
    const [a, b] = w.windowMonoUs!;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    let t = p.startTime;
    let busy = 0;
    p.samples.forEach((id, i) => {
      t += p.timeDeltas[i] ?? 0;
      if (t < a || t > b) return;
      const n = byId.get(id);
      const name = n?.callFrame.functionName || '(anonymous)';
      if (name === '(idle)') return;
      const url = (n?.callFrame.url ?? '').replace(/^.*\/(packages|node_modules)\//, '$1/');
      const key = `${name} ${url || '(native)'}${url ? `:${(n?.callFrame.lineNumber ?? 0) + 1}` : ''}`;
      const d = p.timeDeltas[i] ?? 0;
      self.set(key, (self.get(key) ?? 0) + d);
      busy += d;
    });
    console.log(
      `\n${engine.name} ${w.mode}: worker busy ${(busy / 1000).toFixed(0)} ms of ${((b - a) / 1000).toFixed(0)} ms sampled in the window`,
    );
    for (const [k, v] of [...self].sort((x, y) => y[1] - x[1]).slice(0, top))
      console.log(`  ${((100 * v) / Math.max(1, busy)).toFixed(1).padStart(5)} %  ${k}`);
  }
}
