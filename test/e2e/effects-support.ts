/**
 * Support for the video effects tests: a fake camera that shows a face (a .y4m clip made at test
 * time with Debian's ffmpeg from a photo that ships in @vladmandic/face-api — nothing committed),
 * a browser launched on it, and pixel statistics of the REMOTE peer's decoded frames.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import type { Participant } from './support.js';

/** Where the face is in a clip, in fractions of the 640×360 frame. */
export interface Clip {
  readonly file: string;
  readonly face: Region;
  /** A checkerboard area far from the person. */
  readonly background: Region;
}
export interface Region {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

const require = createRequire(import.meta.url);
let dir: string | null = null;

/**
 * A 640×360 clip: a fine checkerboard (high variance, what blur removes) with a head-and-
 * shoulders crop of a photo placed left (`at: 'left'`) or right.
 */
export function faceClip(at: 'left' | 'right'): Clip {
  dir ??= mkdtempSync(join(tmpdir(), 'tfx-effects-'));
  const file = join(dir, `face-${at}.y4m`);
  const photo = join(
    dirname(require.resolve('@vladmandic/face-api/package.json')),
    'demo',
    'sample1.jpg',
  );
  const x = at === 'left' ? 30 : 380;
  if (!existsSync(file))
    execFileSync('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      "color=c=gray:s=640x360:r=15,geq=lum='if(mod(floor(X/6)+floor(Y/6)\\,2)\\,210\\,50)':cb=128:cr=128",
      '-i',
      photo,
      '-filter_complex',
      `[1:v]crop=520:700:1290:170,scale=-2:340[f];[0:v][f]overlay=${x}:20,format=yuv420p`,
      '-frames:v',
      '10',
      file,
    ]);
  // The photo is 252×340 at (x, 20); the face sits at about (80…230, 30…170) inside it.
  const face = { x: (x + 85) / 640, y: 45 / 360, w: 130 / 640, h: 110 / 360 };
  const background =
    at === 'left'
      ? { x: 330 / 640, y: 40 / 360, w: 280 / 640, h: 280 / 360 }
      : { x: 20 / 640, y: 40 / 360, w: 330 / 640, h: 280 / 360 };
  return { file, face, background };
}

/** Chromium whose fake camera plays `clip` (flags as playwright.config.ts, plus the file). */
export function launchWithCamera(clip: Clip): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${clip.file}`,
      '--allow-loopback-in-peer-connection',
      '--disable-gpu',
      '--disable-quic',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

export interface RegionStats {
  /** Mean absolute difference between horizontal neighbours (luma): fine detail. */
  readonly detail: number;
  /** Mean |R−G| + |G−B|: colourfulness. */
  readonly chroma: number;
  /** Mean R, G, B. */
  readonly r: number;
  readonly g: number;
  readonly b: number;
  /** Share of pixels that are the overlay's green. */
  readonly green: number;
  readonly width: number;
}

/** Statistics of one region of the first remote camera video, from a canvas snapshot. */
export function remoteStats(p: Participant | Page, region: Region): Promise<RegionStats> {
  const page = 'page' in p ? p.page : p;
  return page.evaluate((rg) => {
    const v = document.querySelector('.tile video.tile-camera') as HTMLVideoElement | null;
    if (!v || v.videoWidth === 0)
      return { detail: 0, chroma: 0, r: 0, g: 0, b: 0, green: 0, width: 0 };
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    const g = c.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
    g.drawImage(v, 0, 0);
    const x0 = Math.round(rg.x * c.width);
    const y0 = Math.round(rg.y * c.height);
    const w = Math.max(2, Math.round(rg.w * c.width));
    const hh = Math.max(2, Math.round(rg.h * c.height));
    const d = g.getImageData(x0, y0, w, hh).data;
    let detail = 0;
    let chroma = 0;
    let r = 0;
    let gg = 0;
    let b = 0;
    let green = 0;
    let n = 0;
    let nd = 0;
    const luma = (i: number): number => 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
    for (let y = 0; y < hh; y++)
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * 4;
        r += d[i]!;
        gg += d[i + 1]!;
        b += d[i + 2]!;
        chroma += Math.abs(d[i]! - d[i + 1]!) + Math.abs(d[i + 1]! - d[i + 2]!);
        if (d[i + 1]! > 170 && d[i]! < 130 && d[i + 2]! < 150) green++;
        n++;
        if (x > 0) {
          detail += Math.abs(luma(i) - luma(i - 4));
          nd++;
        }
      }
    return {
      detail: detail / nd,
      chroma: chroma / n,
      r: r / n,
      g: gg / n,
      b: b / n,
      green: green / n,
      width: c.width,
    };
  }, region);
}

/** Median of a few snapshots (the encoder's quality moves between frames). */
export async function settledStats(
  p: Participant,
  region: Region,
  samples = 3,
): Promise<RegionStats> {
  const all: RegionStats[] = [];
  for (let i = 0; i < samples; i++) {
    all.push(await remoteStats(p, region));
    await p.page.waitForTimeout(400);
  }
  const med = (k: keyof RegionStats): number =>
    all.map((s) => s[k]).sort((a, b) => a - b)[Math.floor(all.length / 2)]!;
  return {
    detail: med('detail'),
    chroma: med('chroma'),
    r: med('r'),
    g: med('g'),
    b: med('b'),
    green: med('green'),
    width: med('width'),
  };
}

/** Records every request the pages of a participant make that is not to `origin`. */
export function watchForeignRequests(p: Participant, origin: string): string[] {
  const foreign: string[] = [];
  p.context.on('request', (r) => {
    const u = r.url();
    if (u.startsWith('data:') || u.startsWith('blob:')) return;
    if (!u.startsWith(`${origin}/`)) foreign.push(u);
  });
  return foreign;
}

/** A room URL (support.ts) with another camera size: `cam` set, not added a second time. */
export function withCamera(url: string, cam: string): string {
  const u = new URL(url);
  u.searchParams.set('cam', cam);
  return u.toString();
}
