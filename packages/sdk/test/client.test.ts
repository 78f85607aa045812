import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION, type JoinResult } from '@tfx/protocol';
import { TfxClient } from '../src/client.js';
import { LocalMedia } from '../src/local.js';
import type { TfxSocket } from '../src/signalling.js';
import { FakePeerConnection, FakeSocket, ManualClock, settle } from './fakes.js';

const joinResult: JoinResult = {
  protocol: PROTOCOL_VERSION,
  peerId: 'p1',
  room: 'room-one',
  sessionId: 's1',
  peers: [],
  iceServers: [],
  resumeToken: 'token-1',
  resumeGraceMs: 20_000,
  moderator: false,
  capacity: 6,
  locked: false,
  hasPassword: false,
};

/** A client whose every signalling connection is a fake socket the test plays the server of. */
function setup() {
  const sockets: FakeSocket[] = [];
  const mediaDevices = {} as MediaDevices;
  const client = new TfxClient({
    clock: new ManualClock(),
    mediaDevices,
    createPeerConnection: (c) => new FakePeerConnection(c) as unknown as RTCPeerConnection,
    connect: () => {
      const s = new FakeSocket();
      s.acks.set('join', () => ({ ok: true, ...joinResult }));
      sockets.push(s);
      return s as unknown as TfxSocket;
    },
  });
  const media = LocalMedia.receiveOnly(client.devices);
  return { client, sockets, media };
}

describe('TfxClient.preconnect', () => {
  // join() checks what the browser offers; Node has neither.
  beforeEach(() => {
    vi.stubGlobal('RTCPeerConnection', FakePeerConnection);
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia: () => Promise.reject() } });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('opens the signalling connection before join, and join sends its request on that connection', async () => {
    const { client, sockets, media } = setup();
    client.preconnect();
    client.preconnect();
    expect(sockets).toHaveLength(1);
    expect(sockets[0]?.connects).toEqual([{ protocol: PROTOCOL_VERSION }]);
    sockets[0]?.accept();
    const room = await client.join('room-one', { name: 'Ann', media });
    expect(sockets).toHaveLength(1);
    expect(sockets[0]?.connects).toHaveLength(1);
    expect(sockets[0]?.emitted.map((e) => e.event)).toEqual(['join']);
    expect(room.signalling.socket).toBe(sockets[0]);
    expect(room.peerId).toBe('p1');
  });

  it('join waits for a preconnection still under way rather than opening another', async () => {
    const { client, sockets, media } = setup();
    client.preconnect();
    const joining = client.join('room-one', { name: 'Ann', media });
    await settle();
    expect(sockets[0]?.emitted).toEqual([]);
    sockets[0]?.accept();
    await joining;
    expect(sockets).toHaveLength(1);
    expect(sockets[0]?.emitted.map((e) => e.event)).toEqual(['join']);
  });

  it('join opens the preconnected connection again when it dropped before joining', async () => {
    const { client, sockets, media } = setup();
    client.preconnect();
    sockets[0]?.accept();
    await settle();
    sockets[0]?.drop('transport close');
    const joining = client.join('room-one', { name: 'Ann', media });
    await settle();
    expect(sockets[0]?.connects).toHaveLength(2);
    sockets[0]?.accept();
    await joining;
    expect(sockets[0]?.emitted.map((e) => e.event)).toEqual(['join']);
  });

  it('join reports the refusal of a preconnection (version-mismatch) after trying once more', async () => {
    const { client, sockets, media } = setup();
    client.preconnect();
    sockets[0]?.refuse('version-mismatch');
    const joining = client.join('room-one', { name: 'Ann', media });
    await settle();
    expect(sockets[0]?.connects).toHaveLength(2);
    sockets[0]?.refuse('version-mismatch');
    await expect(joining).rejects.toMatchObject({ code: 'version-mismatch' });
    // The next join starts afresh with a new connection.
    const again = client.join('room-one', { name: 'Ann', media });
    await settle();
    expect(sockets).toHaveLength(2);
    sockets[1]?.accept();
    await expect(again).resolves.toBeDefined();
  });
});

/** What LocalMedia.stream needs of a MediaStream (Node has none). */
class FakeMediaStream {
  getTracks(): MediaStreamTrack[] {
    return [];
  }
}

