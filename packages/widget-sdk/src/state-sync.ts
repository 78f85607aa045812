/**
 * State sync: a late joiner (or late opener) gets the current state from a peer that has it.
 *
 * On start the instance is `pending` and asks everyone (`state-request`); it asks again when the
 * peers change while it is still pending. The first `state-offer` is applied (`setState`) and the
 * instance becomes `received`; with no offer within `timeoutMs` (or nobody else in the room) it
 * becomes `fresh`. Only a non-pending instance answers requests — and it answers those that came
 * in while it was pending as soon as it is ready, so two instances opened together never wait on
 * each other.
 */
import type { WidgetPeer } from '@tfx/protocol/widgets';

export type StateSyncStatus = 'pending' | 'received' | 'fresh';

export interface StateSyncOptions<S> {
  /** The state to offer a peer; `undefined` offers nothing. */
  readonly getState: () => S | undefined;
  /** Applies a state a peer offered. */
  readonly setState: (state: S, from: WidgetPeer) => void;
  /** How long to wait for an offer, ms. Default 1500. */
  readonly timeoutMs?: number;
}

export interface StateSync {
  readonly status: StateSyncStatus;
  /** Resolves once the instance has state: `received` from a peer, or `fresh`. */
  readonly ready: Promise<Exclude<StateSyncStatus, 'pending'>>;
  /** Stops answering and asking. */
  stop(): void;
}

/** What the state sync needs of the widget (the `TfxWidget`). */
export interface StateSyncPort {
  peers(): readonly WidgetPeer[];
  requestState(): void;
  offerState(to: string, state: unknown): Promise<void>;
  onStateRequest(h: (from: WidgetPeer) => void): () => void;
  onStateOffer(h: (state: unknown, from: WidgetPeer) => void): () => void;
  onPeers(h: (peers: readonly WidgetPeer[]) => void): () => void;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
}

export function createStateSync<S>(port: StateSyncPort, o: StateSyncOptions<S>): StateSync {
  let status: StateSyncStatus = 'pending';
  let resolveReady: (s: Exclude<StateSyncStatus, 'pending'>) => void = () => undefined;
  const ready = new Promise<Exclude<StateSyncStatus, 'pending'>>((r) => (resolveReady = r));
  const waiting = new Set<string>();
  let timer: unknown = null;
  let stopped = false;

  const offer = (to: string): void => {
    const state = o.getState();
    if (state !== undefined) void port.offerState(to, state).catch(() => undefined);
  };
  const settle = (s: Exclude<StateSyncStatus, 'pending'>): void => {
    if (status !== 'pending') return;
    status = s;
    if (timer !== null) port.clearTimeout(timer);
    timer = null;
    resolveReady(s);
    for (const id of waiting) offer(id);
    waiting.clear();
  };
  const ask = (): void => {
    if (stopped || status !== 'pending') return;
    if (port.peers().length === 0) return settle('fresh');
    port.requestState();
    if (timer !== null) port.clearTimeout(timer);
    timer = port.setTimeout(() => settle('fresh'), o.timeoutMs ?? 1500);
  };

  const offs = [
    port.onStateRequest((from) => {
      if (stopped) return;
      if (status === 'pending') waiting.add(from.id);
      else offer(from.id);
    }),
    port.onStateOffer((state, from) => {
      if (stopped || status !== 'pending') return;
      try {
        o.setState(state as S, from);
      } finally {
        settle('received');
      }
    }),
    port.onPeers(() => ask()),
  ];
  ask();
  return {
    get status() {
      return status;
    },
    ready,
    stop() {
      stopped = true;
      if (timer !== null) port.clearTimeout(timer);
      for (const off of offs) off();
    },
  };
}
