/**
 * `tfx widget new NAME`: scaffolds a widget (`widgets/NAME/{index.html,widget.js,widget.css,
 * icon.svg}`) and adds its entry to the manifest, which a running server reloads by itself.
 * Also where the CLI finds the built-in widgets and the widget SDK bundle it serves.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { TfxError, WIDGET_ID_PATTERN, type WidgetManifestEntry } from '@tfx/protocol';
import { BUILTIN_WIDGETS, addManifestEntry, loadConfig, manifestPathFor } from '@tfx/server';

function packageDir(name: string): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** `packages/widgets/dist`: the built-in widgets' pages. */
export function builtinWidgetsRoot(): string | undefined {
  const d = packageDir('@tfx/widgets');
  return d && existsSync(join(d, 'dist')) ? join(d, 'dist') : undefined;
}

/** `packages/widget-sdk/dist/v1.js`: the widget SDK as one ES module. */
export function widgetSdkBundle(): string | undefined {
  const d = packageDir('@tfx/widget-sdk');
  return d && existsSync(join(d, 'dist', 'v1.js')) ? join(d, 'dist', 'v1.js') : undefined;
}

const html = (title: string): string => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${title}</title>
    <link rel="stylesheet" href="./widget.css" />
    <!-- No inline script: widgets run under script-src 'self'. -->
    <script type="module" src="./widget.js"></script>
  </head>
  <body>
    <main>
      <h1>${title}</h1>
      <p>Clicks in this room: <output id="count">0</output></p>
      <button id="click" type="button">Click</button>
      <ul id="log"></ul>
    </main>
  </body>
</html>
`;

const js = `// A shared click counter: every instance in the room sees every click, and a late joiner
// gets the count from a peer (state sync). See docs/widgets.md for the whole SDK.
import { connect } from '/widget-sdk/v1.js';

const tfx = await connect();
const count = document.getElementById('count');
const log = document.getElementById('log');
let clicks = 0;

function show(line) {
  count.textContent = String(clicks);
  if (line) {
    const li = document.createElement('li');
    li.textContent = line;
    log.prepend(li);
  }
}

tfx.onMessage((data, from) => {
  if (data && data.type === 'click') {
    clicks++;
    show(\`\${from.name} clicked\`);
  }
});

tfx.stateSync({
  getState: () => ({ clicks }),
  setState: (state) => {
    clicks = Math.max(clicks, Number(state.clicks) || 0);
    show();
  },
});

document.getElementById('click').addEventListener('click', async () => {
  clicks++;
  show('You clicked');
  await tfx.sendMessage({ type: 'click' });
});
`;

const css = `:root {
  color-scheme: dark;
  font: 15px/1.5 system-ui, sans-serif;
}
body {
  margin: 0;
  padding: 16px;
  background: #10172b;
  color: #e8ecf8;
}
button {
  padding: 8px 16px;
  border: 0;
  border-radius: 10px;
  background: #7c9cff;
  color: #0b1020;
  font-weight: 600;
}
`;

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="#40e0c0" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><rect x="3" y="3" width="18" height="18" rx="4"/><path d="M12 8v8M8 12h8"/></svg>
`;

export interface ScaffoldOptions {
  /** Folder of local widgets (config widgets.dir). */
  readonly dir: string;
  /** The manifest file (config widgets.manifest). */
  readonly manifest: string;
  readonly title?: string | undefined;
}

export async function scaffoldWidget(
  name: string,
  o: ScaffoldOptions,
): Promise<{ folder: string; files: string[]; entry: WidgetManifestEntry }> {
  if (!WIDGET_ID_PATTERN.test(name) || name.length > 64)
    throw new TfxError('bad-request', `widget name "${name}": use letters, digits, "_" or "-"`);
  if (BUILTIN_WIDGETS.some((w) => w.id === name) || name === 'assets')
    throw new TfxError('bad-request', `"${name}" is the name of a built-in widget`);
  const folder = resolve(o.dir, name);
  if (existsSync(folder)) throw new TfxError('bad-request', `${folder} exists already`);
  const title = o.title ?? name;
  const entry: WidgetManifestEntry = {
    plugintype: 'custom',
    id: name,
    type: 'custom',
    title,
    icon: `/widgets/${name}/icon.svg`,
    url: `/widgets/${name}/`,
    version: '0.1.0',
    description: `${title}: a widget made with tfx widget new`,
  };
  // The manifest first: it refuses a duplicate id before any file is written.
  await addManifestEntry(o.manifest, entry, BUILTIN_WIDGETS);
  await mkdir(folder, { recursive: true });
  const files: Array<[string, string]> = [
    ['index.html', html(title.replace(/[<>&"]/g, ''))],
    ['widget.js', js],
    ['widget.css', css],
    ['icon.svg', svg],
  ];
  for (const [f, text] of files) await writeFile(join(folder, f), text, { flag: 'wx' });
  return { folder, files: files.map(([f]) => join(folder, f)), entry };
}

/** `tfx widget …` */
export function addWidgetCommands(program: Command, report: (err: unknown) => number): void {
  const widget = program.command('widget').description('make and manage widgets');
  widget
    .command('new')
    .description(
      'scaffold widgets/NAME/{index.html,widget.js,widget.css,icon.svg} and add it to the manifest',
    )
    .argument('<name>', 'widget id: letters, digits, "_" or "-"')
    .option('-c, --config <file>', 'YAML configuration file [TFX_CONFIG]')
    .option('--dir <folder>', 'where local widgets live (default: widgets.dir, ./widgets)')
    .option('--manifest <file>', 'manifest to add it to (default: widgets.manifest)')
    .option('--title <title>', 'title in the widget bar (default: NAME)')
    .action(
      async (
        name: string,
        opts: { config?: string; dir?: string; manifest?: string; title?: string },
      ) => {
        try {
          const cfg = loadConfig({ file: opts.config ?? process.env.TFX_CONFIG, env: process.env });
          const manifest = opts.manifest
            ? resolve(opts.manifest)
            : manifestPathFor({ config: cfg, dataDir: resolve(cfg.dataDir) });
          const r = await scaffoldWidget(name, {
            dir: opts.dir ?? cfg.widgets.dir,
            manifest,
            title: opts.title,
          });
          process.stdout.write(
            `created ${r.folder}/\n${r.files.map((f) => `  ${f}\n`).join('')}added "${name}" to ${manifest}\n` +
              `open a call: the widget bar shows it (a running server reloads the manifest by itself)\n`,
          );
        } catch (err) {
          process.exitCode = report(err);
        }
      },
    );
}
