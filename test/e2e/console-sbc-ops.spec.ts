/**
 * The console's SBC operations (issues #19 items 2 and 4, #18 item 1) against a real `tfx start`
 * with SBC zones and one real call through it: a sipp UAS (`-rtp_echo`) as the trunk carrier-a in
 * the core zone, a sipp UAC playing g711a.pcap in the public zone, and a second trunk whose OPTIONS
 * probes go to a port nobody listens on (so it is down). The test opens the call's ladder from the
 * calls table and sees both legs side by side (caller ↔ SBC ↔ callee, leg A's INVITE before leg
 * B's), a message's full text, and the PCAP download; the trunks table with each trunk's state;
 * the statistics charts with CPU and memory series; the page at 390 px without a horizontal
 * scroll; and, after the call ended, the same ladder with both legs' BYE and the trunk's live
 * quality (ASR, PDD, MOS) charted as a line of carrier-a. Screenshots go to
 * test-results/console-sbc-ops/ (docs/img/console-sbc-ladder.png, console-sbc-stats.png,
 * console-sbc-phone.png). Run inside the loopback namespace:
 *   /work/shared/tools/netns npx playwright test test/e2e/console-sbc-ops.spec.ts
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SbcStats, SbcTrunkList } from '@tfx/protocol';
import { test, expect } from './fixtures/index.js';
import { zoneYaml, randomPort, echoTrunk, pcapPhone, sbcZones } from './sbc-support.js';

const OUT = 'test-results/console-sbc-ops';

// Addresses of this spec's own (127.0.46.x): zones, the phone, the trunk and a dead trunk.
const PUBLIC = '127.0.46.20';
const CORE = '127.0.46.10';
const PHONE = '127.0.46.21';
const TRUNK = '127.0.46.11';
const DEAD = '127.0.46.12';

test('the SBC page shows a call’s two legs in one ladder, the trunks with their state and the statistics charts', async ({
  page,
  request,
  startTfx,
  defer,
}) => {
  test.setTimeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'tfx-e2e-sbc-ops-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const trunkPort = randomPort(21000, 8000);
  const mediaMin = randomPort(42000, 8000);
  const file = join(dir, 'tfx.yaml');
  writeFileSync(
    file,
    [
      'media:',
      // Stats of the call's legs every second: the trunk's MOS is measured within the call.
      '  statsInterval: 1',
      `  portMin: ${mediaMin}`,
      `  portMax: ${mediaMin + 39}`,
      '  workers: 1',
      'sbc:',
      '  zones:',
      ...zoneYaml('public', PUBLIC, 'trusted: true'),
      ...zoneYaml('core', CORE, 'trusted: true'),
      '  trunks:',
      `    - { name: carrier-a, zone: core, uri: "sip:${TRUNK}:${trunkPort}" }`,
      `    - name: carrier-b`,
      '      zone: core',
      `      uri: "sip:${DEAD}:${trunkPort + 1}"`,
      '      probe: { intervalSeconds: 1, failures: 1, successes: 2 }',
      '  routes:',
      '    - { match: { zone: public }, to: [carrier-a] }',
      '',
    ].join('\n'),
  );
  const server = await startTfx(['--config', file]);
  const auth = { authorization: `Bearer ${server.adminToken()}` };
  const zones = await sbcZones(request, server);
  const publicPort = zones.zones[0]!.listeners[0]!.port;
  // The new routes are in the OpenAPI document.
  const doc = (await (
    await request.get(`${server.url}/api/v1/openapi.json`, { headers: auth })
  ).json()) as { paths: Record<string, { get?: { operationId?: string } }> };
  expect(doc.paths['/api/v1/sbc/calls/{id}/ladder']?.get?.operationId).toBe('getSbcCallLadder');
  expect(doc.paths['/api/v1/sbc/stats']?.get?.operationId).toBe('getSbcStats');

  const trunkMedia = randomPort(30000, 4000);
  const phoneMedia = randomPort(34000, 4000);
  const uas = echoTrunk({ address: TRUNK, port: trunkPort, media: trunkMedia }, 170);
  defer(() => uas.child.exitCode === null && uas.child.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 500)); // the UAS binds first
  const uac = pcapPhone(
    {
      target: `${PUBLIC}:${publicPort}`,
      address: PHONE,
      media: phoneMedia,
      caller: 'alice',
      service: '4420001',
      pauseMs: 60000,
    },
    170,
  );
  defer(() => uac.child.exitCode === null && uac.child.kill('SIGKILL'));

  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${server.url}/admin/#sbc`);
  await page.getByLabel('Admin token').fill(server.adminToken());
  await page.getByRole('button', { name: 'Sign in' }).click();
  const calls = page.locator('section', { has: page.getByRole('heading', { name: 'Live calls' }) });
  const row = calls.locator('tbody tr');
  await expect(row).toHaveCount(1, { timeout: 30_000 });
  await expect(row.locator('td[data-label="State"]')).toHaveText('confirmed', { timeout: 30_000 });
  const callId = (await row.locator('td[data-label="Call"] code').getAttribute('title')) ?? '';
  expect(callId).toMatch(/^sbc-[0-9a-f]{16}$/);

  // The call's ladder: caller ↔ SBC ↔ callee, both legs, leg A's INVITE then leg B's.
  await row.locator('td[data-label="Call"] a').click();
  await expect(page).toHaveURL(new RegExp(`#sbc/${callId}$`));
  const panel = page.locator('section.sbc-call');
  await expect(panel.getByRole('heading')).toContainText(callId);
  await expect(panel.getByRole('heading')).toContainText('live');
  const ladder = panel.locator('svg.sbc-ladder');
  await expect(ladder.locator('.col-title')).toHaveText(['Caller', 'SBC', 'Callee · carrier-a']);
  await expect(ladder.locator('.col-sub').first()).toContainText(PHONE);
  await expect(ladder.locator('.col-sub').last()).toContainText(TRUNK);
  // Retransmissions are arrows of their own: every locator takes the first of its kind.
  const inviteA = ladder.locator('g.msg.req[data-leg="a"]', { hasText: 'INVITE' }).first();
  const inviteB = ladder.locator('g.msg.req[data-leg="b"]', { hasText: 'INVITE' }).first();
  const okA = ladder.locator('g.msg.r2xx[data-leg="a"]').first();
  const okB = ladder.locator('g.msg.r2xx[data-leg="b"]').first();
  await expect(okA).toBeVisible({ timeout: 30_000 });
  await expect(okB).toBeVisible();
  await expect(ladder.locator('g.msg.req[data-leg="a"]', { hasText: 'ACK' }).first()).toBeVisible();
  await expect(ladder.locator('g.msg.req[data-leg="b"]', { hasText: 'ACK' }).first()).toBeVisible();
  const seq = async (l: typeof inviteA): Promise<number> =>
    Number(await l.getAttribute('data-seq'));
  expect(await seq(inviteA)).toBeLessThan(await seq(inviteB));
  expect(await seq(okB)).toBeLessThan(await seq(okA));
  // Leg A's arrows end on the caller's column, leg B's on the callee's: the left half and the
  // right half of the drawing.
  const box = async (l: typeof inviteA) => (await l.locator('line').boundingBox())!;
  const [a, b] = [await box(inviteA), await box(inviteB)];
  expect(a.x + a.width).toBeLessThanOrEqual(b.x + 1);
  // An arrow opens the message's full text.
  await inviteB.click();
  const text = panel.getByLabel('Message text');
  await expect(text).toContainText('Leg B');
  await expect(text).toContainText(/INVITE sip:4420001@/);
  await expect(text).toContainText(`sent to ${TRUNK}:${trunkPort}`);
  // The PCAP of the call, saved from the panel (the request carries the admin token).
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    panel.getByRole('button', { name: 'Download PCAP' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe(`${callId}.pcap`);
  const pcap = readFileSync((await download.path())!);
  expect(pcap.readUInt32LE(0)).toBe(0xa1b2c3d4);
  expect(pcap.length).toBeGreaterThan(24 + 4 * 300);

  // The trunks: carrier-a up (not probed), carrier-b down by its probes (nobody answers).
  const trunks = page
    .locator('section', { has: page.getByRole('heading', { name: 'Trunks' }) })
    .locator('tbody tr');
  await expect(trunks).toHaveCount(2);
  await expect(trunks.nth(0).locator('td[data-label="State"] .badge')).toHaveText('up');
  await expect(trunks.nth(0).locator('td[data-label="Last probe"]')).toHaveText('not probed');
  await expect(trunks.nth(1).locator('td[data-label="State"] .badge')).toHaveText('down', {
    timeout: 30_000,
  });
  await expect(trunks.nth(1).locator('td[data-label="Last probe"]')).toHaveText(
    'timeout / transport error',
  );
  const api = (await (
    await request.get(`${server.url}/api/v1/sbc/trunks`, { headers: auth })
  ).json()) as SbcTrunkList;
  expect(api.trunks.map((t) => [t.name, t.state])).toEqual([
    ['carrier-a', 'up'],
    ['carrier-b', 'down'],
  ]);

  // Statistics: samples every 5 s with the call, CPU and memory; the charts draw them.
  await expect
    .poll(
      async () => {
        const s = (await (
          await request.get(`${server.url}/api/v1/sbc/stats`, { headers: auth })
        ).json()) as SbcStats;
        return s.samples.some(
          (x) =>
            x.calls === 1 &&
            x.cpuPercent > 0 &&
            x.rssBytes > 0 &&
            (x.media?.packetsPerSecond ?? 0) > 0 &&
            (x.media?.bytesPerSecond ?? 0) > 0,
        );
      },
      { timeout: 60_000 },
    )
    .toBe(true);
  const chart = (name: string) =>
    page.locator('section', { has: page.getByRole('heading', { name, exact: true }) });
  // A line of two points or more (a flat line has no height: not "visible" to Playwright).
  for (const name of ['Calls', 'CPU', 'Memory']) {
    await expect(chart(name).locator('path.line').first()).toHaveAttribute('d', /^M[\d.,]+ L/, {
      timeout: 30_000,
    });
  }
  await expect(chart('Memory').locator('.legend li').first()).toContainText(/RSS MB [1-9]/);
  await expect(chart('Calls').locator('.legend li').first()).toContainText('Calls 1');
  // Some point of the CPU line and of the packets line is above the zero line (y 146 in the
  // chart's 170-high frame): a non-zero value is drawn, whatever the last sample says.
  const highest = async (name: string): Promise<number> => {
    const d = (await chart(name).locator('path.line').first().getAttribute('d')) ?? '';
    return Math.min(...[...d.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1])));
  };
  expect(await highest('CPU')).toBeLessThan(145.9);
  await expect
    .poll(() => highest('Media packets (builtin)'), { timeout: 30_000 })
    .toBeLessThan(145.9);
  // Pictures for docs/console.md: the call's ladder with a message open, the trunks, the charts
  // (once they have a few samples: a wait for the picture, the call lasts a minute).
  await expect
    .poll(
      async () =>
        (
          (await (
            await request.get(`${server.url}/api/v1/sbc/stats`, { headers: auth })
          ).json()) as SbcStats
        ).samples.length,
      { timeout: 60_000 },
    )
    .toBeGreaterThanOrEqual(5);
  await expect(chart('Calls').locator('path.line').first()).toHaveAttribute(
    'd',
    /^M[\d.,]+( L[\d.,]+){4}/,
  );
  await inviteB.click();
  await panel.screenshot({ path: `${OUT}/console-sbc-ladder.png` });
  await page
    .locator('section', { has: page.getByRole('heading', { name: 'Trunks' }) })
    .screenshot({ path: `${OUT}/console-sbc-trunks.png` });

  // A phone (390 px): nothing wider than the screen (the ladder scrolls inside its box).
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(panel.getByRole('heading')).toContainText(callId);
  await page.screenshot({ path: `${OUT}/console-sbc-phone.png`, fullPage: true });
  const overflow = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    wide: [...document.querySelectorAll('main *')]
      .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
      .filter((e) => !e.closest('.ladder-box'))
      .map((e) => {
        const r = e.getBoundingClientRect();
        return `${e.tagName.toLowerCase()}.${String(e.className)} ${Math.round(r.left)}–${Math.round(r.right)}`;
      })
      .slice(0, 8),
  }));
  expect(overflow.wide).toEqual([]);
  expect(overflow.page).toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1280, height: 900 });

  // The call ends (the phone's BYE after its pause): the same ladder, now ended, has both BYEs.
  const [ua, us] = await Promise.all([uac.done, uas.done]);
  expect(ua.code, `uac sipp:\n${ua.output}`).toBe(0);
  expect(us.code, `uas sipp:\n${us.output}`).toBe(0);
  await expect(panel.getByRole('heading')).toContainText('ended', { timeout: 30_000 });
  await expect(ladder.locator('g.msg.req[data-leg="a"]', { hasText: 'BYE' }).first()).toBeVisible();
  await expect(ladder.locator('g.msg.req[data-leg="b"]', { hasText: 'BYE' }).first()).toBeVisible();
  await expect(page.getByText('No call through the SBC.')).toBeVisible();

  // The trunk's live quality once its call ended: in the samples (and their OpenAPI schema) and
  // as a line of carrier-a in the trunk charts (ASR 100 %, a post-dial delay).
  expect(JSON.stringify(doc.paths['/api/v1/sbc/stats'])).toContain('pddMs');
  await expect
    .poll(
      async () => {
        const s = (await (
          await request.get(`${server.url}/api/v1/sbc/stats`, { headers: auth })
        ).json()) as SbcStats;
        const t = s.samples.at(-1)?.trunks?.find((x) => x.name === 'carrier-a');
        return t !== undefined && t.asr === 1 && t.pddMs !== null;
      },
      { timeout: 60_000 },
    )
    .toBe(true);
  for (const [name, value] of [
    ['Trunk ASR', /^carrier-a 100%$/],
    ['Trunk PDD (ms)', /^carrier-a [\d,]+$/],
  ] as const) {
    await expect(chart(name).locator('.legend li')).toHaveText([value], { timeout: 30_000 });
    await expect(chart(name).locator('path.line, circle.dot').first()).toBeAttached();
  }
  // The picture for docs/console.md once the trunk's figures span two samples (a line, not a dot).
  await expect(chart('Trunk ASR').locator('path.line').first()).toHaveAttribute(
    'd',
    /^M[\d.,]+ L/,
    { timeout: 30_000 },
  );
  await page.locator('.sbc-charts').screenshot({ path: `${OUT}/console-sbc-stats.png` });
});
