/**
 * The proxy core (RFC 3261 §16) on an in-memory network with a manual clock: forking, CANCEL,
 * 3xx recursion, Timer C and the §16.7 choice of the best response.
 */
import { describe, expect, it } from 'vitest';
import {
  CANCEL_WAIT_MS,
  SERIAL_GROUP_MS,
  TIMER_C_MS,
  type Endpoint,
  type SipMessage,
} from '../../src/index.js';
import { Net, P, UAC, Uac, Uas, dropOnce, proxy, target, what } from '../support/agents.js';

const B1: Endpoint = { address: '10.0.1.1', port: 5060 };
const B2: Endpoint = { address: '10.0.1.2', port: 5060 };
const B3: Endpoint = { address: '10.0.1.3', port: 5060 };

describe('proxy core: forking (§16.6)', () => {
  it('parallel: equal q-values are tried at once; a 486 loses to the 200', () => {
    const net = new Net();
    const b1 = new Uas(net, B1, { final: { status: 486 } });
    const b2 = new Uas(net, B2, { ring: true, final: { status: 200, afterMs: 1000 } });
    const { core } = proxy(net, () => [target(B1), target(B2)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.advance(50);
    expect(b1.invites).toHaveLength(1);
    expect(b2.invites).toHaveLength(1);
    net.clock.runAll();
    expect(uac.finals).toEqual([200]);
    expect(uac.responses.map((r) => r.status)).toContain(180);
    expect(b2.acks).toHaveLength(1);
    expect(core.size).toBe(0);
  });

  it('serial: a lower q-value is tried only after the higher group failed', () => {
    const net = new Net();
    const b1 = new Uas(net, B1, { ring: true, final: { status: 480, afterMs: 2000 } });
    const b2 = new Uas(net, B2, { final: { status: 200 } });
    proxy(net, () => [target(B2, 0.5), target(B1, 1)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.advance(1000);
    expect(b1.invites).toHaveLength(1);
    expect(b2.invites).toHaveLength(0);
    net.clock.runAll();
    expect(b2.invitedAt).toBeGreaterThanOrEqual(2000);
    expect(uac.finals).toEqual([200]);
  });

  it('serial: a group that rings too long is cancelled after its share of time', () => {
    const net = new Net();
    const b1 = new Uas(net, B1, { ring: true });
    const b2 = new Uas(net, B2, { final: { status: 200 } });
    proxy(net, () => [target(B1, 1), target(B2, 0.5)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.advance(SERIAL_GROUP_MS - 1000);
    expect(b2.invites).toHaveLength(0);
    net.clock.advance(2000);
    expect(b1.cancels).toHaveLength(1);
    net.clock.runAll();
    expect(b2.invites).toHaveLength(1);
    expect(uac.finals).toEqual([200]);
  });

  it('§16.7 step 10: after a 2xx the proxy cancels the branches still ringing', () => {
    const net = new Net();
    const b1 = new Uas(net, B1, { ring: true, final: { status: 200, afterMs: 500 } });
    const b2 = new Uas(net, B2, { ring: true });
    proxy(net, () => [target(B1), target(B2)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.runAll();
    expect(b2.cancels).toHaveLength(1);
    expect(b1.cancels).toHaveLength(0);
    // The 487 of the losing branch is absorbed: the caller sees one final, the 200.
    expect(uac.finals).toEqual([200]);
  });

  it('forks on a lossy network (30 % loss): retransmissions still complete the call', () => {
    let dropped = 0;
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const net = new Net({ loss: 0.3, seed, latencyMs: 5, jitterMs: 5 });
      new Uas(net, B1, { final: { status: 404 } });
      const b2 = new Uas(net, B2, { ring: true, final: { status: 200, afterMs: 300 } });
      proxy(net, () => [target(B1), target(B2)]);
      const uac = new Uac(net);
      uac.invite();
      net.clock.runAll();
      dropped += net.stats.dropped;
      expect(uac.finals[0], `seed ${seed}`).toBe(200);
      expect(b2.acks.length, `seed ${seed}`).toBeGreaterThan(0);
    }
    expect(dropped).toBeGreaterThan(5);
  });
});

describe('proxy core: CANCEL (§16.10)', () => {
  it('a CANCEL from the caller is answered 200 and cancels every pending branch; the caller gets 487', () => {
    const net = new Net();
    const b1 = new Uas(net, B1, { ring: true });
    const b2 = new Uas(net, B2, { ring: true });
    proxy(net, () => [target(B1), target(B2)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.advance(100);
    uac.cancel();
    net.clock.runAll();
    expect(b1.cancels).toHaveLength(1);
    expect(b2.cancels).toHaveLength(1);
    const statuses = uac.responses.map((r) => `${r.status} ${r.headers.cseq()?.method}`);
    expect(statuses).toContain('200 CANCEL');
    expect(uac.finals.filter((s) => s !== 200)).toEqual([487]);
  });

  it('§9.1: a branch without a provisional response gets its CANCEL only after one arrives', () => {
    const net = new Net();
    // B1 stays silent (no 1xx: its 100 Trying comes after 200 ms from the transaction).
    const b1 = new Uas(net, B1, {});
    proxy(net, () => [target(B1)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.advance(20);
    uac.cancel();
    net.clock.advance(50);
    expect(b1.cancels).toHaveLength(0);
    net.clock.runAll();
    expect(b1.cancels).toHaveLength(1);
    expect(uac.finals.filter((s) => s !== 200)).toEqual([487]);
  });
});

describe('proxy core: a callee that never ends its INVITE after a CANCEL (§9.1)', () => {
  it('upstream CANCEL: the branch is given up 64*T1 later and the caller gets its 487', () => {
    const net = new Net();
    const b1 = new Uas(net, B1, { ring: true, ignoreCancel: true });
    const { core, transactions } = proxy(net, () => [target(B1)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.advance(100);
    uac.cancel();
    net.clock.advance(CANCEL_WAIT_MS - 1000);
    expect(b1.cancels).toHaveLength(1);
    expect(uac.finals.filter((s) => s !== 200)).toEqual([]);
    expect(core.size).toBe(1);
    net.clock.advance(2000);
    expect(uac.finals.filter((s) => s !== 200)).toEqual([487]);
    expect(core.size).toBe(0);
    net.clock.runAll();
    // The abandoned INVITE client transaction left the table (nothing lingers for ever).
    expect(transactions.size).toBe(0);
  });

  it('after a 2xx: the losing branch is given up and the context closes', () => {
    const net = new Net();
    const b1 = new Uas(net, B1, { ring: true, final: { status: 200, afterMs: 500 } });
    const b2 = new Uas(net, B2, { ring: true, ignoreCancel: true });
    const { core } = proxy(net, () => [target(B1), target(B2)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.advance(1000);
    expect(uac.finals).toEqual([200]);
    expect(b2.cancels).toHaveLength(1);
    expect(core.size).toBe(1);
    net.clock.runAll();
    expect(core.size).toBe(0);
    expect(uac.finals).toEqual([200]);
    expect(b1.acks).toHaveLength(1);
  });
});

describe('proxy core: loss of one message, recovered by retransmission (§17)', () => {
  const toB1 = (_f: Endpoint, to: Endpoint) => to.address === B1.address;
  const fromB1 = (f: Endpoint) => f.address === B1.address;
  const toUac = (_f: Endpoint, to: Endpoint) => to.address === UAC.address;
  const toP = (_f: Endpoint, to: Endpoint) => to.address === P.address;
  const cases: Array<[string, (f: Endpoint, t: Endpoint, m: SipMessage) => boolean]> = [
    ['the INVITE from the caller (Timer A)', (f, t, m) => toP(f, t) && what(m) === 'INVITE'],
    ['the INVITE to the callee (Timer A)', (f, t, m) => toB1(f, t) && what(m) === 'INVITE'],
    ['the 180 from the callee', (f, _t, m) => fromB1(f) && what(m) === '180 INVITE'],
    [
      'the 200 from the callee (UAS 2xx retransmission)',
      (f, _t, m) => fromB1(f) && what(m) === '200 INVITE',
    ],
    ['the 200 to the caller', (f, t, m) => toUac(f, t) && what(m) === '200 INVITE'],
    ['the ACK to the callee', (f, t, m) => toB1(f, t) && what(m) === 'ACK'],
  ];
  it.each(cases)('%s', (_name, pred) => {
    const drop = dropOnce(pred);
    const net = new Net({ drop });
    const b1 = new Uas(net, B1, { ring: true, final: { status: 200, afterMs: 300 } });
    const { core } = proxy(net, () => [target(B1)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.runAll();
    expect(drop.state.dropped).toBe(1);
    expect(b1.invites).toHaveLength(1);
    expect(uac.finals[0]).toBe(200);
    expect(b1.acks.length).toBeGreaterThan(0);
    expect(core.size).toBe(0);
  });

  it('the 487 of a cancelled branch, lost once, is retransmitted and the caller gets 487', () => {
    const drop = dropOnce((f, _t, m) => f.address === B1.address && what(m) === '487 INVITE');
    const net = new Net({ drop });
    new Uas(net, B1, { ring: true });
    proxy(net, () => [target(B1)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.advance(100);
    uac.cancel();
    net.clock.runAll();
    expect(drop.state.dropped).toBe(1);
    expect(uac.finals.filter((s) => s !== 200)).toEqual([487]);
  });
});

describe('proxy core: 3xx recursion (§16.7 step 4, onFailure)', () => {
  it('the Contacts of a 302 become new targets when onFailure returns them', () => {
    const net = new Net();
    const b1 = new Uas(net, B1, {
      final: { status: 302, headers: [['Contact', `<sip:bob@${B3.address}:${B3.port}>`]] },
    });
    const b3 = new Uas(net, B3, { final: { status: 200 } });
    const { failures } = proxy(net, () => [target(B1)], {
      onFailure: (_rctx, best) => (best?.status === 302 ? [target(B3)] : undefined),
    });
    const uac = new Uac(net);
    uac.invite();
    net.clock.runAll();
    expect(b1.invites).toHaveLength(1);
    expect(b3.invites).toHaveLength(1);
    expect(failures.map((f) => f?.status)).toEqual([302]);
    expect(uac.finals).toEqual([200]);
  });

  it('without recursion the 302 itself goes upstream', () => {
    const net = new Net();
    new Uas(net, B1, {
      final: { status: 302, headers: [['Contact', `<sip:bob@${B3.address}:${B3.port}>`]] },
    });
    proxy(net, () => [target(B1)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.runAll();
    expect(uac.finals).toEqual([302]);
  });
});

describe('proxy core: Timer C (§16.6 step 11, §16.8)', () => {
  it('a branch that rings for ever is cancelled when Timer C fires; the caller gets 487', () => {
    const net = new Net();
    const b1 = new Uas(net, B1, { ring: true });
    proxy(net, () => [target(B1)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.advance(TIMER_C_MS - 1000);
    expect(b1.cancels).toHaveLength(0);
    expect(uac.finals).toEqual([]);
    net.clock.advance(2000);
    expect(b1.cancels).toHaveLength(1);
    net.clock.runAll();
    expect(uac.finals).toEqual([487]);
  });

  it('a branch that rings for ever and ignores the CANCEL: 408 upstream 64*T1 after Timer C', () => {
    const net = new Net();
    const b1 = new Uas(net, B1, { ring: true, ignoreCancel: true });
    const { core } = proxy(net, () => [target(B1)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.advance(TIMER_C_MS + 1000);
    expect(b1.cancels).toHaveLength(1);
    expect(uac.finals).toEqual([]);
    net.clock.advance(CANCEL_WAIT_MS);
    expect(uac.finals).toEqual([408]);
    expect(core.size).toBe(0);
  });
});

describe('proxy core: the best response (§16.7 step 6)', () => {
  it('a 6xx ends the search: pending branches are cancelled and the 6xx goes upstream', () => {
    const net = new Net();
    new Uas(net, B1, { final: { status: 603, afterMs: 200 } });
    const b2 = new Uas(net, B2, { ring: true });
    const b3 = new Uas(net, B3, { final: { status: 200 } });
    proxy(net, () => [target(B1), target(B2), target(B3, 0.5)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.runAll();
    expect(b2.cancels).toHaveLength(1);
    // The lower q-group is never tried after a 6xx.
    expect(b3.invites).toHaveLength(0);
    expect(uac.finals).toEqual([603]);
  });

  it('the lowest class wins among 4xx and 5xx; a selected 503 becomes 500', () => {
    const net = new Net();
    new Uas(net, B1, { final: { status: 503 } });
    new Uas(net, B2, { final: { status: 486 } });
    proxy(net, () => [target(B1), target(B2)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.runAll();
    expect(uac.finals).toEqual([486]);

    const net2 = new Net();
    new Uas(net2, B1, { final: { status: 503 } });
    proxy(net2, () => [target(B1)]);
    const uac2 = new Uac(net2);
    uac2.invite();
    net2.clock.runAll();
    expect(uac2.finals).toEqual([500]);
  });

  it('§16.7 step 7: a selected 401/407 carries every challenge of the other 401/407 answers', () => {
    const net = new Net();
    new Uas(net, B1, {
      final: { status: 401, headers: [['WWW-Authenticate', 'Digest realm="one", nonce="n1"']] },
    });
    new Uas(net, B2, {
      final: { status: 407, headers: [['Proxy-Authenticate', 'Digest realm="two", nonce="n2"']] },
    });
    new Uas(net, B3, { final: { status: 404 } });
    proxy(net, () => [target(B1), target(B2), target(B3)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.runAll();
    const final = uac.responses.find((r) => r.status >= 200)!;
    expect([401, 407]).toContain(final.status);
    expect(final.headers.getAll('www-authenticate')).toEqual(['Digest realm="one", nonce="n1"']);
    expect(final.headers.getAll('proxy-authenticate')).toEqual(['Digest realm="two", nonce="n2"']);
  });

  it('a branch that never answers times out (Timer B): 408 upstream', () => {
    const net = new Net();
    // Nothing listens at B3: the INVITE is retransmitted until Timer B (64*T1) gives up.
    proxy(net, () => [target(B3)]);
    const uac = new Uac(net);
    uac.invite();
    net.clock.runAll();
    expect(uac.finals).toEqual([408]);
  });
});

describe('proxy core: hooks', () => {
  it('onBranch sees each forwarded request with our Via on top; onReply sees every response', () => {
    const net = new Net();
    new Uas(net, B1, { ring: true, final: { status: 200 } });
    const branches: string[] = [];
    const replies: number[] = [];
    proxy(net, () => [target(B1)], {
      onBranch: (_r, _b, request) => branches.push(request.headers.via()[0]?.host ?? ''),
      onReply: (_r, _b, response) => replies.push(response.status),
    });
    const uac = new Uac(net);
    uac.invite();
    net.clock.runAll();
    expect(branches).toEqual(['10.0.0.1']);
    expect(replies).toEqual(expect.arrayContaining([180, 200]));
  });
});
