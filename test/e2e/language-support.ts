/**
 * Language e2e support: participants with a chosen language (set in their browser before the
 * page loads, as a returning user would have it), room opt-in through the REST API, and reading
 * a widget's frame.
 */
import { expect, type Browser, type Frame } from '@playwright/test';
import { roomUrl, type JoinParams, type Participant, type TfxServer } from './support.js';
import { widgetFrame } from './widget-support.js';

export async function joinIn(
  browser: Browser,
  base: string,
  room: string,
  name: string,
  lang: string,
  p: JoinParams & { tourDone?: boolean } = {},
): Promise<Participant> {
  const context = await browser.newContext();
  await context.addInitScript(
    ([l, tour]) => {
      if (window.top !== window) return; // widget frames are sandboxed: no storage there
      localStorage.setItem('tfx.language', l as string);
      if (tour) localStorage.setItem('tfx.tour.done', '1');
    },
    [lang, p.tourDone !== false] as const,
  );
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${name}] pageerror: ${e.message}`));
  await page.goto(roomUrl(base, room, name, { video: false, ...p }));
  await expect(page.locator('#app')).toHaveAttribute('data-screen', 'call');
  return { name, context, page };
}

/** `PUT /api/v1/rooms/:room/language` with the admin token (Node side: self-signed TLS). */
export async function optIn(
  server: TfxServer,
  room: string,
  body: Record<string, unknown>,
): Promise<void> {
  const { request } = await import('node:https');
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      `${server.url}/api/v1/rooms/${room}/language`,
      {
        method: 'PUT',
        rejectUnauthorized: false,
        headers: {
          authorization: `Bearer ${server.adminToken()}`,
          'content-type': 'application/json',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
  expect(status).toBe(200);
}

export async function openAndGet(p: Participant, id: string, open: boolean): Promise<Frame> {
  if (open) await p.page.locator(`.widget-btn[data-widget="${id}"]`).click();
  const f = await widgetFrame(p.page, id);
  await expect(f.locator('body')).toHaveAttribute('data-ready', /.+/);
  return f;
}
