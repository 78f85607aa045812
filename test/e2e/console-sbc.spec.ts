/**
 * The console's SBC page (issue #17 item 7) against a real `tfx start` with `sbc.zones` and one
 * real call through the SBC: a sipp UAS (`-rtp_echo`) as the trunk in the trusted core zone, a
 * sipp UAC in the public zone (trusted too: no digest). While the call is up the SBC page shows it
 * with both legs and the zones with their listeners, and the Media page shows its session with
 * two legs. Screenshots of both pages go to test-results/console-sbc/ (docs/img/console-sbc.png,
 * docs/img/console-media.png). Run inside the loopback namespace:
 *   /work/shared/tools/netns npx playwright test test/e2e/console-sbc.spec.ts
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Page } from '@playwright/test';
import type { SbcBlacklist } from '@tfx/protocol';
import { test, expect } from './fixtures/index.js';
import { zoneYaml, randomPort, echoTrunk, pcapPhone, sbcZones } from './sbc-support.js';
import type { TfxServer } from './support.js';

const PUBLIC = '127.0.0.20';
const CORE = '127.0.0.10';
const PHONE = '127.0.0.21';
const TRUNK = '127.0.0.11';

async function signIn(page: Page, server: TfxServer, hash: string): Promise<void> {
  await page.goto(`${server.url}/admin/${hash}`);
  await page.getByLabel('Admin token').fill(server.adminToken());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Console sections' })).toBeVisible();
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
      ...zoneYaml('public', PUBLIC, 'trusted: true'),
      ...zoneYaml('core', CORE, 'trusted: true'),
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
  const zones = await sbcZones(request, server);
  expect(zones.zones.map((z) => [z.name, z.trusted, z.listeners.map((l) => l.address)])).toEqual([
    ['public', true, [PUBLIC]],
    ['core', true, [CORE]],
  ]);
  const publicPort = zones.zones[0]!.listeners[0]!.port;

  const trunkMedia = randomPort(30000, 4000);
  const phoneMedia = randomPort(34000, 4000);
  const uas = echoTrunk({ address: TRUNK, port: trunkPort, media: trunkMedia }, 120);
  defer(() => uas.child.exitCode === null && uas.child.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 500)); // the UAS binds first
  const uac = pcapPhone(
    {
      target: `${PUBLIC}:${publicPort}`,
      address: PHONE,
      media: phoneMedia,
      caller: 'alice',
      service: '4420001',
      pauseMs: 40000,
    },
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

/** Datagrams from `from` (its own loopback address) to the SBC zone at `to:port`. */
async function sendUdp(from: string, to: string, port: number, messages: string[]): Promise<void> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, from, () => r()));
  for (const m of messages) await new Promise<void>((r) => sock.send(m, port, to, () => r()));
  await new Promise((r) => setTimeout(r, 300));
  sock.close();
}

