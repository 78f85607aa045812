// Top of a V8 CPU profile (node --cpu-prof): self time by function, and by file.
//   node bench/sip/profile-top.mjs bench/sip/profiles/CPU.*.cpuprofile [--n 30]
//        [--from US --to US]   only the samples between these CLOCK_MONOTONIC times (µs, as
//                              process.hrtime and the profile's own timestamps count)
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const nIdx = process.argv.indexOf('--n');
const N = nIdx > 0 ? Number(process.argv[nIdx + 1]) : 30;
const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
};
const FROM = arg('from') ?? -Infinity;
const TO = arg('to') ?? Infinity;
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
let t = prof.startTime;
for (let i = 0; i < prof.samples.length; i++) {
  t += dt[i] ?? 0;
  if (t < FROM || t > TO) continue;
  const id = prof.samples[i];
  self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map();
const files = new Map();
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const short = cf.url.replace(/^.*\/(packages|node_modules)\//, '$1/').replace(/^node:/, 'node:');
  const key = `${cf.functionName || '(anonymous)'} ${short}:${cf.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const f = short || `(${cf.functionName})`;
  files.set(f, (files.get(f) ?? 0) + us);
}
const pct = (us) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
const idle = [...fn].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
console.log(`total ${(total / 1e6).toFixed(1)} s sampled, idle ${pct(idle)}`);
console.log('\nself time by function:');
for (const [k, v] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, N))
  console.log(`${pct(v)}  ${k}`);
console.log('\nself time by file:');
for (const [k, v] of [...files].sort((a, b) => b[1] - a[1]).slice(0, 20))
  console.log(`${pct(v)}  ${k}`);

// Inclusive time by function (each sample counted once per function on its stack).
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map();
for (const [id, us] of self) {
  const seen = new Set();
  for (let p = id; p !== undefined; p = parent.get(p)) {
    const cf = byId.get(p).callFrame;
    const short = cf.url.replace(/^.*\/(packages|node_modules)\//, '$1/');
    const key = `${cf.functionName || '(anonymous)'} ${short}:${cf.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    incl.set(key, (incl.get(key) ?? 0) + us);
  }
}
console.log('\ninclusive time by function (SIP code):');
for (const [k, v] of [...incl]
  .filter(([k]) => /packages\/(sip|server|sbc|media)/.test(k))
  .sort((a, b) => b[1] - a[1])
  .slice(0, N)) {
  console.log(`${pct(v)}  ${k}`);
}
