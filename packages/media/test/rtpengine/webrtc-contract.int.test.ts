/**
 * The MediaEngine contract suite, WebRTC legs (test/contract/suite-webrtc.ts) against
 * RtpengineEngine on a real rtpengine-daemon (userspace, its own config file), on real UDP on
 * loopback (127.0.0.1, the daemon's one interface; ng and media ports random).
 */
import { afterAll } from 'vitest';
import { runWebRtcContract } from '../contract/suite-webrtc.js';
import { createRtpengineEngine } from '../../src/rtpengine/engine.js';
import { startRtpengine, type RtpengineProcess } from './harness.js';

let rtpe: RtpengineProcess | undefined;

runWebRtcContract(
  'rtpengine',
  async () => {
    rtpe = await startRtpengine({ ports: 200 });
    return createRtpengineEngine({ instances: [rtpe.url], statsIntervalMs: 0 });
  },
  { countsSrtpAuthDrops: true },
);

afterAll(async () => {
  await rtpe?.stop();
});
