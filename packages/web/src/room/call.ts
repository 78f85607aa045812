/**
 * The call screen: top bar, the grid of peers, the self-view, the control bar (microphone,
 * camera, screen, raise hand, chat, devices, leave), the chat panel and the device dialog.
 */
import type { ChatMessage, DeviceLists, RemotePeer, Room } from '@tfx/sdk';
import { h, icon, copyText, toast } from '../dom.js';
import type { IconName } from '../icons.js';
import type { DebugLog } from '../debug.js';
import { PeerTile, SelfTile } from './tiles.js';
import { createControlBar, type ControlBar } from './controlbar.js';
import { draggableSelfView, trackVisualViewport } from './layout.js';
import { afterAnswer } from './defer.js';

interface ToggleButton {
  readonly el: HTMLButtonElement;
  set(on: boolean): void;
}

function toggle(
  id: string,
  onIcon: IconName,
  offIcon: IconName,
  onLabel: string,
  offLabel: string,
  click: () => void,
  warnWhenOff = true,
): ToggleButton {
  const el = h('button', { type: 'button', class: 'ctl', id });
  el.addEventListener('click', click);
  const set = (on: boolean): void => {
    el.replaceChildren(
      icon(on ? onIcon : offIcon),
      h('span', { class: 'ctl-label' }, on ? onLabel : offLabel),
    );
    el.setAttribute('aria-pressed', String(on));
    el.setAttribute('aria-label', on ? onLabel : offLabel);
    el.title = on ? onLabel : offLabel;
    // Microphone and camera off are shown in red; "not presenting" is the normal state.
    el.classList.toggle('ctl-off', warnWhenOff && !on);
  };
  return { el, set };
}

/** The longest the call screen shows the grid alone while the first remote frame is awaited, ms. */
const STARTING_MAX_MS = 1500;

