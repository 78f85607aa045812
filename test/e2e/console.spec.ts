/**
 * The SIP admin console at /admin/ against a real `tfx start` with the SIP server on, and real
 * sipp peers on 127.0.0.1 (inside the test's loopback-only namespace):
 *   npm run build && unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns npx playwright test console
 * With TFX_SCREENSHOTS=1 a second test takes a screenshot of every tab with real traffic
 * (registrations, a call INVITE…BYE, a ban) into test-results/console/.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type APIRequestContext, type Page } from '@playwright/test';
import { test, expect } from './fixtures/index.js';
import type { AuditPage, SipRegistration, SipStatus } from '@tfx/protocol';
import { type TfxServer } from './support.js';

const SCENARIOS = fileURLToPath(
  new URL('../../packages/server/test/sip/scenarios/', import.meta.url),
);
const DOMAIN = 'tfx.test';
const PASSWORDS: Record<string, string> = { alice: 'alice-secret-1', bob: 'bob-secret-12' };

interface Sip {
  readonly server: TfxServer;
  readonly token: string;
  readonly port: number;
}

/** A SIP-enabled server of the test's own (`startTfx`: stopped after the test). */
async function startSip(
  start: (args: string[]) => Promise<TfxServer>,
  extra: string[] = [],
): Promise<Sip> {
  const users = Object.entries(PASSWORDS).map(([username, password]) => ({ username, password }));
  // support.ts starts `tfx start --no-sip`; --sip-enabled (later on the line) turns it back on.
  const server = await start([
    '--sip-enabled',
    '--sip-port',
    '0',
    '--sip-tls-port',
    '0',
    '--sip-domain',
    DOMAIN,
    '--sip-users',
    JSON.stringify(users),
    '--sip-rate-limit',
    '0',
    ...extra,
  ]);
  const token = server.adminToken();
  return { server, token, port: 0 };
}

async function sipPort(request: APIRequestContext, sip: Sip): Promise<number> {
  const res = await request.get(`${sip.server.url}/api/v1/sip/status`, {
    headers: { authorization: `Bearer ${sip.token}` },
  });
  expect(res.status()).toBe(200);
  const status = (await res.json()) as SipStatus;
  return status.listeners.find((l) => l.transport === 'udp')!.port;
}

/** Runs sipp to its end (bounded by -m and a timeout); resolves with its exit code and output. */
function sipp(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; out: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'sipp-e2e-'));
  const child = spawn(
    'sipp',
    [...args, '-nostdin', '-timeout', `${Math.ceil(timeoutMs / 1000)}s`],
    {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out = (out + c.toString('latin1')).slice(-8000)));
  child.stderr.on('data', (c: Buffer) => (out = (out + c.toString('latin1')).slice(-8000)));
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 5000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, out });
    });
  });
}

function registerWithSipp(port: number, user: string, contactPort: number) {
  return sipp([
    `127.0.0.1:${port}`,
    '-sf',
    join(SCENARIOS, 'register.xml'),
    '-i',
    '127.0.0.1',
    '-s',
    user,
    '-au',
    user,
    '-ap',
    PASSWORDS[user]!,
    '-auth_uri',
    DOMAIN,
    '-key',
    'domain',
    DOMAIN,
    '-key',
    'contact_port',
    String(contactPort),
    '-key',
    'expires',
    '300',
    '-m',
    '1',
  ]);
}

