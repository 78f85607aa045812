import { defineConfig } from '@playwright/test';

// Browser tests of the call (issue 6). They start the real server (and coturn) themselves, so
// run them inside a loopback-only network namespace after `npm run build`:
//   unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns npx playwright test
// Debian's Chromium is used (Playwright cannot download browsers here); flags per TESTING.md.
// One output folder per run: Playwright empties its outputDir when a run starts, and in a shared
// checkout another run (another spec file) may be going on at the same time.
process.env.E2E_RUN_ID ??= `${Date.now().toString(36)}-${process.pid}`;

export default defineConfig({
  testDir: 'test/e2e',
  // Screenshot tours are tools, not tests: they run only when asked (`npm run screenshots`).
  testIgnore: process.env.TFX_SCREENSHOTS ? [] : ['**/*screenshots.spec.ts'],
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  // One retry in CI: a 2-core machine running Chromium, coturn and SIP peers side by side has
  // timing outliers. A test that needs its retry is still reported, by name, in `npm test`'s
  // summary as flaky (scripts/test.mjs), so it gets fixed; a test that fails twice fails CI.
  retries: process.env.CI ? 1 : 0,
  timeout: 120_000,
  expect: { timeout: 25_000 },
  reporter: [['list']],
  outputDir: `test-results/e2e/${process.env.E2E_RUN_ID}`,
  use: {
    browserName: 'chromium',
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
    permissions: ['camera', 'microphone'],
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--use-fake-ui-for-media-stream',
        // Three fake cameras and microphones, so device switching can be tested. Chromium's fake
        // camera 1 delivers Y16 (depth) frames that no video encoder takes; tests switch 0 → 2 (MJPEG).
        '--use-fake-device-for-media-stream=device-count=3',
        '--allow-loopback-in-peer-connection',
        '--disable-gpu',
        '--disable-quic',
        '--autoplay-policy=no-user-gesture-required',
      ],
    },
  },
});
