import { describe, expect, it } from 'vitest';
import { BackoffReconnectPolicy, NEVER_RECONNECT } from '../src/reconnect.js';
import {
  ChatHistory,
  isLongestPresent,
  parseChannelMessage,
  type ChatMessage,
} from '../src/chat.js';
import {
  audioCaps,
  applyCaps,
  cameraCaps,
  scaleFor,
  screenCaps,
  withCaps,
} from '../src/bitrate.js';
import { computeQuality, summarizeStats, type PeerStats } from '../src/stats.js';
import { credentialExpiry, turnRefreshDelay } from '../src/turn.js';

describe('BackoffReconnectPolicy', () => {
  const ctx = { retryable: true, elapsedMs: 0 };
  it('grows the delay exponentially up to the maximum', () => {
    const p = new BackoffReconnectPolicy({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map((n) => p.nextDelay(n, ctx))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });
  it('spreads delays with jitter within bounds', () => {
    const lo = new BackoffReconnectPolicy({ initialDelayMs: 1000, jitter: 0.2, random: () => 0 });
    const hi = new BackoffReconnectPolicy({
      initialDelayMs: 1000,
      jitter: 0.2,
      random: () => 0.999999,
    });
    expect(lo.nextDelay(1, ctx)).toBe(800);
    expect(hi.nextDelay(1, ctx)).toBe(1200);
  });
  it('gives up at once on a non-retryable error', () => {
    expect(
      new BackoffReconnectPolicy().nextDelay(1, {
        code: 'version-mismatch',
        retryable: false,
        elapsedMs: 0,
      }),
    ).toBeNull();
  });
  it('gives up after the attempt limit or the time limit', () => {
    const p = new BackoffReconnectPolicy({ maxAttempts: 3, maxElapsedMs: 10_000 });
    expect(p.nextDelay(3, ctx)).not.toBeNull();
    expect(p.nextDelay(4, ctx)).toBeNull();
    expect(p.nextDelay(1, { retryable: true, elapsedMs: 10_000 })).toBeNull();
  });
  it('NEVER_RECONNECT never reconnects', () => {
    expect(NEVER_RECONNECT.nextDelay(1, ctx)).toBeNull();
  });
});

const msg = (i: number, ts = i, from = 'p'): ChatMessage => ({
  id: `${from}-${i}`,
  from,
  name: 'N',
  text: `m${i}`,
  ts,
});

describe('ChatHistory', () => {
  it('keeps only the last 200 messages', () => {
    const h = new ChatHistory();
    for (let i = 0; i < 250; i++) h.add(msg(i));
    expect(h.size).toBe(200);
    expect(h.messages()[0]?.id).toBe('p-50');
    expect(h.messages()[199]?.id).toBe('p-249');
  });
  it('drops duplicates by id', () => {
    const h = new ChatHistory();
    expect(h.add(msg(1))).toBe(true);
    expect(h.add(msg(1))).toBe(false);
    expect(h.size).toBe(1);
  });
  it('merges an offered history in timestamp order and reports only what was new', () => {
    const h = new ChatHistory();
    h.add(msg(5, 50));
    const fresh = h.merge([msg(1, 10), msg(5, 50), msg(3, 30)]);
    expect(fresh.map((m) => m.id)).toEqual(['p-1', 'p-3']);
    expect(h.messages().map((m) => m.ts)).toEqual([10, 30, 50]);
  });
  it('keeps a merged history within the limit', () => {
    const h = new ChatHistory(3);
    h.merge([msg(1), msg(2), msg(3), msg(4)].map((m) => m));
    expect(h.messages().map((m) => m.id)).toEqual(['p-2', 'p-3', 'p-4']);
  });
});

describe('chat channel frames', () => {
  it('parses chat and history frames', () => {
    expect(parseChannelMessage(JSON.stringify({ t: 'chat', msg: msg(1) }))).toEqual({
      t: 'chat',
      msg: msg(1),
    });
    expect(
      parseChannelMessage(JSON.stringify({ t: 'history', msgs: [msg(1), { bad: true }] })),
    ).toEqual({ t: 'history', msgs: [msg(1)] });
  });
  it('drops malformed frames instead of throwing', () => {
    for (const raw of [
      '',
      '{',
      'null',
      '[]',
      '{"t":"chat"}',
      '{"t":"nope"}',
      JSON.stringify({ t: 'chat', msg: { ...msg(1), text: 'x'.repeat(5000) } }),
    ]) {
      expect(parseChannelMessage(raw)).toBeNull();
    }
    expect(parseChannelMessage(42)).toBeNull();
  });
});

describe('who offers the chat history to a newcomer', () => {
  it('only the longest-present peer: none of the peers older than it is still here', () => {
    expect(isLongestPresent(new Set(), ['b', 'c'])).toBe(true);
    expect(isLongestPresent(new Set(['a']), ['a', 'c'])).toBe(false);
    // Once the older peer left, the next oldest takes over.
    expect(isLongestPresent(new Set(['a']), ['c'])).toBe(true);
  });
});

describe('bitrate and resolution caps by mesh size', () => {
  it('lower the per-peer camera bitrate and height as peers are added', () => {
    const caps = [1, 2, 3, 4, 5].map(cameraCaps);
    for (let i = 1; i < caps.length; i++) {
      expect(caps[i]!.maxBitrate).toBeLessThan(caps[i - 1]!.maxBitrate);
      expect(caps[i]!.maxHeight).toBeLessThanOrEqual(caps[i - 1]!.maxHeight);
    }
    // Total upload stays within a home uplink (~3 Mbit/s) up to 6 participants.
    for (let n = 1; n <= 5; n++)
      expect(cameraCaps(n).maxBitrate * n + audioCaps(n) * n).toBeLessThanOrEqual(3_000_000);
  });
  it('keep screen resolution and lower its rate', () => {
    expect(screenCaps(1).maxHeight).toBe(1080);
    expect(screenCaps(5).maxBitrate).toBeLessThan(screenCaps(1).maxBitrate);
  });
  it('scale a track down to the height cap and never up', () => {
    expect(scaleFor(720, 360)).toBe(2);
    expect(scaleFor(240, 360)).toBe(1);
    expect(scaleFor(undefined, 360)).toBe(1);
  });
  it('write the caps into every encoding', () => {
    const p = withCaps(
      {
        encodings: [{ active: true }],
        transactionId: 't',
        codecs: [],
        headerExtensions: [],
        rtcp: {},
      },
      'video',
      cameraCaps(3),
      720,
    );
    expect(p.encodings[0]).toMatchObject({
      active: true,
      maxBitrate: 600_000,
      scaleResolutionDownBy: 2,
      maxFramerate: 24,
    });
  });
  it('apply with setParameters, and wait for negotiated encodings', async () => {
    let set: RTCRtpSendParameters | undefined;
    const params = {
      encodings: [] as RTCRtpEncodingParameters[],
      transactionId: 't',
      codecs: [],
      headerExtensions: [],
      rtcp: {},
    };
    const sender = {
      track: { kind: 'audio' },
      getParameters: () => params,
      setParameters: async (p: RTCRtpSendParameters) => {
        set = p;
      },
    };
    expect(await applyCaps(sender, { video: cameraCaps(2), audio: audioCaps(2) })).toBe(false);
    params.encodings = [{}];
    expect(await applyCaps(sender, { video: cameraCaps(2), audio: audioCaps(2) })).toBe(true);
    expect(set?.encodings[0]?.maxBitrate).toBe(48_000);
  });
  it('leave a sender that has the caps already alone (no setParameters)', async () => {
    const params = {
      encodings: [{ active: true }] as RTCRtpEncodingParameters[],
      transactionId: 't',
      codecs: [],
      headerExtensions: [],
      rtcp: {},
    };
    let calls = 0;
    const sender = {
      track: { kind: 'video', getSettings: () => ({ height: 480 }) },
      getParameters: () => params,
      setParameters: async (p: RTCRtpSendParameters) => {
        calls++;
        params.encodings = p.encodings;
      },
    };
    const caps = { video: cameraCaps(2), audio: audioCaps(2) };
    expect(await applyCaps(sender, caps)).toBe(true);
    expect(await applyCaps(sender, caps)).toBe(false);
    expect(calls).toBe(1);
    // Another mesh size is a change again.
    expect(await applyCaps(sender, { ...caps, video: cameraCaps(3) })).toBe(true);
    expect(calls).toBe(2);
  });
});

describe('stats summaries and the quality indicator', () => {
  const report = (bytes: number, packets: number, lost: number, rtt = 0.01): Map<string, unknown> =>
    new Map<string, unknown>([
      [
        'in',
        {
          id: 'in',
          type: 'inbound-rtp',
          kind: 'video',
          bytesReceived: bytes,
          packetsReceived: packets,
          packetsLost: lost,
          framesDecoded: packets,
          frameWidth: 320,
          frameHeight: 240,
          timestamp: 1,
        },
      ],
      ['out', { id: 'out', type: 'outbound-rtp', kind: 'video', bytesSent: 5, timestamp: 1 }],
      ['t', { id: 't', type: 'transport', selectedCandidatePairId: 'cp' }],
      [
        'cp',
        {
          id: 'cp',
          type: 'candidate-pair',
          localCandidateId: 'l',
          remoteCandidateId: 'r',
          currentRoundTripTime: rtt,
        },
      ],
      ['l', { id: 'l', type: 'local-candidate', candidateType: 'relay', protocol: 'udp' }],
      ['r', { id: 'r', type: 'remote-candidate', candidateType: 'relay' }],
    ]);
  it('summarises inbound, outbound and the selected candidate pair', () => {
    const s = summarizeStats(report(1000, 10, 0));
    expect(s).toMatchObject({
      bytesReceived: 1000,
      framesDecoded: 10,
      bytesSent: 5,
      localCandidateType: 'relay',
      remoteCandidateType: 'relay',
      protocol: 'udp',
      rtt: 0.01,
    });
    expect(s.inbound[0]).toMatchObject({ frameWidth: 320, frameHeight: 240 });
  });
  const q = (prev: PeerStats, cur: PeerStats, state = 'connected'): string =>
    computeQuality(state, prev, cur);
  it('is good with flowing media, fair/poor with loss or delay, lost when nothing arrives or ICE is down', () => {
    const a = summarizeStats(report(1000, 100, 0));
    expect(q(a, summarizeStats(report(2000, 200, 0)))).toBe('good');
    expect(q(a, summarizeStats(report(2000, 195, 5)))).toBe('fair');
    expect(q(a, summarizeStats(report(2000, 180, 20)))).toBe('poor');
    expect(q(a, summarizeStats(report(2000, 200, 0, 0.8)))).toBe('poor');
    expect(q(a, summarizeStats(report(1000, 100, 0)))).toBe('lost');
    expect(q(a, summarizeStats(report(2000, 200, 0)), 'disconnected')).toBe('lost');
    expect(computeQuality('connecting', undefined, undefined)).toBe('connecting');
  });
});

describe('TURN credential refresh', () => {
  const servers = (expiry: number): Array<{ urls: string; username?: string }> => [
    { urls: 'stun:x' },
    { urls: 'turn:x', username: `${expiry}:peer1` },
  ];
  it('reads the expiry from a TURN REST username', () => {
    expect(credentialExpiry(servers(1_900_000_000))).toBe(1_900_000_000_000);
    expect(credentialExpiry([{ urls: 'stun:x' }])).toBeUndefined();
  });
  it('refreshes well before the expiry, never in a storm, and not at all without expiry', () => {
    const now = 1_800_000_000_000;
    expect(turnRefreshDelay(servers(now / 1000 + 86_400), now)).toBe(Math.round(86_400_000 * 0.8));
    expect(turnRefreshDelay(servers(now / 1000 + 60), now)).toBe(48_000);
    expect(turnRefreshDelay(servers(now / 1000 - 10), now)).toBe(5_000);
    expect(turnRefreshDelay([{ urls: 'stun:x' }], now)).toBeNull();
  });
});
