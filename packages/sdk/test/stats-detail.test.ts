import { describe, expect, it } from 'vitest';
import { statsRates, statsSample, type StatsSample } from '../src/stats-detail.js';

const report = (entries: Array<Record<string, unknown>>): Map<string, unknown> =>
  new Map(entries.map((e) => [String(e.id), e]));

const base = (over: Partial<StatsSample> = {}): StatsSample => ({
  timestamp: 1000,
  bytesReceived: 0,
  bytesSent: 0,
  packetsReceived: 0,
  packetsLost: 0,
  codecs: [],
  ...over,
});

describe('statsSample', () => {
  it('sums inbound and outbound, takes the biggest video, its fps, the codecs and the selected pair', () => {
    const s = statsSample(
      report([
        { id: 'c1', type: 'codec', mimeType: 'video/VP8' },
        { id: 'c2', type: 'codec', mimeType: 'audio/opus' },
        {
          id: 'v1',
          type: 'inbound-rtp',
          kind: 'video',
          timestamp: 5000,
          codecId: 'c1',
          bytesReceived: 1000,
          packetsReceived: 10,
          packetsLost: 1,
          frameWidth: 320,
          frameHeight: 240,
          framesPerSecond: 15,
          jitter: 0.004,
        },
        {
          id: 'a1',
          type: 'inbound-rtp',
          kind: 'audio',
          timestamp: 5000,
          codecId: 'c2',
          bytesReceived: 500,
          packetsReceived: 20,
          packetsLost: 0,
          jitter: 0.009,
        },
        { id: 'o1', type: 'outbound-rtp', kind: 'video', bytesSent: 3000 },
        { id: 't', type: 'transport', selectedCandidatePairId: 'p1' },
        {
          id: 'p1',
          type: 'candidate-pair',
          localCandidateId: 'l',
          remoteCandidateId: 'r',
          currentRoundTripTime: 0.012,
        },
        { id: 'l', type: 'local-candidate', candidateType: 'host', protocol: 'udp' },
        { id: 'r', type: 'remote-candidate', candidateType: 'prflx' },
      ]),
    );
    expect(s).toEqual({
      timestamp: 5000,
      bytesReceived: 1500,
      bytesSent: 3000,
      packetsReceived: 30,
      packetsLost: 1,
      jitter: 0.009,
      rtt: 0.012,
      width: 320,
      height: 240,
      fps: 15,
      codecs: ['audio/opus', 'video/VP8'],
      localCandidateType: 'host',
      remoteCandidateType: 'prflx',
      protocol: 'udp',
    });
  });

  it('leaves out what the report lacks and ignores junk entries', () => {
    const s = statsSample(
      report([{ id: 'x', type: 'inbound-rtp', bytesReceived: 'lots', packetsLost: -5 }]),
    );
    expect(s).toEqual(base({ timestamp: 0 }));
  });
});

describe('statsRates', () => {
  it('is zero without a previous sample', () => {
    expect(statsRates(undefined, base())).toEqual({ kbpsIn: 0, kbpsOut: 0, lossPercent: 0 });
  });

  it('gives kbit/s over the elapsed time and the loss share of the interval', () => {
    const a = base({ timestamp: 1000, bytesReceived: 10_000, bytesSent: 0, packetsReceived: 100 });
    const b = base({
      timestamp: 3000,
      bytesReceived: 60_000,
      bytesSent: 25_000,
      packetsReceived: 190,
      packetsLost: 10,
    });
    expect(statsRates(a, b)).toEqual({ kbpsIn: 200, kbpsOut: 100, lossPercent: 10 });
  });

  it('never goes negative when counters restart (a new connection) or time stands still', () => {
    const a = base({
      timestamp: 5000,
      bytesReceived: 90_000,
      packetsReceived: 900,
      packetsLost: 9,
    });
    const b = base({ timestamp: 6000, bytesReceived: 1_000, packetsReceived: 10, packetsLost: 0 });
    expect(statsRates(a, b)).toEqual({ kbpsIn: 0, kbpsOut: 0, lossPercent: 0 });
    expect(statsRates(b, { ...b })).toEqual({ kbpsIn: 0, kbpsOut: 0, lossPercent: 0 });
  });
});
