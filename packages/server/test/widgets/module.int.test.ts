/**
 * The widgets module on a real platform over HTTPS: the public manifest (also in the OpenAPI
 * document), widget pages with their own CSP and frameable by the call page, the widget SDK
 * bundle, and a manifest edited while running (an invalid edit keeps the old one and is counted).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILTIN_WIDGETS, createWidgetsModule } from '../../src/widgets/index.js';
import { apiModules, makeDataDir, startTestPlatform, type TestPlatform } from '../api/harness.js';

const started: TestPlatform[] = [];
afterAll(async () => {
  for (const t of started) await t.close();
});

async function until<T>(what: string, f: () => Promise<T | false>, ms = 5000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('widgets module', () => {
  it('serves the manifest publicly, widget pages under their own CSP, and reloads the manifest', async () => {
    const dataDir = await makeDataDir();
    const builtin = join(dataDir, 'builtin');
    await mkdir(join(builtin, 'messaging'), { recursive: true });
    await writeFile(join(builtin, 'messaging', 'index.html'), '<!doctype html><title>m</title>');
    const sdk = join(dataDir, 'v1.js');
    await writeFile(sdk, 'export const connect = () => 1;');
    const widgets = createWidgetsModule({
      builtinRoot: builtin,
      sdkBundle: sdk,
      reloadDebounceMs: 20,
    });
    const t = await startTestPlatform({
      dataDir,
      modules: [...apiModules(), widgets],
      flags: { 'metrics.public': true },
    });
    started.push(t);

    const list = await t.req('GET', '/api/v1/widgets', { token: '' });
    expect(list.status).toBe(200);
    expect(JSON.parse(list.text)).toEqual({
      widgets: BUILTIN_WIDGETS,
      maxMessageBytes: 1_048_576,
      chunkBytes: 16_384,
    });
    const openapi = JSON.parse((await t.req('GET', '/api/v1/openapi.json')).text) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(openapi.paths)).toContain('/api/v1/widgets');

    const page = await t.req('GET', '/widgets/messaging/', { token: '' });
    expect(page.status).toBe(200);
    expect(page.headers['x-frame-options']).toBeUndefined();
    expect(String(page.headers['content-security-policy'])).toContain(
      "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox allow-scripts allow-forms",
    );
    expect(page.headers['access-control-allow-origin']).toBe('*');
    expect((await t.req('GET', '/widgets/nope/', { token: '' })).status).toBe(404);
    // Other pages still may not be framed.
    expect((await t.req('GET', '/healthz', { token: '' })).headers['x-frame-options']).toBe('DENY');

    const bundle = await t.req('GET', '/widget-sdk/v1.js', { token: '' });
    expect(bundle.status).toBe(200);
    expect(String(bundle.headers['content-type'])).toMatch(/^text\/javascript/);
    expect(bundle.headers['access-control-allow-origin']).toBe('*');

    // A valid edit is picked up …
    const remote = {
      plugintype: 'game',
      id: 'dice',
      type: 'dice',
      title: 'Dice',
      icon: 'dice',
      url: 'https://dice.example:8443/',
      origin: 'https://dice.example:8443',
    };
    await writeFile(widgets.manifestPath, JSON.stringify([...BUILTIN_WIDGETS, remote]));
    await until('reload', async () => {
      const r = JSON.parse((await t.req('GET', '/api/v1/widgets', { token: '' })).text) as {
        widgets: unknown[];
      };
      return r.widgets.length === BUILTIN_WIDGETS.length + 1;
    });
    // … an invalid one is refused, counted, and the previous manifest stays.
    await writeFile(widgets.manifestPath, JSON.stringify([{ ...remote, url: 42 }]));
    await until('invalid reload counted', async () => {
      const m = await t.req('GET', '/metrics', { token: '' });
      return /tfx_widget_manifest_reloads_total\{result="invalid"\} 1/.test(m.text);
    });
    const after = JSON.parse((await t.req('GET', '/api/v1/widgets', { token: '' })).text) as {
      widgets: Array<{ id: string }>;
    };
    expect(after.widgets.map((w) => w.id)).toEqual([...BUILTIN_WIDGETS.map((w) => w.id), 'dice']);
    const metrics = (await t.req('GET', '/metrics', { token: '' })).text;
    expect(metrics).toMatch(/tfx_widget_manifest_reloads_total\{result="ok"\} 1/);
    expect(metrics).toMatch(
      new RegExp(`^tfx_widget_manifest_entries ${BUILTIN_WIDGETS.length + 1}$`, 'm'),
    );
  });

  it('refuses to start with an invalid manifest, naming the entry and field', async () => {
    const dataDir = await makeDataDir();
    await writeFile(
      join(dataDir, 'widgetmanifest.json'),
      JSON.stringify([{ ...BUILTIN_WIDGETS[0], plugintype: 'toy' }]),
    );
    const err = await startTestPlatform({
      dataDir,
      modules: [...apiModules(), createWidgetsModule()],
    }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('manifest-invalid');
    expect((err as Error).message).toContain('entry 0 (id "messaging"): field "plugintype"');
  });
});
