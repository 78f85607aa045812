/**
 * Messages held for a peer that disconnected and may still resume (within
 * `signalling.resumeGraceMs`): at most `maxMessages` messages or `maxBytes` bytes (JSON length;
 * of an item relayed from another process, its encoded packet's);
 * beyond that `push` refuses and the sender is told `peer-unavailable`. Delivered in order on resume.
 */
import { LIMITS, type MessageDelivery, type SignalDelivery } from '@tfx/protocol';

export type Buffered =
  | { readonly event: 'signal'; readonly payload: SignalDelivery }
  | { readonly event: 'message'; readonly payload: MessageDelivery }
  /** Relayed from another process, already encoded as the socket receives it (scale-out). */
  | { readonly event: 'signal' | 'message'; readonly packet: string };

export class ResumeBuffer {
  private items: Buffered[] = [];
  private bytes = 0;

  constructor(
    readonly maxMessages: number = LIMITS.resumeBufferMessages,
    readonly maxBytes: number = LIMITS.resumeBufferBytes,
  ) {}

  /** Holds the item unless that would pass a limit. */
  push(item: Buffered): boolean {
    if (this.items.length >= this.maxMessages) return false;
    const size = 'packet' in item ? item.packet.length : JSON.stringify(item.payload).length;
    if (this.bytes + size > this.maxBytes) return false;
    this.items.push(item);
    this.bytes += size;
    return true;
  }

  /** Everything held, oldest first; the buffer is empty afterwards. */
  drain(): Buffered[] {
    const out = this.items;
    this.items = [];
    this.bytes = 0;
    return out;
  }

  get length(): number {
    return this.items.length;
  }

  get size(): number {
    return this.bytes;
  }
}
