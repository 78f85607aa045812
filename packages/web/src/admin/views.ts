/** The console's tabs except the message ladder (messages.ts). */
import type { SipListener } from './api.js';
import { ApiError } from './api.js';
import {
  badge,
  button,
  clock,
  count,
  duration,
  empty,
  errorText,
  fill,
  h,
  relative,
  section,
  table,
  type Tab,
  type View,
  type ViewContext,
} from './ui.js';

function stat(label: string, value: string, hint = ''): HTMLElement {
  return h(
    'div',
    { class: 'stat' },
    h('span', { class: 'stat-label' }, label),
    h('strong', { class: 'stat-value' }, value),
    hint ? h('span', { class: 'stat-hint' }, hint) : null,
  );
}

function listenerRows(listeners: readonly SipListener[]): string[][] {
  return listeners.map((l) => [l.transport.toUpperCase(), l.address, String(l.port)]);
}

// --- status ------------------------------------------------------------------------------------

export const statusTab: Tab = {
  id: 'status',
  title: 'Status',
  mount(ctx: ViewContext): View {
    const body = h('div', { class: 'stack' });
    ctx.root.append(body);
    return {
      async update() {
        const s = await ctx.api.status();
        const methods = Object.entries(s.requests).sort((a, b) => b[1] - a[1]);
        const max = Math.max(1, ...methods.map(([, n]) => n));
        fill(
          body,
          h(
            'div',
            { class: 'stats' },
            stat('Uptime', duration(s.uptimeMs), `since ${new Date(s.startedAt).toLocaleString()}`),
            stat('Registered contacts', count(s.registrations)),
            stat('Active calls', count(s.calls)),
            stat('Users', count(s.users)),
            stat('Bans', count(s.bans)),
            stat('Service', s.running ? 'running' : 'stopped', `domain ${s.domain}`),
          ),
          h(
            'div',
            { class: 'columns' },
            section(
              'Transports and ports',
              table(['Transport', 'Address', 'Port'], listenerRows(s.listeners)),
            ),
            section(
              'Messages and transactions',
              table(
                ['Counter', 'Value'],
                [
                  ['Messages received', count(s.messages.received)],
                  ['Messages sent', count(s.messages.sent)],
                  ['Parse errors', count(s.messages.parseErrors)],
                  ['Dropped at ingress', count(s.messages.dropped)],
                  ['Transactions live', count(s.transactions.live)],
                  ['Transactions created', count(s.transactions.created)],
                  ['Transaction timeouts', count(s.transactions.timeouts)],
                ],
              ),
            ),
          ),
          section(
            'Requests by method',
            methods.length === 0
              ? empty('No request received yet.')
              : h(
                  'ul',
                  { class: 'bars' },
                  ...methods.map(([m, n]) => {
                    const bar = h('span', { class: 'bar' });
                    bar.style.width = `${Math.max(2, (n / max) * 100)}%`;
                    return h(
                      'li',
                      {},
                      h('span', { class: 'bar-label' }, m),
                      h('span', { class: 'bar-track' }, bar),
                      h('span', { class: 'bar-value' }, count(n)),
                    );
                  }),
                ),
          ),
        );
      },
    };
  },
};

// --- registrations ------------------------------------------------------------------------------

export const registrationsTab: Tab = {
  id: 'registrations',
  title: 'Registrations',
  mount(ctx: ViewContext): View {
    const body = h('div', { class: 'stack' });
    ctx.root.append(section('Registered users and contacts', body));
    const view: View = {
      async update() {
        const regs = await ctx.api.registrations();
        if (regs.length === 0) {
          fill(body, empty('Nobody is registered.'));
          return;
        }
        const now = Date.now();
        const rows = regs.flatMap((r) =>
          r.contacts.map((c, i) => [
            i === 0
              ? h(
                  'div',
                  { class: 'who' },
                  h('strong', {}, r.username),
                  button(
                    'Remove all',
                    async () => {
                      try {
                        await ctx.api.removeRegistration(r.username);
                        ctx.notify(`Removed every contact of ${r.username}.`);
                      } catch (err) {
                        ctx.notify(errorText(err), 'error');
                      }
                      await view.update();
                    },
                    'ghost',
                    { 'data-action': 'remove-all', 'data-user': r.username },
                  ),
                )
              : h('span', { class: 'muted' }, '〃'),
            h('code', { class: 'uri' }, c.uri),
            badge(c.transport.toUpperCase(), `t-${c.transport}`),
            c.source,
            h('span', { title: c.expiresAt }, relative(c.expiresAt, now)),
            String(c.q),
            c.userAgent ?? '—',
            button(
              'Remove',
              async () => {
                try {
                  await ctx.api.removeContact(r.username, c.id);
                  ctx.notify(`Removed ${c.uri}.`);
                } catch (err) {
                  ctx.notify(errorText(err), 'error');
                }
                await view.update();
              },
              'danger',
              { 'data-action': 'remove-contact', 'data-user': r.username },
            ),
          ]),
        );
        fill(
          body,
          table(['User', 'Contact', 'Transport', 'From', 'Expires', 'q', 'User agent', ''], rows),
        );
      },
    };
    return view;
  },
};

