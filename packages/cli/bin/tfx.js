#!/usr/bin/env -S node --max-semi-space-size=64
// --max-semi-space-size=64: a 64 MB young generation. A SIP server allocates a parsed message per
// datagram; with the default (16 MB) V8 scavenges so often that at 1000 calls/s the GC pauses
// cause retransmissions and failed calls (docs/benchmarks.md, SIP server). Keep it wherever TFX
// is started (npm start, the systemd unit).
// The tfx command. The compiled CLI lives in ../dist; `npm run build` (run by `npm start`) makes it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('tfx: not built yet. Run `npm run build` in the TFX checkout first.\n');
  process.exit(1);
}
await import(entry.href);
