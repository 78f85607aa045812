/**
 * Harness of the dialog-layer tests: two DialogLayers (a = 10.0.0.1, b = 10.0.0.2) over two
 * TransactionLayers on the transaction tests' in-memory lossy network, with a ManualClock.
 */
import { expect } from 'vitest';
import type { SipMessage, SipResponse } from '../../src/syntax/index.js';
import type { TransactionUser } from '../../src/transaction/index.js';
import {
  DialogLayer,
  type DialogLayerOptions,
  type DialogSession,
  type ServerInvite,
} from '../../src/dialog/index.js';
import { A, B, network, seeded, type NetworkOptions } from '../transaction/harness.js';

export type Side = 'a' | 'b';

export function call(
  o: NetworkOptions & {
    onInviteB?: (i: ServerInvite) => void;
    supportedB?: string[];
    /** Extra options of each side's layer. */
    a?: Partial<DialogLayerOptions>;
    b?: Partial<DialogLayerOptions>;
  } = {},
) {
  const layers: Partial<Record<Side, DialogLayer>> = {};
  const tu = (side: Side): TransactionUser => ({
    onRequest: (i) => layers[side]?.onRequest(i),
    onStrayResponse: (r) => layers[side]?.onStrayResponse(r),
  });
  /** Every message put on the wire (retransmissions and responses included), before any loss. */
  const wire: Array<{ from: Side; message: SipMessage; at: number }> = [];
  const net = network(tu('a'), tu('b'), {
    ...o,
    drop: (from, message) => {
      wire.push({ from, message, at: net.clock.now() });
      return o.drop?.(from, message) ?? false;
    },
  });
  const sent: Array<{ from: Side; message: SipMessage; at: number }> = [];
  const make = (side: Side, extra: Partial<DialogLayerOptions> = {}) => {
    const me = side === 'a' ? A : B;
    const other = side === 'a' ? B : A;
    const tl = side === 'a' ? net.a : net.b;
    return new DialogLayer({
      clock: net.clock,
      timers: tl.timers,
      sendRequest: (req, target, listener) => {
        sent.push({ from: side, message: req, at: net.clock.now() });
        return tl.sendRequest(req, target, listener);
      },
      sendStateless: (m) => {
        sent.push({ from: side, message: m, at: net.clock.now() });
        net.sendRaw(side, m);
      },
      targetOf: () => ({ transport: 'udp', remote: other, local: me }),
      local: {
        via: { transport: 'UDP', host: me.address, port: me.port },
        contact: `<sip:${side}@${me.address}:${me.port}>`,
      },
      random: seeded(side === 'a' ? 7 : 11),
      ...extra,
    });
  };
  layers.a = make('a', o.a ?? {});
  layers.b = make('b', {
    onInvite:
      o.onInviteB ?? ((inv) => inv.accept({ body: 'v=0\r\n', contentType: 'application/sdp' })),
    ...(o.supportedB && { supported: o.supportedB }),
    ...o.b,
  });
  const placeCall = () => {
    let accepted: DialogSession | undefined;
    const inv = layers.a!.invite(
      { uri: 'sip:b@10.0.0.2', from: '<sip:a@10.0.0.1>', to: '<sip:b@10.0.0.2>' },
      { onAccepted: (s) => (accepted = s) },
    );
    return {
      inv,
      get accepted() {
        return accepted;
      },
    };
  };
  const count = (from: Side, pred: (m: SipMessage) => boolean) =>
    sent.filter((s) => s.from === from && pred(s.message)).length;
  /** The responses with `status` a side put on the wire. */
  const responses = (from: Side, status: number) =>
    wire
      .filter(
        (w) => w.from === from && w.message.kind === 'response' && w.message.status === status,
      )
      .map((w) => w.message as SipResponse);
  return { net, a: layers.a, b: layers.b, sent, wire, responses, placeCall, count };
}

export const isReq = (method: string) => (m: SipMessage) =>
  m.kind === 'request' && m.method === method;
export function only<T>(map: Map<string, T>): T {
  const v = [...map.values()];
  expect(v).toHaveLength(1);
  return v[0] as T;
}
