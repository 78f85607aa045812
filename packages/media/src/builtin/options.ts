/** Options, capabilities and the worker entry of the built-in engine. */
import type { MediaCapabilities } from '../engine/types.js';
import type { SdpLimits } from '../sdp/parse.js';
import type { WorkerInit } from './protocol.js';

export interface BuiltinEngineOptions {
  /** Media port range (inclusive), split between the workers. Default 30000-39999. */
  readonly portMin?: number;
  readonly portMax?: number;
  /** Worker threads. Default: cores − 1, at least 1. */
  readonly workers?: number;
  /** Packets per second one party may send before the flood guard drops. Default 2000. */
  readonly floodPps?: number;
  /** RTCP report interval in ms. Default 5000. */
  readonly rtcpIntervalMs?: number;
  /** Interval of the periodic `stats` event per call, in ms. Default 10000; 0 = only at delete. */
  readonly statsIntervalMs?: number;
  /** No RTP from a sending party for this long raises `media-timeout`. Default 60000; 0 = off. */
  readonly mediaTimeoutMs?: number;
  /** Where recordings go when `record` names no path. Default the OS temp folder. */
  readonly recordDir?: string;
  /** A worker that does not answer a command within this many ms fails it. Default 5000. */
  readonly commandTimeoutMs?: number;
  readonly sdpLimits?: SdpLimits;
  /** Structured log sink (the server passes its logger). */
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string, ctx?: object) => void;
}

export const CAPABILITIES: MediaCapabilities = {
  // WebRTC legs: ICE-lite + DTLS-SRTP (docs/media.md, "WebRTC legs").
  webrtc: true,
  sdes: false,
  // Opus ↔ PCMU/PCMA (packages/media/src/codec), telephone-event 48 ↔ 8 kHz.
  transcode: ['PCMU', 'PCMA', 'opus'],
  record: ['wav', 'pcap'],
  forward: true,
  playMedia: true,
  playDtmf: true,
  detectDtmf: true,
  resequence: true,
  remapPayloadTypes: true,
  block: true,
  ipv6: true,
};

/**
 * The worker's entry: `worker.js` next to this module once built; from TypeScript sources (tests
 * run them) a bootstrap registers tsx in the worker first, then loads `worker.ts`.
 */
export function workerEntry(init: WorkerInit): { url: URL; data: object } {
  const here = import.meta.url;
  if (here.endsWith('.ts'))
    return {
      url: new URL('./worker-boot.mjs', here),
      data: { ...init, __entry: new URL('./worker.ts', here).href },
    };
  return { url: new URL('./worker.js', here), data: init };
}
