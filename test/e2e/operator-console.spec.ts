/**
 * The operator console (issue 24) against a running platform: two `tfx start` processes sharing a
 * real redis-server, a real coturn, real rooms with participants in Chromium, and the operator in
 * another browser context. Every platform page is visited and used; the actions it took are then
 * read back from the audit log (REST, the data-dir file). Screenshots of every page go to
 * test-results/operator-console/ (copied to docs/img/ for the docs).
 *   npm run build && /work/shared/tools/netns npx playwright test test/e2e/operator-console.spec.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Page } from '@playwright/test';
import { test, expect } from './fixtures/index.js';
import type { AuditEntry, AuditPage, SipStatus } from '@tfx/protocol';
import { startCoturn, uniqueRoom } from './support.js';

const ADMIN = 'e2e-operator-console-admin-token-01';
const SECRET = 'e2e-coturn-shared-secret-1';
const SHOTS = 'test-results/operator-console';
const SCENARIOS = fileURLToPath(
  new URL('../../packages/server/test/sip/scenarios/', import.meta.url),
);
const DOMAIN = 'tfx.test';
const USERS = [
  { username: 'alice', password: 'alice-secret-1' },
  { username: 'bob', password: 'bob-secret-12' },
];

/** Runs sipp to its end (bounded by -m and a timeout). */
function sipp(args: string[], timeoutMs = 30_000): Promise<number | null> {
  const child = spawn(
    'sipp',
    [...args, '-nostdin', '-timeout', `${Math.ceil(timeoutMs / 1000)}s`],
    {
      cwd: mkdtempSync(pathJoin(tmpdir(), 'sipp-ops-')),
      stdio: 'ignore',
    },
  );
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 5000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
  });
}

/** SIP traffic for the charts: bob registers as a sipp UAS, alice calls him (INVITE…BYE). */
async function sipTraffic(port: number): Promise<void> {
  const uasPort = 20_000 + Math.floor(Math.random() * 10_000);
  const auth = (user: string) => [
    '-au',
    user,
    '-ap',
    USERS.find((u) => u.username === user)!.password,
  ];
  const uas = sipp([
    '-sf',
    pathJoin(SCENARIOS, 'uas.xml'),
    '-i',
    '127.0.0.1',
    '-p',
    String(uasPort),
    '-m',
    '1',
  ]);
  const reg = await sipp([
    `127.0.0.1:${port}`,
    '-sf',
    pathJoin(SCENARIOS, 'register.xml'),
    '-i',
    '127.0.0.1',
    '-s',
    'bob',
    ...auth('bob'),
    '-auth_uri',
    DOMAIN,
    '-key',
    'domain',
    DOMAIN,
    '-key',
    'contact_port',
    String(uasPort),
    '-key',
    'expires',
    '300',
    '-m',
    '1',
  ]);
  expect(reg).toBe(0);
  const call = await sipp([
    `127.0.0.1:${port}`,
    '-sf',
    pathJoin(SCENARIOS, 'uac.xml'),
    '-i',
    '127.0.0.1',
    '-s',
    'bob',
    ...auth('alice'),
    '-auth_uri',
    `bob@${DOMAIN}`,
    '-key',
    'domain',
    DOMAIN,
    '-key',
    'caller',
    'alice',
    '-d',
    '500',
    '-m',
    '1',
  ]);
  expect(call).toBe(0);
  expect(await uas).toBe(0);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('Ready to accept connections')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return { url: `redis://127.0.0.1:${port}`, child };
}

