/**
 * Restart recovery: live calls survive nothing silently. Each confirmed call's state needed to end
 * it — both legs' dialog ids, local and remote URIs, route sets, remote targets, local CSeq, the
 * transport and address the leg's requests go to — is kept in a `CallStore` (the server gives a
 * file in the data dir, or Redis). When the SBC starts, the calls the previous process held are
 * ended on both legs with a BYE built from that state (RFC 3261 §15.1.1, §12.2.1.1), and forgotten.
 *
 *   call confirmed ──put──▶ CallStore ◀──sweep (CSeq or target changed: put again)
 *   call ended ─────remove─▶ CallStore
 *   start ──list──▶ BYE on every leg of every record ──▶ remove
 *
 * The store is an interface: this package has no storage of its own (docs/sbc.md, "Restart
 * recovery"). Only confirmed calls are kept: an unanswered INVITE ends on its own (the caller's
 * Timer B, the callee's 2xx retransmissions unanswered, §13.3.1.4).
 */
import {
  createRequest,
  formatNameAddr,
  formatUri,
  parseNameAddr,
  parseUri,
  silentLogger,
  type Clock,
  type DialogSession,
  type Logger,
  type NameAddr,
  type StackHop,
  type TimerHandle,
  type TransportProtocol,
  type Uri,
} from '@tfx/sip';
import type { SbcCall } from './call.js';
import type { ZoneAgent } from './zone.js';

/** One leg of a kept call: enough to send its BYE from a new process. */
export interface LegRecord {
  readonly zone: string;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Our From of in-dialog requests (name-addr, no tag). */
  readonly local: string;
  /** Their To (name-addr, no tag). */
  readonly remote: string;
  /** §12.1: the route set, in the order requests carry it. */
  readonly routeSet: readonly string[];
  readonly remoteTarget: string;
  /** The last CSeq we sent in the dialog; the BYE takes the next one. */
  readonly localSeq: number;
  /** Where the leg's requests go (the flow's address for a phone behind NAT). */
  readonly hop: {
    readonly transport: TransportProtocol;
    readonly address: string;
    readonly port: number;
  };
}

export interface CallRecord {
  readonly id: string;
  readonly startedAt: number;
  readonly legs: readonly LegRecord[];
}

/**
 * Where the SBC keeps its calls across restarts (implemented by the server: a journal file in the
 * data dir, or Redis). Writes may be fire-and-forget; `list` is read once at start.
 */
export interface CallStore {
  put(record: CallRecord): Promise<void>;
  remove(id: string): Promise<void>;
  /** Every call kept by the previous process (and not yet removed). */
  list(): Promise<CallRecord[]>;
}

export interface CallJournalOptions {
  readonly store: CallStore;
  readonly zones: ReadonlyMap<string, ZoneAgent>;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** How often live calls are checked for a changed CSeq or target (default 1 s). */
  readonly sweepMs?: number;
  /** How long a recovery BYE may take before its record is dropped anyway (default 32 s). */
  readonly byeTimeoutMs?: number;
}

export interface RecoveryCounters {
  /** Calls of a previous process found at start. */
  recovered: number;
  /** BYEs sent for them, and how many got a final answer. */
  byes: number;
  answered: number;
  /** Store writes that failed (logged; the call itself goes on). */
  storeErrors: number;
}

export class CallJournal {
  readonly counters: RecoveryCounters = { recovered: 0, byes: 0, answered: 0, storeErrors: 0 };
  readonly #o: CallJournalOptions;
  readonly #log: Logger;
  /** Live confirmed calls and the signature of what was last stored for each. */
  readonly #kept = new Map<SbcCall, string>();
  #sweep: TimerHandle | undefined;
  #closed = false;

  constructor(o: CallJournalOptions) {
    this.#o = o;
    this.#log = o.logger ?? silentLogger;
    this.#arm();
  }

