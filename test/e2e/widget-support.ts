/**
 * Widget e2e support: a tiny static HTTPS server on another port (another origin) for
 * cross-origin widgets, manifests written for a test, and helpers to reach a widget's frame.
 */
import { createServer, type Server } from 'node:https';
import { readFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect, type Browser, type Frame, type Page } from '@playwright/test';
import type {} from '../../packages/web/src/widgets/host.js';
import type { HostCounters } from '../../packages/web/src/widgets/frame.js';
import type { WidgetManifestEntry } from '../../packages/protocol/src/widgets/manifest.js';
import { BUILTIN_WIDGETS } from '../../packages/server/src/widgets/builtins.js';
import { join as joinRoom, startServer, type Participant, type TfxServer } from './support.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface StaticServer {
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves `root` (and the widget SDK bundle as /tfx-widget-sdk.js) over HTTPS on 127.0.0.1. */
export async function startStaticServer(
  root: string,
  tls: { cert: string; key: string },
): Promise<StaticServer> {
  const sdk = join(process.cwd(), 'packages/widget-sdk/dist/v1.js');
  const server: Server = createServer(tls, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    let file = path.endsWith('/tfx-widget-sdk.js')
      ? sdk
      : normalize(join(root, decodeURIComponent(path)));
    if (file !== sdk && !file.startsWith(normalize(root) + sep) && file !== normalize(root)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      // The widget's own CSP: its scripts only; it talks to TFX by postMessage, not by fetch.
      'content-security-policy':
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'none'",
    });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `https://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export const MESSAGING: WidgetManifestEntry = {
  plugintype: 'chat',
  id: 'messaging',
  type: 'chat',
  title: 'Messages',
  icon: '/widgets/messaging/icon.svg',
  url: '/widgets/messaging/',
};

export const PROBE: WidgetManifestEntry = {
  plugintype: 'custom',
  id: 'probe',
  type: 'probe',
  title: 'Probe',
  icon: 'puzzle',
  url: '/widgets/probe/',
};

export function writeManifest(path: string, entries: WidgetManifestEntry[]): void {
  writeFileSync(path, `${JSON.stringify(entries, null, 2)}\n`);
}

/** The frame of an open widget on a page (waits for it). */
export async function widgetFrame(page: Page, id: string): Promise<Frame> {
  const iframe = page.locator(`.widget-panel[data-widget="${id}"] iframe`);
  await expect(iframe).toHaveCount(1);
  await expect(page.locator(`.widget-panel[data-widget="${id}"]`)).toHaveAttribute(
    'data-state',
    'ready',
  );
  const handle = await iframe.elementHandle();
  const frame = await handle!.contentFrame();
  if (!frame) throw new Error(`no frame for widget ${id}`);
  return frame;
}

export function hostCounters(page: Page): Promise<HostCounters> {
  return page.evaluate(() => ({ ...window.__tfxWidgets!.counters }));
}

export function transportDropped(page: Page): Promise<Record<string, number>> {
  return page.evaluate(
    () => ({ ...window.__tfxWidgets!.transport.counters.dropped }) as Record<string, number>,
  );
}

export async function openWidget(page: Page, id: string): Promise<void> {
  await page.locator(`.widget-btn[data-widget="${id}"]`).click();
}

/** Screenshots to look at (not compared): $TMPDIR/tfx-widget-screens/. */
export const screenshotPath = (name: string): string => join(tmpdir(), 'tfx-widget-screens', name);

/** Page errors and CSP violations (the widget pages run under a strict CSP), collected in `into`. */
export function watchProblems(page: Page, into: string[]): void {
  page.on('pageerror', (e) => into.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text()))
      into.push(`${m.location().url}:${m.location().lineNumber}: ${m.text()}`);
  });
}

export interface BuiltinsServer {
  readonly server: TfxServer;
  /** A temporary folder for the test's files, removed by `stop`. */
  readonly tmp: string;
  stop(): Promise<void>;
}

/** A TFX server whose manifest holds the built-in widgets exactly as a new deployment seeds them. */
export async function startWithBuiltins(prefix: string): Promise<BuiltinsServer> {
  const tmp = mkdtempSync(join(tmpdir(), `tfx-${prefix}-e2e-`));
  const manifestPath = join(tmp, 'widgetmanifest.json');
  writeManifest(manifestPath, [...BUILTIN_WIDGETS]);
  const server = await startServer(['--widgets-manifest', manifestPath]);
  return {
    server,
    tmp,
    stop: async () => {
      await server.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/**
 * Joins `names` to `room` one after another, pushing each into `into` as it joins (so a `finally`
 * closes whoever got in), and collects their page problems in `problems`.
 */
export async function joinWatched(
  browser: Browser,
  url: string,
  room: string,
  names: readonly string[],
  into: Participant[],
  problems: string[],
): Promise<void> {
  for (const name of names) {
    const p = await joinRoom(browser, url, room, name);
    into.push(p);
    watchProblems(p.page, problems);
  }
}
