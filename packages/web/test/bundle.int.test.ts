/**
 * What the call page and the home page load before they run: their entry chunk and every chunk it
 * imports statically (what room.html's script tag and modulepreload links fetch); the call UI
 * (call-ui.ts) is a chunk of its own that the page loads while the camera opens. zod is not part of
 * it: the SDK and the app import runtime values from `@tfx/protocol/core`, and the widget host
 * loads the manifest check (`checkManifest`, zod) with the catalogue. Builds the app in memory
 * with the real vite.config.ts.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { build, type Rollup } from 'vite';

const configFile = fileURLToPath(new URL('../vite.config.ts', import.meta.url));

let html: Map<string, string> = new Map();

async function buildApp(): Promise<Map<string, Rollup.OutputChunk>> {
  const out = (await build({
    configFile,
    logLevel: 'silent',
    build: { write: false, emptyOutDir: false },
  })) as Rollup.RollupOutput;
  const chunks = new Map<string, Rollup.OutputChunk>();
  html = new Map();
  for (const o of out.output) {
    if (o.type === 'chunk') chunks.set(o.fileName, o);
    else if (o.fileName.endsWith('.html')) html.set(o.fileName, String(o.source));
  }
  return chunks;
}

/** The chunks loaded before the entry runs (static imports, transitively), and those after. */
function closure(chunks: Map<string, Rollup.OutputChunk>, entryName: string) {
  const entry = [...chunks.values()].find((c) => c.isEntry && c.name === entryName);
  if (!entry) throw new Error(`no entry chunk ${entryName}`);
  const initial = new Set<string>();
  const todo = [entry.fileName];
  while (todo.length > 0) {
    const f = todo.pop() as string;
    if (initial.has(f)) continue;
    initial.add(f);
    todo.push(...(chunks.get(f)?.imports ?? []));
  }
  // Everything loaded later: dynamic imports, and whatever those import in turn.
  const lazy = new Set<string>();
  const later = [...initial].flatMap((f) => chunks.get(f)?.dynamicImports ?? []);
  while (later.length > 0) {
    const f = later.pop() as string;
    if (initial.has(f) || lazy.has(f)) continue;
    lazy.add(f);
    const c = chunks.get(f);
    later.push(...(c?.imports ?? []), ...(c?.dynamicImports ?? []));
  }
  const modules = (files: Iterable<string>) =>
    [...files].flatMap((f) => chunks.get(f)?.moduleIds ?? []);
  const bytes = [...initial].reduce((n, f) => n + (chunks.get(f)?.code.length ?? 0), 0);
  return { initial: modules(initial), lazy: modules(lazy), bytes };
}

const isZod = (id: string) => /[\\/]node_modules[\\/]zod[\\/]/.test(id);

