/**
 * ProvisionalRelay (RFC 3262 §3 toward leg A) against a stand-in for the dialog layer's
 * ServerInvite: one reliable 18x outstanding at a time, the others wait for the PRACK; the 2xx
 * waits while a reliable 18x with SDP is unacknowledged. The real dialog layer and sipp prove the
 * same end to end in offer-answer.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Payload, ServerInvite, SipRequest } from '@tfx/sip';
import { ProvisionalRelay } from '../src/reliable.js';

/** A ServerInvite whose provisional responses are reliable (the caller uses 100rel). */
function fakeInvite() {
  const sent: Array<{ status: number; body: unknown; toTag: string | undefined }> = [];
  const inv = {
    answered: false,
    unacked: undefined as { response: { body: Uint8Array } } | undefined,
    onPrack: undefined as ((p: SipRequest) => void) | undefined,
    progress(status: number, payload: Payload = {}, toTag?: string) {
      sent.push({ status, body: payload.body, toTag });
      const body = new TextEncoder().encode(typeof payload.body === 'string' ? payload.body : '');
      inv.unacked = { response: { body } };
    },
  };
  const prack = (): void => {
    inv.unacked = undefined;
    inv.onPrack?.({} as SipRequest);
  };
  return { inv, sent, prack, asInvite: inv as unknown as ServerInvite };
}

describe('ProvisionalRelay (RFC 3262 §3)', () => {
  it('sends the first 18x at once; later ones wait for the PRACK, the newest winning but keeping SDP', () => {
    const f = fakeInvite();
    let watched = 0;
    const relay = new ProvisionalRelay(f.asInvite, () => watched++);
    relay.send(180, {}, 't1');
    relay.send(183, { body: 'v=0 early', contentType: 'application/sdp' }, 't1');
    relay.send(180, {}, 't2');
    expect(f.sent.map((s) => s.status)).toEqual([180]);
    f.prack();
    // The newest (180 of fork t2) went, with the 183's SDP it must not lose.
    expect(f.sent[1]).toEqual({ status: 180, body: 'v=0 early', toTag: 't2' });
    expect(watched).toBe(2);
    f.prack();
    expect(f.sent).toHaveLength(2);
  });

  it('settled() waits while a reliable 18x with SDP is unacknowledged, and resolves on its PRACK', async () => {
    const f = fakeInvite();
    const relay = new ProvisionalRelay(f.asInvite, () => {});
    relay.send(183, { body: 'v=0', contentType: 'application/sdp' }, undefined);
    let done = false;
    const p = relay.settled(() => false).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    f.prack();
    await p;
    expect(done).toBe(true);
  });

  it('settled() does not wait for an 18x without SDP, nor once the INVITE is answered or the call gone', async () => {
    const f = fakeInvite();
    const relay = new ProvisionalRelay(f.asInvite, () => {});
    relay.send(180, {}, undefined);
    await relay.settled(() => false); // no SDP in it: the 2xx may go (§3)
    relay.send(183, { body: 'v=0' }, undefined); // waits behind the 180
    f.prack();
    f.inv.answered = true; // a 504 after 64*T1 without PRACK
    await relay.settled(() => false);
    f.inv.answered = false;
    await relay.settled(() => true);
  });

  it('nothing is sent once the INVITE has its final response', () => {
    const f = fakeInvite();
    const relay = new ProvisionalRelay(f.asInvite, () => {});
    relay.send(180, {}, undefined);
    relay.send(183, {}, undefined);
    f.inv.answered = true;
    f.prack();
    expect(f.sent).toHaveLength(1);
  });
});