// --- users ---------------------------------------------------------------------------------------

export const usersTab: Tab = {
  id: 'users',
  title: 'Users',
  mount(ctx: ViewContext): View {
    const username = h('input', {
      name: 'username',
      required: true,
      pattern: '[A-Za-z0-9._~+\\-]{1,64}',
      autocomplete: 'off',
      placeholder: 'e.g. 1001 or alice',
      'aria-label': 'Username',
    });
    const password = h('input', {
      name: 'password',
      type: 'password',
      required: true,
      minlength: 8,
      autocomplete: 'new-password',
      placeholder: 'at least 8 characters',
      'aria-label': 'Password',
    });
    const form = h(
      'form',
      { class: 'inline-form', 'aria-label': 'Add a user' },
      h('label', {}, h('span', {}, 'Username'), username),
      h('label', {}, h('span', {}, 'Password'), password),
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add user'),
    );
    const list = h('div');
    ctx.root.append(
      section(
        'Add a user',
        form,
        h(
          'p',
          { class: 'hint' },
          'Stored as digest hashes only (MD5 and SHA-256), never in clear.',
        ),
      ),
      section('Users', list),
    );
    const view: View = {
      async update() {
        const users = await ctx.api.users();
        if (users.length === 0) {
          fill(list, empty('No users: nobody can register (REGISTER gets 403).'));
          return;
        }
        fill(
          list,
          table(
            ['User', 'Source', ''],
            users.map((u) => [
              h('strong', {}, u.username),
              badge(u.source === 'config' ? 'config file' : 'added here', u.source),
              passwordCell(u.username),
            ]),
          ),
        );
      },
    };
    const passwordCell = (user: string): HTMLElement => {
      const cell = h('div', { class: 'actions' });
      const show = (): void => {
        const input = h('input', {
          type: 'password',
          minlength: 8,
          required: true,
          autocomplete: 'new-password',
          placeholder: 'new password',
          'aria-label': `New password for ${user}`,
        });
        const f = h(
          'form',
          { class: 'inline-form compact' },
          input,
          h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save'),
          button('Cancel', () => reset()),
        );
        f.addEventListener('submit', (e) => {
          e.preventDefault();
          void (async () => {
            try {
              await ctx.api.setPassword(user, input.value);
              ctx.notify(`Password of ${user} changed.`);
              reset();
            } catch (err) {
              ctx.notify(errorText(err), 'error');
            }
          })();
        });
        fill(cell, f);
        input.focus();
      };
      const reset = (): void =>
        fill(
          cell,
          button('Change password', show, 'ghost', {
            'data-action': 'password',
            'data-user': user,
          }),
          button(
            'Delete',
            async () => {
              try {
                await ctx.api.deleteUser(user);
                ctx.notify(`Deleted ${user}.`);
              } catch (err) {
                ctx.notify(errorText(err), 'error');
              }
              await view.update();
            },
            'danger',
            { 'data-action': 'delete-user', 'data-user': user },
          ),
        );
      reset();
      return cell;
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void (async () => {
        try {
          const u = await ctx.api.addUser(username.value.trim(), password.value);
          ctx.notify(`Added ${u.username}.`);
          form.reset();
          await view.update();
        } catch (err) {
          ctx.notify(errorText(err), 'error');
        }
      })();
    });
    return view;
  },
};

// --- calls ---------------------------------------------------------------------------------------

export const callsTab: Tab = {
  id: 'calls',
  title: 'Calls',
  mount(ctx: ViewContext): View {
    const body = h('div');
    ctx.root.append(section('Active calls (dialogs)', body));
    return {
      async update() {
        const calls = await ctx.api.calls();
        if (calls.length === 0) {
          fill(body, empty('No call in progress.'));
          return;
        }
        const now = Date.now();
        fill(
          body,
          table(
            ['State', 'From', 'To', 'Started', 'Talking', 'Call-ID'],
            calls.map((c) => {
              const link = h('a', { href: `#messages/${encodeURIComponent(c.callId)}` }, 'ladder');
              return [
                badge(c.state, c.state === 'confirmed' ? 'ok' : 'warn'),
                h('code', {}, c.from),
                h('code', {}, c.to),
                clock(c.startedAt),
                c.answeredAt ? duration(now - Date.parse(c.answeredAt)) : 'ringing',
                h('span', { class: 'callid' }, h('code', {}, c.callId), ' ', link),
              ];
            }),
          ),
        );
      },
    };
  },
};

// --- bans ----------------------------------------------------------------------------------------

