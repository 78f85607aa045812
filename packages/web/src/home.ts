/** Home page: start a room (generated name) or type one, optional password, copy/share the link. */
import { h, icon, copyText, toast } from './dom.js';
import './pwa.js';
import { ICONS } from './icons.js';
import { generateRoomName, passwordKey, roomFromInput, roomUrl } from './names.js';

function render(): void {
  const app = document.getElementById('app');
  if (!app) return;
  const logo = h('span', { class: 'logo' });
  logo.innerHTML = ICONS.logo;

  const nameInput = h('input', {
    id: 'room-name',
    name: 'room',
    class: 'input',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'e.g. team-standup',
    'aria-describedby': 'room-hint',
    maxlength: 64,
  });
  const pwInput = h('input', {
    id: 'room-password',
    name: 'password',
    class: 'input',
    type: 'password',
    autocomplete: 'new-password',
    placeholder: 'Optional',
    maxlength: 128,
  });
  const hint = h(
    'p',
    { id: 'room-hint', class: 'hint' },
    'Letters, digits and dashes, 3–64 characters.',
  );
  const result = h('section', {
    class: 'result',
    id: 'result',
    hidden: true,
    'aria-live': 'polite',
  });

  const showLink = (room: string): void => {
    const url = roomUrl(room);
    const pw = pwInput.value;
    const copy = h(
      'button',
      { type: 'button', class: 'btn btn-ghost', id: 'copy-link' },
      icon('copy'),
      h('span', {}, 'Copy link'),
    );
    copy.addEventListener('click', () => {
      void copyText(url).then((ok) =>
        toast(ok ? 'Link copied' : 'Copy failed: select the link instead', ok ? 'info' : 'error'),
      );
    });
    const share = h(
      'button',
      {
        type: 'button',
        class: 'btn btn-ghost',
        id: 'share-link',
        hidden: typeof navigator.share !== 'function',
      },
      icon('share'),
      h('span', {}, 'Share'),
    );
    share.addEventListener(
      'click',
      () => void navigator.share?.({ title: 'Join my TFX call', url }).catch(() => undefined),
    );
    const join = h(
      'a',
      { class: 'btn btn-primary', href: `/r/${room}`, id: 'join-link' },
      h('span', {}, 'Join now'),
      icon('arrow'),
    );
    join.addEventListener('click', () => {
      if (pw) sessionStorage.setItem(passwordKey(room), pw);
    });
    const link = h('input', {
      class: 'input link-field',
      readonly: true,
      value: url,
      'aria-label': 'Room link',
      id: 'room-link',
    });
    link.addEventListener('focus', () => link.select());
    result.replaceChildren(
      h('h2', { class: 'result-title' }, 'Your room is ready'),
      h(
        'p',
        { class: 'muted' },
        pw
          ? 'Share the link, and tell people the password separately.'
          : 'Anyone with the link can join.',
      ),
      link,
      h('div', { class: 'row' }, copy, share, join),
    );
    result.hidden = false;
    join.focus();
  };

  const create = h(
    'button',
    { type: 'button', class: 'btn btn-primary btn-lg', id: 'create-room' },
    icon('plus'),
    h('span', {}, 'New room'),
  );
  create.addEventListener('click', () => {
    const room = generateRoomName();
    nameInput.value = room;
    nameInput.removeAttribute('aria-invalid');
    hint.textContent = 'Letters, digits and dashes, 3–64 characters.';
    showLink(room);
  });

  const form = h(
    'form',
    { class: 'card join-form', id: 'join-form', novalidate: true },
    h('label', { for: 'room-name', class: 'label' }, 'Room name'),
    nameInput,
    hint,
    h(
      'label',
      { for: 'room-password', class: 'label' },
      'Password ',
      h('span', { class: 'muted' }, '(optional)'),
    ),
    pwInput,
    h(
      'div',
      { class: 'row' },
      create,
      h(
        'button',
        { type: 'submit', class: 'btn btn-secondary btn-lg', id: 'use-name' },
        h('span', {}, 'Use this name'),
        icon('arrow'),
      ),
    ),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const room = roomFromInput(nameInput.value);
    if (!room) {
      nameInput.setAttribute('aria-invalid', 'true');
      hint.textContent = 'That is not a valid room name: use 3–64 letters, digits or dashes.';
      nameInput.focus();
      return;
    }
    nameInput.removeAttribute('aria-invalid');
    nameInput.value = room;
    showLink(room);
  });

  app.replaceChildren(
    h(
      'header',
      { class: 'topbar' },
      h('a', { href: '/', class: 'brand' }, logo, h('span', {}, 'TFX')),
    ),
    h(
      'div',
      { class: 'hero' },
      h(
        'h1',
        { class: 'hero-title' },
        'Video calls, ',
        h('span', { class: 'grad' }, 'self\u2011hosted.'),
      ),
      h(
        'p',
        { class: 'hero-sub' },
        'Open a link and talk. No sign-in, no plugin, no download — media flows directly between browsers.',
      ),
    ),
    form,
    result,
    h(
      'p',
      { class: 'home-phone' },
      h('a', { href: '/dial.html', class: 'btn btn-ghost', id: 'call-a-phone' }, 'Call a phone'),
      h('span', { class: 'muted' }, ' a number or SIP address, with your SIP account'),
    ),
    h('footer', { class: 'foot muted' }, 'End-to-end encrypted media (DTLS-SRTP) · peer to peer'),
  );
}

render();