  /** The call is confirmed on both legs: keep it. */
  confirmed(call: SbcCall): void {
    if (this.#closed || call.state !== 'confirmed' || this.#kept.has(call)) return;
    this.#put(call);
  }

  /** The call ended: forget it. */
  ended(call: SbcCall): void {
    if (!this.#kept.delete(call)) return;
    this.#o.store.remove(call.id).catch((err: unknown) => this.#storeError(err));
  }

  /**
   * Ends every call a previous process kept: a BYE on each leg (from the leg's zone, with the
   * stored dialog state), then the record goes. Resolves with the number of calls once every BYE
   * got an answer or timed out.
   */
  async recover(): Promise<number> {
    let records: CallRecord[];
    try {
      records = await this.#o.store.list();
    } catch (err) {
      this.#storeError(err);
      return 0;
    }
    if (records.length === 0) return 0;
    this.counters.recovered += records.length;
    this.#log.warn({ calls: records.length }, 'sbc: ending the calls of the previous process');
    await Promise.all(
      records.map(async (r) => {
        await Promise.all(r.legs.map((leg) => this.#bye(r.id, leg)));
        await this.#o.store.remove(r.id).catch((err: unknown) => this.#storeError(err));
      }),
    );
    return records.length;
  }

  /** Stops the sweep. Kept records stay in the store: a new process ends those calls. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweep) this.#o.clock.clearTimer(this.#sweep);
    this.#kept.clear();
  }

  #put(call: SbcCall): void {
    const record = this.#record(call);
    if (!record) return;
    const sig = signature(record);
    if (this.#kept.get(call) === sig) return;
    this.#kept.set(call, sig);
    this.#o.store.put(record).catch((err: unknown) => this.#storeError(err));
  }

  #arm(): void {
    if (this.#closed) return;
    this.#sweep = this.#o.clock.setTimer(this.#o.sweepMs ?? 1000, () => {
      // A re-INVITE or UPDATE moved the CSeq, or a target refresh the remote target (§12.2).
      for (const call of [...this.#kept.keys()]) {
        if (call.state === 'confirmed') this.#put(call);
      }
      this.#arm();
    });
  }

  #record(call: SbcCall): CallRecord | undefined {
    const legs: LegRecord[] = [];
    for (const leg of [call.a, call.b]) {
      const r = legRecord(leg.zone, leg.session);
      if (!r) return undefined;
      legs.push(r);
    }
    return { id: call.id, startedAt: call.startedAt, legs };
  }

  /** §15.1.1 with §12.2.1.1: the BYE of a dialog, from its stored state, in a new transaction. */
  #bye(id: string, leg: LegRecord): Promise<void> {
    const zone = this.#o.zones.get(leg.zone);
    const sentBy = zone?.stack.sentBy(leg.hop.transport);
    const target = parseUri(leg.remoteTarget);
    const local = parseNameAddr(leg.local);
    const remote = parseNameAddr(leg.remote);
    if (!zone || !sentBy || !target.ok || !local.ok || !remote.ok) {
      this.#log.warn({ call: id, zone: leg.zone }, 'sbc: a kept leg cannot be ended here');
      return Promise.resolve();
    }
    const routes: NameAddr[] = [];
    for (const r of leg.routeSet) {
      const na = parseNameAddr(r);
      if (na.ok) routes.push(na.value);
    }
    let uri: Uri = target.value;
    let routeValues = routes.map(formatNameAddr);
    const first = routes[0];
    if (first !== undefined && first.uri.kind === 'sip' && !first.uri.params.has('lr')) {
      // §12.2.1.1 strict routing: the first route is the Request-URI, the target the last Route.
      uri = { ...first.uri, params: new Map(), headers: [] };
      routeValues = [...routes.slice(1).map(formatNameAddr), `<${formatUri(target.value)}>`];
    }
    const request = createRequest({
      method: 'BYE',
      uri,
      from: `${leg.local};tag=${leg.localTag}`,
      to: `${leg.remote};tag=${leg.remoteTag}`,
      callId: leg.callId,
      cseq: leg.localSeq + 1,
      via: {
        transport: leg.hop.transport.toUpperCase(),
        host: sentBy.host,
        port: sentBy.port,
      },
      // RFC 3326: why the call ends.
      headers: [
        ...routeValues.map((v) => ['Route', v] as const),
        ['Reason', 'SIP;cause=500;text="SBC restarted"'],
      ],
    });
    const hop: StackHop = {
      transport: leg.hop.transport,
      remote: { address: leg.hop.address, port: leg.hop.port },
    };
    this.counters.byes++;
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (answered: boolean): void => {
        if (done) return;
        done = true;
        this.#o.clock.clearTimer(timer);
        if (answered) this.counters.answered++;
        resolve();
      };
      const timer = this.#o.clock.setTimer(this.#o.byeTimeoutMs ?? 32_000, () => finish(false));
      try {
        zone.stack.sendRequest(request, hop, {
          onResponse: (r) => {
            if (r.status >= 200) finish(true);
          },
          onError: () => finish(false),
          onTerminated: () => finish(false),
        });
      } catch (err) {
        this.#log.info({ call: id, err }, 'sbc: recovery BYE could not be sent');
        finish(false);
      }
    });
  }

  #storeError(err: unknown): void {
    this.counters.storeErrors++;
    this.#log.warn({ err }, 'sbc: call store failed');
  }
}

/** A confirmed leg's dialog as a record (undefined while it has no confirmed dialog). */
function legRecord(zone: ZoneAgent, session: DialogSession | undefined): LegRecord | undefined {
  if (!session || session.state !== 'confirmed') return undefined;
  const d = session.dialog;
  const hop = zone.hopFor(d.routeSet[0]?.uri ?? d.remoteTarget);
  if (!hop) return undefined;
  return {
    zone: zone.name,
    callId: d.id.callId,
    localTag: d.id.localTag,
    remoteTag: d.id.remoteTag,
    local: untagged(d.localUri),
    remote: untagged(d.remoteUri),
    routeSet: d.routeSet.map(formatNameAddr),
    remoteTarget: formatUri(d.remoteTarget),
    localSeq: d.localSeq ?? 0,
    hop: { transport: hop.transport, address: hop.remote.address, port: hop.remote.port },
  };
}

function untagged(na: NameAddr): string {
  const params = new Map([...na.params].filter(([k]) => k !== 'tag'));
  const { tag: _t, ...rest } = na;
  return formatNameAddr({ ...rest, params });
}

function signature(r: CallRecord): string {
  return r.legs
    .map((l) => `${l.localSeq}|${l.remoteTarget}|${l.hop.address}:${l.hop.port}`)
    .join('/');
}
