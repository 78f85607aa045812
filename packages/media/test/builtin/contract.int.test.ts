/**
 * The MediaEngine contract suite (test/contract/suite.ts) against the built-in engine, on real
 * UDP on loopback, with two media workers (periodic stats every 500 ms).
 */
import { runMediaEngineContract } from '../contract/suite.js';
import { createBuiltinEngine } from '../../src/builtin/engine.js';

const base = 40000 + 2 * Math.floor(Math.random() * 5000);

runMediaEngineContract('builtin', () =>
  createBuiltinEngine({
    portMin: base,
    portMax: base + 399,
    workers: 2,
    mediaTimeoutMs: 0,
    statsIntervalMs: 500,
  }),
);