async function signIn(page: Page, sip: Sip, hash = ''): Promise<void> {
  await page.goto(`${sip.server.url}/admin/${hash}`);
  await page.getByLabel('Admin token').fill(sip.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Console sections' })).toBeVisible();
}

test('the console asks for the token; without it the API answers 401', async ({
  page,
  request,
  startTfx,
}) => {
  const sip = await startSip(startTfx);
  await page.goto(`${sip.server.url}/admin/`);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Console sections' })).toHaveCount(0);
  const res = await request.get(`${sip.server.url}/api/v1/sip/status`);
  expect(res.status()).toBe(401);
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  // A wrong token is refused and the login stays.
  await page.getByLabel('Admin token').fill('not-the-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('401');
  await expect(page.getByRole('navigation', { name: 'Console sections' })).toHaveCount(0);
});

test('an operator signs in, removes a sipp registration, adds a user and sees a refused port change', async ({
  page,
  request,
  defer,
  startTfx,
}) => {
  const sip = await startSip(startTfx);
  const blocker = createSocket('udp4');
  // No script error and no CSP violation (script-src 'self': the console has no inline script).
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[49]/.test(m.text())) problems.push(m.text());
  });
  defer(() => blocker.close());
  const port = await sipPort(request, sip);
  const reg = await registerWithSipp(port, 'alice', 5090);
  expect(reg.code, reg.out).toBe(0);

  await signIn(page, sip, '#registrations');
  // The token stays in this tab's sessionStorage, never in localStorage.
  expect(await page.evaluate(() => sessionStorage.getItem('tfx-admin-token'))).toBe(sip.token);
  expect(await page.evaluate(() => localStorage.getItem('tfx-admin-token'))).toBeNull();

  // The registration made by sipp, then removed from the console.
  const row = page.getByRole('row').filter({ hasText: 'sip:alice@127.0.0.1:5090' });
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.getByText('Nobody is registered.')).toBeVisible();
  const regs = await request.get(`${sip.server.url}/api/v1/sip/registrations`, {
    headers: { authorization: `Bearer ${sip.token}` },
  });
  expect(((await regs.json()) as { items: SipRegistration[] }).items).toEqual([]);

  // A user added from the console.
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByLabel('Username').fill('dave');
  await page.getByLabel('Password').fill('dave-secret-123');
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByRole('row').filter({ hasText: 'dave' })).toContainText('added here');
  const users = await request.get(`${sip.server.url}/api/v1/sip/users`, {
    headers: { authorization: `Bearer ${sip.token}` },
  });
  expect(JSON.stringify(await users.json())).toContain('"dave"');

  // A port change to a port in use: refused, the old listeners stay and still answer.
  await new Promise<void>((r) => blocker.bind(0, '127.0.0.1', r));
  const taken = blocker.address().port;
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('UDP and TCP port').fill(String(taken));
  await page.getByRole('button', { name: 'Apply and restart SIP' }).click();
  const refused = page.locator('.notice.error');
  await expect(refused).toContainText('Refused');
  await expect(refused).toContainText('409');
  await expect(refused).toContainText(`UDP ${port}`);
  expect(await sipPort(request, sip)).toBe(port);
  const again = await registerWithSipp(port, 'bob', 5091);
  expect(again.code, again.out).toBe(0);
  // Each change is in the audit log, from the console, with its outcome (docs/console.md).
  const audit = await request.get(`${sip.server.url}/api/v1/audit`, {
    headers: { authorization: `Bearer ${sip.token}` },
  });
  const entries = ((await audit.json()) as AuditPage).items.map(
    (e) => `${e.action} ${e.status} ${e.via} ${e.target ?? ''}`,
  );
  expect(entries).toEqual([
    `sip.settings.change 409 console port ${taken}, tlsPort 0`,
    'sip.user.add 201 console user dave',
    expect.stringMatching(/^sip\.contact\.remove 204 console user alice contact \S+$/),
  ]);
  expect(problems).toEqual([]);
});

test('the media page shows the engine that anchors calls and its live sessions (none yet)', async ({
  page,
  startTfx,
}) => {
  const sip = await startSip(startTfx);
  await signIn(page, sip, '#media');
  await expect(page.getByRole('link', { name: 'Media' })).toBeVisible();
  const engine = page.locator('.stat', { hasText: 'Engine' });
  await expect(engine).toContainText('built-in');
  await expect(engine).toContainText('relay in worker threads');
  await expect(page.locator('.stat', { hasText: 'Sessions' })).toContainText('0');
  await expect(page.getByText('No media session')).toBeVisible();
});

