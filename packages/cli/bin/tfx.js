#!/usr/bin/env node
// The tfx command. The compiled CLI lives in ../dist; `npm run build` (run by `npm start`) makes it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('tfx: not built yet. Run `npm run build` in the TFX checkout first.\n');
  process.exit(1);
}
await import(entry.href);