export const bansTab: Tab = {
  id: 'bans',
  title: 'Bans',
  mount(ctx: ViewContext): View {
    const body = h('div');
    ctx.root.append(
      section(
        'Bans',
        h(
          'p',
          { class: 'hint' },
          'Sources and users banned after repeated failed authentications; their requests get 403 until the ban ends or is lifted.',
        ),
        body,
      ),
    );
    const view: View = {
      async update() {
        const bans = await ctx.api.bans();
        if (bans.length === 0) {
          fill(body, empty('No ban in force.'));
          return;
        }
        const now = Date.now();
        fill(
          body,
          table(
            ['Kind', 'Who', 'Reason', 'Since', 'Ends', ''],
            bans.map((b) => [
              badge(b.kind === 'ip' ? 'address' : 'user', 'danger'),
              h('code', {}, b.value),
              b.reason,
              clock(b.since),
              relative(b.until, now),
              button(
                'Lift',
                async () => {
                  try {
                    await ctx.api.liftBan(b.kind, b.value);
                    ctx.notify(`Lifted the ban on ${b.value}.`);
                  } catch (err) {
                    ctx.notify(errorText(err), 'error');
                  }
                  await view.update();
                },
                'primary',
                { 'data-action': 'lift', 'data-value': b.value },
              ),
            ]),
          ),
        );
      },
    };
    return view;
  },
};

// --- settings ------------------------------------------------------------------------------------

export const settingsTab: Tab = {
  id: 'settings',
  title: 'Settings',
  mount(ctx: ViewContext): View {
    const port = h('input', { type: 'number', name: 'port', min: 0, max: 65535, required: true });
    const tlsPort = h('input', {
      type: 'number',
      name: 'tlsPort',
      min: 0,
      max: 65535,
      required: true,
    });
    const apply = h(
      'button',
      { type: 'submit', class: 'btn btn-primary' },
      'Apply and restart SIP',
    );
    apply.disabled = true; // until the current settings have arrived
    const outcome = h('div', { class: 'outcome', role: 'status', 'aria-live': 'polite' });
    const current = h('div');
    const form = h(
      'form',
      { class: 'inline-form', 'aria-label': 'SIP ports' },
      h('label', {}, h('span', {}, 'UDP and TCP port'), port),
      h('label', {}, h('span', {}, 'TLS port'), tlsPort),
      apply,
    );
    ctx.root.append(
      section(
        'Listening ports',
        h(
          'p',
          { class: 'hint' },
          'The SIP service restarts on the new ports atomically: if one is in use the change is refused and the old listeners keep answering. Saved in <data-dir>/overrides.yaml. 0 picks a free port. WebSocket SIP stays at /sip on the HTTPS port.',
        ),
        form,
        outcome,
      ),
      section('Listening now', current),
    );
    let loaded = false;
    const showListeners = (listeners: readonly SipListener[]): void =>
      fill(current, table(['Transport', 'Address', 'Port'], listenerRows(listeners)));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void (async () => {
        apply.disabled = true;
        fill(outcome, h('p', { class: 'muted' }, 'Restarting the SIP listeners…'));
        try {
          const r = await ctx.api.changeSettings({
            port: Number(port.value),
            tlsPort: Number(tlsPort.value),
          });
          fill(
            outcome,
            h(
              'div',
              { class: 'notice ok' },
              h('strong', {}, 'Applied. '),
              `Now listening on ${r.listeners.map((l) => `${l.transport.toUpperCase()} ${l.port}`).join(', ')}. Saved in `,
              h('code', {}, r.overridesFile),
              '.',
            ),
          );
          showListeners(r.listeners);
          ctx.notify('SIP service restarted on the new ports.');
        } catch (err) {
          const status = await ctx.api.status().catch(() => undefined);
          const old = status
            ? status.listeners.map((l) => `${l.transport.toUpperCase()} ${l.port}`).join(', ')
            : 'unknown';
          fill(
            outcome,
            h(
              'div',
              {
                class: 'notice error',
                'data-refused': err instanceof ApiError ? String(err.status) : 'error',
              },
              h('strong', {}, 'Refused: '),
              errorText(err),
              h('br'),
              `Nothing changed: the SIP service keeps its old ports (${old}).`,
            ),
          );
          if (status) showListeners(status.listeners);
          const s = await ctx.api.settings().catch(() => undefined);
          if (s) {
            port.value = String(s.port);
            tlsPort.value = String(s.tlsPort);
          }
        } finally {
          apply.disabled = false;
        }
      })();
    });
    return {
      async update() {
        const s = await ctx.api.status();
        showListeners(s.listeners);
        if (!loaded) {
          const settings = await ctx.api.settings();
          // Never over what the operator has typed while the settings were on their way.
          if (port.value === '') port.value = String(settings.port);
          if (tlsPort.value === '') tlsPort.value = String(settings.tlsPort);
          loaded = true;
          apply.disabled = false;
        }
      },
    };
  },
};
