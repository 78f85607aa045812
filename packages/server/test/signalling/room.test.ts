import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { Peer, Room, type Clock, type Timer } from '../../src/signalling/room.js';
import type { TfxSocket } from '../../src/signalling/room.js';

/** A clock whose timers fire only when the test advances it. */
class FakeClock implements Clock {
  private t = 0;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  now(): number {
    return this.t;
  }
  schedule(ms: number, fn: () => void): Timer {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  }
  advance(ms: number): void {
    this.t += ms;
    for (const timer of this.timers.filter((x) => x.live && x.at <= this.t)) {
      timer.live = false;
      timer.fn();
    }
  }
}

const log = createLogger({
  level: 'silent',
  format: 'json',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});

function fakeSocket(): TfxSocket & { sent: Array<[string, unknown]> } {
  const sent: Array<[string, unknown]> = [];
  return {
    sent,
    emit: (ev: string, p: unknown) => sent.push([ev, p]) > 0,
  } as unknown as TfxSocket & {
    sent: Array<[string, unknown]>;
  };
}

function setup(): {
  clock: FakeClock;
  room: Room;
  peer: Peer;
  socket: ReturnType<typeof fakeSocket>;
} {
  const clock = new FakeClock();
  const room = new Room('abc', 'session-1', log);
  const peer = new Peer('p1', room, 'Ann', { audio: true, video: true }, false, log);
  room.add(peer);
  const socket = fakeSocket();
  peer.attach(socket);
  return { clock, room, peer, socket };
}

describe('room and peer ownership', () => {
  it('a peer that goes away expires after the grace period unless it comes back', () => {
    const { clock, peer } = setup();
    let expired = 0;
    peer.detach(1000, clock, () => expired++);
    expect(peer.away).toBe(true);
    clock.advance(999);
    expect(expired).toBe(0);
    peer.attach(fakeSocket());
    clock.advance(5000);
    expect(expired).toBe(0);
    peer.detach(1000, clock, () => expired++);
    clock.advance(1000);
    expect(expired).toBe(1);
  });

  it('relays to an away peer are held and handed back in order on attach', () => {
    const { clock, peer } = setup();
    peer.detach(1000, clock, () => undefined);
    expect(peer.deliver({ event: 'message', payload: { from: 'p2', data: 1 } })).toBe(true);
    expect(
      peer.deliver({ event: 'signal', payload: { from: 'p2', kind: 'candidate', data: null } }),
    ).toBe(true);
    const next = fakeSocket();
    const held = peer.attach(next);
    expect(held.map((x) => x.event)).toEqual(['message', 'signal']);
    peer.deliver({ event: 'message', payload: { from: 'p2', data: 2 } });
    expect(next.sent).toEqual([['message', { from: 'p2', data: 2 }]]);
  });

  it('closing a room closes its peers and cancels their timers; closing twice is harmless', () => {
    const { clock, room, peer } = setup();
    let expired = 0;
    peer.detach(1000, clock, () => expired++);
    let emptied = 0;
    room.startEmptyTimer(500, clock, () => emptied++);
    room.close();
    room.close();
    peer.close();
    clock.advance(10_000);
    expect([expired, emptied]).toEqual([0, 0]);
    expect(peer.closed && room.closed).toBe(true);
    expect(room.peers.size).toBe(0);
    expect(peer.deliver({ event: 'message', payload: { from: 'x', data: 1 } })).toBe(false);
  });

  it('using a closed peer or room fails with a clear error', () => {
    const { room, peer } = setup();
    room.close();
    expect(() => peer.attach(fakeSocket())).toThrow(/peer p1 is closed/);
    expect(() => room.add(peer)).toThrow(/room abc is closed/);
  });

  it('broadcast reaches every connected peer but the one excluded', () => {
    const { room, peer, socket } = setup();
    const other = new Peer('p2', room, 'Bob', { audio: true, video: true }, false, log);
    room.add(other);
    const otherSocket = fakeSocket();
    other.attach(otherSocket);
    room.broadcast(other, 'room-locked', { locked: true });
    expect(socket.sent).toEqual([['room-locked', { locked: true }]]);
    expect(otherSocket.sent).toEqual([]);
    expect(room.othersOf(peer).map((p) => p.id)).toEqual(['p2']);
  });
});
