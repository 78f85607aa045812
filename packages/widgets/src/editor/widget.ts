/**
 * The collaborative code editor: CodeMirror 6 with a Yjs document synced over the widget
 * channel. Document updates and awareness (remote cursors with names and colours) travel as
 * binary messages; a late joiner or late opener gets the whole document through the SDK's
 * state sync (`Y.encodeStateAsUpdate`, base64). The language is shared too (a Y.Map).
 */
import { connect, type WidgetPeer } from '@tfx/widget-sdk';
import {
  EditorView,
  crosshairCursor,
  drawSelection,
  dropCursor,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from '@codemirror/view';
import { Compartment, EditorState, type Extension } from '@codemirror/state';
import { defaultKeymap, indentWithTab } from '@codemirror/commands';
import {
  bracketMatching,
  defaultHighlightStyle,
  foldGutter,
  foldKeymap,
  indentOnInput,
  syntaxHighlighting,
} from '@codemirror/language';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import {
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
  completionKeymap,
} from '@codemirror/autocomplete';
import { javascript } from '@codemirror/lang-javascript';
import { python } from '@codemirror/lang-python';
import { html } from '@codemirror/lang-html';
import { css } from '@codemirror/lang-css';
import * as Y from 'yjs';
import { yCollab } from 'y-codemirror.next';
import {
  Awareness,
  applyAwarenessUpdate,
  encodeAwarenessUpdate,
  removeAwarenessStates,
} from 'y-protocols/awareness';
import {
  KIND_AWARENESS,
  KIND_DOC,
  LANGUAGES,
  frame,
  fromBase64,
  isLanguage,
  peerColour,
  toBase64,
  unframe,
  type Language,
} from './wire.js';

const LABELS: Record<Language, string> = {
  javascript: 'JavaScript',
  typescript: 'TypeScript',
  python: 'Python',
  html: 'HTML',
  css: 'CSS',
  plain: 'Plain text',
};

function languageExtension(lang: Language): Extension {
  switch (lang) {
    case 'javascript':
      return javascript({ jsx: true });
    case 'typescript':
      return javascript({ typescript: true, jsx: true });
    case 'python':
      return python();
    case 'html':
      return html();
    case 'css':
      return css();
    default:
      return [];
  }
}

/** CodeMirror's basic setup, minus its own history (Yjs' undo manager undoes only our edits). */
const basicSetup: Extension = [
  lineNumbers(),
  highlightActiveLineGutter(),
  highlightSpecialChars(),
  foldGutter(),
  drawSelection(),
  dropCursor(),
  EditorState.allowMultipleSelections.of(true),
  indentOnInput(),
  syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
  bracketMatching(),
  closeBrackets(),
  autocompletion(),
  rectangularSelection(),
  crosshairCursor(),
  highlightActiveLine(),
  highlightSelectionMatches(),
  keymap.of([
    ...closeBracketsKeymap,
    ...defaultKeymap,
    ...searchKeymap,
    ...foldKeymap,
    ...completionKeymap,
    indentWithTab,
  ]),
];

const REMOTE = Symbol('remote');
const select = document.getElementById('lang') as HTMLSelectElement;
const people = document.getElementById('people') as HTMLUListElement;
const status = document.getElementById('status') as HTMLParagraphElement;
const host = document.getElementById('code') as HTMLDivElement;

for (const l of LANGUAGES) select.append(new Option(LABELS[l], l));

const doc = new Y.Doc();
const ytext = doc.getText('code');
const meta = doc.getMap<string>('meta');
const awareness = new Awareness(doc);
const undoManager = new Y.UndoManager(ytext);
const language = new Compartment();

const tfx = await connect();
let me: WidgetPeer = tfx.self();

function setUser(): void {
  const c = peerColour(me.id);
  awareness.setLocalStateField('user', {
    name: me.name || 'Guest',
    color: c.color,
    colorLight: c.light,
  });
}
setUser();
tfx.onSelf((s) => {
  me = s;
  setUser();
});

const currentLanguage = (): Language => {
  const l = meta.get('lang');
  return isLanguage(l) ? l : 'javascript';
};

// CodeMirror's styles: in a document it would add <style> elements, which the widget CSP
// (style-src 'self') refuses; inside a shadow root it uses constructed style sheets instead.
const shadow = host.attachShadow({ mode: 'open' });
const fill = EditorView.theme({
  '&': { height: '100%' },
  '.cm-scroller': { fontFamily: "ui-monospace, 'SF Mono', Menlo, Consolas, monospace" },
});

const view = new EditorView({
  root: shadow,
  parent: shadow,
  state: EditorState.create({
    doc: ytext.toString(),
    extensions: [
      basicSetup,
      EditorView.theme({}, { dark: true }),
      fill,
      language.of(languageExtension(currentLanguage())),
      yCollab(ytext, awareness, { undoManager }),
    ],
  }),
});

function applyLanguage(): void {
  const l = currentLanguage();
  select.value = l;
  document.body.dataset.lang = l;
  view.dispatch({ effects: language.reconfigure(languageExtension(l)) });
}
meta.observe(applyLanguage);
select.addEventListener('change', () => {
  if (isLanguage(select.value)) meta.set('lang', select.value);
});
applyLanguage();

async function send(bytes: Uint8Array, to?: string): Promise<void> {
  try {
    await tfx.sendMessage(bytes, to ? { to } : undefined);
  } catch (err) {
    // A direct reply to a peer that has just left is not worth a message.
    if (!to) status.textContent = `Not sent: ${(err as Error).message}`;
  }
}

const ourAwareness = (): Uint8Array =>
  frame(KIND_AWARENESS, encodeAwarenessUpdate(awareness, [doc.clientID]));

doc.on('update', (update: Uint8Array, origin: unknown) => {
  if (origin !== REMOTE) void send(frame(KIND_DOC, update));
});

awareness.on(
  'update',
  (
    { added, updated, removed }: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ) => {
    renderPeople();
    if (origin === REMOTE) return;
    const changed = [...added, ...updated, ...removed];
    void send(frame(KIND_AWARENESS, encodeAwarenessUpdate(awareness, changed)));
  },
);

/** Awareness client ids each peer announced (removed when the peer leaves). */
const clientsOf = new Map<string, Set<number>>();

tfx.onMessage((data, from) => {
  if (!(data instanceof ArrayBuffer)) return;
  const m = unframe(data);
  if (!m) return;
  try {
    if (m.kind === KIND_DOC) {
      Y.applyUpdate(doc, m.payload, REMOTE);
    } else {
      const before = new Set(awareness.getStates().keys());
      applyAwarenessUpdate(awareness, m.payload, REMOTE);
      const mine = clientsOf.get(from.id) ?? new Set<number>();
      // Someone we have not heard from yet (a late joiner or opener): show them our cursor.
      if (!clientsOf.has(from.id)) void send(ourAwareness(), from.id);
      for (const id of awareness.getStates().keys())
        if (!before.has(id) && id !== doc.clientID) mine.add(id);
      clientsOf.set(from.id, mine);
    }
  } catch (err) {
    // A malformed update from a peer: ignore it, the document stays as it was.
    status.textContent = `Ignored an update from ${from.name}: ${(err as Error).message}`;
  }
});

tfx.onPeers((peers) => {
  const now = new Set(peers.map((p) => p.id));
  for (const [peer, clients] of clientsOf) {
    if (now.has(peer)) continue;
    removeAwarenessStates(awareness, [...clients], REMOTE);
    clientsOf.delete(peer);
  }
});

function renderPeople(): void {
  const items: HTMLLIElement[] = [];
  for (const [id, state] of awareness.getStates()) {
    const user = (state as { user?: { name?: unknown; color?: unknown } }).user;
    if (typeof user?.name !== 'string' || typeof user.color !== 'string') continue;
    const li = document.createElement('li');
    li.textContent = id === doc.clientID ? `${user.name} (you)` : user.name;
    li.style.background = user.color;
    items.push(li);
  }
  people.replaceChildren(...items);
}
renderPeople();

const sync = tfx.stateSync<string>({
  getState: () => toBase64(Y.encodeStateAsUpdate(doc)),
  setState: (state) => {
    if (typeof state !== 'string') return;
    try {
      Y.applyUpdate(doc, fromBase64(state), REMOTE);
    } catch {
      // An invalid state offer: keep ours.
    }
  },
});
status.textContent = 'Loading document…';
void sync.ready.then(() => {
  status.textContent = '';
  document.body.dataset.ready = sync.status;
  // Tell everyone about us once we are in; each answers with its own cursor.
  void send(ourAwareness());
});
view.focus();
