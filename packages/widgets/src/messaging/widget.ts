/**
 * The messaging widget: the original TFX simple messaging widget, rebuilt on the widget SDK.
 * History (shared with late joiners and late openers through the SDK's state sync), sender names
 * (from the host, never from the message), Enter to send (Shift+Enter for a new line).
 */
import { connect, type WidgetPeer } from '@tfx/widget-sdk';
import {
  ChatHistory,
  bindComposer,
  isChatLine,
  messageItem,
  renderList,
  type ChatLine,
} from '../shared/chat.js';

const HISTORY_LIMIT = 500;
const MAX_TEXT = 4000;

const history = document.getElementById('history') as HTMLOListElement;
const form = document.getElementById('send-form') as HTMLFormElement;
const input = document.getElementById('text') as HTMLTextAreaElement;
const status = document.getElementById('status') as HTMLParagraphElement;

const lines = new ChatHistory<ChatLine>(HISTORY_LIMIT);
let me: WidgetPeer = { id: '', name: '' };

function render(): void {
  renderList(
    history,
    lines.lines.map((l) => {
      const { li } = messageItem(l, me);
      const p = document.createElement('p');
      p.className = 'text';
      p.textContent = l.text;
      li.append(p);
      return li;
    }),
  );
}

function add(items: readonly ChatLine[]): void {
  if (lines.add(items).length > 0) render();
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

const sync = tfx.stateSync<ChatLine[]>({
  getState: () => lines.lines,
  setState: (state) =>
    add(Array.isArray(state) ? state.filter((l) => isChatLine(l, MAX_TEXT)) : []),
});
void sync.ready.then(() => {
  status.textContent = '';
  document.body.dataset.ready = sync.status;
});

bindComposer(form, input, status, async (text, id, ts) => {
  add([{ id: `${me.id}:${id}`, from: me, text, ts }]);
  await tfx.sendMessage({ id, text, ts });
});
status.textContent = 'Loading history…';
input.focus();
