/** The lobby's admitted joiners (lobby.ts), in the order they were admitted. */
import type { ParsedClientEvent } from '@tfx/protocol';
import type { Conn } from './connection.js';

/** A joiner a moderator admitted: its held join is to run now. */
export interface Admission {
  readonly id: string;
  readonly room: string;
  readonly conn: Conn;
  readonly req: ParsedClientEvent<'join'>;
}

/** A queue read by one `for await` loop: admitted joins run one after another, oldest first. */
export class Admissions implements AsyncIterable<Admission> {
  private readonly items: Admission[] = [];
  private wake: (() => void) | undefined;
  private ended = false;

  push(item: Admission): void {
    if (this.ended) return;
    this.items.push(item);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Admission> {
    for (;;) {
      const next = this.items.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