// A screenshot tour of the console for the docs: a tool, run only when asked (`npm run screenshots`).
if (process.env.TFX_SCREENSHOTS) {
  test('screenshots of every console tab with real traffic', async ({
    browser,
    request,
    startTfx,
  }) => {
    test.setTimeout(180_000);
    const dir = 'test-results/console';
    const sip = await startSip(startTfx, ['--sip-ban-after-failures', '3']);
    const port = await sipPort(request, sip);
    // bob answers as a sipp UAS on 5092; alice is registered from 5093 too.
    const uas = sipp(
      ['-sf', join(SCENARIOS, 'uas.xml'), '-i', '127.0.0.1', '-p', '5092', '-m', '1'],
      60_000,
    );
    expect((await registerWithSipp(port, 'bob', 5092)).code).toBe(0);
    expect((await registerWithSipp(port, 'alice', 5093)).code).toBe(0);
    // A call alice → bob that stays up 12 s (sipp pauses before its BYE).
    const call = sipp([
      `127.0.0.1:${port}`,
      '-sf',
      join(SCENARIOS, 'uac.xml'),
      '-i',
      '127.0.0.1',
      '-s',
      'bob',
      '-au',
      'alice',
      '-ap',
      PASSWORDS.alice!,
      '-auth_uri',
      `bob@${DOMAIN}`,
      '-key',
      'domain',
      DOMAIN,
      '-key',
      'caller',
      'alice',
      '-d',
      '12000',
      '-m',
      '1',
    ]);

    const ctx = await browser.newContext({
      colorScheme: 'dark',
      viewport: { width: 1360, height: 860 },
    });
    const page = await ctx.newPage();
    const shot = (name: string): Promise<Buffer> =>
      page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
    await page.goto(`${sip.server.url}/admin/`);
    await shot('login');
    await signIn(page, sip, '#calls');
    await expect(page.getByRole('cell', { name: 'confirmed' })).toBeVisible();
    await shot('calls');
    await page.getByRole('link', { name: 'Registrations' }).click();
    await expect(page.getByText('sip:bob@127.0.0.1:5092')).toBeVisible();
    await shot('registrations');
    await page.getByRole('link', { name: 'Users' }).click();
    await expect(page.getByRole('cell', { name: 'alice' })).toBeVisible();
    await shot('users');

    expect((await call).code).toBe(0);
    expect((await uas).code).toBe(0);
    await page.getByRole('link', { name: 'Messages' }).click();
    // The whole call: INVITE…BYE in from alice and out to bob, and the 200 to BYE back.
    const arrow = (name: RegExp) => page.locator('svg.ladder').getByRole('button', { name });
    await expect(arrow(/^(received|sent) BYE /)).toHaveCount(2);
    await expect(arrow(/^(received|sent) ACK /)).toHaveCount(3); // 407's ACK + 2 end-to-end
    await arrow(/^sent INVITE /).click();
    await shot('ladder');
    await page.emulateMedia({ colorScheme: 'light' });
    await shot('ladder-light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByRole('link', { name: 'Status' }).click();
    await expect(page.getByText('Transports and ports')).toBeVisible();
    await shot('status');
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('UDP and TCP port').fill(String(sip.server.url.split(':').pop()));
    await page.getByRole('button', { name: 'Apply and restart SIP' }).click();
    await expect(page.locator('.notice.error')).toBeVisible();
    await shot('settings');

    // A scanner guessing carol's password gets banned (3 failures here).
    await new Promise<void>((resolve) => {
      const child = spawn(
        'svcrack',
        ['-u', 'carol', '-r', '1-6', '-p', String(port), '-b', '127.0.0.1', '127.0.0.1'],
        { stdio: 'ignore' },
      );
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    await page.getByRole('link', { name: 'Bans' }).click();
    await expect(page.getByRole('button', { name: 'Lift' }).first()).toBeVisible();
    await shot('bans');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Registrations' }).click();
    await shot('phone-registrations');
    await ctx.close();
  });
}
