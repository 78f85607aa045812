/**
 * The location service (RFC 3261 §10.3): bindings from an address of record to contacts. Only
 * storage lives here (Kamailio's `usrloc`); the rules of REGISTER are in registrar.ts (its
 * `registrar`). One of the Store family: in memory (the embedded default) and in Redis
 * (redis/location.ts, with `--redis`: every process sees every registration, and they survive a
 * restart), both run through one contract suite (test/store/location-contract.ts). Times are
 * given by the caller (an injected clock), never read here.
 */
import type { TransportProtocol } from '@tfx/sip';

/** One contact bound to an address of record. Times are epoch ms. */
export interface Binding {
  /** Stable id of this binding (for removal from the console). */
  readonly id: string;
  readonly aor: string;
  /** The Contact URI as the UA wrote it. */
  readonly uri: string;
  readonly q: number;
  readonly expiresAt: number;
  readonly registeredAt: number;
  /** RFC 3261 §10.3 step 7: the Call-ID and CSeq of the REGISTER that last refreshed it. */
  readonly callId: string;
  readonly cseq: number;
  /** Transport the REGISTER came over, and its source. */
  readonly transport: TransportProtocol;
  readonly source: { readonly address: string; readonly port: number };
  /**
   * For a UA behind a NAT on UDP: the source address its REGISTER came from, when that is not the
   * address its top Via names (RFC 3581 `received`/`rport`; Kamailio's `fix_nated_register`).
   * Requests for this contact go there, the Request-URI staying the Contact (RFC 5626 §5.3).
   */
  readonly received?: { readonly address: string; readonly port: number };
  /** For connection-oriented flows (TCP, TLS, WS): the flow token to reach the UA on its flow. */
  readonly flowToken?: string;
  readonly userAgent?: string;
  /**
   * The SBC zone the REGISTER came through (TFX's own registrar in a zone, docs/sbc.md); absent
   * for the SIP server's listeners. Its flow token is that zone's.
   */
  readonly zone?: string;
}

export interface LocationStore {
  /** Live bindings of an AOR (expired ones are never returned). */
  lookup(aor: string, now: number): Promise<Binding[]>;
  /** Adds or replaces the binding with the same AOR and contact URI. */
  put(binding: Binding): Promise<void>;
  /** Removes one binding by contact URI; true when it existed. */
  remove(aor: string, uri: string): Promise<boolean>;
  /** Removes a binding by id; true when it existed. */
  removeById(aor: string, id: string): Promise<boolean>;
  /** Removes every binding of an AOR; returns how many. */
  removeAll(aor: string): Promise<number>;
  /** Every AOR with live bindings. */
  list(now: number): Promise<Array<{ aor: string; bindings: Binding[] }>>;
  /** Drops expired bindings; returns how many. */
  expire(now: number): Promise<number>;
  /** Live bindings in total. */
  count(now: number): Promise<number>;
  close(): Promise<void>;
}

/** The in-process location store. */
export class MemoryLocationStore implements LocationStore {
  readonly #byAor = new Map<string, Map<string, Binding>>();

  async lookup(aor: string, now: number): Promise<Binding[]> {
    const m = this.#byAor.get(aor);
    if (!m) return [];
    const out: Binding[] = [];
    for (const b of m.values()) if (b.expiresAt > now) out.push(b);
    return out;
  }

  async put(binding: Binding): Promise<void> {
    let m = this.#byAor.get(binding.aor);
    if (!m) {
      m = new Map();
      this.#byAor.set(binding.aor, m);
    }
    m.set(binding.uri, binding);
  }

  async remove(aor: string, uri: string): Promise<boolean> {
    const m = this.#byAor.get(aor);
    const had = m?.delete(uri) ?? false;
    if (m && m.size === 0) this.#byAor.delete(aor);
    return had;
  }

  async removeById(aor: string, id: string): Promise<boolean> {
    const m = this.#byAor.get(aor);
    if (!m) return false;
    for (const [uri, b] of m) if (b.id === id) return this.remove(aor, uri);
    return false;
  }

  async removeAll(aor: string): Promise<number> {
    const n = this.#byAor.get(aor)?.size ?? 0;
    this.#byAor.delete(aor);
    return n;
  }

  async list(now: number): Promise<Array<{ aor: string; bindings: Binding[] }>> {
    const out: Array<{ aor: string; bindings: Binding[] }> = [];
    for (const aor of this.#byAor.keys()) {
      const bindings = await this.lookup(aor, now);
      if (bindings.length > 0) out.push({ aor, bindings });
    }
    return out;
  }

  async expire(now: number): Promise<number> {
    let n = 0;
    for (const [aor, m] of this.#byAor) {
      for (const [uri, b] of m) {
        if (b.expiresAt <= now) {
          m.delete(uri);
          n++;
        }
      }
      if (m.size === 0) this.#byAor.delete(aor);
    }
    return n;
  }

  async count(now: number): Promise<number> {
    let n = 0;
    for (const m of this.#byAor.values()) for (const b of m.values()) if (b.expiresAt > now) n++;
    return n;
  }

  async close(): Promise<void> {
    this.#byAor.clear();
  }
}