async function signIn(page: Page, base: string, hash = ''): Promise<void> {
  await page.goto(`${base}/admin/${hash}`);
  await page.getByLabel('Admin token').fill(ADMIN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Console sections' })).toBeVisible();
}

async function audit(base: string, page: Page): Promise<AuditEntry[]> {
  const res = await page.request.get(`${base}/api/v1/audit?limit=1000`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  expect(res.status()).toBe(200);
  return ((await res.json()) as AuditPage).items;
}

test('every console page against two processes on Redis, coturn and real rooms; actions end up in the audit log', async ({
  browser,
  call,
  defer,
  startTfx,
}) => {
  test.setTimeout(420_000);
  const redis = await startRedis();
  defer(() => {
    if (redis.child.pid && redis.child.exitCode === null) process.kill(redis.child.pid, 'SIGKILL');
  });
  // coturn's relay ports are port+10…port+200: pick a base well inside the ephemeral range.
  const turnPort = 40_000 + Math.floor(Math.random() * 20_000);
  const problems: string[] = [];
  const coturn = await startCoturn(turnPort, SECRET);
  defer(() => coturn.stop());
  const turnUrl = `turn:127.0.0.1:${turnPort}?transport=udp`;
  const common = [
    '--redis-url',
    redis.url,
    '--admin-token',
    ADMIN,
    '--turn-urls',
    JSON.stringify([turnUrl]),
  ];
  // A: the right secret, and the SIP server on. B: a wrong secret (the TURN test must fail).
  const a = await startTfx([
    ...common,
    '--turn-secret',
    SECRET,
    '--cluster-node-id',
    'node-a',
    '--sip-enabled',
    '--sip-port',
    '0',
    '--sip-tls-port',
    '0',
    '--sip-domain',
    DOMAIN,
    '--sip-users',
    JSON.stringify(USERS),
    '--sip-rate-limit',
    '0',
  ]);
  const b = await startTfx([
    ...common,
    '--turn-secret',
    'not-the-coturn-secret',
    '--cluster-node-id',
    'node-b',
  ]);

  // Real rooms: Ann and Bob on A; Cara and Dan on B (the console, on A, acts on them too).
  const roomAB = uniqueRoom('ops');
  const roomC = uniqueRoom('ops-c');
  const [ann, bob] = await call(['Ann', 'Bob'], { base: a.url, room: roomAB });
  const [cara, dan] = await call(['Cara', 'Dan'], { base: b.url, room: roomC });

  const ops = await browser.newContext({
    colorScheme: 'dark',
    viewport: { width: 1360, height: 900 },
  });
  const page = await ops.newPage();
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[49]/.test(m.text())) problems.push(m.text());
  });
  const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

  const sip = await page.request.get(`${a.url}/api/v1/sip/status`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  const udp = ((await sip.json()) as SipStatus).listeners.find((l) => l.transport === 'udp')!;
  await sipTraffic(udp.port);

  // --- overview: both processes, the rooms and participants (sampled every 5 s), SIP, TURN, Redis
  await signIn(page, a.url);
  await expect(page).toHaveTitle(/Overview/);
  const glance = page.getByLabel('At a glance');
  const statValue = (label: string) =>
    glance
      .locator('.stat')
      .filter({ has: page.getByText(label, { exact: true }) })
      .locator('.stat-value');
  await expect(statValue('Processes')).toHaveText('2');
  await expect(statValue('Live rooms')).toHaveText('2');
  await expect(statValue('Participants')).toHaveText('4');
  await expect(statValue('Redis')).toHaveText('up');
  await expect(statValue('TURN')).toHaveText('1 server');
  await expect(statValue('SIP registrations')).toHaveText('1');
  await expect(page.getByRole('img', { name: /SIP requests received/ })).toBeVisible();
  await expect(page.locator('.legend').filter({ hasText: 'INVITE' })).toBeVisible();
  await expect(
    page.getByRole('img', { name: 'Live rooms and participants over time' }),
  ).toBeVisible();
  await shot('console-overview');

  // --- cluster: both processes with their load
  await page.getByRole('link', { name: 'Cluster' }).click();
  const procRow = (id: string) => page.getByRole('row').filter({ hasText: id });
  await expect(procRow('node-a')).toContainText('running');
  await expect(procRow('node-b')).toContainText('running');
  await expect(procRow('node-a')).toContainText('this one');
  await expect(page.getByRole('img', { name: /CPU per process/ })).toBeVisible();
  await shot('console-cluster');

  // --- widgets: which rooms use which widget. Cara (on B) opens the drawing board, which opens
  // for Dan too; their state reaches the console on A through Redis.
  await page.getByRole('link', { name: 'Widgets' }).click();
  const drawRow = page.getByRole('row').filter({ hasText: 'Drawing board' });
  await expect(drawRow).toContainText('no live room');
  await cara.page.locator('#widget-bar button[data-widget="draw"]').click();
  await expect(dan.page.locator('#widget-bar button[data-widget="draw"]')).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  const drawRooms = page.getByRole('list', { name: 'Rooms using Drawing board' });
  await expect(drawRooms).toContainText(`${roomC} · 2 participants`);
  await expect(drawRooms.getByRole('listitem')).toHaveAttribute('title', 'Cara, Dan');
  await expect(page.getByRole('row').filter({ hasText: 'Code editor' })).toContainText(
    'no live room',
  );
  await shot('console-widgets');
  // Closed for everyone: the empty list (which Redis's Lua must not turn into {}) empties it.
  await cara.page.locator('#widget-bar button[data-widget="draw"]').click();
  await expect(drawRow).toContainText('no live room');

  // --- rooms: live rooms with their participants; kick Bob, then end Ann's room
  await page.getByRole('link', { name: 'Rooms' }).click();
  const live = page
    .locator('section')
    .filter({ has: page.getByRole('heading', { name: 'Live rooms' }) });
  await expect(live.getByRole('row').filter({ hasText: roomAB })).toContainText('Ann');
  await expect(live.getByRole('row').filter({ hasText: roomAB })).toContainText('Bob');
  await expect(live.getByRole('row').filter({ hasText: roomC })).toContainText('Cara');
  await page.getByLabel('Search rooms').fill('cara');
  await expect(live.getByRole('row').filter({ hasText: roomAB })).toHaveCount(0);
  await expect(live.getByRole('row').filter({ hasText: roomC })).toHaveCount(1);
  await page.getByLabel('Search rooms').fill('');
  await shot('console-rooms');
  const kickBob = page.getByRole('button', { name: 'Kick Bob' });
  await kickBob.click();
  await expect(kickBob).toHaveText('Really kick?');
  await kickBob.click();
  await expect(bob.page.locator('#app')).toHaveAttribute('data-screen', 'kicked');
  await expect(live.getByRole('row').filter({ hasText: roomAB })).not.toContainText('Bob');
  const end = page.getByRole('button', { name: `End room ${roomAB}` });
  await end.click();
  await end.click();
  // Ending the room in the console ends it for its participants.
  await expect(ann.page.locator('#app')).toHaveAttribute('data-screen', 'closed');
  await expect(live.getByRole('row').filter({ hasText: roomAB })).toHaveCount(0);
  const ended = page
    .locator('section')
    .filter({ has: page.getByRole('heading', { name: 'Ended sessions' }) });
  await expect(ended.getByRole('row').filter({ hasText: roomAB })).toContainText('Ann');

  // The same on the other process: Cara and Dan are held by B; the console on A routes the
  // kick and the end through the cluster link to B, and they see it.
  const kickDan = page.getByRole('button', { name: 'Kick Dan' });
  await kickDan.click();
  await kickDan.click();
  await expect(dan.page.locator('#app')).toHaveAttribute('data-screen', 'kicked');
  await expect(live.getByRole('row').filter({ hasText: roomC })).not.toContainText('Dan');
  await expect(cara.page.locator('#app')).not.toHaveAttribute('data-screen', 'kicked');
  const endC = page.getByRole('button', { name: `End room ${roomC}` });
  await endC.click();
  await endC.click();
  await expect(cara.page.locator('#app')).toHaveAttribute('data-screen', 'closed');
  await expect(live.getByRole('row').filter({ hasText: roomC })).toHaveCount(0);
  await expect(ended.getByRole('row').filter({ hasText: roomC })).toContainText('Cara');

  // --- widgets: the manifest; an invalid file is shown with its error and the old one kept
  await page.getByRole('link', { name: 'Widgets' }).click();
  await expect(page.getByRole('row').filter({ hasText: 'Drawing board' })).toBeVisible();
  const manifestFile = pathJoin(a.dataDir, 'widgetmanifest.json');
  const good = readFileSync(manifestFile, 'utf8');
  const broken = JSON.parse(good) as Array<Record<string, unknown>>;
  broken[1] = { ...broken[1], url: 'javascript:alert(1)' };
  writeFileSync(manifestFile, JSON.stringify(broken, null, 2));
  await page.getByRole('button', { name: 'Reload manifest' }).click();
  await expect(page.getByRole('alert')).toContainText('The file is invalid');
  await expect(page.locator('.notice.error pre')).toContainText('url');
  await expect(page.getByRole('row').filter({ hasText: 'Code editor' })).toBeVisible();
  await shot('console-widgets-invalid');
  writeFileSync(manifestFile, good);
  await page.getByRole('button', { name: 'Reload manifest' }).click();
  await expect(page.locator('.notice.ok')).toContainText('valid manifest');

  // --- TURN: a real Allocate against coturn succeeds on A…
  await page.getByRole('link', { name: 'TURN' }).click();
  await expect(page.getByRole('row').filter({ hasText: turnUrl })).toContainText('TURN');
  await page.getByRole('button', { name: 'Run allocation test' }).click();
  const result = page.getByRole('row').filter({ hasText: 'allocation granted' });
  await expect(result).toContainText('success');
  await expect(result).toContainText('200');
  await expect(result).toContainText('127.0.0.1:');
  await shot('console-turn');

  // …and fails with 401 on B, whose secret is not coturn's.
  const pageB = await ops.newPage();
  await signIn(pageB, b.url, '#turn');
  await pageB.getByRole('button', { name: 'Run allocation test' }).click();
  const refused = pageB.getByRole('row').filter({ hasText: 'Unauthorized' });
  await expect(refused).toContainText('failed');
  await expect(refused).toContainText('401');
  await expect(refused).toContainText('credentials refused');
  await pageB.screenshot({ path: `${SHOTS}/console-turn-wrong-secret.png`, fullPage: true });
  await pageB.close();

  // --- cluster: B stopped → dropped from the list
  await b.stop();
  await page.getByRole('link', { name: 'Cluster' }).click();
  await expect(procRow('node-a')).toBeVisible();
  await expect(procRow('node-b')).toHaveCount(0);

  // --- audit: every action above, with who, how and from where (B's test too, through Redis)
  await page.getByRole('link', { name: 'Audit log' }).click();
  const auditRow = (action: string) => page.getByRole('row').filter({ hasText: action });
  await expect(auditRow('participant.kick')).toHaveCount(2);
  await expect(auditRow('participant.kick').filter({ hasText: 'Bob (' })).toContainText(
    `in room ${roomAB}`,
  );
  await expect(auditRow('participant.kick').filter({ hasText: 'Dan (' })).toContainText(
    `in room ${roomC}`,
  );
  await expect(auditRow('session.close')).toHaveCount(2);
  await expect(auditRow('session.close').filter({ hasText: roomAB })).toHaveCount(1);
  await expect(auditRow('session.close').filter({ hasText: roomC })).toHaveCount(1);
  await expect(auditRow('widgets.reload')).toHaveCount(2);
  await expect(auditRow('turn.test')).toHaveCount(2);
  await shot('console-audit');
  const entries = await audit(a.url, page);
  const actions = entries.map((e) => `${e.action} ${e.status} ${e.node} ${e.via}`);
  expect(actions).toEqual(
    expect.arrayContaining([
      'participant.kick 204 node-a console',
      'session.close 204 node-a console',
      'widgets.reload 200 node-a console',
      'turn.test 200 node-a console',
      'turn.test 200 node-b console',
    ]),
  );
  for (const e of entries) {
    expect(e.actor).toMatch(/^admin token [0-9a-f]{8}$/);
    expect(e.from).toBe('127.0.0.1');
  }
  // Kept in A's data dir too, one JSON object a line (B's own entry is in B's file).
  const file = readFileSync(pathJoin(a.dataDir, 'audit', 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as AuditEntry).action);
  expect(file).toEqual([
    'participant.kick',
    'session.close',
    'participant.kick',
    'session.close',
    'widgets.reload',
    'widgets.reload',
    'turn.test',
  ]);

  // The SIP pages sit in the same frame.
  await page.getByRole('link', { name: 'Status' }).click();
  await expect(page.getByText('Transports and ports')).toBeVisible();
  await shot('console-sip-status');
  // The ladder of alice's call to bob on the messages page.
  await page.getByRole('link', { name: 'Messages' }).click();
  const arrow = (name: RegExp) => page.locator('svg.ladder').getByRole('button', { name });
  await expect(arrow(/^(received|sent) BYE /)).toHaveCount(2);
  // Over UDP a retransmitted INVITE draws a second arrow; either opens the message.
  await arrow(/^sent INVITE /)
    .first()
    .click();
  await shot('console-ladder');
  await page.emulateMedia({ colorScheme: 'light' });
  await page.getByRole('link', { name: 'Overview' }).click();
  await expect(
    page.getByRole('img', { name: 'Live rooms and participants over time' }),
  ).toBeVisible();
  await shot('console-overview-light');
  expect(problems).toEqual([]);
  await ops.close();
});
