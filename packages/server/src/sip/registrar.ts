/**
 * Registrar policy (RFC 3261 §10.3): what a REGISTER may change in the location store. The
 * digest check happens before (the pipeline's `auth` stage); storage is `LocationStore`.
 */
import { randomBytes } from 'node:crypto';
import { formatUri, type SipRequest, type TransportProtocol } from '@tfx/sip';
import type { Binding, LocationStore } from './location.js';

export interface RegistrarOptions {
  readonly store: LocationStore;
  readonly minExpires: number;
  readonly maxExpires: number;
  readonly defaultExpires: number;
  /** Most contacts per AOR (more → 403). Default 10. */
  readonly maxContacts?: number;
}

export interface RegisterInput {
  readonly request: SipRequest;
  /** The address of record (`sip:user@domain`) from the To header. */
  readonly aor: string;
  readonly transport: TransportProtocol;
  readonly source: { readonly address: string; readonly port: number };
  /**
   * The flow the REGISTER came on (RFC 5626 §5.2). Kept for streams (TCP, TLS, WS) and for UDP
   * behind a NAT (see natReceived); a UDP UA that names its own address is reached at its Contact.
   */
  readonly flowToken?: string;
  readonly now: number;
  /** The SBC zone the REGISTER came through (the SBC serving it from this registrar). */
  readonly zone?: string;
}

/** What to answer: status, reason and extra header fields. */
export interface RegisterOutcome {
  readonly status: number;
  readonly reason?: string;
  readonly headers: Array<[string, string]>;
}

/**
 * The address a UA behind a NAT is reached at over UDP: its REGISTER's source address, when its
 * top Via names another one (the UA wrote its private address; RFC 3581 §4: the response goes to
 * the source, and so must later requests, or the NAT drops them). Streams (TCP, TLS, WS) are
 * reached on their flow instead. Undefined when the Via already names the source.
 */
export function natReceived(
  request: SipRequest,
  transport: TransportProtocol,
  source: { readonly address: string; readonly port: number },
): { readonly address: string; readonly port: number } | undefined {
  if (transport !== 'udp') return undefined;
  const via = request.headers.via()[0];
  if (!via) return undefined;
  const host = via.host.startsWith('[') ? via.host.slice(1, -1) : via.host;
  if (host === source.address && (via.port ?? 5060) === source.port) return undefined;
  return { address: source.address, port: source.port };
}

export class Registrar {
  readonly #o: RegistrarOptions;
  readonly #maxContacts: number;

  constructor(options: RegistrarOptions) {
    this.#o = options;
    this.#maxContacts = options.maxContacts ?? 10;
  }

  async register(input: RegisterInput): Promise<RegisterOutcome> {
    const { request, aor, now } = input;
    const headers = request.headers;
    const contacts = headers.typed('contact');
    if (!contacts.ok && headers.has('contact')) {
      return { status: 400, reason: 'Bad Contact', headers: [] };
    }
    const list = contacts.ok ? contacts.value : [];
    const headerExpires = headers.expires();
    const callId = headers.callId() ?? '';
    const cseq = headers.cseq()?.seq ?? 0;
    const store = this.#o.store;

    // §10.3 step 6: "If the request has additional Contact fields or an expiration time other
    // than zero, the request is invalid, and the server MUST return a 400 (Invalid Request)".
    if (list.some((c) => c.star)) {
      if (list.length !== 1 || headerExpires !== 0) {
        return { status: 400, reason: 'Invalid Request (* needs Expires: 0)', headers: [] };
      }
      // "...the registrar checks whether the Call-ID agrees with the value stored for each
      // binding. If not, it MUST remove the binding. If it does agree, it MUST remove the
      // binding only if the CSeq in the request is higher than the value stored."
      for (const b of await store.lookup(aor, now)) {
        if (b.callId !== callId || cseq > b.cseq) await store.remove(aor, b.uri);
      }
      return this.#ok(aor, now);
    }

    const changes: Array<{ uri: string; expires: number; q: number }> = [];
    for (const c of list) {
      if (c.star) continue;
      const expires = c.expires ?? headerExpires ?? this.#o.defaultExpires;
      // §10.3 step 7: "If and only if the requested expiration interval is greater than zero
      // AND smaller than one hour AND less than a registrar-configured minimum, the registrar
      // MAY reject the registration with a response of 423 (Interval Too Brief)."
      if (expires > 0 && expires < this.#o.minExpires) {
        return {
          status: 423,
          headers: [['Min-Expires', String(this.#o.minExpires)]],
        };
      }
      changes.push({
        uri: formatUri(c.uri),
        expires: Math.min(expires, this.#o.maxExpires),
        q: c.q ?? 1,
      });
    }

    const existing = new Map((await store.lookup(aor, now)).map((b) => [b.uri, b]));
    for (const ch of changes) {
      const old = existing.get(ch.uri);
      // §10.3 step 7: "If the binding does exist, the registrar checks the Call-ID value. If
      // the Call-ID value in the existing binding differs [...] the binding MUST be removed if
      // the expiration time is zero and updated otherwise. If they are the same, the registrar
      // compares the CSeq value. If the value is higher than that of the existing binding, it
      // MUST update or remove the binding as above. If not, the update MUST be aborted and the
      // request fails."
      if (old && old.callId === callId && cseq <= old.cseq) {
        return { status: 500, reason: 'Out of Order REGISTER', headers: [['Retry-After', '1']] };
      }
    }
    const adds = changes.filter((c) => c.expires > 0 && !existing.has(c.uri)).length;
    if (existing.size + adds > this.#maxContacts) {
      return { status: 403, reason: 'Too Many Contacts', headers: [] };
    }
    const userAgent = headers.get('user-agent');
    const received = natReceived(request, input.transport, input.source);
    for (const ch of changes) {
      if (ch.expires === 0) {
        await store.remove(aor, ch.uri);
        continue;
      }
      const old = existing.get(ch.uri);
      const binding: Binding = {
        id: old?.id ?? randomBytes(6).toString('hex'),
        aor,
        uri: ch.uri,
        q: ch.q,
        expiresAt: now + ch.expires * 1000,
        registeredAt: old?.registeredAt ?? now,
        callId,
        cseq,
        transport: input.transport,
        source: input.source,
        ...(received !== undefined ? { received } : {}),
        ...(input.flowToken !== undefined && (input.transport !== 'udp' || received)
          ? { flowToken: input.flowToken }
          : {}),
        ...(userAgent !== undefined ? { userAgent: userAgent.slice(0, 128) } : {}),
        ...(input.zone !== undefined ? { zone: input.zone } : {}),
      };
      await store.put(binding);
    }
    return this.#ok(aor, now);
  }

  /** §10.3 step 8: a 200 listing every current binding with its remaining time. */
  async #ok(aor: string, now: number): Promise<RegisterOutcome> {
    const bindings = await this.#o.store.lookup(aor, now);
    const headers: Array<[string, string]> = bindings.map((b) => [
      'Contact',
      `<${b.uri}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}${b.q !== 1 ? `;q=${b.q}` : ''}`,
    ]);
    headers.push(['Date', new Date(now).toUTCString()]);
    return { status: 200, headers };
  }
}
