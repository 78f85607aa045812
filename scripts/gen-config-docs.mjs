#!/usr/bin/env node
// Writes docs/configuration.md from the configuration schema (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { renderConfigDocs } from '../packages/server/dist/index.js';

writeFileSync('docs/configuration.md', renderConfigDocs());
process.stderr.write('wrote docs/configuration.md\n');
