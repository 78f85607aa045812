/**
 * The console's SBC page (issue #17 item 7) against a real `tfx start` with `sbc.zones` and one
 * real call through the SBC: a sipp UAS (`-rtp_echo`) as the trunk in the trusted core zone, a
 * sipp UAC in the public zone (trusted too: no digest). While the call is up the SBC page shows it
 * with both legs and the zones with their listeners, and the Media page shows its session with
 * two legs. Screenshots of both pages go to test-results/console-sbc/ (docs/img/console-sbc.png,
 * docs/img/console-media.png). Run inside the loopback namespace:
 *   /work/shared/tools/netns npx playwright test test/e2e/console-sbc.spec.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Page } from '@playwright/test';
import type { SbcZoneList } from '@tfx/protocol';
import { test, expect } from './fixtures/index.js';
import type { TfxServer } from './support.js';

/** The SBC tests' sipp scenarios: a phone that plays g711a.pcap, a trunk that answers with the
 * offer (early media, then 200) and echoes RTP with -rtp_echo. */
const SCENARIOS = fileURLToPath(new URL('../../packages/sbc/test/scenarios/', import.meta.url));

const PUBLIC = '127.0.0.20';
const CORE = '127.0.0.10';
const PHONE = '127.0.0.21';
const TRUNK = '127.0.0.11';

/** A port picked at random in [lo, lo + span) (other engineers run tests at the same time). */
const randomPort = (lo: number, span: number): number =>
  lo + 2 * Math.floor((Math.random() * span) / 2);

async function signIn(page: Page, server: TfxServer, hash: string): Promise<void> {
  await page.goto(`${server.url}/admin/${hash}`);
  await page.getByLabel('Admin token').fill(server.adminToken());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Console sections' })).toBeVisible();
}

interface Sipp {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; output: string }>;
}

/** sipp bounded by -timeout and a kill; its output kept for the failure message. */
function sipp(args: readonly string[], timeoutS: number): Sipp {
  const child = spawn('sipp', [...args, '-nostdin', '-timeout', `${timeoutS}s`, '-timeout_error'], {
    cwd: mkdtempSync(join(tmpdir(), 'tfx-e2e-sipp-')),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const add = (c: Buffer): void => {
    output = (output + c.toString('latin1')).slice(-8000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const done = new Promise<{ code: number | null; output: string }>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), (timeoutS + 10) * 1000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, output });
    });
  });
  return { child, done };
}

function sbcConfig(dir: string, trunkPort: number, mediaMin: number, rules: string[] = []): string {
  const file = join(dir, 'tfx.yaml');
  writeFileSync(
    file,
    [
      'media:',
      `  portMin: ${mediaMin}`,
      `  portMax: ${mediaMin + 39}`,
      '  workers: 1',
      'sbc:',
      '  zones:',
      '    - name: public',
      `      listen: [udp://${PUBLIC}:0]`,
      `      media: { address: ${PUBLIC} }`,
      '      trusted: true',
      '    - name: core',
      `      listen: [udp://${CORE}:0]`,
      `      media: { address: ${CORE} }`,
      '      trusted: true',
      ...(rules.length > 0 ? ['      normalize:', ...rules.map((r) => `        - ${r}`)] : []),
      '  trunks:',
      `    - { name: carrier-a, zone: core, uri: "sip:${TRUNK}:${trunkPort}" }`,
      '  routes:',
      '    - { match: { zone: public }, to: [carrier-a] }',
      '',
    ].join('\n'),
  );
  return file;
}

