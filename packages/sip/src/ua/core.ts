/**
 * A minimal user-agent core on a SipStack: place, answer and end calls through the dialog layer.
 * It owns its stack (the stack's transaction user is the dialog layer) and closes it.
 *
 *   UserAgentCore ──owns──▶ SipStack (transport, transactions) and DialogLayer (dialogs, timers)
 *
 * Still missing (issue #16): reject/cancel helpers beyond ServerInvite.reject, OPTIONS/MESSAGE
 * sending, SUBSCRIBE/NOTIFY, the REGISTER client; targets are resolved without DNS (IP hosts).
 */
import { TfxError } from '@tfx/protocol';
import {
  DialogLayer,
  type ClientInvite,
  type ClientInviteEvents,
  type LocalParty,
  type Payload,
  type IncomingRefer,
  type ServerInvite,
} from '../dialog/index.js';
import { hopOf } from '../element/index.js';
import { SipStack, type ListenPlan, type SipStackOptions, type StackHop } from '../stack/index.js';
import type { SipMessage, Uri } from '../syntax/index.js';
import type { ListenerInfo, ReceiveContext, TransportProtocol } from '../transport/index.js';

export interface UserAgentCoreOptions extends Omit<SipStackOptions, 'tu'> {
  /** The user part of our Contact. Default `tfx`. */
  readonly user?: string;
  /** Transport of the requests we originate (our Via and Contact). Default `udp`. */
  readonly via?: TransportProtocol;
  /** Option tags we support (Supported; Require of others → 420). */
  readonly supported?: readonly string[];
  /** An incoming call: answer with `invite.accept(payload)`, `progress()` or `reject()`. */
  readonly onInvite?: (invite: ServerInvite) => void;
  /** A REFER in a dialog (RFC 3515): `refer.accept()`, then `refer.notify(status)`. Else 501. */
  readonly onRefer?: (refer: IncomingRefer) => void;
}

export class UserAgentCore {
  readonly stack: SipStack;
  readonly dialogs: DialogLayer;
  readonly #o: UserAgentCoreOptions;
  #closed = false;

  constructor(o: UserAgentCoreOptions) {
    this.#o = o;
    const transport = o.via ?? 'udp';
    const sentBy = (t: TransportProtocol) => this.#sentBy(t);
    const local: LocalParty = {
      get via() {
        const s = sentBy(transport);
        return { transport: transport.toUpperCase(), host: s.host, port: s.port };
      },
      get contact() {
        const s = sentBy(transport);
        const host = s.host.includes(':') ? `[${s.host}]` : s.host;
        const t = transport === 'udp' ? '' : `;transport=${transport}`;
        return `<sip:${o.user ?? 'tfx'}@${host}:${s.port}${t}>`;
      },
    };
    // The stack hands every request and stray response to the dialog layer, made just below.
    const tu = {
      onRequest: (i: Parameters<DialogLayer['onRequest']>[0]) => this.dialogs.onRequest(i),
      onStrayResponse: (r: Parameters<DialogLayer['onStrayResponse']>[0]) =>
        this.dialogs.onStrayResponse(r),
    };
    // §8.2.2.3: the ingress's sanity check answers 420 to a Require it does not know; the
    // extensions this UA supports must pass it (found by sipp's RFC 3262 flow: Require: 100rel).
    const sanity = {
      ...o.transport?.sanity,
      supportedExtensions: [
        ...(o.transport?.sanity?.supportedExtensions ?? []),
        ...(o.supported ?? []),
      ],
    };
    this.stack = new SipStack({ ...o, transport: { ...o.transport, sanity }, tu });
    this.dialogs = new DialogLayer({
      clock: this.stack.clock,
      timers: this.stack.transactions.timers,
      sendRequest: (req, target, listener) =>
        this.stack.sendRequest(req, target as StackHop, listener),
      sendStateless: (m, target) => this.#sendStateless(m, target as StackHop | ReceiveContext),
      targetOf: (uri) => this.#hop(uri),
      local,
      ...(o.supported && { supported: o.supported }),
      ...(o.onInvite && { onInvite: o.onInvite }),
      ...(o.onRefer && { onRefer: o.onRefer }),
    });
  }

  start(plan: ListenPlan): Promise<ListenerInfo[]> {
    return this.stack.start(plan);
  }

  /** Places a call (§13.2.1). `to` and `from` are name-addrs; `uri` the Request-URI. */
  call(
    o: { uri: string; from?: string; to?: string } & Payload,
    events: ClientInviteEvents = {},
  ): ClientInvite {
    if (this.#closed) throw new TfxError('shutting-down', 'the user agent is closed');
    const s = this.#sentBy(this.#o.via ?? 'udp');
    return this.dialogs.invite(
      {
        ...o,
        from: o.from ?? `<sip:${this.#o.user ?? 'tfx'}@${s.host}>`,
        to: o.to ?? `<${o.uri}>`,
      },
      events,
    );
  }

  /** Closes the dialog layer (no BYEs: end calls first) and the stack. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.dialogs.close();
    await this.stack.close();
  }

  #sentBy(transport: TransportProtocol): { host: string; port: number } {
    const s = this.stack.sentBy(transport);
    if (!s) throw new TfxError('bad-request', `the user agent has no ${transport} listener`);
    return s;
  }

  #hop(uri: Uri): StackHop {
    const hop = hopOf(uri);
    if (!hop) throw new TfxError('bad-request', 'no transport target for the URI');
    return hop;
  }

  #sendStateless(m: SipMessage, target: StackHop | ReceiveContext): void {
    const p =
      m.kind === 'request'
        ? this.stack.forward(m, target as StackHop)
        : this.stack.respond(m, target as ReceiveContext);
    p.catch(() => {
      // Stateless: the transport counts its failures; 2xx/ACK retransmissions cover loss.
    });
  }
}
