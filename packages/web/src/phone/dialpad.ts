/**
 * The "Call a phone" dial pad: sign in with a SIP account (digest over `/sip`), dial a number or
 * SIP address, a keypad that sends DTMF during the call, hang up, the call's state with the reason
 * of a failure, incoming calls with Answer / Decline and a ring (ring.ts). Mounted by `/dial.html`
 * (main.ts) and, loaded on demand, by the call page's Phone button as an overlay: a separate audio
 * call beside the room's; anonymous room participants cannot dial out. Only ever reached through
 * a dynamic import or the dial page's own entry, so SIP.js never weighs on the home page or the
 * call page's first scripts (packages/web/test/bundle.int.test.ts).
 */
import type { RoomDialOutResponse } from '@tfx/protocol';
import { SipPhone, SipPhoneError, type PhoneCall } from '@tfx/sdk/sip';
import { h, icon } from '../dom.js';
import { TonePlayer, toneFor } from './ring.js';
import './dialpad.css';
import { ANONYMOUS_REFUSAL, KEYS, SIGN_IN_FIRST, STATE_TEXT, parseAccount } from './keys.js';

interface Debug {
  phone?: SipPhone;
  call?: PhoneCall;
  log: string[];
  /** The ring / ringback tone playing now, and its signal (ring.ts). */
  tones?: TonePlayer;
}

export interface DialPadOptions {
  /** Opened from a room (its name): a separate audio call; anonymous participants refused. */
  readonly room?: string;
  /** That room's moderator token: with `gateway.roomDialOut` it buys a dial-out credential. */
  readonly moderatorToken?: string;
  /** Shown inside the call page (an overlay with a Close button) instead of as its own page. */
  readonly onClose?: () => void;
  /** A call rings in (the overlay shows itself if it was closed). */
  readonly onIncoming?: () => void;
}

export interface DialPad {
  readonly element: HTMLElement;
  /** Ends the call, signs out, stops any tone. Idempotent. */
  close(): Promise<void>;
}

/**
 * Builds the dial pad into a new element (the caller places it): on `/dial.html` as the page,
 * in a call as the Phone overlay. One per page (`window.__tfxPhone` is its test hook).
 */
