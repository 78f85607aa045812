/**
 * Signalling metrics (`tfx_signalling_*`) in the platform's prom-client registry. Hot-path
 * counters are pre-bound to their labels so counting a relayed message costs one addition.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ErrorCode } from '@tfx/protocol';

export class SignallingMetrics {
  readonly connections: Gauge;
  readonly rooms: Gauge;
  readonly peers: Gauge;
  readonly joins: Counter<'result'>;
  readonly relayed: Counter<'kind'>;
  readonly errors: Counter<'code'>;
  readonly resumes: Counter<'result'>;
  readonly abuseDisconnects: Counter;
  private readonly relayedByKind: Record<
    'offer' | 'answer' | 'candidate' | 'message',
    { inc(): void }
  >;

  constructor(registry: Registry) {
    const existing = registry.getSingleMetric('tfx_signalling_connections');
    if (existing) {
      // A second module on one registry (tests): start from clean metrics.
      for (const n of [
        'connections',
        'rooms',
        'peers',
        'joins_total',
        'messages_relayed_total',
        'errors_total',
        'resumes_total',
        'abuse_disconnects_total',
      ]) {
        registry.removeSingleMetric(`tfx_signalling_${n}`);
      }
    }
    const registers = [registry];
    this.connections = new Gauge({
      name: 'tfx_signalling_connections',
      help: 'Open signalling (socket.io) connections.',
      registers,
    });
    this.rooms = new Gauge({
      name: 'tfx_signalling_rooms',
      help: 'Rooms with a live session in this process (including empty rooms within their grace).',
      registers,
    });
    this.peers = new Gauge({
      name: 'tfx_signalling_peers',
      help: 'Peers in rooms in this process (including peers within their resume grace).',
      registers,
    });
    this.joins = new Counter({
      name: 'tfx_signalling_joins_total',
      help: 'Room joins, by result (ok or the error code).',
      labelNames: ['result'],
      registers,
    });
    this.relayed = new Counter({
      name: 'tfx_signalling_messages_relayed_total',
      help: 'Messages relayed from one peer to another, by kind (offer, answer, candidate, message).',
      labelNames: ['kind'],
      registers,
    });
    this.errors = new Counter({
      name: 'tfx_signalling_errors_total',
      help: 'Refused events and connections, by error code.',
      labelNames: ['code'],
      registers,
    });
    this.resumes = new Counter({
      name: 'tfx_signalling_resumes_total',
      help: 'Resume attempts, by result (ok or the error code).',
      labelNames: ['result'],
      registers,
    });
    this.abuseDisconnects = new Counter({
      name: 'tfx_signalling_abuse_disconnects_total',
      help: 'Connections closed for repeated invalid or excess events.',
      registers,
    });
    this.relayedByKind = {
      offer: this.relayed.labels('offer'),
      answer: this.relayed.labels('answer'),
      candidate: this.relayed.labels('candidate'),
      message: this.relayed.labels('message'),
    };
  }

  relay(kind: 'offer' | 'answer' | 'candidate' | 'message'): void {
    this.relayedByKind[kind].inc();
  }

  error(code: ErrorCode): void {
    this.errors.labels(code).inc();
  }
}
