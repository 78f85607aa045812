// bench/widgets, part 2: the collaboration widgets in a real call (run by bench/widgets/run.ts).
//  - File transfer: a 50 MB file from Ann to Bob with the built-in `files` widget, from the
//    moment Ann picks the file to the moment Bob's widget has verified its own SHA-256 (so the
//    figure includes reading, hashing on both sides and the receiver's Blob), three runs; and the
//    call's video frame rate (frames decoded per second, the lower of the two directions) during
//    the transfer against an idle window of the same length right after it.
//  - Reference: the same 50 MB through a bare ordered RTCDataChannel between two peer connections
//    in one page (16 KiB messages, the widget transport's pacing rule, no hashing), in the call's
//    page, with the call's frame rate measured the same way.
//  - Editor: single keystrokes typed into Ann's code editor (one every 40 ms), from the keydown in
//    Ann's frame to the character showing in Bob's editor (CodeMirror + Yjs over the widget
//    channel); the paced 100 B widget message and bare channel latencies of part 1 are the
//    references. Both participants run in one Chromium: one clock stamps both ends.
import type { Browser, Frame, Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { roomUrl, snapshot, type Participant } from '../../test/e2e/support.js';

const MB = 1024 * 1024;
const FILE_BYTES = 50 * MB;
const TRANSFER_RUNS = 3;
const KEYSTROKES = 300;
const KEY_GAP_MS = 40;

export interface TransferRun {
  readonly target: string;
  readonly seconds: number;
  readonly mbPerSec: number;
  /** Frames decoded per second, the lower of the two directions, in an idle window after the run. */
  readonly fpsIdle: number;
  /** The same during the transfer. */
  readonly fpsDuring: number;
  readonly verified: boolean;
}

export interface CollabResult {
  readonly transfers: TransferRun[];
  readonly editor: {
    p50: number;
    p99: number;
    /** Ann's key → the character on Ann's own screen (CodeMirror's input path, no network). */
    localP50: number;
    localP99: number;
    samples: number;
    lost: number;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function joinCall(
  browser: Browser,
  url: string,
  room: string,
  name: string,
): Promise<Participant> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    permissions: ['camera', 'microphone'],
  });
  const page = await context.newPage();
  await page.goto(roomUrl(url, room, name));
  await page.waitForSelector('#app[data-screen="call"]');
  await shim(page);
  return { name, context, page };
}

/**
 * tsx (esbuild, keepNames) wraps named local functions in evaluated callbacks with `__name(…)`,
 * which pages lack: give them one.
 */
const shim = (t: Page | Frame): Promise<unknown> => t.evaluate('globalThis.__name ??= (f) => f');

async function widgetFrame(page: Page, id: string): Promise<Frame> {
  await page.waitForSelector(`.widget-panel[data-widget="${id}"][data-state="ready"]`);
  const f = await (await page.$(`.widget-panel[data-widget="${id}"] iframe`))!.contentFrame();
  await f!.waitForSelector('body[data-ready]');
  await shim(f!);
  return f!;
}

/** Video frames decoded so far from the other participant. */
async function frames(p: Participant): Promise<number> {
  return (await snapshot(p)).reduce((a, s) => a + s.frames, 0);
}

/** Runs `work`, returning its result and the call's fps (both directions, the lower) meanwhile. */
async function withFps<T>(
  ps: readonly Participant[],
  work: () => Promise<T>,
): Promise<{ value: T; fps: number; ms: number }> {
  const f0 = await Promise.all(ps.map(frames));
  const t0 = Date.now();
  const value = await work();
  const ms = Date.now() - t0;
  const f1 = await Promise.all(ps.map(frames));
  const fps = Math.min(...f1.map((f, i) => ((f - f0[i]!) * 1000) / ms));
  return { value, fps, ms };
}