test('the SBC page says plainly when the SBC is not configured', async ({
  page,
  request,
  startTfx,
}) => {
  const server = await startTfx();
  // The API: 401 without the token, 503 unavailable with it; both routes in the OpenAPI document.
  const auth = { authorization: `Bearer ${server.adminToken()}` };
  for (const path of ['/api/v1/sbc/calls', '/api/v1/sbc/zones', '/api/v1/sbc/reload']) {
    expect((await request.get(`${server.url}${path}`)).status()).toBe(401);
    const res = await request.get(`${server.url}${path}`, { headers: auth });
    expect(res.status()).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unavailable');
  }
  const doc = (await (await request.get(`${server.url}/api/v1/openapi.json`)).json()) as {
    paths: Record<string, { get?: { operationId?: string } }>;
  };
  expect(doc.paths['/api/v1/sbc/zones']?.get?.operationId).toBe('listSbcZones');
  await signIn(page, server, '#sbc');
  await expect(page.getByRole('link', { name: 'SBC' })).toBeVisible();
  await expect(page.getByText('The SBC is not configured')).toBeVisible();
});

test('the SBC page shows a live call with both legs and the zones; the Media page its two legs', async ({
  page,
  request,
  startTfx,
  defer,
}) => {
  test.setTimeout(180_000);
  const trunkPort = randomPort(21000, 8000);
  const dir = mkdtempSync(join(tmpdir(), 'tfx-e2e-sbc-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const mediaMin = randomPort(42000, 8000);
  const server = await startTfx(['--config', sbcConfig(dir, trunkPort, mediaMin)]);
  const auth = { authorization: `Bearer ${server.adminToken()}` };
  const zones = (await (
    await request.get(`${server.url}/api/v1/sbc/zones`, { headers: auth })
  ).json()) as SbcZoneList;
  expect(zones.zones.map((z) => [z.name, z.trusted, z.listeners.map((l) => l.address)])).toEqual([
    ['public', true, [PUBLIC]],
    ['core', true, [CORE]],
  ]);
  const publicPort = zones.zones[0]!.listeners[0]!.port;

  const trunkMedia = randomPort(30000, 4000);
  const phoneMedia = randomPort(34000, 4000);
  const uas = sipp(
    [
      '-sf',
      join(SCENARIOS, 'uas-echo.xml'),
      '-i',
      TRUNK,
      '-p',
      String(trunkPort),
      '-mi',
      TRUNK,
      '-mp',
      String(trunkMedia),
      '-rtp_echo',
      '-key',
      'rtcp',
      String(trunkMedia + 1),
      '-m',
      '1',
    ],
    120,
  );
  defer(() => uas.child.exitCode === null && uas.child.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 500)); // the UAS binds first
  const uac = sipp(
    [
      `${PUBLIC}:${publicPort}`,
      '-sf',
      join(SCENARIOS, 'uac-pcap.xml'),
      '-key',
      'caller',
      'alice',
      '-key',
      'rtcp',
      String(phoneMedia + 1),
      '-i',
      PHONE,
      '-p',
      String(randomPort(21000, 8000) + 1),
      '-mi',
      PHONE,
      '-mp',
      String(phoneMedia),
      '-s',
      '4420001',
      '-d',
      '40000',
      '-m',
      '1',
    ],
    120,
  );
  defer(() => uac.child.exitCode === null && uac.child.kill('SIGKILL'));

  await page.setViewportSize({ width: 1360, height: 860 });
  await signIn(page, server, '#sbc');
  const calls = page.locator('section', { has: page.getByRole('heading', { name: 'Live calls' }) });
  const row = calls.locator('tbody tr');
  await expect(row).toHaveCount(1, { timeout: 30_000 });
  await expect(row.locator('td[data-label="State"]')).toHaveText('confirmed', { timeout: 30_000 });
  await expect(row.locator('td[data-label="Leg A zone"]')).toHaveText('public');
  await expect(row.locator('td[data-label="Leg B zone"]')).toHaveText('core');
  await expect(row.locator('td[data-label="Trunk"]')).toHaveText('carrier-a');
  await expect(row.locator('td[data-label="Leg A Call-ID"] code')).toHaveText(/\S+/);
  await expect(row.locator('td[data-label="Leg B Call-ID"] code')).toHaveText(/\S+/);
  const zoneRows = page
    .locator('section', { has: page.getByRole('heading', { name: 'Zones' }) })
    .locator('tbody tr');
  await expect(zoneRows).toHaveCount(2);
  await expect(zoneRows.nth(0)).toContainText(`${PUBLIC}:${publicPort}`);
  await expect(zoneRows.nth(0)).toContainText('1 (no limit)');
  await expect(zoneRows.nth(1)).toContainText(CORE);
  await expect(page.locator('.stat', { hasText: 'Confirmed' })).toContainText('1');
  const callId = (await row.locator('td[data-label="Call"] code').getAttribute('title')) ?? '';
  expect(callId).not.toBe('');
  // The duration counts up with the page's refresh (a wait for the screenshot, not a timing check).
  await expect(row.locator('td[data-label="Duration"]')).not.toHaveText('0 s', { timeout: 30_000 });
  await page.screenshot({ path: 'test-results/console-sbc/console-sbc.png', fullPage: true });

  // Reload (docs/sbc.md, "Reload"): the Rules panel shows generation 1 and no reload; a changed
  // file reloaded from the button serves as generation 2; a bad file is refused with the rule
  // named, and the call in progress is untouched.
  const rules = page.locator('section', { has: page.getByRole('heading', { name: 'Rules' }) });
  await expect(rules).toContainText('No reload since the SBC started.');
  sbcConfig(dir, trunkPort, mediaMin, ['{ user: ruri, match: "^00", replace: "+" }']);
  await rules.getByRole('button', { name: 'Reload rules' }).click();
  await expect(rules.getByLabel('Last reload')).toContainText('ok', { timeout: 30_000 });
  await expect(page.locator('.toast.ok')).toContainText('Rules reloaded: generation 2.');
  await expect(rules).toContainText('Rules generation 2 serves new calls');
  sbcConfig(dir, trunkPort, mediaMin, [
    '{ user: ruri, match: "^00", replace: "+" }',
    '{ header: X-Carrier, action: rename, value: x }',
  ]);
  await rules.getByRole('button', { name: 'Reload rules' }).click();
  const refused = rules.getByRole('alert');
  await expect(refused).toContainText('refused', { timeout: 30_000 });
  await expect(refused).toContainText(
    'sbc.zones[1].normalize[1].action: unknown header action "rename"',
  );
  await expect(page.locator('.toast.error')).toContainText('Reload refused');
  await expect(rules).toContainText('Rules generation 2 serves new calls');
  await expect(row.locator('td[data-label="State"]')).toHaveText('confirmed');
  // The notices fade (the screenshot shows the panel, not them).
  await expect(page.locator('.toast')).toHaveCount(0, { timeout: 15_000 });
  await page.screenshot({
    path: 'test-results/console-sbc/console-sbc-reload.png',
    fullPage: true,
  });

  // The Media page: the same call's session (same id) with two legs, one per zone.
  await page.getByRole('link', { name: 'Media' }).click();
  const legs = page.locator('tbody tr', { has: page.locator(`code[title="${callId}"]`) });
  await expect(legs).toHaveCount(2, { timeout: 30_000 });
  await expect(legs.locator('td[data-label="Zone"]')).toHaveText(['public', 'core']);
  await expect(page.locator('.stat', { hasText: 'Sessions' })).toContainText('1');
  // The phone's pcap flows through both legs (the trunk echoes it): packets counted, latched.
  await expect(legs.locator('td[data-label="Media to"]')).toContainText(['latched', 'latched'], {
    timeout: 30_000,
  });
  await page.screenshot({ path: 'test-results/console-sbc/console-media.png', fullPage: true });

  // The call ends (the UAC's BYE after its pause): both sipp succeed and the page empties.
  const [a, b] = await Promise.all([uac.done, uas.done]);
  expect(a.code, `uac sipp:\n${a.output}`).toBe(0);
  expect(b.code, `uas sipp:\n${b.output}`).toBe(0);
  await page.getByRole('link', { name: 'SBC' }).click();
  await expect(page.getByText('No call through the SBC.')).toBeVisible({ timeout: 30_000 });
});
