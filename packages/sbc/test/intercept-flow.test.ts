/**
 * LawfulIntercept (intercept.ts) on a ManualClock with a fake engine and delivery: what a
 * matching call's channel receives (messages recorded before it opened, then each one as it
 * passes, leg A's and leg B's — B's Call-ID learned late — in order, nothing of other calls),
 * the engine's `forward` to the channel once the offer is in, the drain after the end, and
 * failures counted without a throw.
 */
import { describe, expect, it } from 'vitest';
import type { MediaEngine } from '@tfx/media';
import { ManualClock, parseMessage, silentLogger, type SipMessage } from '@tfx/sip';
import {
  DRAIN_MS,
  LawfulIntercept,
  type InterceptChannel,
  type InterceptDelivery,
  type InterceptRecord,
  type MediaLegMap,
  type SbcCall,
} from '../src/index.js';
import { SignalRecord } from '../src/signals.js';

const msg = (callId: string, first: string, cseq = '1 INVITE'): SipMessage => {
  const r = parseMessage(
    new TextEncoder().encode(
      `${first}\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK${Math.random()}\r\n` +
        `From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>\r\nCall-ID: ${callId}\r\nCSeq: ${cseq}\r\n` +
        'Content-Length: 0\r\n\r\n',
    ),
  );
  if (!r.ok) throw new Error('bad test message');
  return r.message;
};

const EP = { address: '127.0.0.1', port: 5060 };

function rig(o: { open?: 'fail' } = {}) {
  const clock = new ManualClock(1000);
  const signals = new SignalRecord();
  const records: InterceptRecord[] = [];
  const media: MediaLegMap[] = [];
  const forwards: unknown[] = [];
  let closed = 0;
  let opened = 0;
  const channel: InterceptChannel = {
    mediaAddress: { address: '127.0.0.9', port: 40000 },
    deliver: (r) => records.push(r),
    media: (m) => media.push(m),
    close: () => closed++,
  };
  const delivery: InterceptDelivery = {
    open: () => {
      opened++;
      return o.open === 'fail' ? Promise.reject(new Error('no way')) : Promise.resolve(channel);
    },
  };
  const engine = {
    kind: 'builtin',
    capabilities: { forward: true },
    forward: (key: unknown, dest: unknown) => {
      forwards.push({ key, dest });
      return Promise.resolve();
    },
    query: () =>
      Promise.resolve({
        callId: 'm1',
        createdAt: 0,
        legs: [{ tag: 'a', local: { address: '127.0.0.9', port: 30000 } }],
      }),
  } as unknown as MediaEngine;
  const legs = ['A-call'];
  const call = {
    id: 'sbc-1',
    mediaId: 'm1',
    a: { mediaTag: 'a' },
    b: { mediaTag: 'b' },
  } as unknown as SbcCall;
  const li = new LawfulIntercept({
    targets: () => [{ id: 'li-t-1', kind: 'user', value: 'alice' }],
    delivery,
    engine,
    signals,
    legs: () => legs,
    clock,
    logger: silentLogger,
  });
  const tap = li.wrap(signals.tap);
  const send = (dir: 'in' | 'out', m: SipMessage): void =>
    tap.record(dir, 'udp', EP, { address: '127.0.0.2', port: 5062 }, m, clock.now());
  const flush = () => new Promise((r) => setTimeout(r, 0));
  return {
    li,
    call,
    legs,
    send,
    records,
    media,
    forwards,
    clock,
    flush,
    counts: () => ({ opened, closed }),
  };
}

const facts = (user: string) => ({ users: [user], numbers: [], source: '192.0.2.1' });

describe('LawfulIntercept', () => {
  it('opens nothing for a call that matches no target', async () => {
    const r = rig();
    r.li.consider(r.call, facts('bob'), Promise.resolve());
    await r.flush();
    expect(r.counts().opened).toBe(0);
    expect(r.li.counters.intercepted).toBe(0);
  });

  it('delivers both legs’ messages in order, the early ones once the channel opens, nothing else', async () => {
    const r = rig();
    r.send('in', msg('A-call', 'INVITE sip:b@x SIP/2.0'));
    r.li.consider(r.call, facts('alice'), Promise.resolve());
    r.send('out', msg('B-call', 'INVITE sip:b@y SIP/2.0')); // not yet the call's leg B
    await r.flush();
    expect(r.records.map((x) => x.leg)).toEqual(['a']);
    r.legs.push('B-call'); // leg B exists now
    r.send('in', msg('B-call', 'SIP/2.0 180 Ringing'));
    r.send('in', msg('other', 'INVITE sip:z@x SIP/2.0'));
    r.send('out', msg('A-call', 'SIP/2.0 180 Ringing'));
    expect(
      r.records.map(
        (x) => `${x.leg}${x.direction} ${new TextDecoder().decode(x.bytes).split('\r\n')[0]}`,
      ),
    ).toEqual([
      'ain INVITE sip:b@x SIP/2.0',
      'bout INVITE sip:b@y SIP/2.0',
      'bin SIP/2.0 180 Ringing',
      'aout SIP/2.0 180 Ringing',
    ]);
    expect(r.li.counters).toMatchObject({ intercepted: 1, messages: 4, failed: 0 });
  });

  it('has the engine forward the media to the channel, and tells it which port is leg A', async () => {
    const r = rig();
    r.li.consider(r.call, facts('alice'), Promise.resolve());
    await r.flush();
    await r.flush();
    expect(r.forwards).toEqual([
      { key: { callId: 'm1' }, dest: { address: '127.0.0.9', port: 40000 } },
    ]);
    expect(r.media).toEqual([{ by: 'source', a: 30000 }]);
    // The caller's 2xx: asked again (leg B's address), not forwarded twice.
    r.send('out', msg('A-call', 'SIP/2.0 200 OK'));
    await r.flush();
    await r.flush();
    expect(r.forwards).toHaveLength(1);
    expect(r.media).toHaveLength(2);
  });

  it('copies no media for a call whose media is not in the engine', async () => {
    const r = rig();
    r.li.consider(r.call, facts('alice'), undefined);
    await r.flush();
    r.send('out', msg('A-call', 'SIP/2.0 200 OK'));
    await r.flush();
    expect(r.forwards).toEqual([]);
    expect(r.media).toEqual([]);
    expect(r.records).toHaveLength(1);
  });

  it('keeps copying for DRAIN_MS after the end, then closes the channel once', async () => {
    const r = rig();
    r.li.consider(r.call, facts('alice'), Promise.resolve());
    await r.flush();
    r.li.ended(r.call);
    r.send('in', msg('A-call', 'SIP/2.0 200 OK', '2 BYE'));
    expect(r.records).toHaveLength(1);
    expect(r.li.active).toBe(1);
    r.clock.advance(DRAIN_MS);
    expect(r.counts().closed).toBe(1);
    expect(r.li.active).toBe(0);
    r.send('in', msg('A-call', 'ACK sip:b@x SIP/2.0', '2 ACK'));
    expect(r.records).toHaveLength(1);
    r.li.close();
    r.li.close();
    expect(r.counts().closed).toBe(1);
  });

  it('counts a delivery that cannot open, and the call goes on (no throw)', async () => {
    const r = rig({ open: 'fail' });
    r.li.consider(r.call, facts('alice'), Promise.resolve());
    await r.flush();
    r.send('in', msg('A-call', 'BYE sip:b@x SIP/2.0', '2 BYE'));
    expect(r.li.counters).toMatchObject({ intercepted: 1, failed: 1 });
    expect(r.records).toEqual([]);
  });
});
