/** Prometheus metrics of the SIP server (`tfx_sip_*`), on the platform registry. */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface SipMetricSources {
  registrations(): number;
  dialogs(): number;
  transactions(): number;
  bans(): number;
}

export class SipMetrics {
  readonly requests: Counter<'method'>;
  readonly responses: Counter<'class'>;
  readonly authFailures: Counter<'reason'>;
  readonly bans: Counter<'kind'>;
  readonly dropped: Counter<'reason'>;
  readonly forwarded: Counter<'kind'>;
  /** Credentials accepted whose digest uri named the address the request was sent to. */
  readonly digestUriSentTo: Counter;
  /** Requests answered 478: DNS knew no server for their next hop (RFC 3263). */
  readonly unresolvable: Counter;
  /** Branches moved to the next located server after a 503, timeout or transport failure. */
  readonly failovers: Counter;
  readonly #children = new Map<string, Counter.Internal>();
  readonly #classes: Array<Counter.Internal>;

  constructor(registry: Registry, sources: SipMetricSources) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'tfx_sip_requests_total',
      help: 'SIP requests received by the SIP server, by method.',
      labelNames: ['method'],
      registers,
    });
    this.responses = new Counter({
      name: 'tfx_sip_responses_total',
      help: 'SIP responses received from downstream, by class (1xx…6xx).',
      labelNames: ['class'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'tfx_sip_auth_failures_total',
      help: 'Failed digest authentications, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.bans = new Counter({
      name: 'tfx_sip_bans_total',
      help: 'Bans started (sip-banned), by kind (ip, user).',
      labelNames: ['kind'],
      registers,
    });
    this.dropped = new Counter({
      name: 'tfx_sip_dropped_total',
      help: 'SIP requests dropped or refused before routing, by reason (rate-limited, banned).',
      labelNames: ['reason'],
      registers,
    });
    this.forwarded = new Counter({
      name: 'tfx_sip_forwarded_total',
      help: 'Requests forwarded by the proxy (stateful branches, stateless ACKs).',
      labelNames: ['kind'],
      registers,
    });
    this.digestUriSentTo = new Counter({
      name: 'tfx_sip_digest_uri_sent_to_total',
      help: 'Credentials accepted whose digest uri named the address:port the request was sent to, not its Request-URI (sipp, some phones).',
      registers,
    });
    this.unresolvable = new Counter({
      name: 'tfx_sip_unresolvable_total',
      help: 'Requests answered 478: DNS (RFC 3263: NAPTR, SRV, A/AAAA) gave no server for the next hop.',
      registers,
    });
    this.failovers = new Counter({
      name: 'tfx_sip_failovers_total',
      help: 'Requests sent on to the next located server after a 503, a timeout or a transport failure (RFC 3263 §4.3).',
      registers,
    });
    new Gauge({
      name: 'tfx_sip_registrations',
      help: 'Contacts bound in the location store.',
      registers,
      collect() {
        this.set(sources.registrations());
      },
    });
    new Gauge({
      name: 'tfx_sip_dialogs',
      help: 'Dialogs (early or confirmed) passing through the proxy.',
      registers,
      collect() {
        this.set(sources.dialogs());
      },
    });
    new Gauge({
      name: 'tfx_sip_transactions',
      help: 'Live SIP transactions.',
      registers,
      collect() {
        this.set(sources.transactions());
      },
    });
    new Gauge({
      name: 'tfx_sip_active_bans',
      help: 'Bans in force.',
      registers,
      collect() {
        this.set(sources.bans());
      },
    });
    this.#classes = ['1xx', '2xx', '3xx', '4xx', '5xx', '6xx'].map((c) => this.responses.labels(c));
  }

  request(method: string): void {
    let c = this.#children.get(method);
    if (!c) {
      // Bounded: unknown methods share one label.
      const label = this.#children.size < 32 ? method : 'other';
      c = this.requests.labels(label);
      this.#children.set(method, c);
    }
    c.inc();
  }

  response(status: number): void {
    this.#classes[Math.min(5, Math.max(0, Math.floor(status / 100) - 1))]?.inc();
  }
}
