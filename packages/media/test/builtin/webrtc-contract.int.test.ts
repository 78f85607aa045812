/**
 * The MediaEngine contract suite, WebRTC legs (test/contract/suite-webrtc.ts) against the built-in
 * engine, on real UDP on loopback (127.0.0.1; ports random).
 */
import { runWebRtcContract } from '../contract/suite-webrtc.js';
import { createBuiltinEngine } from '../../src/builtin/engine.js';

const base = 40000 + 2 * Math.floor(Math.random() * 5000);

runWebRtcContract(
  'builtin',
  () => createBuiltinEngine({ portMin: base, portMax: base + 199, workers: 1, mediaTimeoutMs: 0 }),
  { countsSrtpAuthDrops: true },
);
