/**
 * Summarises .cpuprofile files (from `npm run bench:media -- --profile DIR`): self time per
 * function and per file, top N, for each profile (one per thread: the host's main thread and each
 * media worker).   npx tsx bench/media/profile-top.ts DIR [N]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const dir = process.argv[2] ?? '.';
const top = Number(process.argv[3] ?? 15);
for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
  const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const url = n.callFrame.url.replace(/^.*\/(packages|node_modules)\//, '$1/') || '(native)';
    const name = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    file.set(url, (file.get(url) ?? 0) + us);
  }
  const pct = (us: number): string => ((100 * us) / total).toFixed(1).padStart(5) + ' %';
  console.log(`\n${f}: ${(total / 1000).toFixed(0)} ms sampled`);
  console.log('  by function (self):');
  for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(v)}  ${k}`);
  console.log('  by file (self):');
  for (const [k, v] of [...file].sort((a, b) => b[1] - a[1]).slice(0, 8))
    console.log(`  ${pct(v)}  ${k}`);
}