/** One 50 MB transfer with the files widget; seconds from picking the file to Bob's verdict. */
async function tfxTransfer(
  fa: Frame,
  fb: Frame,
  file: { path: string; sha256: string },
): Promise<{ seconds: number; verified: boolean }> {
  await fb.evaluate(() => {
    const w = window as unknown as { __b: { done: number; sha: string } };
    w.__b = { done: 0, sha: '' };
    const list = document.getElementById('list')!;
    const obs = new MutationObserver(() => {
      const row = list.querySelector<HTMLElement>('.transfer[data-dir="in"]');
      if (row && row.dataset.state !== 'receiving' && !w.__b.done) {
        w.__b = { done: performance.timeOrigin + performance.now(), sha: row.dataset.sha256 ?? '' };
        obs.disconnect();
      }
    });
    obs.observe(list, { subtree: true, attributes: true, childList: true });
  });
  await fa.evaluate(() => {
    const w = window as unknown as { __a: number };
    w.__a = 0;
    document
      .getElementById('file')!
      .addEventListener('change', () => (w.__a = performance.timeOrigin + performance.now()), {
        once: true,
        capture: true,
      });
  });
  await fa.locator('#file').setInputFiles(file.path);
  const deadline = Date.now() + 120_000;
  let b = { done: 0, sha: '' };
  while (Date.now() < deadline) {
    b = await fb.evaluate(() => (window as unknown as { __b: { done: number; sha: string } }).__b);
    if (b.done) break;
    await sleep(100);
  }
  const a = await fa.evaluate(() => (window as unknown as { __a: number }).__a);
  // Clear both lists for the next run (once the sender has heard Bob's verdict).
  await fa.waitForFunction(() => {
    const row = document.querySelector<HTMLElement>('.transfer[data-dir="out"]');
    return row && row.dataset.state !== 'sending' && row.dataset.state !== 'sent';
  });
  for (const f of [fa, fb])
    await f.evaluate(() =>
      document.querySelectorAll<HTMLButtonElement>('.transfer .dismiss').forEach((x) => x.click()),
    );
  await fa.waitForFunction(() => !document.querySelector('.transfer'));
  return { seconds: b.done && a ? (b.done - a) / 1000 : NaN, verified: b.sha === file.sha256 };
}

/** The reference: 50 MB through a bare data channel in one page, the transport's pacing rule. */
function bareTransfer(page: Page, bytes: number): Promise<number> {
  return page.evaluate(async (bytes) => {
    const p1 = new RTCPeerConnection();
    const p2 = new RTCPeerConnection();
    p1.onicecandidate = (e) => e.candidate && void p2.addIceCandidate(e.candidate);
    p2.onicecandidate = (e) => e.candidate && void p1.addIceCandidate(e.candidate);
    const tx = p1.createDataChannel('ref', { negotiated: true, id: 7, ordered: true });
    const rx = p2.createDataChannel('ref', { negotiated: true, id: 7, ordered: true });
    rx.binaryType = 'arraybuffer';
    let got = 0;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((r) => (done = r));
    rx.onmessage = (e) => {
      got += (e.data as ArrayBuffer).byteLength;
      if (got >= bytes) done();
    };
    await p1.setLocalDescription();
    await p2.setRemoteDescription(p1.localDescription!);
    await p2.setLocalDescription();
    await p1.setRemoteDescription(p2.localDescription!);
    await new Promise<void>((r) => (tx.readyState === 'open' ? r() : (tx.onopen = () => r())));
    tx.bufferedAmountLowThreshold = 64 * 1024;
    const frame = new Uint8Array(16 * 1024);
    crypto.getRandomValues(frame);
    const t0 = performance.now();
    for (let sent = 0; sent < bytes; sent += frame.byteLength) {
      if (tx.bufferedAmount > 256 * 1024)
        await new Promise<void>((r) => (tx.onbufferedamountlow = () => r()));
      tx.send(frame);
    }
    await finished;
    const secs = (performance.now() - t0) / 1000;
    p1.close();
    p2.close();
    return secs;
  }, bytes);
}

/** Keystroke latency in the code editor, Ann → Bob. */
/** Records when each character appears in a frame's editor (`window.__arr[i]` for the i-th). */
function watchEditorText(f: Frame): Promise<void> {
  return f.evaluate(() => {
    const w = window as unknown as { __arr: number[] };
    w.__arr = [];
    // The editor lives in an open shadow root (CSP: constructed style sheets).
    const host = [...document.querySelectorAll('*')].find((e) => e.shadowRoot);
    const content = host?.shadowRoot?.querySelector('.cm-content');
    if (!content) throw new Error('no editor content in the frame');
    // Characters in the document, without the remote carets' name labels.
    const length = (): number => {
      let n = 0;
      const walk = document.createTreeWalker(content, NodeFilter.SHOW_TEXT);
      for (let t = walk.nextNode(); t; t = walk.nextNode())
        if (!t.parentElement?.closest('.cm-ySelectionCaret'))
          n += (t.nodeValue ?? '').replace(/[\u200b\u2060\ufeff]/g, '').length;
      return n;
    };
    new MutationObserver(() => {
      const now = performance.timeOrigin + performance.now();
      for (let n = length(); w.__arr.length < n;) w.__arr.push(now);
    }).observe(content, { subtree: true, childList: true, characterData: true });
  });
}

