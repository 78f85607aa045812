// Reports of the sipp benchmarks (bench/sip, bench/sbc): the kept runs (results.json), a section
// of docs/benchmarks.md rewritten in place, and the bar chart (CPU per operation, TFX and
// Kamailio side by side per group, the ratio over each pair; plain SVG, no dependencies).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Appends a run to `file` (a JSON array; the last `keep` runs kept) and returns the kept runs. */
export function keepRuns(file, run, keep = 4) {
  const runs = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
  runs.push(run);
  const kept = runs.slice(-keep);
  writeFileSync(file, `${JSON.stringify(kept, null, 2)}\n`);
  return kept;
}

/**
 * Replaces the section that starts with the line `heading` (a `## ` heading) in the Markdown
 * file, up to the next `## ` heading, with `section`; appends it when there is none.
 */
export function replaceSection(file, heading, section) {
  let doc = readFileSync(file, 'utf8');
  // The heading as a whole line (`## SBC` is not found in `### SBC …` or `## SBC tab`).
  const at = doc.startsWith(`${heading}\n`) ? 0 : doc.indexOf(`\n${heading}\n`);
  const start = at > 0 ? at + 1 : at;
  if (start >= 0) {
    const rest = doc.slice(start + 3);
    const next = rest.search(/\n## /);
    doc = doc.slice(0, start) + section + (next >= 0 ? `\n${rest.slice(next + 1)}` : '');
  } else {
    doc = `${doc.trimEnd()}\n\n${section}`;
  }
  writeFileSync(file, doc);
}

/**
 * `groups`: [{ label: [line1, line2], tfx, kam }] (µs); `facts`: the run's machine facts (cpu,
 * date, kamailio version); `kamLabel`: the legend of the reference (default "Kamailio <version>").
 */
export function barChart({ title, groups, facts, kamLabel = `Kamailio ${facts.kamailio}` }) {
  const W = 760;
  const H = 340;
  const left = 56;
  const bottom = 60;
  const top = 40;
  const max = Math.max(1, ...groups.flatMap((g) => [g.tfx, g.kam]));
  const step = 10 ** Math.floor(Math.log10(max));
  const ceil = Math.ceil(max / step) * step;
  const plotH = H - bottom - top;
  const gw = (W - left - 10) / groups.length;
  const bw = Math.min(28, gw / 3);
  const y = (v) => top + plotH - (v / ceil) * plotH;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${left}" y="18" font-size="13" font-weight="bold">${title}</text>`,
    `<rect x="${W - 190}" y="8" width="10" height="10" fill="#2b6cb0"/><text x="${W - 176}" y="17">TFX</text>`,
    `<rect x="${W - 130}" y="8" width="10" height="10" fill="#c05621"/><text x="${W - 116}" y="17">${kamLabel}</text>`,
  ];
  for (let v = 0; v <= ceil; v += step) {
    out.push(
      `<line x1="${left}" x2="${W - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#e2e8f0"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
    );
  }
  groups.forEach((g, i) => {
    const x0 = left + i * gw + gw / 2 - bw;
    out.push(
      `<rect x="${x0}" y="${y(g.tfx)}" width="${bw}" height="${top + plotH - y(g.tfx)}" fill="#2b6cb0"><title>TFX ${Math.round(g.tfx)} µs</title></rect>`,
      `<rect x="${x0 + bw}" y="${y(g.kam)}" width="${bw}" height="${top + plotH - y(g.kam)}" fill="#c05621"><title>Kamailio ${Math.round(g.kam)} µs</title></rect>`,
      `<text x="${x0 + bw}" y="${y(Math.max(g.tfx, g.kam)) - 4}" text-anchor="middle">${g.kam ? (g.tfx / g.kam).toFixed(1) : ''}×</text>`,
      `<text x="${x0 + bw}" y="${H - bottom + 16}" text-anchor="middle">${g.label[0]}</text>`,
      `<text x="${x0 + bw}" y="${H - bottom + 30}" text-anchor="middle">${g.label[1] ?? ''}</text>`,
    );
  });
  out.push(
    `<text x="${left}" y="${H - 10}" fill="#4a5568">${facts.cpu}, ${facts.date.slice(0, 10)}; numbers over bars: TFX / Kamailio</text>`,
    '</svg>',
  );
  return `${out.join('\n')}\n`;
}
