/**
 * The TFX operator console (`/admin/`), a frame for pages: asks for the admin token (kept in
 * sessionStorage, sent as `Authorization: Bearer`), then shows the navigation of every registered
 * page (pages.ts, grouped) and the current page, refreshed every 2 s. Hash routes: `#<page id>`
 * or `#<page id>/<arg>`. The page API is in page.ts; docs/console.md tells how to add a page.
 */
import { AdminApi } from './api.js';
import { consoleIcon } from './icons.js';
import { pageGroups, registeredPages, type PageView } from './page.js';
import './pages.js';
import { ApiError, Rest } from './rest.js';
import { errorText, h } from './ui.js';

const TOKEN_KEY = 'tfx-admin-token';
const THEME_KEY = 'tfx-admin-theme';
const REFRESH_MS = 2000;
const BRAND = 'Console';

const app = document.getElementById('admin')!;

function applyTheme(theme: string | null): void {
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
}

function themeButton(): HTMLButtonElement {
  const b = h(
    'button',
    { type: 'button', class: 'btn btn-ghost theme', 'aria-label': 'Switch light or dark theme' },
    'Theme',
  );
  b.addEventListener('click', () => {
    const dark =
      document.documentElement.dataset.theme === 'dark' ||
      (!document.documentElement.dataset.theme &&
        matchMedia('(prefers-color-scheme: dark)').matches);
    const next = dark ? 'light' : 'dark';
    localStorage.setItem(THEME_KEY, next);
    applyTheme(next);
  });
  return b;
}

function notifier(): (text: string, kind?: 'ok' | 'error') => void {
  const host = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
  document.body.append(host);
  return (text, kind = 'ok') => {
    const t = h('div', { class: `toast ${kind}` }, text);
    host.append(t);
    setTimeout(() => t.remove(), kind === 'error' ? 6000 : 3500);
  };
}
const notify = notifier();

// --- login ---------------------------------------------------------------------------------------

function showLogin(message?: string): void {
  document.title = 'TFX console — sign in';
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    required: true,
    autocomplete: 'current-password',
    spellcheck: 'false',
    placeholder: 'admin token',
  });
  const error = h('p', { class: 'login-error', role: 'alert' }, message ?? '');
  error.hidden = !message;
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login panel', 'aria-labelledby': 'login-title' },
    h('div', { class: 'brand' }, h('span', { class: 'logo' }, 'TFX'), h('span', {}, BRAND)),
    h('h1', { id: 'login-title' }, 'Sign in'),
    h(
      'p',
      { class: 'hint' },
      'Paste the admin token (admin.token, or the admin-token file in the data folder). It stays in this tab only.',
    ),
    h('label', { for: 'token' }, 'Admin token'),
    input,
    error,
    submit,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      submit.disabled = true;
      const token = input.value.trim();
      try {
        await new Rest(token).get('/api/v1/console/overview');
      } catch (err) {
        error.textContent =
          err instanceof ApiError && err.status === 401
            ? 'That token was refused (401).'
            : errorText(err);
        error.hidden = false;
        submit.disabled = false;
        input.select();
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, token);
      enter(token);
    })();
  });
  app.replaceChildren(
    h('div', { class: 'login-wrap' }, form, h('div', { class: 'login-theme' }, themeButton())),
  );
  input.focus();
}

// --- console -------------------------------------------------------------------------------------

function enter(token: string): void {
  const rest = new Rest(token);
  const api = new AdminApi(rest);
  const nav = h('nav', { class: 'side', 'aria-label': 'Console sections' });
  const main = h('main', { class: 'content', id: 'content', tabindex: -1 });
  const state = h('span', { class: 'conn', role: 'status' }, '');
  const logout = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Sign out');
  const domain = h('span', { class: 'domain' });
  app.replaceChildren(
    h(
      'header',
      { class: 'top' },
      h(
        'div',
        { class: 'brand' },
        h('span', { class: 'logo' }, 'TFX'),
        h('span', {}, BRAND),
        domain,
      ),
      h('div', { class: 'top-actions' }, state, themeButton(), logout),
    ),
    h('div', { class: 'shell' }, nav, main),
  );
  for (const { group, pages } of pageGroups()) {
    nav.append(
      h(
        'div',
        { class: 'side-group' },
        h('span', { class: 'side-title' }, group),
        ...pages.map((p) => {
          const a = h('a', { href: `#${p.id}`, 'data-tab': p.id });
          a.append(consoleIcon(p.icon), h('span', {}, p.title));
          return a;
        }),
      ),
    );
  }
  const PAGES = registeredPages();

  let view: PageView | undefined;
  let current = '';
  let busy = false;

  const stop = (): void => {
    clearInterval(timer);
    window.removeEventListener('hashchange', route);
  };
  logout.addEventListener('click', () => {
    stop();
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin();
  });

  const refresh = async (): Promise<void> => {
    if (!view || busy) return;
    busy = true;
    try {
      await view.update();
      state.textContent = '';
      state.className = 'conn';
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        stop();
        sessionStorage.removeItem(TOKEN_KEY);
        showLogin('The admin token is no longer accepted (401). Sign in again.');
        return;
      }
      state.textContent = errorText(err);
      state.className = 'conn error';
    } finally {
      busy = false;
    }
  };

  function route(): void {
    const hash = decodeURIComponent(location.hash.slice(1));
    const [id, ...parts] = hash.split('/');
    const tab = PAGES.find((t) => t.id === id) ?? PAGES[0]!;
    const arg = parts.length > 0 ? parts.join('/') : undefined;
    // Inside a page that keeps its view (the messages page's Call-IDs), only the hash changes.
    if (tab.id === current && tab.keepOnArg) return;
    current = tab.id;
    view?.dispose?.();
    for (const a of nav.querySelectorAll('a')) {
      if (a.dataset.tab === tab.id) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = `TFX console — ${tab.title}`;
    main.replaceChildren();
    main.dataset.tab = tab.id;
    view = tab.mount(
      {
        rest,
        api,
        root: main,
        notify,
        go: (r) => history.replaceState(null, '', `#${r}`),
      },
      arg,
    );
    void refresh();
  }

  window.addEventListener('hashchange', route);
  route();
  const timer = setInterval(() => void refresh(), REFRESH_MS);
  void api
    .status()
    .then((s) => (domain.textContent = s.domain))
    .catch(() => undefined);
}

applyTheme(localStorage.getItem(THEME_KEY));
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) enter(saved);
else showLogin();