/** Keystroke latency in the code editor: Ann's key → Ann's screen (local) and → Bob's screen. */
async function editorLatency(
  ann: Participant,
  fa: Frame,
  fb: Frame,
): Promise<{ remote: number[]; local: number[]; lost: number }> {
  await watchEditorText(fa);
  await watchEditorText(fb);
  // The editor lives in a shadow root; keydown events still reach the document (composed).
  await fa.evaluate(() => {
    const w = window as unknown as { __keys: number[] };
    w.__keys = [];
    document.addEventListener(
      'keydown',
      () => w.__keys.push(performance.timeOrigin + performance.now()),
      { capture: true },
    );
  });
  await fa.locator('.cm-content').focus();
  for (let i = 0; i < KEYSTROKES; i++) {
    await ann.page.keyboard.press('x');
    await sleep(KEY_GAP_MS);
  }
  await sleep(1000);
  const keys = await fa.evaluate(() => (window as unknown as { __keys: number[] }).__keys);
  const arrivals = (f: Frame) => f.evaluate(() => (window as unknown as { __arr: number[] }).__arr);
  const [mine, theirs] = [await arrivals(fa), await arrivals(fb)];
  const since = (xs: number[]): number[] => xs.slice(0, keys.length).map((t, i) => t - keys[i]!);
  return { remote: since(theirs), local: since(mine), lost: KEYSTROKES - theirs.length };
}

export async function collabBench(
  browser: Browser,
  serverUrl: string,
  tmp: string,
  log: (s: string) => void,
): Promise<CollabResult> {
  const room = `wcollab-${Date.now().toString(36)}`;
  const ann = await joinCall(browser, serverUrl, room, 'Ann');
  const bob = await joinCall(browser, serverUrl, room, 'Bob');
  const ps = [ann, bob];
  try {
    await ann.page.waitForSelector('.tile');
    // Media flowing both ways before anything is measured.
    for (let i = 0; i < 100 && Math.min(...(await Promise.all(ps.map(frames)))) < 30; i++)
      await sleep(200);

    const data = randomBytes(FILE_BYTES);
    const file = {
      path: join(tmp, 'bench-50MB.bin'),
      sha256: createHash('sha256').update(data).digest('hex'),
    };
    writeFileSync(file.path, data);

    await ann.page.click('.widget-btn[data-widget="files"]');
    const fa = await widgetFrame(ann.page, 'files');
    const fb = await widgetFrame(bob.page, 'files');
    const transfers: TransferRun[] = [];
    for (let i = 0; i < TRANSFER_RUNS; i++) {
      for (const kind of ['bare', 'tfx'] as const) {
        log(`  file transfer ${i + 1}/${TRANSFER_RUNS}: ${kind}`);
        const during = await withFps(ps, () =>
          kind === 'bare'
            ? bareTransfer(ann.page, FILE_BYTES).then((seconds) => ({ seconds, verified: true }))
            : tfxTransfer(fa, fb, file),
        );
        // The idle window: as long as the transfer took, right after it (the call settles).
        await sleep(1000);
        const idle = await withFps(ps, () => sleep(during.ms));
        transfers.push({
          target: kind === 'bare' ? 'bare RTCDataChannel' : 'TFX file widget',
          seconds: during.value.seconds,
          mbPerSec: FILE_BYTES / MB / during.value.seconds,
          fpsIdle: idle.fps,
          fpsDuring: during.fps,
          verified: during.value.verified,
        });
      }
    }

    log('  editor keystrokes');
    await ann.page.click('.widget-btn[data-widget="editor"]');
    const ea = await widgetFrame(ann.page, 'editor');
    const eb = await widgetFrame(bob.page, 'editor');
    await sleep(500);
    const { remote, local, lost } = await editorLatency(ann, ea, eb);
    return {
      transfers,
      editor: {
        p50: pct(remote, 50),
        p99: pct(remote, 99),
        localP50: pct(local, 50),
        localP99: pct(local, 99),
        samples: remote.length,
        lost,
      },
    };
  } finally {
    for (const p of ps) await p.context.close().catch(() => undefined);
  }
}
