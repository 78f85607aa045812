/**
 * Introductions: everyone fills a small card (name, role or organisation, language, a link)
 * that every participant sees, late joiners too (state sync). The language chosen on the card is
 * the user's language for the whole call (`permissions.media.language`): multilingual chat and
 * captions follow it. The room's title and agenda, when its creator set them through the REST
 * API, show at the top on joining.
 */
import { connect } from '@tfx/widget-sdk';

interface Card {
  readonly peer: string;
  readonly name: string;
  readonly role: string;
  readonly lang: string;
  readonly link: string;
  readonly ts: number;
}

const LANG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/;
const NAMES: Record<string, string> = {
  en: 'English',
  es: 'Spanish',
  fr: 'French',
  de: 'German',
  pt: 'Portuguese',
  ca: 'Catalan',
  it: 'Italian',
};
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const form = $<HTMLFormElement>('card-form');
const nameIn = $<HTMLInputElement>('name');
const roleIn = $<HTMLInputElement>('role');
const langSel = $<HTMLSelectElement>('card-lang');
const linkIn = $<HTMLInputElement>('link');
const list = $<HTMLUListElement>('cards');
const status = $<HTMLParagraphElement>('status');

const cards = new Map<string, Card>();

/** Only http(s) links become links; anything else is shown as text. */
function safeLink(v: string): string {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : '';
  } catch {
    return '';
  }
}

function clean(v: unknown, peer: string, name: string): Card | null {
  const c = v as Partial<Card>;
  if (typeof c !== 'object' || c === null) return null;
  if (typeof c.role !== 'string' || typeof c.lang !== 'string' || typeof c.link !== 'string')
    return null;
  return {
    peer,
    name: (typeof c.name === 'string' && c.name.trim() ? c.name : name).slice(0, 64),
    role: c.role.slice(0, 80),
    lang: LANG.test(c.lang) ? c.lang : '',
    link: safeLink(c.link.slice(0, 300)),
    ts: typeof c.ts === 'number' ? c.ts : 0,
  };
}

const tfx = await connect();
let me = tfx.self();
tfx.onSelf((s) => (me = s));
nameIn.value = me.name;

const info = await tfx.language.info().catch(() => null);
const langs = [
  ...new Set([...(info?.languages.length ? info.languages : ['en', 'es']), info?.lang ?? 'en']),
];
langSel.replaceChildren(
  ...langs.map((c) => {
    const o = document.createElement('option');
    o.value = c;
    o.textContent = NAMES[c] ? `${NAMES[c]} (${c})` : c;
    return o;
  }),
);
langSel.value = info?.lang ?? 'en';
if (info?.agenda || info?.title) {
  $('agenda').hidden = false;
  $('agenda-title').textContent = info.title ?? 'Agenda';
  $('agenda-text').textContent = info.agenda ?? '';
}
tfx.language.onChange((l) => {
  if ([...langSel.options].some((o) => o.value === l)) langSel.value = l;
});

function render(): void {
  const ordered = [...cards.values()].sort((a, b) => a.ts - b.ts || a.peer.localeCompare(b.peer));
  list.replaceChildren(
    ...ordered.map((c) => {
      const li = document.createElement('li');
      li.className = 'card';
      li.dataset.peer = c.peer;
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = c.peer === me.id ? `${c.name} (you)` : c.name;
      const role = document.createElement('span');
      role.className = 'role';
      role.textContent = c.role;
      const lang = document.createElement('span');
      lang.className = 'lang';
      lang.textContent = c.lang ? `Speaks ${NAMES[c.lang] ?? c.lang}` : '';
      li.append(who, role, lang);
      if (c.link) {
        const a = document.createElement('a');
        a.href = c.link;
        a.textContent = c.link;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        li.append(a);
      }
      return li;
    }),
  );
  document.body.dataset.cards = String(cards.size);
}

tfx.onMessage((data, from) => {
  // The card belongs to whoever the host says sent it.
  const c = clean(data, from.id, from.name);
  if (!c) return;
  cards.set(from.id, c);
  render();
});
const sync = tfx.stateSync<Card[]>({
  getState: () => [...cards.values()],
  setState: (state) => {
    if (!Array.isArray(state)) return;
    for (const raw of state.slice(0, 100)) {
      const peer = (raw as Card)?.peer;
      if (typeof peer !== 'string' || peer.length > 64 || cards.has(peer)) continue;
      const c = clean(raw, peer, '…');
      if (c) cards.set(peer, c);
    }
    render();
  },
});
void sync.ready.then(() => {
  status.textContent = '';
  document.body.dataset.ready = sync.status;
});

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const card: Card = {
    peer: me.id,
    name: nameIn.value.trim().slice(0, 64) || me.name,
    role: roleIn.value.trim().slice(0, 80),
    lang: langSel.value,
    link: safeLink(linkIn.value.trim()),
    ts: Date.now(),
  };
  cards.set(me.id, card);
  render();
  void tfx.language.set(card.lang).catch(() => undefined);
  tfx
    .sendMessage(card)
    .catch((err: unknown) => (status.textContent = `Not shared: ${(err as Error).message}`));
});
langSel.addEventListener(
  'change',
  () => void tfx.language.set(langSel.value).catch(() => undefined),
);
status.textContent = 'Loading cards…';