describe('the web app bundle', () => {
  it('starts the call page without zod, and loads it with the widget catalogue', async () => {
    const chunks = await buildApp();
    const room = closure(chunks, 'room');
    expect(room.initial.filter(isZod)).toEqual([]);
    expect(room.initial.some((id) => id.includes('packages/sdk/src/room.ts'))).toBe(true);
    // The manifest check still runs: zod comes with the lazily loaded chunk.
    expect(room.lazy.some(isZod)).toBe(true);
    expect(room.lazy.some((id) => id.includes('packages/protocol/src/widgets/manifest.ts'))).toBe(
      true,
    );
    // Before this split the call page's first scripts were 248 KB, 92 KB of them zod.
    expect(room.bytes).toBeLessThan(180 * 1024);
  }, 120_000);

  it('starts the call page with the SDK and the loading screen; the call UI comes while the camera opens', async () => {
    const chunks = await buildApp();
    const room = closure(chunks, 'room');
    const ui = [
      'packages/web/src/room/call.ts',
      'packages/web/src/room/prejoin.ts',
      'packages/web/src/room/features.ts',
      'packages/web/src/widgets/host.ts',
      'packages/web/src/room/mobile.css',
    ];
    for (const m of ui) {
      expect(room.initial.filter((id) => id.includes(m))).toEqual([]);
      expect(room.lazy.some((id) => id.includes(m))).toBe(true);
    }
    expect(room.initial.some((id) => id.includes('packages/sdk/src/client.ts'))).toBe(true);
    // 169 KB (SDK, call UI, features, widget host) before the call UI had a chunk of its own.
    expect(room.bytes).toBeLessThan(120 * 1024);

    const home = closure(chunks, 'index');
    expect(home.initial.filter(isZod)).toEqual([]);
  }, 120_000);

  it('asks for the camera from an inline boot script, and preloads the call UI from the page', async () => {
    const chunks = await buildApp();
    // Inline in room.html (no request of its own): its built chunk is not emitted.
    expect([...chunks.values()].find((c) => c.name === 'room-boot')).toBeUndefined();
    const page = html.get('room.html') ?? '';
    const inline = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)];
    expect(inline).toHaveLength(1);
    const boot = inline[0]?.[1] ?? '';
    // Nothing to wait for before it runs: no imports, a few hundred bytes, no globals.
    expect(boot).toMatch(/^\(\(\)=>\{[\s\S]*\}\)\(\)$/);
    expect(boot).not.toMatch(/\bimport\b|\bexport\b/);
    expect(boot).toContain('getUserMedia');
    expect(boot).toContain('Symbol.for("tfx.earlyMedia")');
    expect(boot.length).toBeLessThan(2048);
    const entry = [...chunks.values()].find((c) => c.isEntry && c.name === 'room');
    const ui = [...chunks.values()].find((c) => !c.isEntry && c.name === 'call-ui');
    const bootAt = page.indexOf('<script>');
    expect(bootAt).toBeGreaterThan(0);
    // Before the style sheets (a classic script waits for those above it) and the page's script.
    expect(bootAt).toBeLessThan(page.indexOf(`src="/${entry?.fileName}"`));
    expect(bootAt).toBeLessThan(page.indexOf('rel="stylesheet"'));
    // At low priority: it must not hold back the page's own script and styles.
    expect(page).toContain(
      `<link rel="modulepreload" fetchpriority="low" crossorigin href="/${ui?.fileName}">`,
    );
    // The home page has neither.
    expect(html.get('index.html')).not.toContain('<script>');
    expect(html.get('index.html')).not.toContain('call-ui');
  }, 120_000);

  it('keeps SIP.js out of the home page and out of the first scripts of the call page, which loads it only when the Phone button opens the dial pad', async () => {
    const chunks = await buildApp();
    const isSipJs = (id: string) => /[\\/]node_modules[\\/]sip\.js[\\/]/.test(id);
    const dial = closure(chunks, 'dial');
    expect(dial.initial.some(isSipJs)).toBe(true);
    expect(dial.initial.some((id) => id.includes('packages/sdk/src/sip/phone.ts'))).toBe(true);
    const home = closure(chunks, 'index');
    expect([...home.initial, ...home.lazy].filter(isSipJs)).toEqual([]);
    const room = closure(chunks, 'room');
    expect(room.initial.filter(isSipJs)).toEqual([]);
    expect(room.initial.filter((id) => id.includes('packages/web/src/phone/'))).toEqual([]);
    // The Phone overlay (features.ts → import('../phone/dialpad.js')) brings it on demand.
    expect(room.lazy.some(isSipJs)).toBe(true);
    expect(room.lazy.some((id) => id.includes('packages/web/src/phone/dialpad.ts'))).toBe(true);
    // …in the dial pad's chunk, which the service worker does not precache (vite.config.ts).
    const sipChunks = [...chunks.values()].filter((c) => c.moduleIds.some(isSipJs));
    expect(sipChunks.map((c) => c.fileName)).toEqual([expect.stringMatching(/^assets\/dialpad-/)]);
  }, 120_000);
});
