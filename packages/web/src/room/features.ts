/**
 * Call features mounted onto the call screen: recording (with the indicator everyone sees), the
 * live stats panel, the moderation panel, and the embed bridge's events. Adds its controls to
 * the control bar and its panels to the stage; `destroy()` takes them down.
 */
import type { Room } from '@tfx/sdk';
import { h, toast } from '../dom.js';
import type { EmbedBridge } from '../embed/bridge.js';
import { CallRecorder, download, isRecordingNotice } from './recording.js';
import { createStatsPanel } from './stats-panel.js';
import { createModerationPanel } from './moderation.js';
import { afterAnswer } from './defer.js';
import type { DialPad } from '../phone/dialpad.js';
import './features.css';

export interface CallFeatures {
  destroy(): void;
}

function ctl(id: string, label: string, glyph: string): HTMLButtonElement {
  return h(
    'button',
    { type: 'button', class: 'ctl', id, 'aria-label': label, title: label },
    h('span', { class: 'icon ctl-glyph', 'aria-hidden': 'true' }, glyph),
    h('span', { class: 'ctl-label' }, label),
  );
}

export function mountCallFeatures(
  room: Room,
  callEl: HTMLElement,
  bridge: EmbedBridge | null,
): CallFeatures {
  const stage = callEl.querySelector<HTMLElement>('.stage') as HTMLElement;
  const controls = callEl.querySelector<HTMLElement>('.controls') as HTMLElement;
  const leaveBtn = controls.querySelector('#leave');
  const titleEl = callEl.querySelector('.room-title');

  // --- recording indicator ------------------------------------------------------------------
  const recorders = new Set<string>();
  const indicator = h(
    'span',
    { class: 'rec-indicator', id: 'recording-indicator', role: 'status', hidden: true },
    h('span', { class: 'rec-dot', 'aria-hidden': 'true' }),
    h('span', { class: 'rec-text' }, 'Recording'),
  );
  titleEl?.after(indicator);
  const recorder = new CallRecorder(room, stage);
  const syncIndicator = (): void => {
    const names = [...recorders].map((id) => room.peers.get(id)?.name).filter(Boolean);
    if (recorder.recording) names.unshift('You');
    indicator.hidden = names.length === 0;
    indicator.dataset.count = String(names.length);
    const text = indicator.querySelector('.rec-text') as HTMLElement;
    text.textContent = names.length ? `REC · ${names.join(', ')}` : 'Recording';
    indicator.title = names.length ? `Recording: ${names.join(', ')}` : '';
  };

  // --- panels ---------------------------------------------------------------------------------
  let open: 'stats' | 'moderation' | null = null;
  const setPanel = (which: typeof open): void => {
    open = which;
    stats.setOpen(which === 'stats');
    moderation.setOpen(which === 'moderation');
    stage.classList.toggle('with-side', which !== null);
    statsBtn.setAttribute('aria-expanded', String(which === 'stats'));
    modBtn.setAttribute('aria-expanded', String(which === 'moderation'));
    // One side panel at a time: close the chat if it is open.
    const chat = stage.querySelector<HTMLElement>('#chat-panel');
    if (which && chat && !chat.hidden) callEl.querySelector<HTMLElement>('#toggle-chat')?.click();
  };
  const stats = createStatsPanel(room, () => setPanel(null));
  const moderation = createModerationPanel(
    room,
    () => setPanel(null),
    (st) => {
      modBadge.hidden = st.waiting.length === 0;
      modBadge.textContent = String(st.waiting.length);
      if (st.waiting.length > 0 && open !== 'moderation')
        toast(`${st.waiting.at(-1)?.name ?? 'Someone'} is waiting in the lobby`);
    },
  );
  stage.append(stats.el, moderation.el);

  // --- controls -------------------------------------------------------------------------------
  const recBtn = ctl('toggle-record', 'Record', '●');
  const recSource = h(
    'select',
    { class: 'input rec-source', id: 'record-source', 'aria-label': 'What to record' },
    h('option', { value: 'grid' }, 'Whole call'),
  );
  const fillSources = (): void => {
    const keep = recSource.value;
    recSource.replaceChildren(
      h('option', { value: 'grid' }, 'Whole call'),
      ...[...room.peers.values()].map((p) => h('option', { value: p.id }, p.name)),
    );
    recSource.value = [...recSource.options].some((o) => o.value === keep) ? keep : 'grid';
  };
  const setRec = (on: boolean): void => {
    recBtn.setAttribute('aria-pressed', String(on));
    recBtn.classList.toggle('ctl-rec-on', on);
    (recBtn.querySelector('.ctl-label') as HTMLElement).textContent = on ? 'Stop' : 'Record';
    recBtn.setAttribute('aria-label', on ? 'Stop recording' : 'Record');
    recSource.disabled = on;
  };
  recBtn.addEventListener('click', () => {
    if (recorder.recording) {
      void recorder.stop().then((blob) => {
        setRec(false);
        syncIndicator();
        const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
        download(blob, `tfx-${room.name}-${stamp}.webm`);
        toast('Recording saved');
      });
      return;
    }
    try {
      const v = recSource.value;
      recorder.start(v === 'grid' ? { kind: 'grid' } : { kind: 'peer', peerId: v });
      setRec(true);
      syncIndicator();
      bridge?.emit('recording', { on: true, by: 'self' });
    } catch (err) {
      toast(`Recording failed: ${err instanceof Error ? err.message : String(err)}`, 'error');
    }
  });
  const statsBtn = ctl('toggle-stats', 'Stats', '∿');
  statsBtn.setAttribute('aria-controls', 'stats-panel');
  statsBtn.addEventListener('click', () => setPanel(open === 'stats' ? null : 'stats'));
  const modBtn = ctl('toggle-moderation', 'Moderate', '⚑');
  modBtn.setAttribute('aria-controls', 'moderation-panel');
  const modBadge = h('span', { class: 'badge', hidden: true, id: 'lobby-badge' }, '0');
  modBtn.append(modBadge);
  modBtn.addEventListener('click', () => setPanel(open === 'moderation' ? null : 'moderation'));
  // "Call a phone": the dial pad as an overlay of the call page, a separate audio call beside the
  // room's. Loaded on the first press (SIP.js is not part of the call page's first scripts);
  // Close hides it, a call on it goes on, and the room's end ends it (docs/sdk.md).
  const phoneBtn = ctl('open-dialpad', 'Phone', '☏');
  phoneBtn.setAttribute('aria-controls', 'dial-overlay');
  phoneBtn.setAttribute('aria-expanded', 'false');
  let dialOverlay: HTMLElement | undefined;
  let dialPad: Promise<DialPad> | undefined;
  const showPad = (on: boolean): void => {
    if (!dialOverlay) return;
    dialOverlay.hidden = !on;
    phoneBtn.setAttribute('aria-expanded', String(on));
    // The sign-in's first field, or the number once signed in.
    const first = [...dialOverlay.querySelectorAll<HTMLElement>('#sip-account, #dial-target')];
    if (on) first.find((el) => el.getClientRects().length > 0)?.focus();
    else phoneBtn.focus();
  };
  phoneBtn.addEventListener('click', () => {
    if (dialOverlay) return showPad(dialOverlay.hidden);
    dialPad ??= import('../phone/dialpad.js').then((m) => {
      const pad = m.mountDialPad({
        room: room.name,
        // With gateway.roomDialOut the moderator's token buys a dial-out credential.
        moderatorToken: room.moderatorToken,
        onClose: () => showPad(false),
        onIncoming: () => showPad(true),
      });
      dialOverlay = h(
        'div',
        { class: 'dial-overlay', id: 'dial-overlay', role: 'region', 'aria-label': 'Call a phone' },
        pad.element,
      );
      // The call ended while it loaded: nothing to show.
      if (gone) void pad.close();
      else {
        document.body.append(dialOverlay);
        showPad(true);
      }
      return pad;
    });
    dialPad.catch((err: unknown) => {
      dialPad = undefined;
      toast(
        `The dial pad did not load: ${err instanceof Error ? err.message : String(err)}`,
        'error',
      );
    });
  });
  phoneBtn.dataset.priority = '7';
  const recGroup = h('span', { class: 'rec-group' }, recSource, recBtn);
  // Overflow priorities (controlbar.ts): these go into the More menu first on a narrow bar.
  recGroup.dataset.priority = '7';
  statsBtn.dataset.priority = '7';
  modBtn.dataset.priority = '6';
  for (const el of [recGroup, statsBtn, modBtn, phoneBtn]) controls.insertBefore(el, leaveBtn);
  setRec(false);
  fillSources();

  // --- room events ----------------------------------------------------------------------------
  const offs = [
    room.on('data', ({ from, data }) => {
      if (!isRecordingNotice(data)) return;
      const had = recorders.has(from);
      if (data.on) recorders.add(from);
      else recorders.delete(from);
      syncIndicator();
      if (data.on && !had) {
        toast(`${room.peers.get(from)?.name ?? 'Someone'} started recording`);
        bridge?.emit('recording', { on: true, by: from });
      } else if (!data.on && had) bridge?.emit('recording', { on: false, by: from });
    }),
    room.on('peer-joined', (p) => {
      recorder.tell(p.id);
      // The list after our answer to the newcomer has gone out (defer.ts).
      void afterAnswer(room, p).then(() => {
        if (!gone) fillSources();
      });
    }),
    room.on('peer-left', ({ peer }) => {
      recorders.delete(peer.id);
      syncIndicator();
      fillSources();
    }),
    room.on('peer-updated', fillSources),
  ];
  const detach = bridge?.attach(room);
  syncIndicator();

  let gone = false;
  return {
    destroy() {
      gone = true;
      void dialPad?.then((pad) => pad.close()).catch(() => undefined);
      dialOverlay?.remove();
      for (const off of offs) off();
      detach?.();
      recorder.destroy();
      stats.destroy();
      moderation.destroy();
    },
  };
}
