/**
 * Recent SIP messages for the console's ladder view: a bounded ring buffer. Inbound messages keep
 * their received bytes; outbound ones keep the message object (never changed after sending) and
 * are serialized only when someone looks, so tracing costs little on the hot path.
 */
import { serializeMessage, type SipMessage, type TransportProtocol } from '@tfx/sip';
import type { SipTracedMessage } from '@tfx/protocol';

interface Entry {
  readonly seq: number;
  readonly at: number;
  readonly direction: 'in' | 'out';
  readonly transport: TransportProtocol;
  readonly local: string;
  readonly remote: string;
  readonly message: SipMessage;
  readonly bytes: Uint8Array | undefined;
}

const MAX_TEXT = 4096;
const decoder = new TextDecoder();

export function endpointText(
  e: { readonly address: string; readonly port: number } | undefined,
): string {
  if (!e) return '';
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

export class MessageTrace {
  readonly #ring: Array<Entry | undefined>;
  #seq = 0;

  constructor(readonly capacity: number) {
    this.#ring = new Array<Entry | undefined>(capacity);
  }

  get enabled(): boolean {
    return this.capacity > 0;
  }

  record(
    direction: 'in' | 'out',
    transport: TransportProtocol,
    local: string,
    remote: string,
    message: SipMessage,
    now: number,
  ): void {
    if (this.capacity === 0) return;
    const seq = this.#seq++;
    this.#ring[seq % this.capacity] = {
      seq,
      at: now,
      direction,
      transport,
      local,
      remote,
      message,
      bytes: direction === 'in' ? message.raw : undefined,
    };
  }

  /** Messages with seq > after, oldest first, optionally of one Call-ID. */
  query(after: number, limit: number, callId?: string): SipTracedMessage[] {
    const out: SipTracedMessage[] = [];
    const first = Math.max(after + 1, this.#seq - this.capacity, 0);
    for (let s = first; s < this.#seq && out.length < limit; s++) {
      const e = this.#ring[s % this.capacity];
      if (!e || e.seq !== s) continue;
      const id = e.message.headers.callId() ?? '';
      if (callId !== undefined && id !== callId) continue;
      const m = e.message;
      const cseq = m.headers.cseq();
      const bytes = e.bytes ?? serializeMessage(m);
      out.push({
        seq: e.seq,
        at: new Date(e.at).toISOString(),
        direction: e.direction,
        transport: e.transport,
        local: e.local,
        remote: e.remote,
        callId: id,
        summary: m.kind === 'request' ? m.method : `${m.status} ${m.reason}`,
        cseq: cseq ? `${cseq.seq} ${cseq.method}` : '',
        text: decoder.decode(bytes.subarray(0, MAX_TEXT)),
      });
    }
    return out;
  }
}
