/**
 * A peer's own presence (`update`: its name and media state, told to its peers here and on the
 * other processes) and the pre-join `presence` query (does the room exist, how many are in).
 */
import { ERROR_CATALOGUE, type ParsedClientEvent } from '@tfx/protocol';
import type { AnyAck, Conn } from './connection.js';
import type { SignallingContext } from './context.js';

export async function onUpdate(
  ctx: SignallingContext,
  conn: Conn,
  req: ParsedClientEvent<'update'>,
  ack: AnyAck | undefined,
): Promise<void> {
  const peer = conn.peer;
  if (!peer) {
    conn.refuse('update', ack, 'not-in-room', ERROR_CATALOGUE['not-in-room'].summary);
    return;
  }
  const rec = await ctx.store.updatePeer(peer.room.name, peer.id, req);
  if (peer.closed) return;
  if (rec) {
    peer.name = rec.name;
    peer.state = rec.state;
  }
  const info = peer.info();
  peer.room.broadcast(peer, 'peer-updated', info);
  ctx.cluster?.broadcast(peer.room, { t: 'updated', room: peer.room.name, peer: info });
  ack?.({ ok: true, peer: info });
}

export async function onPresence(
  ctx: SignallingContext,
  conn: Conn,
  req: ParsedClientEvent<'presence'>,
  ack: AnyAck | undefined,
): Promise<void> {
  const reply = ack as AnyAck;
  if (!conn.presence.take(ctx.clock.now())) {
    conn.refuse('presence', reply, 'rate-limited', 'too many presence queries; wait a minute');
    return;
  }
  const room = await ctx.store.getRoom(req.room, ctx.clock.now());
  if (!room) reply({ ok: true, exists: false });
  else if (room.hasPassword) reply({ ok: true, exists: true });
  else reply({ ok: true, exists: true, count: room.peerCount });
}
