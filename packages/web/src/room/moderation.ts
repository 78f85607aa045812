/**
 * The moderation panel: lock the room, the lobby (on/off, admit, deny), mute everyone, kick a
 * participant. Every action goes to the server with the moderator token (the room's, from the
 * join, or one typed in); the server is the only judge, and a refusal (`not-moderator`) is shown.
 */
import { Moderator, TfxSdkError, type Room } from '@tfx/sdk';
import type { LobbyState } from '@tfx/protocol';
import { h, toast } from '../dom.js';
import { afterAnswer } from './defer.js';

export interface ModerationPanel {
  readonly el: HTMLElement;
  readonly moderator: Moderator;
  setOpen(open: boolean): void;
  destroy(): void;
}

function explain(err: unknown): string {
  if (err instanceof TfxSdkError && err.code === 'not-moderator')
    return 'Refused: only a moderator can do that';
  return err instanceof Error ? err.message : String(err);
}

export function createModerationPanel(
  room: Room,
  onClose: () => void,
  onLobby: (state: LobbyState) => void,
): ModerationPanel {
  const mod = new Moderator(room);
  const act = (what: string, job: () => Promise<unknown>): void => {
    job().then(
      () => toast(what),
      (err: unknown) => {
        const el = document.getElementById('moderation-error');
        if (el) el.textContent = explain(err);
        toast(explain(err), 'error');
      },
    );
  };

  const lock = h('input', { type: 'checkbox', class: 'check', id: 'mod-lock' });
  lock.addEventListener('change', () => {
    const want = lock.checked;
    act(want ? 'Room locked' : 'Room unlocked', async () => {
      try {
        await mod.lock(want);
      } catch (err) {
        lock.checked = !want;
        throw err;
      }
    });
  });
  const lobby = h('input', { type: 'checkbox', class: 'check', id: 'mod-lobby' });
  lobby.addEventListener('change', () => {
    const want = lobby.checked;
    act(want ? 'Lobby on: new joiners wait for you' : 'Lobby off', async () => {
      try {
        await mod.setLobby(want);
        render();
      } catch (err) {
        lobby.checked = !want;
        throw err;
      }
    });
  });
  const muteAll = h(
    'button',
    { type: 'button', class: 'btn btn-secondary', id: 'mod-mute-all' },
    'Mute everyone',
  );
  muteAll.addEventListener('click', () => act('Asked everyone to mute', () => mod.muteAll()));

  const tokenInput = h('input', {
    class: 'input',
    id: 'mod-token',
    type: 'password',
    autocomplete: 'off',
    placeholder: 'Moderator token',
    'aria-label': 'Moderator token',
  });
  tokenInput.addEventListener('change', () => {
    mod.token = tokenInput.value.trim() || undefined;
    render();
  });
  const status = h('p', { class: 'muted', id: 'mod-status' });
  const error = h('p', { class: 'error-text', id: 'moderation-error', role: 'status' });
  const queue = h('ul', {
    class: 'mod-list',
    id: 'lobby-queue',
    'aria-label': 'Waiting in the lobby',
  });
  const people = h('ul', { class: 'mod-list', id: 'mod-people', 'aria-label': 'Participants' });

  const render = (): void => {
    status.textContent = mod.isModerator
      ? 'You are a moderator of this room.'
      : 'You are not a moderator. Enter the moderator token to moderate.';
    tokenInput.hidden = mod.isModerator && mod.token === room.moderatorToken;
    const st = mod.lobby;
    lobby.checked = st.enabled;
    queue.replaceChildren(
      ...(st.waiting.length === 0
        ? [h('li', { class: 'muted' }, st.enabled ? 'Nobody is waiting.' : 'The lobby is off.')]
        : st.waiting.map((w) => {
            const admit = h(
              'button',
              { type: 'button', class: 'btn btn-primary btn-sm', 'data-admit': w.id },
              'Admit',
            );
            const deny = h(
              'button',
              { type: 'button', class: 'btn btn-secondary btn-sm', 'data-deny': w.id },
              'Deny',
            );
            admit.addEventListener('click', () => act(`${w.name} admitted`, () => mod.admit(w.id)));
            deny.addEventListener('click', () =>
              act(`${w.name} turned away`, () => mod.deny(w.id)),
            );
            return h('li', { 'data-waiting': w.id }, h('span', {}, w.name), admit, deny);
          })),
    );
    people.replaceChildren(
      ...[...room.peers.values()].map((p) => {
        const kick = h(
          'button',
          {
            type: 'button',
            class: 'btn btn-secondary btn-sm',
            'data-kick': p.id,
            'aria-label': `Remove ${p.name}`,
          },
          'Remove',
        );
        kick.addEventListener('click', () => act(`${p.name} removed`, () => mod.kick(p.id)));
        return h('li', { 'data-peer': p.id }, h('span', {}, p.name), kick);
      }),
    );
    if (room.peers.size === 0) people.append(h('li', { class: 'muted' }, 'Nobody else is here.'));
  };

  const close = h(
    'button',
    { type: 'button', class: 'icon-btn', 'aria-label': 'Close moderation', title: 'Close' },
    '×',
  );
  close.addEventListener('click', onClose);
  const el = h(
    'aside',
    { class: 'chat side-panel', id: 'moderation-panel', hidden: true, 'aria-label': 'Moderation' },
    h('header', { class: 'chat-head' }, h('h2', {}, 'Moderation'), close),
    h(
      'div',
      { class: 'side-body' },
      status,
      tokenInput,
      h('label', { class: 'check-row', for: 'mod-lock' }, lock, h('span', {}, 'Lock the room')),
      h(
        'label',
        { class: 'check-row', for: 'mod-lobby' },
        lobby,
        h('span', {}, 'Lobby ', h('span', { class: 'muted' }, '— admit each joiner')),
      ),
      muteAll,
      error,
      h('h3', {}, 'Waiting in the lobby'),
      queue,
      h('h3', {}, 'Participants'),
      people,
    ),
  );
  const offs = [
    mod.on('lobby-state', (st) => {
      render();
      onLobby(st);
    }),
    mod.on('room-locked', (st) => {
      lock.checked = st.locked;
    }),
    // The list after our answer to the newcomer has gone out (defer.ts).
    room.on('peer-joined', (p) => {
      void afterAnswer(room, p).then(() => {
        if (!gone) render();
      });
    }),
    room.on('peer-left', render),
    room.on('peer-updated', render),
  ];
  render();
  let gone = false;
  return {
    el,
    moderator: mod,
    setOpen(open) {
      el.hidden = !open;
      if (open) render();
    },
    destroy() {
      gone = true;
      for (const off of offs) off();
      mod.close();
    },
  };
}
