/**
 * The MediaEngine contract suite, part 2 (test/contract/suite-part2.ts) against RtpengineEngine
 * on a real rtpengine-daemon (userspace), on real UDP on loopback (127.0.0.1, the daemon's one interface; ports random). What rtpengine
 * lacks is gated on its capabilities: `resequence: false` (each ingress SSRC forwarded as a
 * stream of its own: the SSRC/sequence checks after an SSRC switch are skipped, audio is checked).
 */
import { afterAll } from 'vitest';
import { runMediaEngineContractPart2 } from '../contract/suite-part2.js';
import { createRtpengineEngine } from '../../src/rtpengine/engine.js';
import { startRtpengine, type RtpengineProcess } from './harness.js';

let rtpe: RtpengineProcess | undefined;

runMediaEngineContractPart2('rtpengine', async () => {
  rtpe = await startRtpengine({ ports: 200 });
  return createRtpengineEngine({ instances: [rtpe.url] });
});

afterAll(async () => {
  await rtpe?.stop();
});
