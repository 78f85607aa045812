/**
 * The MediaEngine contract suite (test/contract/suite.ts) against RtpengineEngine on a real
 * rtpengine-daemon (userspace, its own config file), on real UDP on loopback.
 *
 * Cases rtpengine cannot pass, and why (they fail here rather than being skipped silently):
 * - "an SSRC change and a sequence restart mid-stream keep the egress SSRC and a monotonic
 *   sequence": rtpengine forwards each ingress SSRC as a stream of its own. In passthrough it keeps
 *   the sender's SSRC and sequence; with its codec engine (`inject DTMF`, transcoding) each ingress
 *   SSRC gets its own egress SSRC (`ssrc_map_out` per SSRC entry in daemon/ssrc.c) and sequence.
 *   Measured here on 10.5.3.5: B received two SSRCs after A switched. The built-in engine
 *   re-sequences per leg (janus PR #3640); with rtpengine an SRTP leg toward a browser survives
 *   this only because rtpengine keeps one SRTP context per SSRC.
 */
import { afterAll } from 'vitest';
import { runMediaEngineContract } from '../contract/suite.js';
import { RtpengineEngine } from '../../src/rtpengine/engine.js';
import { startRtpengine, type RtpengineProcess } from './harness.js';

let rtpe: RtpengineProcess | undefined;

runMediaEngineContract('rtpengine', async () => {
  rtpe = await startRtpengine({ ports: 200 });
  return new RtpengineEngine({ instances: [rtpe.url] });
});

afterAll(async () => {
  await rtpe?.stop();
});
