/**
 * Relay: offers, answers, ICE candidates (`signal`) and application messages (`message`) to one peer
 * of the sender's room. The server stamps `from`; only peers of the sender's own room can be
 * addressed. A peer held by another process (scale-out) is reached through its node.
 */
import { ERROR_CATALOGUE, type ParsedClientEvent } from '@tfx/protocol';
import type { RelayedItem } from '../cluster/index.js';
import type { ClusterSide } from './cluster-side.js';
import type { AnyAck, Conn } from './connection.js';
import type { SignallingMetrics } from './metrics.js';

export interface RelayHost {
  readonly cluster: ClusterSide | undefined;
  readonly metrics: SignallingMetrics;
}

export function onSignal(
  h: RelayHost,
  conn: Conn,
  req: ParsedClientEvent<'signal'>,
  ack: AnyAck | undefined,
): void {
  const from = conn.peer;
  if (!from) {
    conn.refuse('signal', ack, 'not-in-room', ERROR_CATALOGUE['not-in-room'].summary);
    return;
  }
  // Only peers of the sender's own room can be addressed: the lookup is in that room.
  const to = from.room.peers.get(req.to);
  const { to: _to, ...signal } = req;
  const item = { event: 'signal', payload: { from: from.id, ...signal } } as const;
  const refused =
    to === from
      ? 'peer-unavailable'
      : to
        ? to.deliver(item)
          ? undefined
          : 'peer-unavailable'
        : h.cluster
          ? h.cluster.route(from.room, req.to, item)
          : 'peer-unavailable';
  if (refused === 'peer-unavailable' && !to && h.cluster) {
    void relayLater(h, conn, 'signal', ack, req.to, item);
    return;
  }
  if (refused) {
    conn.refuse('signal', ack, refused, ERROR_CATALOGUE[refused].summary, true, req.to);
    return;
  }
  h.metrics.relay(req.kind);
  ack?.({ ok: true });
}

export function onMessage(
  h: RelayHost,
  conn: Conn,
  req: ParsedClientEvent<'message'>,
  ack: AnyAck | undefined,
): void {
  const from = conn.peer;
  if (!from) {
    conn.refuse('message', ack, 'not-in-room', ERROR_CATALOGUE['not-in-room'].summary);
    return;
  }
  const to = from.room.peers.get(req.to);
  const item = { event: 'message', payload: { from: from.id, data: req.data } } as const;
  const refused =
    to === from
      ? 'peer-unavailable'
      : to
        ? to.deliver(item)
          ? undefined
          : 'peer-unavailable'
        : h.cluster
          ? h.cluster.route(from.room, req.to, item)
          : 'peer-unavailable';
  if (refused === 'peer-unavailable' && !to && h.cluster) {
    void relayLater(h, conn, 'message', ack, req.to, item);
    return;
  }
  if (refused) {
    conn.refuse('message', ack, refused, ERROR_CATALOGUE[refused].summary, true, req.to);
    return;
  }
  h.metrics.relay('message');
  ack?.({ ok: true });
}

/** A target this process has not heard of yet: ask the store which node holds it. */
async function relayLater(
  h: RelayHost,
  conn: Conn,
  event: 'signal' | 'message',
  ack: AnyAck | undefined,
  to: string,
  item: RelayedItem,
): Promise<void> {
  const from = conn.peer;
  const refused =
    from && h.cluster
      ? await h.cluster.routeAfterLookup(from.room, to, item).catch(() => 'unavailable' as const)
      : 'peer-unavailable';
  if (refused) {
    conn.refuse(event, ack, refused, ERROR_CATALOGUE[refused].summary, true, to);
    return;
  }
  h.metrics.relay(item.event === 'signal' ? item.payload.kind : 'message');
  ack?.({ ok: true });
}
