/** `tfx widget new NAME`: the four files, a valid manifest entry, and refusals. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkManifest } from '@tfx/protocol';
import { scaffoldWidget } from '../src/widget.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('tfx widget new', () => {
  it('scaffolds widgets/NAME and adds its entry to a (seeded) manifest', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tfx-scaffold-'));
    dirs.push(root);
    const manifest = join(root, '.tfx', 'widgetmanifest.json');
    const r = await scaffoldWidget('hello', { dir: join(root, 'widgets'), manifest });
    expect((await readdir(r.folder)).sort()).toEqual([
      'icon.svg',
      'index.html',
      'widget.css',
      'widget.js',
    ]);
    const js = await readFile(join(r.folder, 'widget.js'), 'utf8');
    expect(js).toContain("from '/widget-sdk/v1.js'");
    expect(await readFile(join(r.folder, 'index.html'), 'utf8')).not.toMatch(/<script>(?!<)/);
    const m = checkManifest(JSON.parse(await readFile(manifest, 'utf8')));
    expect(m.ok && m.manifest.map((e) => [e.id, e.url])).toEqual([
      ['messaging', '/widgets/messaging/'],
      ['editor', '/widgets/editor/'],
      ['draw', '/widgets/draw/'],
      ['files', '/widgets/files/'],
      ['pingpong', '/widgets/pingpong/'],
      ['visualizer', '/widgets/visualizer/'],
      ['polyglot', '/widgets/polyglot/'],
      ['intro', '/widgets/intro/'],
      ['filters', '/widgets/filters/'],
      ['hello', '/widgets/hello/'],
    ]);
    await expect(scaffoldWidget('hello', { dir: join(root, 'other'), manifest })).rejects.toThrow(
      /exists/,
    );
    await expect(scaffoldWidget('no spaces', { dir: root, manifest })).rejects.toThrow(/letters/);
    await expect(scaffoldWidget('messaging', { dir: root, manifest })).rejects.toThrow(/built-in/);
  });
});
