/** Cluster metrics (`tfx_cluster_*`): Redis health, per-node publish/receive counts, queues. */
import { Counter, Gauge, type Registry } from 'prom-client';

export class ClusterMetrics {
  readonly redisUp: Gauge;
  readonly outages: Counter;
  readonly published: Counter<'kind'>;
  readonly received: Counter<'kind'>;
  readonly refused: Counter<'reason'>;
  readonly pending: Gauge;
  readonly badMessages: Counter;
  readonly nodes: Gauge;
  readonly reasserted: Counter;
  readonly reaped: Counter;

  constructor(registry: Registry) {
    for (const n of [
      'redis_up',
      'redis_outages_total',
      'published_total',
      'received_total',
      'refused_total',
      'outbound_pending',
      'bad_messages_total',
      'nodes',
      'reasserted_peers_total',
      'reaped_peers_total',
    ])
      registry.removeSingleMetric(`tfx_cluster_${n}`);
    const registers = [registry];
    this.redisUp = new Gauge({
      name: 'tfx_cluster_redis_up',
      help: '1 while Redis answers this process, 0 during an outage.',
      registers,
    });
    this.outages = new Counter({
      name: 'tfx_cluster_redis_outages_total',
      help: 'Times Redis became unreachable from this process.',
      registers,
    });
    this.published = new Counter({
      name: 'tfx_cluster_published_total',
      help: 'Envelopes this process sent to another node, by kind (deliver, joined, left, …).',
      labelNames: ['kind'],
      registers,
    });
    this.received = new Counter({
      name: 'tfx_cluster_received_total',
      help: 'Envelopes this process received from other nodes, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.refused = new Counter({
      name: 'tfx_cluster_refused_total',
      help: 'Envelopes not sent, by reason (queue-full: the outbound queue was at its bound).',
      labelNames: ['reason'],
      registers,
    });
    this.pending = new Gauge({
      name: 'tfx_cluster_outbound_pending',
      help: 'Envelopes handed to Redis and not yet acknowledged (bounded by cluster.maxPending).',
      registers,
    });
    this.badMessages = new Counter({
      name: 'tfx_cluster_bad_messages_total',
      help: 'Stream entries that did not parse (dropped and counted, never fatal).',
      registers,
    });
    this.nodes = new Gauge({
      name: 'tfx_cluster_nodes',
      help: 'Live TFX nodes seen in the registry (this one included).',
      registers,
    });
    this.reasserted = new Counter({
      name: 'tfx_cluster_reasserted_peers_total',
      help: 'Peers this process wrote back into Redis after Redis lost them.',
      registers,
    });
    this.reaped = new Counter({
      name: 'tfx_cluster_reaped_peers_total',
      help: 'Peers of dead nodes this process removed after the grace period.',
      registers,
    });
  }
}
