/**
 * Reaching WebSocket clients back on their own connection (RFC 7118 §5, RFC 5626 §5.3).
 *
 * A SIP WebSocket client cannot accept connections, so it names itself with a host under the
 * reserved `.invalid` domain (RFC 6761 §6.4) in its Via sent-by and its Contact (JsSIP and SIP.js
 * do: `sip:xyz@abc123.invalid;transport=ws`). RFC 7118 §5: "the SIP WebSocket Client [...] a
 * SIP server [...] MUST route [requests for it] via the existing WebSocket connection", because
 * no DNS name or address reaches it. So when such a host arrives on a connection, this table
 * remembers "that host is reached over that flow", and an in-dialog request whose remote target
 * is `sip:…@abc123.invalid` goes back over the connection it came on, like a flow token.
 *
 * Only `.invalid` hosts are learned (a real host is reached by its address, never by a claim in
 * a header). A host already bound to an open connection from another IP address is not taken
 * over (a client elsewhere cannot hijack it); from the same IP it is (the client reconnected).
 * Each connection binds at most MAX_PER_CONNECTION hosts.
 */
import type { SipMessage } from '../syntax/index.js';
import { canonicalHost } from './address.js';
import type { ConnectionRef } from './types.js';

const MAX_PER_CONNECTION = 4;

/** Whether a host is under the `.invalid` special-use domain (RFC 6761 §6.4). */
export function isInvalidHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'invalid' || h.endsWith('.invalid');
}

export class InvalidHostAliases {
  readonly #byHost = new Map<string, ConnectionRef>();
  readonly #byConnection = new Map<string, Set<string>>();
  /** Claims refused because another client's open connection holds that host. */
  conflicts = 0;

  get size(): number {
    return this.#byHost.size;
  }

  /** Learns the `.invalid` hosts a message received on `connection` names for its sender. */
  learn(message: SipMessage, connection: ConnectionRef): void {
    const raw = message.headers.get('contact') ?? '';
    const via = message.kind === 'request' ? (message.headers.get('via') ?? '') : '';
    // Cheap test first: most traffic names no `.invalid` host at all.
    if (!/\.invalid/i.test(raw) && !/\.invalid/i.test(via)) return;
    if (message.kind === 'request') {
      const top = message.headers.via()[0];
      if (top && isInvalidHost(top.host)) this.#bind(top.host, connection);
    }
    for (const contact of message.headers.contact()) {
      if (contact.star) continue;
      const uri = contact.uri;
      if (uri.kind === 'sip' && isInvalidHost(uri.host)) this.#bind(uri.host, connection);
    }
  }

  /** The open connection a `.invalid` host was last seen on. */
  lookup(host: string): ConnectionRef | undefined {
    const c = this.#byHost.get(key(host));
    return c && !c.closed ? c : undefined;
  }

  /** Drops every host bound to a closed connection. */
  forget(connection: ConnectionRef): void {
    const hosts = this.#byConnection.get(connection.id);
    if (!hosts) return;
    this.#byConnection.delete(connection.id);
    for (const h of hosts) {
      if (this.#byHost.get(h) === connection) this.#byHost.delete(h);
    }
  }

  #bind(host: string, connection: ConnectionRef): void {
    const h = key(host);
    const current = this.#byHost.get(h);
    if (current === connection) return;
    if (
      current &&
      !current.closed &&
      canonicalHost(current.remote.address) !== canonicalHost(connection.remote.address)
    ) {
      this.conflicts++;
      return;
    }
    let hosts = this.#byConnection.get(connection.id);
    if (!hosts) {
      hosts = new Set();
      this.#byConnection.set(connection.id, hosts);
    }
    if (hosts.size >= MAX_PER_CONNECTION) return;
    hosts.add(h);
    this.#byHost.set(h, connection);
  }
}

function key(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}