export function mountDialPad(o: DialPadOptions = {}): DialPad {
  const debug: Debug = { log: [] };
  (window as unknown as { __tfxPhone: Debug }).__tfxPhone = debug;
  const room = o.room;
  const moderatorToken = o.room ? o.moderatorToken : undefined;
  let phone: SipPhone | undefined;
  let account = '';
  let call: PhoneCall | undefined;
  let ticker: ReturnType<typeof setInterval> | undefined;
  /** The connected call's status line: its duration, and the digits sent so far (DTMF). */
  let connectedSince = 0;
  let sentDigits = '';
  const showConnected = (): void => {
    const s = Math.floor((Date.now() - connectedSince) / 1000);
    const clock = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    const sent = sentDigits ? ` · sent ${sentDigits.slice(-24)}` : '';
    setStatus(`${STATE_TEXT.connected} · ${clock}${sent}`, 'ok');
  };
  let closed = false;
  const tones = new TonePlayer();
  debug.tones = tones;

  // --- sign-in ---------------------------------------------------------------------------------
  const accountInput = h('input', {
    id: 'sip-account',
    class: 'input',
    autocomplete: 'username',
    spellcheck: 'false',
    placeholder: 'you@example.org',
    maxlength: 320,
  });
  const passwordInput = h('input', {
    id: 'sip-password',
    class: 'input',
    type: 'password',
    autocomplete: 'current-password',
    maxlength: 256,
  });
  const signInBtn = h(
    'button',
    { type: 'submit', class: 'btn btn-secondary', id: 'sip-sign-in' },
    'Sign in',
  );
  const signInError = h('p', {
    class: 'error-text',
    id: 'sign-in-error',
    role: 'alert',
    hidden: true,
  });
  const signInForm = h(
    'form',
    { class: 'dial-signin', id: 'sip-sign-in-form', novalidate: true },
    h('label', { for: 'sip-account', class: 'label' }, 'SIP account'),
    accountInput,
    h('label', { for: 'sip-password', class: 'label' }, 'Password'),
    passwordInput,
    signInError,
    h('div', { class: 'row' }, signInBtn),
  );
  const signedIn = h('p', { class: 'dial-account', id: 'signed-in', hidden: true });
  const signOutBtn = h(
    'button',
    { type: 'button', class: 'btn btn-ghost btn-sm', id: 'sip-sign-out' },
    'Sign out',
  );

  // --- the dial pad ------------------------------------------------------------------------------
  const target = h('input', {
    id: 'dial-target',
    class: 'input dial-target',
    autocomplete: 'off',
    spellcheck: 'false',
    inputmode: 'tel',
    placeholder: 'Number or SIP address',
    'aria-label': 'Number or SIP address',
    maxlength: 256,
  });
  const status = h(
    'p',
    { class: 'dial-status', id: 'call-status', role: 'status', 'aria-live': 'polite' },
    '',
  );
  const keypad = h('div', { class: 'keypad', role: 'group', 'aria-label': 'Keypad' });
  for (const [key, letters] of KEYS) {
    const b = h(
      'button',
      {
        type: 'button',
        class: 'key',
        'data-key': key,
        'aria-label': key === '*' ? 'star' : key === '#' ? 'hash' : key,
      },
      h('span', { class: 'key-digit' }, key),
      h('span', { class: 'key-letters' }, letters),
    );
    b.addEventListener('click', () => press(key));
    keypad.append(b);
  }
  const callBtn = h(
    'button',
    { type: 'button', class: 'btn btn-lg dial-call', id: 'dial-call' },
    phoneIcon(),
    h('span', {}, 'Call'),
  );
  const hangupBtn = h(
    'button',
    { type: 'button', class: 'btn btn-lg dial-hangup', id: 'dial-hangup', hidden: true },
    phoneIcon(),
    h('span', {}, 'Hang up'),
  );
  const answerBtn = h(
    'button',
    { type: 'button', class: 'btn btn-lg dial-call', id: 'dial-answer', hidden: true },
    phoneIcon(),
    h('span', {}, 'Answer'),
  );
  const remoteAudio = h('audio', { id: 'remote-audio', autoplay: true });

  function phoneIcon(): HTMLElement {
    const s = h('span', { class: 'icon' });
    s.innerHTML =
      '<svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M22 16.9v3a2 2 0 0 1-2.2 2 19.8 19.8 0 0 1-8.6-3.1 19.5 19.5 0 0 1-6-6A19.8 19.8 0 0 1 2.1 4.2 2 2 0 0 1 4.1 2h3a2 2 0 0 1 2 1.7c.1.9.4 1.8.7 2.7a2 2 0 0 1-.5 2.1L8 9.8a16 16 0 0 0 6 6l1.3-1.3a2 2 0 0 1 2.1-.4c.9.3 1.8.6 2.7.7a2 2 0 0 1 1.7 2z"/></svg>';
    return s;
  }

  function setStatus(text: string, kind: 'info' | 'ok' | 'error' = 'info'): void {
    status.textContent = text;
    status.dataset.kind = kind;
    debug.log.push(text);
  }

  function press(key: string): void {
    if (call?.state === 'connected') {
      // RFC 4733 events in the media (RTCDTMFSender.insertDTMF).
      if (call.sendDtmf(key)) {
        sentDigits += key;
        showConnected();
      }
      return;
    }
    if (!call || call.snapshot.state === 'ended' || call.snapshot.state === 'failed') {
      target.value += key;
      target.focus();
    }
  }

  function showCallButtons(): void {
    const s = call?.state;
    const live = s !== undefined && s !== 'ended' && s !== 'failed';
    callBtn.hidden = live;
    hangupBtn.hidden = !live;
    answerBtn.hidden = s !== 'incoming';
    hangupBtn.querySelector('span:last-child')!.textContent =
      s === 'incoming' ? 'Decline' : 'Hang up';
    target.disabled = live;
  }

  function follow(c: PhoneCall): void {
    call = c;
    debug.call = c;
    showCallButtons();
    // The ring or ringback this call's state calls for (only the call on screen has one).
    const tone = (): void => {
      if (call !== c) return;
      const kind = toneFor(c.direction, c.state, c.earlyMedia);
      if (kind) tones.play(kind);
      else tones.stop();
    };
    tone();
    c.on('state', (snap) => {
      if (call !== c) return;
      tone();
      showCallButtons();
      // Early media (the SBC's ringback, an announcement) is heard while it rings; then the call.
      const media = (snap.state === 'ringing' && c.earlyMedia) || snap.state === 'connected';
      if (media && remoteAudio.srcObject !== (c.remoteStream ?? null)) {
        remoteAudio.srcObject = c.remoteStream ?? null;
        void remoteAudio.play().catch(() => undefined);
      }
      if (snap.state === 'connected') {
        connectedSince = Date.now();
        sentDigits = '';
        clearInterval(ticker);
        showConnected();
        ticker = setInterval(showConnected, 1000);
        return;
      }
      if (snap.state === 'ended' || snap.state === 'failed') {
        clearInterval(ticker);
        remoteAudio.srcObject = null;
      }
      const text = STATE_TEXT[snap.state] ?? snap.state;
      setStatus(
        snap.reason ? `${text}: ${snap.reason}` : text,
        snap.state === 'failed' ? 'error' : 'info',
      );
    });
    const first = STATE_TEXT[c.state] ?? c.state;
    setStatus(c.direction === 'incoming' ? `${first} from ${c.remote}` : `${first} ${c.remote}`);
  }

  callBtn.addEventListener('click', () => {
    tones.unlock();
    if (!phone?.ready) {
      setStatus(room ? ANONYMOUS_REFUSAL : SIGN_IN_FIRST, 'error');
      if (!room) accountInput.focus();
      return;
    }
    try {
      follow(phone.call(target.value));
    } catch (err) {
      setStatus(err instanceof SipPhoneError ? err.message : String(err), 'error');
      target.setAttribute('aria-invalid', 'true');
    }
  });
  target.addEventListener('input', () => target.removeAttribute('aria-invalid'));
  target.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') callBtn.click();
  });
  hangupBtn.addEventListener('click', () => call?.hangup());
  answerBtn.addEventListener('click', () => void call?.answer());

  signInForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const acc = parseAccount(accountInput.value);
    signInError.hidden = true;
    if (!acc) {
      signInError.textContent = 'Enter your SIP account as user@domain.';
      signInError.hidden = false;
      accountInput.setAttribute('aria-invalid', 'true');
      return;
    }
    accountInput.removeAttribute('aria-invalid');
    tones.unlock(); // a gesture: a call ringing in later can be heard
    signInBtn.disabled = true;
    void signIn(acc.user, acc.domain, passwordInput.value).finally(() => {
      signInBtn.disabled = false;
    });
  });

  async function signIn(user: string, domain: string, password: string): Promise<void> {
    await phone?.close();
    let p: SipPhone;
    try {
      p = new SipPhone({ user, password, domain });
    } catch (err) {
      signInError.textContent = err instanceof Error ? err.message : String(err);
      signInError.hidden = false;
      return;
    }
    phone = p;
    debug.phone = p;
    p.on('incoming', (c) => {
      if (call && call.state !== 'ended' && call.state !== 'failed') {
        c.reject(486);
        return;
      }
      follow(c);
      o.onIncoming?.();
    });
    p.on('registration', ({ state, reason }) => {
      if (state === 'failed' && phone === p && account) {
        setStatus(reason ?? 'Signed out', 'error');
        showAccount('');
      }
    });
    try {
      await p.connect();
    } catch (err) {
      signInError.textContent = err instanceof Error ? err.message : String(err);
      signInError.hidden = false;
      await p.close();
      if (phone === p) phone = undefined;
      return;
    }
    passwordInput.value = '';
    showAccount(`${user}@${domain}`);
    setStatus('Ready: enter a number or a SIP address.');
  }

  function showAccount(acc: string): void {
    account = acc;
    signInForm.hidden = acc !== '';
    signedIn.hidden = acc === '';
    signedIn.replaceChildren(
      h('span', { class: 'muted' }, 'Signed in as '),
      h('strong', {}, acc),
      ' ',
      signOutBtn,
    );
  }
  signOutBtn.addEventListener('click', () => {
    void phone?.close();
    phone = undefined;
    showAccount('');
    setStatus('');
  });

  const closeBtn = o.onClose
    ? h(
        'button',
        {
          type: 'button',
          class: 'btn btn-ghost btn-sm',
          id: 'dialpad-close',
          'aria-label': 'Close the dial pad',
        },
        icon('close'),
        h('span', {}, 'Close'),
      )
    : null;
  closeBtn?.addEventListener('click', () => o.onClose?.());
  const element = h(
    'section',
    { class: 'dialpad', id: 'dialpad', 'aria-labelledby': 'dialpad-title' },
    h(
      'div',
      { class: 'row-between dial-head' },
      h('h1', { class: 'dial-title', id: 'dialpad-title' }, 'Call a phone'),
      closeBtn,
    ),
    h(
      'p',
      { class: 'muted dial-sub' },
      room
        ? `From room ${room}: a separate audio call through the platform's SIP gateway.`
        : "An audio call to a phone number or SIP address, through the platform's SIP gateway.",
    ),
    h(
      'div',
      { class: 'card dial-card' },
      signedIn,
      signInForm,
      h(
        'div',
        { class: 'dial-pad' },
        target,
        status,
        keypad,
        h('div', { class: 'dial-actions' }, callBtn, answerBtn, hangupBtn),
      ),
      remoteAudio,
    ),
  );
  showAccount('');

  /**
   * A room moderator with `gateway.roomDialOut` on the server: the moderator token buys a
   * short-lived credential billed to the operator's account; calls go out as that account. Off,
   * or not a moderator: the page stays as it is (sign in, or be refused).
   */
  async function roomDialOut(): Promise<void> {
    if (!room || !moderatorToken || closed) return;
    let res: Response;
    try {
      res = await fetch('/api/v1/gateway/room-dial-out', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ room, moderatorToken }),
      });
    } catch {
      return;
    }
    if (!res.ok) return;
    const c = (await res.json()) as RoomDialOutResponse;
    if (account || closed) return; // signed in meanwhile with an account of their own, or closed
    const p = new SipPhone({
      user: c.account,
      authorizationUser: c.username,
      password: c.password,
      domain: c.domain,
    });
    try {
      await p.connect({ register: false });
    } catch {
      await p.close();
      return;
    }
    phone = p;
    debug.phone = p;
    account = c.account;
    signInForm.hidden = true;
    signedIn.hidden = false;
    signedIn.replaceChildren(
      h('span', { class: 'muted' }, 'Calling as room moderator · billed to '),
      h('strong', { id: 'billed-account' }, `${c.account}@${c.domain}`),
    );
    setStatus('Ready: enter a number or a SIP address.');
  }
  void roomDialOut();

  return {
    element,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(ticker);
      tones.close();
      const p = phone;
      phone = undefined;
      await p?.close();
    },
  };
}
