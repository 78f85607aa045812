/**
 * The MediaEngine contract suite (test/contract/suite.ts) against RtpengineEngine on a real
 * rtpengine-daemon (userspace, its own config file), on real UDP on loopback.
 *
 * Cases rtpengine cannot pass, and why. Its capabilities say so (`remapPayloadTypes: false`,
 * `resequence: false`), so the suite reports the first two as skipped and checks only the tone of
 * the third; the built-in engine runs all three:
 * - "a telephone-event payload type changed by one party is remapped …": when B re-offers with
 *   telephone-event on 96, rtpengine offers 96 to A unchanged (it does not keep A's 101), and when
 *   A answers with 101 (a PT the offer did not list) rtpengine drops telephone-event from the
 *   answer to B. Nothing is forwarded raw, but DTMF is not relayed either (10.5.3.5, with and
 *   without its codec engine). The SBC can avoid it by answering with the offered PT (RFC 3264
 *   §6.1: the answerer SHOULD use the offer's payload type numbers).
 * - "an SSRC change and a sequence restart mid-stream keep the egress SSRC and a monotonic
 *   sequence": rtpengine forwards each ingress SSRC as a stream of its own. In passthrough it keeps
 *   the sender's SSRC and sequence; with its codec engine (`inject DTMF`, transcoding) each ingress
 *   SSRC gets its own egress SSRC (`ssrc_map_out` per SSRC entry in daemon/ssrc.c) and sequence.
 *   Measured here on 10.5.3.5: B received two SSRCs after A switched. The built-in engine
 *   re-sequences per leg (janus PR #3640); with rtpengine an SRTP leg toward a browser survives
 *   this only because rtpengine keeps one SRTP context per SSRC.
 * - "playMedia plays a tone … after stopMedia the relay resumes on the same SSRC": the tone itself
 *   arrives (the Goertzel check passes), but rtpengine's media player sends with an SSRC of its
 *   own and the relayed stream resumes with the sender's: the same cause as the case above.
 */
import { afterAll } from 'vitest';
import { createSocket } from 'node:dgram';
import { runMediaEngineContract } from '../contract/suite.js';
import { createRtpengineEngine } from '../../src/rtpengine/engine.js';
import { startRtpengine, type RtpengineProcess } from './harness.js';

let rtpe: RtpengineProcess | undefined;

/** A free UDP port on loopback (bound and released: the daemon needs it before the engine). */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

runMediaEngineContract('rtpengine', async () => {
  // DTMF events from the daemon's DTMF log (dtmf-log-dest), periodic stats every 500 ms.
  const dtmfPort = await freePort();
  rtpe = await startRtpengine({
    ports: 200,
    extra: { 'dtmf-log-dest': `127.0.0.1:${dtmfPort}` },
  });
  return createRtpengineEngine({
    instances: [rtpe.url],
    statsIntervalMs: 500,
    dtmfListen: `udp:127.0.0.1:${dtmfPort}`,
  });
});

afterAll(async () => {
  await rtpe?.stop();
});
