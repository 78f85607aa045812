// A small horizontal bar chart as standalone SVG (docs/img/*.svg): one panel per group, each
// bar labelled with its value; reference bars grey, TFX bars blue.
export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly ref?: boolean;
}
export interface Panel {
  readonly title: string;
  readonly bars: readonly Bar[];
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barChart(panels: readonly Panel[]): string {
  const W = 720;
  const labelW = 190;
  const barH = 22;
  const gap = 8;
  const plotW = W - labelW - 90;
  let y = 16;
  const out: string[] = [];
  for (const p of panels) {
    out.push(`<text x="8" y="${y + 12}" font-weight="bold">${esc(p.title)}</text>`);
    y += 24;
    const max = Math.max(...p.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), 1e-9);
    for (const b of p.bars) {
      const v = Number.isFinite(b.value) ? b.value : 0;
      const w = Math.max(1, (v / max) * plotW);
      out.push(
        `<text x="${labelW - 8}" y="${y + 15}" text-anchor="end">${esc(b.label)}</text>`,
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" rx="3" fill="${b.ref ? '#9aa3b5' : '#3b6cf6'}"/>`,
        `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 15}">${Number.isFinite(b.value) ? b.value.toFixed(1) : 'n/a'}</text>`,
      );
      y += barH + gap;
    }
    y += 12;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${y}" fill="#fff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