/** A client joined to 'room-one' whose join answer lists `peers`; its socket. */
async function joinWith(peers: JoinResult['peers']) {
  const { client, sockets, media } = setup();
  client.preconnect();
  sockets[0]!.acks.set('join', () => ({ ok: true, ...joinResult, peers }));
  sockets[0]!.accept();
  const room = await client.join('room-one', { name: 'Ann', media });
  return { room, socket: sockets[0]! };
}

/** Whom the client sent offers to, in order. */
const offersTo = (socket: FakeSocket) =>
  socket.emitted
    .filter((e) => e.event === 'signal' && (e.payload as { kind: string }).kind === 'offer')
    .map((e) => (e.payload as { to: string }).to);

describe('Room.offersSent', () => {
  beforeEach(() => {
    vi.stubGlobal('MediaStream', FakeMediaStream);
    vi.stubGlobal('RTCPeerConnection', FakePeerConnection);
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia: () => Promise.reject() } });
  });
  afterEach(() => vi.unstubAllGlobals());

  const peer = (id: string) => ({ id, name: id, state: { audio: true, video: true } });

  it('resolves once an offer has gone out to every peer present at join', async () => {
    const { room, socket } = await joinWith([peer('p2'), peer('p3')]);
    expect(offersTo(socket)).toEqual([]);
    await room.offersSent;
    expect(offersTo(socket).sort()).toEqual(['p2', 'p3']);
  });

  it('resolves at once in an empty room', async () => {
    const { room } = await joinWith([]);
    let done = false;
    void room.offersSent.then(() => (done = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(done).toBe(true);
  });

  it('is not held up by a peer that left before its offer went out, nor by leaving', async () => {
    const { room, socket } = await joinWith([peer('p2')]);
    socket.fire('peer-left', { peerId: 'p2', reason: 'left' });
    await expect(room.offersSent).resolves.toBeUndefined();
    const second = await joinWith([peer('p4')]);
    void second.room.leave();
    await expect(second.room.offersSent).resolves.toBeUndefined();
  });
});

describe('Room.descriptionSent', () => {
  beforeEach(() => {
    vi.stubGlobal('MediaStream', FakeMediaStream);
    vi.stubGlobal('RTCPeerConnection', FakePeerConnection);
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia: () => Promise.reject() } });
  });
  afterEach(() => vi.unstubAllGlobals());

  async function joined() {
    const { client, sockets, media } = setup();
    client.preconnect();
    sockets[0]!.accept();
    const room = await client.join('room-one', { name: 'Ann', media });
    return { room, socket: sockets[0]! };
  }
  const answersTo = (socket: FakeSocket) =>
    socket.emitted
      .filter((e) => e.event === 'signal' && (e.payload as { kind: string }).kind === 'answer')
      .map((e) => (e.payload as { to: string }).to);

  it('for someone who joins after us: resolves once our answer to their offer has gone out, not before', async () => {
    const { room, socket } = await joined();
    const seen: string[] = [];
    room.on('peer-joined', (p) => {
      void room
        .descriptionSent(p)
        .then(() => seen.push(`sent, answers so far: ${answersTo(socket).join()}`));
    });
    socket.fire('peer-joined', { id: 'p9', name: 'Bob', state: { audio: true, video: true } });
    await settle();
    expect(seen).toEqual([]);
    socket.fire('signal', { from: 'p9', kind: 'offer', data: { type: 'offer', sdp: 'v=0' } });
    await settle();
    expect(seen).toEqual(['sent, answers so far: p9']);
  });

  it('resolves when that peer leaves before any description, and at once for a peer not in the room', async () => {
    const { room, socket } = await joined();
    let done = false;
    room.on('peer-joined', (p) => void room.descriptionSent(p).then(() => (done = true)));
    socket.fire('peer-joined', { id: 'p9', name: 'Bob', state: { audio: true, video: true } });
    await settle();
    expect(done).toBe(false);
    const bob = room.peers.get('p9')!;
    socket.fire('peer-left', { peerId: 'p9', reason: 'left' });
    await settle();
    expect(done).toBe(true);
    await expect(room.descriptionSent(bob)).resolves.toBeUndefined();
  });
});

