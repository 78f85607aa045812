// Writes the app icons (public/icons/*.png) from the logo's geometry: a diagonal gradient
// (#7c9cff → #40e0c0) with the "T" in #0b1020. No image tools needed: PNG encoded with zlib.
// Run: node packages/web/scripts/make-icons.mjs
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const out = fileURLToPath(new URL('../public/icons/', import.meta.url));
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc(td));
  return Buffer.concat([len, td, c]);
};

/** `maskable`: full bleed, the T inside the 80 % safe zone; otherwise a rounded square. */
function icon(size, maskable) {
  const units = maskable ? 40 : 32;
  const off = maskable ? 4 : 0;
  const s = size / units;
  const rows = [];
  const inRound = (x, y) => {
    if (maskable) return true;
    const r = 9;
    const cx = Math.min(Math.max(x, r), 32 - r);
    const cy = Math.min(Math.max(y, r), 32 - r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  };
  const seg = (px, py, ax, ay, bx, by, w) => {
    const dx = bx - ax;
    const dy = by - ay;
    const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
    return Math.hypot(px - (ax + t * dx), py - (ay + t * dy)) <= w / 2;
  };
  for (let j = 0; j < size; j++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let i = 0; i < size; i++) {
      const x = (i + 0.5) / s - off;
      const y = (j + 0.5) / s - off;
      const o = 1 + i * 4;
      if (!inRound(x + off - (maskable ? 4 : 0), y + off - (maskable ? 4 : 0)) && !maskable) {
        continue;
      }
      const t = Math.max(0, Math.min(1, (i + j) / 2 / size));
      let rgb = [0x7c + (0x40 - 0x7c) * t, 0x9c + (0xe0 - 0x9c) * t, 0xff + (0xc0 - 0xff) * t];
      if (seg(x, y, 9, 11, 23, 11, 3) || seg(x, y, 16, 11, 16, 23, 3)) rgb = [0x0b, 0x10, 0x20];
      row[o] = Math.round(rgb[0]);
      row[o + 1] = Math.round(rgb[1]);
      row[o + 2] = Math.round(rgb[2]);
      row[o + 3] = 255;
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

writeFileSync(`${out}icon-192.png`, icon(192, false));
writeFileSync(`${out}icon-512.png`, icon(512, false));
writeFileSync(`${out}maskable-512.png`, icon(512, true));
