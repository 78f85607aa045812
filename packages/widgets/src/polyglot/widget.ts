/**
 * Multilingual chat: everyone writes in their own language and reads everyone else in theirs.
 * A message carries its original text and the language it was written in (or `auto`: the
 * server's provider or its offline detector decides). Each receiver asks its own host to
 * translate it (`permissions.media.translate`: the widget has no network of its own), and can
 * show the original. When translation is off, the pair is unknown or the provider fails, the
 * original is shown with a notice saying why. History reaches late joiners through state sync.
 */
import { connect, TfxWidgetError } from '@tfx/widget-sdk';
import {
  ChatHistory,
  bindComposer,
  isChatLine,
  messageItem,
  renderList,
  type ChatLine,
} from '../shared/chat.js';

interface Msg extends ChatLine {
  /** The language it was written in, or `auto`. */
  readonly lang: string;
}

interface View {
  text?: string;
  notice?: string;
  showOriginal: boolean;
  /** The language this view was made for. */
  for?: string;
}

const HISTORY_LIMIT = 300;
const MAX_TEXT = 2000;
const LANG = /^([a-z]{2,3}(-[A-Za-z0-9]{2,8})?|auto)$/;
const NAMES: Record<string, string> = {
  auto: 'Detect',
  en: 'English',
  es: 'Spanish',
  fr: 'French',
  de: 'German',
  pt: 'Portuguese',
  ca: 'Catalan',
  it: 'Italian',
};

const history = document.getElementById('history') as HTMLOListElement;
const form = document.getElementById('send-form') as HTMLFormElement;
const input = document.getElementById('text') as HTMLTextAreaElement;
const status = document.getElementById('status') as HTMLParagraphElement;
const privacy = document.getElementById('privacy') as HTMLParagraphElement;
const readSel = document.getElementById('lang') as HTMLSelectElement;
const writeSel = document.getElementById('write-lang') as HTMLSelectElement;

const views = new Map<string, View>();
const msgs = new ChatHistory<Msg>(HISTORY_LIMIT, (old) => views.delete(old.id));
let translation = false;

const tfx = await connect();
let me = tfx.self();
tfx.onSelf((s) => (me = s));

const info = await tfx.language.info().catch(() => null);
let lang = info?.lang ?? 'en';
translation = info?.translation ?? false;
privacy.textContent = translation
  ? 'Messages are translated by this server: their text leaves the peer-to-peer path.'
  : 'Translation is off in this room: messages are shown as written.';
document.body.dataset.translation = String(translation);

function fillSelect(sel: HTMLSelectElement, codes: readonly string[], value: string): void {
  const all = [...new Set([...codes, value])];
  sel.replaceChildren(
    ...all.map((c) => {
      const o = document.createElement('option');
      o.value = c;
      o.textContent = NAMES[c] ? `${NAMES[c]} (${c})` : c;
      return o;
    }),
  );
  sel.value = value;
}
const offered = info?.languages.length ? info.languages : ['en', 'es'];
fillSelect(readSel, offered, lang);
fillSelect(writeSel, ['auto', ...offered], lang);

const base = (c: string): string => c.split('-', 1)[0] ?? c;
const isMsg = (v: unknown): v is Msg =>
  isChatLine(v, MAX_TEXT) && typeof (v as Msg).lang === 'string' && LANG.test((v as Msg).lang);

async function translateOne(m: Msg): Promise<void> {
  const v: View = views.get(m.id) ?? { showOriginal: false };
  views.set(m.id, v);
  if (m.from.id === me.id || (m.lang !== 'auto' && base(m.lang) === base(lang))) {
    v.text = m.text;
    v.notice = undefined;
    v.for = lang;
    return render();
  }
  if (!translation) {
    v.text = m.text;
    v.notice = 'not translated: translation is off in this room';
    v.for = lang;
    return render();
  }
  const target = lang;
  try {
    const [t] = await tfx.language.translate([m.text], { from: m.lang, to: target });
    if (target !== lang) return; // the language changed meanwhile
    v.text = t?.text ?? m.text;
    v.notice = t && !t.unchanged && m.lang === 'auto' ? `detected ${t.from}` : undefined;
  } catch (err) {
    v.text = m.text;
    const code = err instanceof TfxWidgetError ? err.code : 'error';
    v.notice = `not translated (${code}): showing the original`;
  }
  v.for = target;
  render();
}

function render(): void {
  renderList(
    history,
    msgs.lines.map((m) => {
      const v = views.get(m.id) ?? { showOriginal: false };
      const { li, meta } = messageItem(m, me);
      li.dataset.id = m.id;
      const p = document.createElement('p');
      p.className = 'text';
      const translated = v.text !== undefined && v.text !== m.text;
      p.textContent = v.showOriginal || v.text === undefined ? m.text : v.text;
      p.lang = v.showOriginal || !translated ? (m.lang === 'auto' ? '' : m.lang) : lang;
      li.dataset.state =
        v.text === undefined
          ? 'translating'
          : translated
            ? 'translated'
            : v.notice
              ? 'original-notice'
              : 'original';
      li.append(p);
      if (translated) {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'toggle-original';
        b.textContent = v.showOriginal ? 'Show translation' : 'Show original';
        b.addEventListener('click', () => {
          v.showOriginal = !v.showOriginal;
          render();
        });
        meta.append(b);
      }
      if (v.notice) {
        const n = document.createElement('p');
        n.className = 'notice';
        n.textContent = v.notice;
        li.append(n);
      }
      return li;
    }),
  );
}

function add(items: readonly Msg[]): void {
  const fresh = msgs.add(items);
  if (fresh.length === 0) return;
  render();
  for (const m of fresh) void translateOne(m);
}

tfx.onMessage((data, from) => {
  const m = data as { id?: unknown; text?: unknown; lang?: unknown; ts?: unknown };
  if (typeof m?.id !== 'string' || typeof m.text !== 'string' || typeof m.ts !== 'number') return;
  const l = typeof m.lang === 'string' && LANG.test(m.lang) ? m.lang : 'auto';
  add([
    {
      id: `${from.id}:${m.id}`.slice(0, 128),
      from,
      text: m.text.slice(0, MAX_TEXT),
      lang: l,
      ts: m.ts,
    },
  ]);
});

const sync = tfx.stateSync<Msg[]>({
  getState: () => msgs.lines,
  setState: (state) => add(Array.isArray(state) ? state.filter(isMsg) : []),
});
void sync.ready.then(() => {
  status.textContent = '';
  document.body.dataset.ready = sync.status;
});

function retranslateAll(): void {
  for (const m of msgs.lines) {
    const v = views.get(m.id);
    if (v?.for !== lang) void translateOne(m);
  }
}

readSel.addEventListener('change', () => {
  lang = readSel.value;
  void tfx.language.set(lang).catch(() => undefined);
  retranslateAll();
});
tfx.language.onChange((l) => {
  if (l === lang) return;
  lang = l;
  fillSelect(readSel, offered, l);
  retranslateAll();
});

bindComposer(form, input, status, async (text, id, ts) => {
  const l = writeSel.value;
  add([{ id: `${me.id}:${id}`, from: me, text, lang: l, ts }]);
  await tfx.sendMessage({ id, text, lang: l, ts });
});
status.textContent = 'Loading history…';
