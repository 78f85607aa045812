/**
 * `/dial.html`: the dial pad (dialpad.ts) as a page of its own. `?room=NAME` when a room opened
 * it; a moderator's token arrives in the fragment (`#moderator=…`), read once and taken out of
 * the address bar.
 */
import { h, icon } from '../dom.js';
import { ICONS } from '../icons.js';
import { roomFromInput } from '../names.js';
import { mountDialPad } from './dialpad.js';

const room = roomFromInput(new URLSearchParams(location.search).get('room') ?? '') || undefined;
const moderatorToken = room
  ? (new URLSearchParams(location.hash.slice(1)).get('moderator') ?? undefined)
  : undefined;
if (location.hash) history.replaceState(null, '', location.pathname + location.search);

const app = document.getElementById('app') as HTMLElement;
const logo = h('span', { class: 'logo' });
logo.innerHTML = ICONS.logo;
const pad = mountDialPad({ room, moderatorToken });
app.replaceChildren(
  h(
    'header',
    { class: 'topbar row-between' },
    h('a', { href: '/', class: 'brand' }, logo, h('span', {}, 'TFX')),
    room
      ? h(
          'a',
          { href: `/r/${room}`, class: 'btn btn-ghost btn-sm', id: 'back-to-room' },
          icon('back'),
          h('span', {}, `Room ${room}`),
        )
      : null,
  ),
  pad.element,
);
window.addEventListener('pagehide', () => void pad.close());