function timeOf(ts: number): string {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export interface CallView {
  readonly el: HTMLElement;
  /** The control bar and its More sheet (controlbar.ts). */
  readonly controls: ControlBar;
  /**
   * Settles when the whole call screen is shown: after the first remote video frame, once
   * connected without video, at once for the first in the room, after STARTING_MAX_MS at the
   * latest (or on destroy). Work that can wait (call-ui.ts: captions, effects) waits for it.
   */
  readonly started: Promise<void>;
  destroy(): void;
}

export function renderCall(room: Room, log: DebugLog, onLeave: () => void): CallView {
  const tiles = new Map<string, PeerTile>();
  const self = new SelfTile(room.displayName);
  let sinkId = '';
  let unread = 0;

  // --- grid ----------------------------------------------------------------------------------
  const grid = h('section', { class: 'grid', id: 'grid', 'aria-label': 'Participants' });
  const linkText = location.origin + location.pathname;
  const copyBtn = h(
    'button',
    { type: 'button', class: 'btn btn-ghost', id: 'copy-invite' },
    icon('copy'),
    h('span', {}, 'Copy invite link'),
  );
  copyBtn.addEventListener(
    'click',
    () =>
      void copyText(linkText).then((ok) =>
        toast(ok ? 'Link copied' : 'Copy failed', ok ? 'info' : 'error'),
      ),
  );
  const waiting = h(
    'div',
    { class: 'waiting', id: 'waiting' },
    h('h2', {}, 'Waiting for others to join'),
    h('p', { class: 'muted' }, 'Share this link to invite people:'),
    h('code', { class: 'invite' }, linkText),
    copyBtn,
  );
  const layout = (): void => {
    const n = tiles.size;
    grid.dataset.count = String(n);
    waiting.hidden = n > 0;
    count.textContent = String(n + 1);
    count.setAttribute('aria-label', `${n + 1} in the call`);
  };

  // --- top bar -------------------------------------------------------------------------------
  const count = h('span', { class: 'count', id: 'participant-count' }, '1');
  const sig = h(
    'span',
    { class: 'sig', id: 'signalling-state', hidden: true, role: 'status' },
    'Reconnecting…',
  );
  const topCopy = h(
    'button',
    {
      type: 'button',
      class: 'icon-btn',
      'aria-label': 'Copy invite link',
      title: 'Copy invite link',
    },
    icon('copy'),
  );
  topCopy.addEventListener(
    'click',
    () =>
      void copyText(linkText).then((ok) =>
        toast(ok ? 'Link copied' : 'Copy failed', ok ? 'info' : 'error'),
      ),
  );
  const top = h(
    'header',
    { class: 'callbar' },
    h(
      'div',
      { class: 'room-title' },
      h('span', { class: 'live-dot', 'aria-hidden': 'true' }),
      h('span', { class: 'room-name' }, room.name),
    ),
    sig,
    h(
      'div',
      { class: 'callbar-right' },
      h('span', { class: 'people' }, icon('users', 'icon icon-sm'), count),
      topCopy,
    ),
  );

  // --- chat ------------------------------------------------------------------------------------
  const list = h('ol', {
    class: 'chat-list',
    id: 'chat-list',
    'aria-live': 'polite',
    'aria-label': 'Messages',
  });
  const chatInput = h('input', {
    class: 'input',
    id: 'chat-input',
    placeholder: 'Message everyone',
    autocomplete: 'off',
    maxlength: 4000,
    'aria-label': 'Message',
  });
  const chatForm = h(
    'form',
    { class: 'chat-form', id: 'chat-form' },
    chatInput,
    h(
      'button',
      {
        type: 'submit',
        class: 'icon-btn icon-btn-primary',
        'aria-label': 'Send message',
        title: 'Send',
      },
      icon('send'),
    ),
  );
  const closeChat = h(
    'button',
    { type: 'button', class: 'icon-btn', 'aria-label': 'Close chat', title: 'Close chat' },
    icon('close'),
  );
  const chatPanel = h(
    'aside',
    { class: 'chat', id: 'chat-panel', hidden: true, 'aria-label': 'Chat' },
    h('header', { class: 'chat-head' }, h('h2', {}, 'Chat'), closeChat),
    list,
    chatForm,
  );
  const addMessage = (m: ChatMessage): void => {
    const mine = m.from === room.peerId;
    list.append(
      h(
        'li',
        { class: `msg${mine ? ' msg-mine' : ''}`, 'data-from': m.from },
        h(
          'div',
          { class: 'msg-meta' },
          h('span', { class: 'msg-name' }, mine ? 'You' : m.name),
          h('time', { datetime: new Date(m.ts).toISOString() }, timeOf(m.ts)),
        ),
        h('p', { class: 'msg-text' }, m.text),
      ),
    );
    list.scrollTop = list.scrollHeight;
    if (chatPanel.hidden && !mine) {
      unread++;
      badge.textContent = String(unread);
      badge.hidden = false;
    }
  };
  chatForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = chatInput.value.trim();
    if (!text) return;
    room.sendChat(text);
    chatInput.value = '';
  });
  for (const m of room.chat.messages()) addMessage(m);

  // --- controls --------------------------------------------------------------------------------
  const mic = toggle('toggle-mic', 'mic', 'micOff', 'Mute microphone', 'Unmute microphone', () =>
    room.setMicEnabled(!room.local.state.audio),
  );
  const cam = toggle(
    'toggle-camera',
    'video',
    'videoOff',
    'Turn camera off',
    'Turn camera on',
    () => {
      room
        .setCameraEnabled(!room.local.state.video)
        .catch(() => toast('No camera available', 'error'));
    },
  );
  const screen = toggle(
    'toggle-screen',
    'screenOff',
    'screen',
    'Stop presenting',
    'Present screen',
    () => {
      if (room.screenTrack) void room.stopScreenShare();
      else
        room
          .startScreenShare()
          .catch(() => toast('Screen sharing was cancelled or is not available', 'error'));
    },
    false,
  );
  const hand = toggle(
    'toggle-hand',
    'hand',
    'hand',
    'Lower hand',
    'Raise hand',
    () => room.setHandRaised(!room.handRaised),
    false,
  );
  const badge = h('span', { class: 'badge', hidden: true }, '0');
  const chatBtn = h(
    'button',
    {
      type: 'button',
      class: 'ctl',
      id: 'toggle-chat',
      'aria-label': 'Open chat',
      title: 'Chat',
      'aria-controls': 'chat-panel',
      'aria-expanded': 'false',
    },
    icon('chat'),
    h('span', { class: 'ctl-label' }, 'Chat'),
    badge,
  );
  const setChat = (open: boolean): void => {
    chatPanel.hidden = !open;
    chatBtn.setAttribute('aria-expanded', String(open));
    chatBtn.setAttribute('aria-label', open ? 'Close chat' : 'Open chat');
    stage.classList.toggle('with-chat', open);
    if (open) {
      unread = 0;
      badge.hidden = true;
      chatInput.focus();
    } else chatBtn.focus();
  };
  chatBtn.addEventListener('click', () => setChat(chatPanel.hidden));
  closeChat.addEventListener('click', () => setChat(false));

  // --- devices dialog --------------------------------------------------------------------------
  const camSel = h('select', { class: 'input', id: 'camera-select' });
  const micSel = h('select', { class: 'input', id: 'mic-select' });
  const spkSel = h('select', { class: 'input', id: 'speaker-select' });
  const dlgClose = h('button', { type: 'button', class: 'btn btn-primary' }, 'Done');
  const audioOnly = h('input', { type: 'checkbox', id: 'audio-only', class: 'check' });
  audioOnly.addEventListener('change', () => {
    room
      .setAudioOnly(audioOnly.checked)
      .then(() =>
        toast(
          audioOnly.checked ? 'Audio-only mode: no video is sent or received' : 'Video is back on',
        ),
      )
      .catch(() => toast('Could not change the mode', 'error'));
  });
  const dialog = h(
    'dialog',
    { class: 'dialog', id: 'devices-dialog', 'aria-labelledby': 'devices-title' },
    h('h2', { id: 'devices-title' }, 'Devices'),
    h('label', { class: 'label', for: 'camera-select' }, 'Camera'),
    camSel,
    h('label', { class: 'label', for: 'mic-select' }, 'Microphone'),
    micSel,
    h('label', { class: 'label', for: 'speaker-select' }, 'Speaker'),
    spkSel,
    h(
      'label',
      { class: 'check-row', for: 'audio-only' },
      audioOnly,
      h(
        'span',
        {},
        'Audio only ',
        h('span', { class: 'muted' }, '— send and receive no video (poor connections)'),
      ),
    ),
    h('div', { class: 'row row-end' }, dlgClose),
  );
  dlgClose.addEventListener('click', () => dialog.close());
  const fill = (
    sel: HTMLSelectElement,
    devices: readonly MediaDeviceInfo[],
    current: string | undefined,
    fallback: string,
  ): void => {
    sel.replaceChildren(
      ...devices.map((d, i) =>
        h(
          'option',
          { value: d.deviceId, selected: d.deviceId === current },
          d.label || `${fallback} ${i + 1}`,
        ),
      ),
    );
    sel.disabled = devices.length === 0;
    if (devices.length === 0) sel.append(h('option', {}, `No ${fallback.toLowerCase()} found`));
  };
  const refreshDevices = async (): Promise<void> => {
    const d: DeviceLists = await room.local.devices.listDevices();
    fill(camSel, d.videoinput, room.local.videoTrack?.getSettings().deviceId, 'Camera');
    fill(micSel, d.audioinput, room.local.audioTrack?.getSettings().deviceId, 'Microphone');
    fill(spkSel, d.audiooutput, sinkId || 'default', 'Speaker');
    spkSel.disabled ||= !('setSinkId' in HTMLMediaElement.prototype);
  };
  camSel.addEventListener(
    'change',
    () =>
      void room
        .switchDevice('videoinput', camSel.value)
        .catch(() => toast('Could not open that camera', 'error')),
  );
  micSel.addEventListener(
    'change',
    () =>
      void room
        .switchDevice('audioinput', micSel.value)
        .catch(() => toast('Could not open that microphone', 'error')),
  );
  spkSel.addEventListener('change', () => {
    sinkId = spkSel.value;
    for (const t of tiles.values())
      void t.setSink(sinkId).catch(() => toast('Could not use that speaker', 'error'));
  });
  const devBtn = h(
    'button',
    {
      type: 'button',
      class: 'ctl',
      id: 'open-devices',
      'aria-label': 'Devices',
      title: 'Camera, microphone and speaker',
    },
    icon('settings'),
    h('span', { class: 'ctl-label' }, 'Devices'),
  );
  devBtn.addEventListener('click', () => {
    void refreshDevices();
    dialog.showModal();
  });
  const onDeviceChange = (): void => void refreshDevices();
  navigator.mediaDevices?.addEventListener?.('devicechange', onDeviceChange);

  const leave = h(
    'button',
    {
      type: 'button',
      class: 'ctl ctl-danger',
      id: 'leave',
      'aria-label': 'Leave call',
      title: 'Leave call',
    },
    icon('leave'),
    h('span', { class: 'ctl-label' }, 'Leave'),
  );
  leave.addEventListener('click', () => {
    void room.leave();
    onLeave();
  });

  // Priorities: which controls stay in the bar longest when it is narrow (controlbar.ts).
  const ranked: Array<[HTMLElement, number]> = [
    [mic.el, 1],
    [cam.el, 1],
    [screen.el, 4],
    [hand.el, 3],
    [chatBtn, 2],
    [devBtn, 5],
    [leave, 0],
  ];
  for (const [c, p] of ranked) c.dataset.priority = String(p);
  const bar = createControlBar(ranked.map(([c]) => c));
  const controls = bar.el;

  const gridWrap = h('div', { class: 'grid-wrap' }, waiting, grid, self.el);
  const stage = h('div', { class: 'stage' }, gridWrap, chatPanel);
  const el = h('div', { class: 'call', id: 'call' }, top, stage, controls, dialog, bar.sheet);
  const undrag = draggableSelfView(self.el, gridWrap);
  const untrack = trackVisualViewport();

  // --- the first remote frame first ------------------------------------------------------------
  // Joining people already in the call, the page draws the grid alone until the first remote
  // video frame is on screen; the top bar, self-view, controls and widget bar (kept out of style
  // and layout by `.call-starting`, their space kept) follow right after it. Drawing them first
  // took ~50 ms of the main thread in the middle of the negotiation (docs/benchmarks.md, "Call").
  // Without video from anyone they come once connected; in any case after STARTING_MAX_MS.
  let starting = room.peers.size > 0;
  let settleStarted = (): void => undefined;
  const startedPromise = new Promise<void>((resolve) => (settleStarted = resolve));
  if (!starting) settleStarted();
  const started = (): void => {
    if (!starting) return;
    starting = false;
    settleStarted();
    clearTimeout(startTimer);
    grid.removeEventListener('loadeddata', onLoadedData, true);
    el.classList.remove('call-starting');
    syncLocal();
    performance.mark('tfx:call-ui');
  };
  const watched = new WeakSet<HTMLVideoElement>();
  /** Reveals after this video's first frame has been drawn (the task after that rendering). */
  const afterFirstFrame = (v: HTMLVideoElement): void => {
    if (!starting || watched.has(v)) return;
    watched.add(v);
    const later = (): void => void setTimeout(started, 0);
    if (typeof v.requestVideoFrameCallback === 'function') v.requestVideoFrameCallback(later);
    else requestAnimationFrame(later);
  };
  // Browsers without requestVideoFrameCallback: the frame is there once `loadeddata` fires.
  const onLoadedData = (ev: Event): void => {
    if (
      ev.target instanceof HTMLVideoElement &&
      typeof ev.target.requestVideoFrameCallback !== 'function'
    )
      afterFirstFrame(ev.target);
  };
  const expectsVideo = (): boolean =>
    [...room.peers.values()].some((p) => p.state.video || !!p.state.screen);
  const startTimer = starting ? setTimeout(started, STARTING_MAX_MS) : undefined;
  if (starting) {
    el.classList.add('call-starting');
    grid.addEventListener('loadeddata', onLoadedData, true);
  }

  // --- state sync ------------------------------------------------------------------------------
  const syncLocal = (): void => {
    const st = room.localState;
    mic.set(st.audio);
    cam.set(st.video);
    screen.set(!!st.screen);
    hand.set(!!st.hand);
    mic.el.disabled = !room.local.audioTrack;
    cam.el.disabled = room.audioOnly;
    screen.el.disabled = room.audioOnly;
    audioOnly.checked = room.audioOnly;
    // The self-view's player starts with the rest of the call screen (see `starting`).
    if (starting) return;
    const track = room.screenTrack ?? room.local.videoTrack;
    self.update(track, st, room.screenTrack ? 'screen' : 'camera');
  };
  const tileFor = (peer: RemotePeer): PeerTile => {
    let t = tiles.get(peer.id);
    if (!t) {
      t = new PeerTile(peer);
      if (sinkId) void t.setSink(sinkId).catch(() => undefined);
      tiles.set(peer.id, t);
      grid.append(t.el);
      layout();
    }
    return t;
  };
  /** Shows a peer's tracks in their tile; while starting, the first video frame reveals the rest. */
  const showPeer = (peer: RemotePeer): void => {
    const tile = tileFor(peer);
    tile.update(peer);
    if (starting) for (const v of [tile.video, tile.screen]) if (v.srcObject) afterFirstFrame(v);
  };
  // Someone who joins after us waits for our answer: their tile and the notice come after it
  // (defer.ts); until then their tracks and updates are left for that first render.
  const answering = new Set<RemotePeer>();
  let gone = false;
  const t0 = performance.now();
  const offs = [
    room.on('peer-joined', (p) => {
      log.presence.push({ event: 'joined', peer: p.id, t: performance.now() - t0 });
      answering.add(p);
      void afterAnswer(room, p).then(() => {
        answering.delete(p);
        if (gone || room.peers.get(p.id) !== p) return;
        showPeer(p);
        toast(`${p.name} joined`);
      });
    }),
    room.on('peer-left', ({ peer }) => {
      answering.delete(peer);
      tiles.get(peer.id)?.el.remove();
      tiles.delete(peer.id);
      layout();
      if (room.peers.size === 0) started();
      log.presence.push({ event: 'left', peer: peer.id, t: performance.now() - t0 });
      toast(`${peer.name} left`);
    }),
    room.on('peer-updated', (p) => {
      if (answering.has(p)) return;
      const tile = tileFor(p);
      if (p.state.hand && tile.el.dataset.hand !== 'up') toast(`${p.name} raised a hand`);
      tile.update(p);
    }),
    room.on('track', ({ peer, track }) => {
      if (answering.has(peer)) return;
      if (track.kind === 'video') showPeer(peer);
      else tileFor(peer).update(peer);
    }),
    room.on('connection-state', ({ state }) => {
      if (state === 'connected' && !expectsVideo()) started();
    }),
    room.on('track-removed', ({ peer }) => tiles.get(peer.id)?.update(peer)),
    room.on('quality', ({ peer, quality }) => {
      tiles.get(peer.id)?.setQuality(quality);
      log.quality.push({ peer: peer.id, quality, t: performance.now() - t0 });
    }),
    room.on('local-state', syncLocal),
    room.local.on('track-changed', syncLocal),
    room.on('message', addMessage),
    room.on('signalling-state', (s) => {
      sig.hidden = s === 'connected';
      sig.textContent =
        s === 'reconnecting'
          ? 'Reconnecting…'
          : s === 'disconnected'
            ? 'Disconnected'
            : 'Connecting…';
    }),
    room.on('muted-by-moderator', () => toast('A moderator muted everyone')),
  ];
  for (const p of room.peers.values()) tileFor(p).update(p);
  layout();
  syncLocal();

  return {
    el,
    controls: bar,
    started: startedPromise,
    destroy() {
      gone = true;
      settleStarted();
      clearTimeout(startTimer);
      bar.destroy();
      undrag();
      untrack();
      for (const off of offs) off();
      navigator.mediaDevices?.removeEventListener?.('devicechange', onDeviceChange);
      if (dialog.open) dialog.close();
    },
  };
}
