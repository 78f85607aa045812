/**
 * What the two chat widgets (messaging, polyglot) share: the history (deduplicated by id, in time
 * order, capped), the validation of a history line that arrives through state sync, the header of
 * a message (name and time), and the compose box (Enter sends, Shift+Enter is a new line).
 * The history part is pure; the rest builds DOM.
 */
import type { WidgetPeer } from '@tfx/widget-sdk';

/** What every chat line has; each widget adds its own fields. */
export interface ChatLine {
  readonly id: string;
  readonly from: WidgetPeer;
  readonly text: string;
  readonly ts: number;
}

/** Lines in time order (ties by id), each id once, the oldest dropped past `limit`. */
export class ChatHistory<L extends ChatLine> {
  readonly lines: L[] = [];
  readonly #ids = new Set<string>();

  constructor(
    private readonly limit: number,
    /** Told of each line dropped past the limit. */
    private readonly onDrop: (line: L) => void = () => undefined,
  ) {}

  /** Adds the lines not seen before; returns them (empty: nothing changed). */
  add(items: readonly L[]): L[] {
    const fresh: L[] = [];
    for (const l of items) {
      if (this.#ids.has(l.id)) continue;
      this.#ids.add(l.id);
      this.lines.push(l);
      fresh.push(l);
    }
    if (fresh.length === 0) return fresh;
    this.lines.sort((a, b) => a.ts - b.ts || a.id.localeCompare(b.id));
    while (this.lines.length > this.limit) {
      const old = this.lines.shift()!;
      this.#ids.delete(old.id);
      this.onDrop(old);
    }
    return fresh;
  }
}

/** A chat line from another peer's state: the shape checked, the sizes bounded. */
export function isChatLine(v: unknown, maxText: number): v is ChatLine {
  const l = v as ChatLine;
  return (
    typeof l === 'object' &&
    l !== null &&
    typeof l.id === 'string' &&
    l.id.length <= 128 &&
    typeof l.text === 'string' &&
    l.text.length <= maxText &&
    typeof l.ts === 'number' &&
    typeof l.from?.id === 'string' &&
    typeof l.from?.name === 'string'
  );
}

/** A message's `<li class="msg">` with its header (the sender's name or "You", and the time). */
export function messageItem(
  line: ChatLine,
  me: WidgetPeer,
): { li: HTMLLIElement; meta: HTMLDivElement } {
  const mine = line.from.id === me.id;
  const li = document.createElement('li');
  li.className = mine ? 'msg mine' : 'msg';
  li.dataset.from = line.from.id;
  const meta = document.createElement('div');
  meta.className = 'meta';
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = mine ? 'You' : line.from.name;
  const time = document.createElement('time');
  time.dateTime = new Date(line.ts).toISOString();
  time.textContent = new Date(line.ts).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
  });
  meta.append(name, time);
  li.append(meta);
  return { li, meta };
}

/** Re-renders `list` with `items`, keeping it scrolled to the end if it was there. */
export function renderList(list: HTMLElement, items: readonly HTMLElement[]): void {
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...items);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

/**
 * The compose box: submitting the form or Enter (not Shift+Enter, not while an IME composes)
 * takes the trimmed text, clears the box and hands the text to `send` with a fresh message id;
 * a failed send is said in `status`.
 */
export function bindComposer(
  form: HTMLFormElement,
  input: HTMLTextAreaElement,
  status: HTMLElement,
  send: (text: string, id: string, ts: number) => Promise<void>,
): void {
  let counter = 0;
  const go = async (): Promise<void> => {
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    const ts = Date.now();
    try {
      await send(text, `${ts.toString(36)}-${++counter}`, ts);
    } catch (err) {
      status.textContent = `Not sent: ${(err as Error).message}`;
    }
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void go();
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      void go();
    }
  });
}
