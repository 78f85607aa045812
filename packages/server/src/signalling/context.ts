/**
 * What every part of the signalling server is built from (server.ts makes one and hands it down):
 * config, logger, metrics, clock, store, the scale-out side (only with Redis), and the server's
 * lifecycle flags. The parts never reach back into the server; they get this and the parts below
 * them (docs/signalling.md, "Files").
 */
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/index.js';
import type { ClusterSide } from './cluster-side.js';
import type { SignallingMetrics } from './metrics.js';
import type { Clock } from './room.js';

/** Draining refuses new connections and joins; closed is final. Written only by server.ts. */
export interface Lifecycle {
  draining: boolean;
  closed: boolean;
}

export interface SignallingContext {
  readonly cfg: Config['signalling'];
  readonly log: Logger;
  readonly metrics: SignallingMetrics;
  readonly clock: Clock;
  readonly store: Store;
  /** Only with Redis: rooms spread over several processes. */
  readonly cluster: ClusterSide | undefined;
  readonly lifecycle: Readonly<Lifecycle>;
}
