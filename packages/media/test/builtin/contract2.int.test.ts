/**
 * The MediaEngine contract suite, part 2 (test/contract/suite-part2.ts) against the built-in
 * engine, on real UDP on loopback (127.0.48.30).
 */
import { runMediaEngineContractPart2 } from '../contract/suite-part2.js';
import { createBuiltinEngine } from '../../src/builtin/engine.js';

const base = 40000 + 2 * Math.floor(Math.random() * 5000);

runMediaEngineContractPart2(
  'builtin',
  () => createBuiltinEngine({ portMin: base, portMax: base + 199, workers: 1, mediaTimeoutMs: 0 }),
  { address: '127.0.48.30' },
);
