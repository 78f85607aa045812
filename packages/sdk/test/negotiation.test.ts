import { describe, expect, it } from 'vitest';
import { PeerLink, isPolite, type PeerSignal } from '../src/peer.js';
import { FakePeerConnection, ManualClock, settle } from './fakes.js';

interface Pair {
  a: PeerLink;
  b: PeerLink;
  pcA: FakePeerConnection;
  pcB: FakePeerConnection;
  /** Signals in flight, by destination. */
  queue: Array<{ to: 'a' | 'b'; sig: PeerSignal }>;
  flush(): Promise<void>;
  errors: Error[];
}

/** Two links wired through a network that holds signals until `flush()`. */
function pair(clock = new ManualClock()): Pair {
  let pcA!: FakePeerConnection;
  let pcB!: FakePeerConnection;
  const a = new PeerLink({
    localId: 'a',
    remoteId: 'b',
    polite: isPolite('a', 'b'),
    config: {},
    clock,
    createPeerConnection: (c) => (pcA = new FakePeerConnection(c)) as unknown as RTCPeerConnection,
  });
  const b = new PeerLink({
    localId: 'b',
    remoteId: 'a',
    polite: isPolite('b', 'a'),
    config: {},
    clock,
    createPeerConnection: (c) => (pcB = new FakePeerConnection(c)) as unknown as RTCPeerConnection,
  });
  const queue: Pair['queue'] = [];
  const errors: Error[] = [];
  a.on('signal', (sig) => queue.push({ to: 'b', sig }));
  b.on('signal', (sig) => queue.push({ to: 'a', sig }));
  a.on('error', (e) => errors.push(e));
  b.on('error', (e) => errors.push(e));
  const flush = async (): Promise<void> => {
    for (let round = 0; round < 50; round++) {
      await settle();
      if (queue.length === 0) {
        await settle();
        if (queue.length === 0) return;
      }
      const batch = queue.splice(0);
      for (const m of batch) void (m.to === 'a' ? a : b).handleSignal(m.sig);
    }
  };
  return { a, b, pcA, pcB, queue, flush, errors };
}

describe('perfect negotiation (W3C WebRTC §10.7)', () => {
  it('the smaller peer id is the polite one', () => {
    expect(isPolite('a', 'b')).toBe(true);
    expect(isPolite('b', 'a')).toBe(false);
  });

  it('one side starting reaches stable on both sides with one offer and one answer', async () => {
    const p = pair();
    p.a.start();
    await p.flush();
    expect(p.pcA.signalingState).toBe('stable');
    expect(p.pcB.signalingState).toBe('stable');
    expect(p.a.counters.offersSent).toBe(1);
    expect(p.b.counters.answersSent).toBe(1);
    expect(p.b.counters.offersSent).toBe(0);
    expect(p.errors).toEqual([]);
  });

  it('sends a sources announcement before each description', async () => {
    const p = pair();
    p.a.start();
    await settle();
    const kinds = p.queue.map((m) => m.sig.type);
    expect(kinds.slice(0, 2)).toEqual(['sources', 'description']);
  });

  it('on glare the polite side rolls back and answers, the impolite side ignores the offer, and both end stable', async () => {
    const p = pair();
    // Both start in the same tick: two offers cross in flight.
    p.a.start();
    p.b.start();
    await settle();
    expect(p.pcA.signalingState).toBe('have-local-offer');
    expect(p.pcB.signalingState).toBe('have-local-offer');
    await p.flush();
    expect(p.a.counters.collisions).toBe(1);
    expect(p.a.counters.rollbacks).toBe(1);
    expect(p.pcA.rollbacks).toBe(1);
    expect(p.b.counters.collisions).toBe(1);
    expect(p.b.counters.ignoredOffers).toBe(1);
    expect(p.b.counters.rollbacks).toBe(0);
    expect(p.pcA.signalingState).toBe('stable');
    expect(p.pcB.signalingState).toBe('stable');
    // The polite side's own changes are negotiated afterwards.
    expect(p.a.counters.offersSent).toBe(2);
    expect(p.errors).toEqual([]);
  });

  it('candidates of an ignored offer are dropped without an error', async () => {
    const p = pair();
    p.a.start();
    p.b.start();
    await settle();
    // a trickles a candidate for its (about to be ignored) offer.
    p.pcA.emitCandidate('candidate:1 1 udp 1 127.0.0.1 5000 typ host');
    await p.flush();
    expect(p.b.counters.ignoredOffers).toBe(1);
    expect(p.errors).toEqual([]);
  });

  it('renegotiation can start from either side at any moment', async () => {
    const p = pair();
    p.a.start();
    await p.flush();
    p.b.restartIce();
    await p.flush();
    p.a.restartIce();
    p.b.restartIce();
    await p.flush();
    expect(p.pcA.signalingState).toBe('stable');
    expect(p.pcB.signalingState).toBe('stable');
    expect(p.pcA.restarts).toBe(1);
    expect(p.pcB.restarts).toBe(2);
    expect(p.errors).toEqual([]);
  });
});

describe('ICE restart requests', () => {
  it('asks for a restart at once when the connection fails', () => {
    const clock = new ManualClock();
    const p = pair(clock);
    const asks: number[] = [];
    p.a.on('ice-restart-needed', (e) => asks.push(e.attempt));
    p.pcA.setConnectionState('failed');
    expect(asks).toEqual([1]);
  });

  it('asks after disconnected lasts, repeats while not connected, and stops once connected', () => {
    const clock = new ManualClock();
    const p = pair(clock);
    const asks: number[] = [];
    p.a.on('ice-restart-needed', (e) => asks.push(e.attempt));
    p.pcA.setConnectionState('connected');
    p.pcA.setConnectionState('disconnected');
    clock.advance(2999);
    expect(asks).toEqual([]);
    clock.advance(1);
    expect(asks).toEqual([1]);
    clock.advance(30_000);
    expect(asks.length).toBeGreaterThan(2);
    const n = asks.length;
    p.pcA.setConnectionState('connected');
    clock.advance(60_000);
    expect(asks.length).toBe(n);
    expect(clock.pending).toBe(0);
  });

  it('a disconnect that heals by itself asks for nothing', () => {
    const clock = new ManualClock();
    const p = pair(clock);
    const asks: number[] = [];
    p.a.on('ice-restart-needed', (e) => asks.push(e.attempt));
    p.pcA.setConnectionState('disconnected');
    clock.advance(1000);
    p.pcA.setConnectionState('connected');
    clock.advance(10_000);
    expect(asks).toEqual([]);
  });

  it('restartIce installs fresh ICE servers before restarting', () => {
    const p = pair();
    const servers = [{ urls: 'turn:127.0.0.1:3478', username: '1:a', credential: 'x' }];
    p.a.restartIce(servers);
    expect(p.pcA.config.iceServers).toEqual(servers);
    expect(p.pcA.restarts).toBe(1);
    expect(p.a.counters.iceRestarts).toBe(1);
  });
});

describe('PeerLink lifecycle', () => {
  it('close is idempotent, closes the connection and stops its timers', () => {
    const clock = new ManualClock();
    const p = pair(clock);
    p.pcA.setConnectionState('disconnected');
    p.a.close();
    p.a.close();
    expect(p.pcA.closed).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('setting a track after close fails with a clear error', async () => {
    const p = pair();
    p.a.close();
    await expect(p.a.setLocalTrack('camera', null)).rejects.toThrow(/closed/);
  });
});
