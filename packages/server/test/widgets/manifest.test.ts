/**
 * The widget manifest: validation names the entry and the field; the file is seeded when missing,
 * refused at start when invalid, reloaded on change, and an invalid change keeps the old one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkManifest, TfxError, type WidgetManifest } from '@tfx/protocol';
import {
  BUILTIN_WIDGETS,
  ManifestWatcher,
  addManifestEntry,
  loadOrSeedManifest,
  resolveWidgetFile,
  widgetCsp,
  widgetOrigins,
  withWidgetOrigins,
} from '../../src/widgets/index.js';

const ok = {
  plugintype: 'game',
  id: 'tetris',
  type: 'tetris',
  title: 'Tetris',
  icon: 'game',
  url: '/widgets/tetris/',
};

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tfx-manifest-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('manifest validation', () => {
  it('accepts the built-ins and the original TFX fields with the new ones', () => {
    expect(checkManifest(BUILTIN_WIDGETS).ok).toBe(true);
    const full = {
      ...ok,
      id: 'remote_1',
      url: 'https://widgets.example.com/dice/',
      icon: 'https://widgets.example.com/dice/icon.svg',
      origin: 'https://widgets.example.com',
      version: '2.1.0',
      description: 'Dice',
      permissions: {
        downloads: true,
        popups: false,
        camera: true,
        microphone: false,
        fetch: ['https://api.example.com'],
      },
    };
    expect(checkManifest([ok, full])).toMatchObject({ ok: true });
  });

  it.each([
    [{ ...ok, plugintype: 'toy' }, 'entry 0 (id "tetris"): field "plugintype"'],
    [{ ...ok, id: 'ping pong' }, 'entry 0 (id "ping pong"): field "id"'],
    [{ ...ok, url: 'javascript:alert(1)' }, 'entry 0 (id "tetris"): field "url"'],
    [{ ...ok, url: '//evil.example/x' }, 'field "url"'],
    [{ ...ok, icon: 'glyphicon glyphicon-pencil' }, 'field "icon"'],
    [{ ...ok, origin: 'https://x.example/path' }, 'field "origin"'],
    [{ ...ok, permissions: { fetch: ['ftp://x'] } }, 'field "permissions.fetch.0"'],
    [{ ...ok, colour: 'red' }, 'unknown field(s) colour'],
    [{ ...ok, title: undefined }, 'entry 0 (id "tetris"): field "title"'],
  ])('names the entry and the field: %j', (entry, message) => {
    const r = checkManifest([entry]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(message);
  });

  it('refuses a duplicate id, naming both entries', () => {
    const r = checkManifest([ok, { ...ok, title: 'again' }]);
    expect(r).toEqual({
      ok: false,
      error: 'entry 1 (id "tetris"): field "id": duplicate id "tetris" (also entry 0)',
    });
  });

  it('refuses something that is not an array', () => {
    expect(checkManifest({ widgets: [] }).ok).toBe(false);
  });
});

describe('manifest file', () => {
  it('is seeded with the built-ins when missing', async () => {
    const path = join(await tmp(), 'widgetmanifest.json');
    const r = await loadOrSeedManifest(path, BUILTIN_WIDGETS);
    expect(r).toEqual({ manifest: BUILTIN_WIDGETS, seeded: true });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(BUILTIN_WIDGETS);
  });

  it('refuses to start on an invalid file, naming the file, the entry and the field', async () => {
    const path = join(await tmp(), 'widgetmanifest.json');
    await writeFile(path, JSON.stringify([ok, { ...ok, id: 'x', url: 'nope' }]));
    const err = await loadOrSeedManifest(path, []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TfxError);
    expect((err as TfxError).code).toBe('manifest-invalid');
    expect((err as TfxError).message).toContain(path);
    expect((err as TfxError).message).toContain('entry 1 (id "x"): field "url"');
    await writeFile(path, '[{');
    expect(
      ((await loadOrSeedManifest(path, []).catch((e: unknown) => e)) as Error).message,
    ).toMatch(/not valid JSON/);
  });

  it('adds an entry (tfx widget new) and refuses a duplicate id', async () => {
    const path = join(await tmp(), 'm.json');
    const m = await addManifestEntry(path, ok as WidgetManifest[number], BUILTIN_WIDGETS);
    expect(m.map((e) => e.id)).toEqual([...BUILTIN_WIDGETS.map((e) => e.id), 'tetris']);
    await expect(
      addManifestEntry(path, ok as WidgetManifest[number], BUILTIN_WIDGETS),
    ).rejects.toThrow(/exists/);
  });
});

describe('manifest reload', () => {
  async function until(check: () => boolean, ms = 5000): Promise<void> {
    const t0 = Date.now();
    while (!check()) {
      if (Date.now() - t0 > ms) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('reloads when the file changes (also when replaced by rename), debounced', async () => {
    const dir = await tmp();
    const path = join(dir, 'widgetmanifest.json');
    await writeFile(path, JSON.stringify(BUILTIN_WIDGETS));
    const reloads: WidgetManifest[] = [];
    const w = new ManifestWatcher(path, BUILTIN_WIDGETS, {
      debounceMs: 30,
      onReload: (m) => reloads.push(m),
      onInvalid: () => undefined,
    });
    w.start();
    try {
      // Several writes in a burst: one reload with the last content.
      await writeFile(path, JSON.stringify([...BUILTIN_WIDGETS, { ...ok, title: 'one' }]));
      await writeFile(path, JSON.stringify([...BUILTIN_WIDGETS, { ...ok, title: 'two' }]));
      await until(() => reloads.length > 0);
      await new Promise((r) => setTimeout(r, 100));
      expect(reloads).toHaveLength(1);
      expect(reloads[0]?.at(-1)?.title).toBe('two');
      // An editor's save: write a temp file, rename it over.
      await writeFile(join(dir, 'tmp.json'), JSON.stringify(BUILTIN_WIDGETS));
      const { rename } = await import('node:fs/promises');
      await rename(join(dir, 'tmp.json'), path);
      await until(() => reloads.length === 2);
      expect(reloads[1]).toEqual(BUILTIN_WIDGETS);
    } finally {
      w.close();
    }
  });

  it('keeps the old manifest when the new file is invalid, and reports why', async () => {
    const path = join(await tmp(), 'widgetmanifest.json');
    await writeFile(path, JSON.stringify(BUILTIN_WIDGETS));
    const reloads: WidgetManifest[] = [];
    const invalid: string[] = [];
    const w = new ManifestWatcher(path, BUILTIN_WIDGETS, {
      debounceMs: 10,
      onReload: (m) => reloads.push(m),
      onInvalid: (e) => invalid.push(e),
    });
    await writeFile(path, JSON.stringify([{ ...ok, plugintype: 'nope' }]));
    await w.reload();
    expect(reloads).toEqual([]);
    expect(invalid[0]).toContain('entry 0 (id "tetris"): field "plugintype"');
    // Unchanged content is not a reload.
    await writeFile(path, JSON.stringify(BUILTIN_WIDGETS));
    await w.reload();
    expect(reloads).toEqual([]);
    w.close();
  });
});

describe('widget CSP and files', () => {
  it('sandboxes served widget pages and grants only what the manifest says', () => {
    const base = widgetCsp(undefined, "'self'");
    expect(base).toContain("connect-src 'none'");
    expect(base).toContain('sandbox allow-scripts allow-forms');
    expect(base).not.toContain('allow-same-origin');
    const granted = widgetCsp(
      {
        ...(ok as WidgetManifest[number]),
        permissions: { downloads: true, popups: true, fetch: ['https://api.example.com'] },
      },
      "'self' https://embed.example",
    );
    expect(granted).toContain('sandbox allow-scripts allow-forms allow-downloads allow-popups');
    expect(granted).toContain('connect-src https://api.example.com');
    expect(granted).toContain("frame-ancestors 'self' https://embed.example");
  });

  it("adds the manifest's widget origins to the call page's frame-src and img-src", () => {
    const origins = widgetOrigins([
      { ...(ok as WidgetManifest[number]), origin: 'https://b.example' },
      { ...(ok as WidgetManifest[number]), id: 'a', origin: 'https://a.example' },
      ok as WidgetManifest[number],
    ]);
    expect(origins).toEqual(['https://a.example', 'https://b.example']);
    const csp =
      "default-src 'self';frame-src 'self';img-src 'self' data: blob:;frame-ancestors 'self'";
    expect(withWidgetOrigins(csp, origins)).toBe(
      "default-src 'self'; frame-src 'self' https://a.example https://b.example; img-src 'self' data: blob: https://a.example https://b.example; frame-ancestors 'self'",
    );
    expect(withWidgetOrigins(csp, [])).toBe(csp);
  });

  it('serves files only inside a widget folder', async () => {
    const builtin = await tmp();
    const local = await tmp();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(builtin, 'messaging'));
    await writeFile(join(builtin, 'messaging', 'index.html'), '<!doctype html>');
    await mkdir(join(local, 'mine'));
    await writeFile(join(local, 'mine', 'widget.js'), '');
    await writeFile(join(local, 'secret.txt'), 'no');
    const roots = { builtin, local };
    expect(await resolveWidgetFile('messaging/', roots)).toMatchObject({
      folder: 'messaging',
      builtin: true,
      type: 'text/html; charset=utf-8',
    });
    expect(await resolveWidgetFile('mine/widget.js', roots)).toMatchObject({ builtin: false });
    for (const bad of [
      '../secret.txt',
      'mine/../../secret.txt',
      'mine/%2e%2e/%2e%2e/secret.txt',
      'secret.txt',
      '.hidden/x',
      'mine/.env',
      'mine\\..\\secret.txt',
      '%00',
      '',
    ])
      expect(await resolveWidgetFile(bad, roots), bad).toBeNull();
  });
});
