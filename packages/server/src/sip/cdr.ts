/**
 * CDRs of the calls the SIP server proxies between its users (docs/sbc.md, "CDRs"): the same
 * record as the SBC's, `kind: 'proxy'`, in the same store (store/cdr.ts), so a user's call log
 * comes from one place. Fed by the proxy core's hooks, keyed by Call-ID:
 *
 *   INVITE branch sent (§16.6 step 10) → start, and each branch a "try" (target, status, time)
 *   1xx forwarded with a To tag → ring;  2xx → answer;  final ≥ 300 forwarded → record (rejected)
 *   2xx to BYE forwarded → record (caller-bye when the BYE's From tag is the INVITE's, else
 *   callee-bye);  no BYE within `maxAgeMs` → record (expired)
 *
 * A record is written synchronously in the hook, before the proxy forwards the response that ends
 * the call (core.ts calls onForward first): the line is in the file before the peer sees it.
 * Bounded: at most `max` calls tracked (more are not recorded, and counted in `dropped`).
 */
import { BranchState, type Branch, type SipRequest, type SipResponse } from '@tfx/sip';
import type { CdrRecord, CdrSink, CdrTry } from '@tfx/sbc';

interface Tracked {
  readonly id: string;
  readonly callId: string;
  readonly fromTag: string | undefined;
  readonly caller: CdrRecord['caller'];
  callee: CdrRecord['callee'];
  readonly start: number;
  ring?: number;
  answer?: number;
  readonly tries: Array<{ target: string; at: number; status: number; branch?: Branch }>;
}

export interface ProxyCdrOptions {
  readonly sink: () => CdrSink | undefined;
  /** A confirmed call without BYE is recorded as expired after this long. Default 12 h. */
  readonly maxAgeMs?: number;
  /** An unanswered call without a final response is dropped after this long. Default 5 min. */
  readonly earlyMaxAgeMs?: number;
  /** Most calls tracked. Default 100 000. */
  readonly max?: number;
  readonly onError?: (err: unknown) => void;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function userOf(uri: string | undefined): string | undefined {
  if (uri === undefined) return undefined;
  return /sips?:([^@;>]+)@/i.exec(uri)?.[1];
}

export class ProxyCdrs {
  readonly #calls = new Map<string, Tracked>();
  readonly #o: ProxyCdrOptions;
  #seq = 0;
  /** Calls not tracked because `max` were. */
  dropped = 0;

  constructor(o: ProxyCdrOptions) {
    this.#o = o;
  }

  get size(): number {
    return this.#calls.size;
  }

  /** The proxy core's onBranch: an INVITE branch is about to be sent. */
  branch(request: SipRequest, out: SipRequest, now: number, branch?: Branch): void {
    if (request.method !== 'INVITE' || !this.#o.sink()) return;
    const h = request.headers;
    // A re-INVITE (To tag: in a dialog, §12.2) is not a new try of the call.
    if (h.to()?.tag !== undefined) return;
    const callId = h.callId();
    if (callId === undefined) return;
    let t = this.#calls.get(callId);
    if (!t) {
      if (this.#calls.size >= (this.#o.max ?? 100_000)) {
        this.dropped++;
        return;
      }
      const ruri = request.uri.kind === 'sip' ? request.uri.user : undefined;
      t = {
        id: `proxy-${now.toString(36)}-${(this.#seq++).toString(36)}`,
        callId,
        fromTag: h.from()?.tag,
        caller: { from: userOf(h.get('from')), to: userOf(h.get('to')), ruri },
        callee: { from: undefined, to: undefined, ruri: undefined },
        start: now,
        tries: [],
      };
      this.#calls.set(callId, t);
    }
    const target = out.uri.kind === 'sip' ? out.uri.user : undefined;
    t.callee = {
      from: userOf(out.headers.get('from')),
      to: userOf(out.headers.get('to')),
      ruri: target,
    };
    const host =
      out.uri.kind === 'sip' ? `${out.uri.host}${out.uri.port ? `:${out.uri.port}` : ''}` : '';
    t.tries.push({ target: host, at: now, status: 0, ...(branch && { branch }) });
  }

  /** The proxy core's onForward: a response goes upstream (undefined: synthesized by the proxy). */
  forward(
    request: SipRequest,
    status: number,
    response: SipResponse | undefined,
    now: number,
  ): void {
    const callId = request.headers.callId();
    if (callId === undefined) return;
    const t = this.#calls.get(callId);
    if (!t) return;
    if (request.method === 'INVITE') {
      if (request.headers.to()?.tag !== undefined) return; // a re-INVITE's answer
      if (status < 200) {
        if (response?.headers.to()?.tag !== undefined) t.ring ??= now;
        return;
      }
      this.#settle(t, status);
      if (status < 300) {
        t.answer ??= now;
        return;
      }
      if (t.answer !== undefined) return; // a late failure of another fork: the call stands
      this.#write(t, now, status, status === 487 ? 'caller-cancel' : 'rejected');
    } else if (
      request.method === 'BYE' &&
      status >= 200 &&
      status < 300 &&
      t.answer !== undefined
    ) {
      const byCaller = request.headers.from()?.tag === t.fromTag;
      this.#write(t, now, 200, byCaller ? 'caller-bye' : 'callee-bye');
    }
  }

  /**
   * Each try's final status at the call's final response: its branch's (§16.7: the 2xx of an
   * accepted branch, the final ≥ 300 of a completed one); without branch state, the last
   * unsettled try gets the status forwarded.
   */
  #settle(t: Tracked, status: number): void {
    let settled = false;
    for (const x of t.tries) {
      if (x.status !== 0 || !x.branch) continue;
      const b = x.branch;
      if (b.state === BranchState.Accepted) x.status = status < 300 ? status : 200;
      else if (b.final) x.status = b.final.status;
      settled ||= x.status !== 0;
    }
    if (settled) return;
    const last = t.tries[t.tries.length - 1];
    if (last && last.status === 0) last.status = status;
  }

  /** Records calls past their age as expired (answered) or forgets them (unanswered). */
  sweep(now: number): void {
    for (const t of this.#calls.values()) {
      if (t.answer !== undefined && now - t.answer > (this.#o.maxAgeMs ?? 12 * 3600_000))
        this.#write(t, now, 200, 'expired');
      else if (t.answer === undefined && now - t.start > (this.#o.earlyMaxAgeMs ?? 300_000))
        this.#calls.delete(t.callId);
    }
  }

  #write(t: Tracked, now: number, final: number, reason: CdrRecord['reason']): void {
    this.#calls.delete(t.callId);
    const tries: CdrTry[] = t.tries.map((x) => ({
      trunk: x.target,
      status: x.status,
      at: iso(x.at),
    }));
    const record: CdrRecord = {
      kind: 'proxy',
      id: t.id,
      callId: t.callId,
      bCallId: undefined,
      aZone: 'proxy',
      bZone: 'proxy',
      trunk: tries[tries.length - 1]?.trunk ?? '',
      tries,
      caller: t.caller,
      callee: t.callee,
      start: iso(t.start),
      ...(t.ring !== undefined && { ring: iso(t.ring) }),
      ...(t.answer !== undefined && { answer: iso(t.answer) }),
      end: iso(now),
      duration: t.answer !== undefined ? Math.max(0, (now - t.answer) / 1000) : 0,
      final,
      reason,
    };
    try {
      this.#o.sink()?.write(record);
    } catch (err) {
      this.#o.onError?.(err);
    }
  }

  clear(): void {
    this.#calls.clear();
  }
}
