/**
 * Relay: offers, answers, ICE candidates (`signal`) and application messages (`message`) to one peer
 * of the sender's room. The server stamps `from`; only peers of the sender's own room can be
 * addressed. Both events take one path, in order:
 *
 *   in a room? → a peer here (deliver, or hold while it is away) → a peer another process holds
 *   (route to its node, scale-out) → a peer no process was known to hold yet (ask the store, then
 *   route) → refuse `peer-unavailable`
 */
import { ERROR_CATALOGUE, type ParsedClientEvent } from '@tfx/protocol';
import type { RelayedItem } from '../cluster/index.js';
import type { ClusterSide } from './cluster-side.js';
import type { AnyAck, Conn } from './connection.js';
import type { SignallingMetrics } from './metrics.js';

export interface RelayDeps {
  readonly cluster: ClusterSide | undefined;
  readonly metrics: SignallingMetrics;
}

type Refusal = 'peer-unavailable' | 'unavailable';

export function onSignal(
  d: RelayDeps,
  conn: Conn,
  req: ParsedClientEvent<'signal'>,
  ack: AnyAck | undefined,
): void | Promise<void> {
  const { to, ...signal } = req;
  return relay(d, conn, 'signal', to, ack, (from) => ({
    event: 'signal',
    payload: { from, ...signal },
  }));
}

export function onMessage(
  d: RelayDeps,
  conn: Conn,
  req: ParsedClientEvent<'message'>,
  ack: AnyAck | undefined,
): void | Promise<void> {
  return relay(d, conn, 'message', req.to, ack, (from) => ({
    event: 'message',
    payload: { from, data: req.data },
  }));
}

/** The one relay path: `item` makes what the target receives, stamped with the sender's id. */
function relay(
  d: RelayDeps,
  conn: Conn,
  event: RelayedItem['event'],
  to: string,
  ack: AnyAck | undefined,
  item: (from: string) => RelayedItem,
): void | Promise<void> {
  const from = conn.peer;
  if (!from) {
    conn.refuse(event, ack, 'not-in-room', ERROR_CATALOGUE['not-in-room'].summary);
    return;
  }
  const relayed = item(from.id);
  // Only peers of the sender's own room can be addressed: the lookup is in that room.
  const here = from.room.peers.get(to);
  let refused: Refusal | undefined;
  if (here) refused = here !== from && here.deliver(relayed) ? undefined : 'peer-unavailable';
  else if (!d.cluster) refused = 'peer-unavailable';
  else {
    refused = d.cluster.route(from.room, to, relayed);
    // Not known here yet (its `joined` may still be on the way): the store knows its node.
    if (refused === 'peer-unavailable')
      return relayAfterLookup(d, conn, d.cluster, to, relayed, ack);
  }
  settle(d, conn, to, relayed, ack, refused);
}

async function relayAfterLookup(
  d: RelayDeps,
  conn: Conn,
  cluster: ClusterSide,
  to: string,
  item: RelayedItem,
  ack: AnyAck | undefined,
): Promise<void> {
  const from = conn.peer;
  const refused = from
    ? await cluster.routeAfterLookup(from.room, to, item).catch(() => 'unavailable' as const)
    : 'peer-unavailable';
  settle(d, conn, to, item, ack, refused);
}

/** Answers the sender: refused (ack or `event-error` naming the target), or counted and acked. */
function settle(
  d: RelayDeps,
  conn: Conn,
  to: string,
  item: RelayedItem,
  ack: AnyAck | undefined,
  refused: Refusal | undefined,
): void {
  if (refused) {
    conn.refuse(item.event, ack, refused, ERROR_CATALOGUE[refused].summary, true, to);
    return;
  }
  d.metrics.relay(item.event === 'signal' ? item.payload.kind : 'message');
  ack?.({ ok: true });
}