function request(
  method: string,
  from: string,
  to: string,
  port: number,
  i: number,
  extra: string[] = [],
): string {
  return [
    `${method} sip:${to}:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${from}:5999;branch=z9hG4bK-e2e-${method}-${i}`,
    'Max-Forwards: 70',
    `From: <sip:1000@${to}>;tag=e2e${i}`,
    `To: <sip:1000@${to}>`,
    `Call-ID: e2e-${method}-${i}@${from}`,
    `CSeq: ${i} ${method}`,
    `Contact: <sip:1000@${from}:5999>`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

test('the SBC page lists the blacklist with its flood and auth bans; an address is added and lifted from the page', async ({
  page,
  request: api,
  startTfx,
  defer,
}) => {
  test.setTimeout(120_000);
  const FLOODER = '127.0.0.23';
  const GUESSER = '127.0.0.27';
  const dir = mkdtempSync(join(tmpdir(), 'tfx-e2e-sbc-bl-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'tfx.yaml');
  const mediaMin = randomPort(42000, 8000);
  writeFileSync(
    file,
    [
      'media:',
      `  portMin: ${mediaMin}`,
      `  portMax: ${mediaMin + 19}`,
      '  workers: 1',
      'sip:',
      '  domain: tfx.test',
      '  users: [{ username: alice, password: alice-secret-1 }]',
      'sbc:',
      '  zones:',
      ...zoneYaml(
        'public',
        PUBLIC,
        'security: { floodRequests: 30, floodWindowSeconds: 10, authFailures: 2 }',
      ),
      ...zoneYaml('core', CORE, 'trusted: true'),
      '',
    ].join('\n'),
  );
  const server = await startTfx(['--config', file]);
  const auth = { authorization: `Bearer ${server.adminToken()}` };
  const zones = await sbcZones(api, server);
  const port = zones.zones[0]!.listeners[0]!.port;

  // A flood of OPTIONS from one address: banned, onto the blacklist (origin flood).
  await sendUdp(
    FLOODER,
    PUBLIC,
    port,
    Array.from({ length: 60 }, (_, i) => request('OPTIONS', FLOODER, PUBLIC, port, i + 1)),
  );
  // REGISTERs with forged credentials from another: 5 × 2 failures ban the source (origin auth).
  const forged =
    'Authorization: Digest username="1000", realm="tfx.test", nonce="forged", uri="sip:x", response="00000000000000000000000000000000"';
  await sendUdp(
    GUESSER,
    PUBLIC,
    port,
    Array.from({ length: 14 }, (_, i) =>
      request('REGISTER', GUESSER, PUBLIC, port, i + 1, [forged]),
    ),
  );
  const list = (await (
    await api.get(`${server.url}/api/v1/sbc/blacklist`, { headers: auth })
  ).json()) as SbcBlacklist;
  expect(list.items.map((e) => [e.cidr, e.origin]).sort()).toEqual([
    [`${FLOODER}/32`, 'flood'],
    [`${GUESSER}/32`, 'auth'],
  ]);

  await page.setViewportSize({ width: 1360, height: 900 });
  await signIn(page, server, '#sbc');
  const blacklist = page.locator('section', {
    has: page.getByRole('heading', { name: 'Blacklist' }),
  });
  const rows = blacklist.locator('tbody tr');
  await expect(rows).toHaveCount(2, { timeout: 30_000 });
  await expect(blacklist.locator('tr', { hasText: FLOODER })).toContainText('flood ban');
  await expect(blacklist.locator('tr', { hasText: GUESSER })).toContainText('auth ban');
  await expect(blacklist.locator('tr', { hasText: GUESSER })).toContainText(
    'failed authentications',
  );

  // Add a prefix by hand, for the public zone, for an hour.
  const form = page.getByRole('form', { name: 'Blacklist an address' });
  await form.getByLabel('Address or CIDR').fill('198.51.100.0/24');
  await form.getByLabel('Zone').selectOption('public');
  await form.getByLabel('Expires').selectOption({ label: '1 hour' });
  await form.getByLabel('Reason').fill('premium-rate fraud seen from this range');
  await form.getByRole('button', { name: 'Blacklist' }).click();
  const added = blacklist.locator('tr', { hasText: '198.51.100.0/24' });
  await expect(added).toContainText('by hand');
  await expect(added).toContainText('public');
  await expect(added).toContainText(/in (59|60) min/);
  // The notice fades before the picture (a wait for the screenshot, not a timing check).
  await expect(page.getByText('Blacklisted 198.51.100.0/24.')).toBeHidden({ timeout: 30_000 });
  await page.screenshot({
    path: 'test-results/console-sbc/console-sbc-blacklist.png',
    fullPage: true,
  });
  // A bad address is refused with the server's message, nothing added.
  await form.getByLabel('Address or CIDR').fill('10.0.0.0/33');
  await form.getByRole('button', { name: 'Blacklist' }).click();
  await expect(page.getByText(/400 bad-request/)).toBeVisible();
  await expect(rows).toHaveCount(3);

  // Lift the flood ban from the page: gone from the page and from the API.
  await blacklist.locator(`button[data-action="lift"][data-value="${FLOODER}/32"]`).click();
  await expect(blacklist.locator('tr', { hasText: FLOODER })).toHaveCount(0);
  await expect(rows).toHaveCount(2);
  const after = (await (
    await api.get(`${server.url}/api/v1/sbc/blacklist`, { headers: auth })
  ).json()) as SbcBlacklist;
  expect(after.items.map((e) => e.cidr).sort()).toEqual([`${GUESSER}/32`, '198.51.100.0/24']);
});
