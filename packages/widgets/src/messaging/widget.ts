/**
 * The messaging widget: the original TFX simple messaging widget, rebuilt on the widget SDK.
 * History (shared with late joiners and late openers through the SDK's state sync), sender names
 * (from the host, never from the message), Enter to send (Shift+Enter for a new line).
 */
import { connect, type WidgetPeer } from '@tfx/widget-sdk';

interface Line {
  readonly id: string;
  readonly from: WidgetPeer;
  readonly text: string;
  readonly ts: number;
}

const HISTORY_LIMIT = 500;
const MAX_TEXT = 4000;

const history = document.getElementById('history') as HTMLOListElement;
const form = document.getElementById('send-form') as HTMLFormElement;
const input = document.getElementById('text') as HTMLTextAreaElement;
const status = document.getElementById('status') as HTMLParagraphElement;

const lines: Line[] = [];
const ids = new Set<string>();
let me: WidgetPeer = { id: '', name: '' };

function isLine(v: unknown): v is Line {
  const l = v as Line;
  return (
    typeof l === 'object' &&
    l !== null &&
    typeof l.id === 'string' &&
    l.id.length <= 128 &&
    typeof l.text === 'string' &&
    l.text.length <= MAX_TEXT &&
    typeof l.ts === 'number' &&
    typeof l.from?.id === 'string' &&
    typeof l.from?.name === 'string'
  );
}

function render(): void {
  const atBottom = history.scrollHeight - history.scrollTop - history.clientHeight < 40;
  history.replaceChildren(
    ...lines.map((l) => {
      const li = document.createElement('li');
      li.className = l.from.id === me.id ? 'msg mine' : 'msg';
      li.dataset.from = l.from.id;
      const meta = document.createElement('div');
      meta.className = 'meta';
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = l.from.id === me.id ? 'You' : l.from.name;
      const time = document.createElement('time');
      time.dateTime = new Date(l.ts).toISOString();
      time.textContent = new Date(l.ts).toLocaleTimeString([], {
        hour: '2-digit',
        minute: '2-digit',
      });
      meta.append(name, time);
      const p = document.createElement('p');
      p.className = 'text';
      p.textContent = l.text;
      li.append(meta, p);
      return li;
    }),
  );
  if (atBottom) history.scrollTop = history.scrollHeight;
}

function add(items: readonly Line[]): void {
  let changed = false;
  for (const l of items) {
    if (ids.has(l.id)) continue;
    ids.add(l.id);
    lines.push(l);
    changed = true;
  }
  if (!changed) return;
  lines.sort((a, b) => a.ts - b.ts || a.id.localeCompare(b.id));
  while (lines.length > HISTORY_LIMIT) ids.delete(lines.shift()!.id);
  render();
}

const tfx = await connect();
me = tfx.self();
tfx.onSelf((s) => {
  me = s;
  render();
});

tfx.onMessage((data, from) => {
  const m = data as { id?: unknown; text?: unknown; ts?: unknown };
  if (typeof m?.id !== 'string' || typeof m.text !== 'string' || typeof m.ts !== 'number') return;
  // The sender is who the host says it is, whatever the message claims.
  const line = { id: `${from.id}:${m.id}`, from, text: m.text.slice(0, MAX_TEXT), ts: m.ts };
  add([line]);
});

const sync = tfx.stateSync<Line[]>({
  getState: () => lines,
  setState: (state) => add(Array.isArray(state) ? state.filter(isLine) : []),
});
void sync.ready.then(() => {
  status.textContent = '';
  document.body.dataset.ready = sync.status;
});

let counter = 0;
async function send(): Promise<void> {
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  const id = `${Date.now().toString(36)}-${++counter}`;
  const ts = Date.now();
  add([{ id: `${me.id}:${id}`, from: me, text, ts }]);
  try {
    await tfx.sendMessage({ id, text, ts });
  } catch (err) {
    status.textContent = `Not sent: ${(err as Error).message}`;
  }
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  void send();
});
input.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    void send();
  }
});
status.textContent = 'Loading history…';
input.focus();