describe('Room.holdEvents', () => {
  beforeEach(() => {
    vi.stubGlobal('MediaStream', FakeMediaStream);
    vi.stubGlobal('RTCPeerConnection', FakePeerConnection);
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia: () => Promise.reject() } });
  });
  afterEach(() => vi.unstubAllGlobals());

  const bob = { id: 'p9', name: 'Bob', state: { audio: true, video: true } };
  const joined = (peers: JoinResult['peers'] = []) => joinWith(peers);

  it('holds the events back, in order, for the listeners there are at release; the call goes on', async () => {
    const { room, socket } = await joined([{ id: 'p2', name: 'Cy', state: bob.state }]);
    const release = room.holdEvents();
    await room.offersSent;
    // The offer went out while held.
    expect(offersTo(socket)).toEqual(['p2']);
    socket.fire('peer-joined', bob);
    socket.fire('peer-updated', { ...bob, name: 'Bobby' });
    socket.fire('peer-left', { peerId: 'p9', reason: 'left' });
    await settle();
    // The room's state moved on; its events did not come out.
    expect(room.peers.has('p9')).toBe(false);
    const seen: string[] = [];
    room.on('peer-joined', (p) => seen.push(`joined ${p.id}`));
    room.on('peer-updated', (p) => seen.push(`updated ${p.name}`));
    room.on('peer-left', ({ peer }) => seen.push(`left ${peer.id}`));
    expect(seen).toEqual([]);
    release();
    expect(seen).toEqual(['joined p9', 'updated Bobby', 'left p9']);
    // Released once: a second call does nothing, and later events come at once.
    release();
    socket.fire('peer-joined', { ...bob, id: 'p10' });
    expect(seen).toEqual(['joined p9', 'updated Bobby', 'left p9', 'joined p10']);
  });

  it('delivers events caused by a listener during the release after the held ones', async () => {
    const { room, socket } = await joined();
    const release = room.holdEvents();
    socket.fire('peer-joined', bob);
    socket.fire('peer-joined', { ...bob, id: 'p10' });
    const seen: string[] = [];
    room.on('peer-joined', (p) => {
      seen.push(`joined ${p.id}`);
      // A listener that causes another event (here: the server says p9 left).
      if (p.id === 'p9') socket.fire('peer-left', { peerId: 'p9', reason: 'left' });
    });
    room.on('peer-left', ({ peer }) => seen.push(`left ${peer.id}`));
    release();
    expect(seen).toEqual(['joined p9', 'joined p10', 'left p9']);
  });

  it('waits for every hold to end', async () => {
    const { room, socket } = await joined();
    const first = room.holdEvents();
    const second = room.holdEvents();
    const seen: string[] = [];
    room.on('peer-joined', (p) => seen.push(p.id));
    socket.fire('peer-joined', bob);
    first();
    expect(seen).toEqual([]);
    second();
    expect(seen).toEqual(['p9']);
  });

  it("gives a held 'left' to the listeners there are at release, then drops them", async () => {
    const { room, socket } = await joined();
    socket.acks.set('leave', () => ({ ok: true }));
    const release = room.holdEvents();
    await room.leave();
    expect(room.closed).toBe(true);
    const seen: string[] = [];
    room.on('left', ({ reason }) => seen.push(reason));
    release();
    expect(seen).toEqual(['left']);
    // Listeners are dropped after 'left' as without a hold.
    room.on('left', ({ reason }) => seen.push(`again ${reason}`));
    expect(seen).toEqual(['left']);
  });
});

describe('Room.setHandRaised', () => {
  beforeEach(() => {
    vi.stubGlobal('MediaStream', FakeMediaStream);
    vi.stubGlobal('RTCPeerConnection', FakePeerConnection);
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia: () => Promise.reject() } });
  });
  afterEach(() => vi.unstubAllGlobals());

  it('raises and lowers the hand: one update each (none when unchanged), in localState and local-state', async () => {
    const { client, sockets, media } = setup();
    client.preconnect();
    sockets[0]!.accept();
    const room = await client.join('room-one', { name: 'Ann', media });
    const socket = sockets[0]!;
    socket.acks.set('update', () => ({ ok: true }));
    socket.acks.set('leave', () => ({ ok: true }));
    const seen: boolean[] = [];
    room.on('local-state', (st) => seen.push(!!st.hand));
    const updates = () =>
      socket.emitted
        .filter((e) => e.event === 'update')
        .map((e) => (e.payload as { state: { hand?: boolean } }).state.hand);
    expect(room.handRaised).toBe(false);
    room.setHandRaised(true);
    room.setHandRaised(true);
    expect(room.handRaised).toBe(true);
    expect(room.localState.hand).toBe(true);
    room.setHandRaised(false);
    expect(updates()).toEqual([true, false]);
    expect(seen).toEqual([true, false]);
    await room.leave();
    expect(() => room.setHandRaised(true)).toThrow();
  });
});
