/** Audit: admin actions (who, when, what, from where), newest first; downloadable as JSON lines. */
import type { AuditPage } from '@tfx/protocol';
import type { ConsolePage } from '../page.js';
import { badge, button, empty, errorText, fill, h, section, table } from '../ui.js';
import { when } from './common.js';

export const auditPage: ConsolePage = {
  id: 'audit',
  title: 'Audit log',
  icon: 'audit',
  group: 'Platform',
  mount(ctx) {
    const filter = h('input', {
      type: 'search',
      placeholder: 'Filter: action, target, who, address',
      'aria-label': 'Filter the audit log',
    });
    const listBox = h('div');
    const exportBtn = button('Export (JSON lines)', async () => {
      try {
        const text = await fetch('/api/v1/audit/export', {
          headers: { authorization: `Bearer ${ctx.rest.token}` },
          cache: 'no-store',
        }).then((r) => {
          if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
          return r.text();
        });
        const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
        const a = h('a', { href: url, download: 'tfx-audit.jsonl' });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      } catch (err) {
        ctx.notify(errorText(err), 'error');
      }
    });
    ctx.root.append(
      h(
        'div',
        { class: 'stack' },
        section(
          'Admin actions',
          h(
            'p',
            { class: 'hint' },
            'Every change made with the admin token — from this console or any API client — with who, when and from where. Kept in the data folder (audit/audit.jsonl) and, with Redis, shared by every process.',
          ),
          h('div', { class: 'toolbar' }, filter, exportBtn),
          listBox,
        ),
      ),
    );
    let last: AuditPage = { items: [] };
    const draw = (): void => {
      const q = filter.value.trim().toLowerCase();
      const items = last.items.filter(
        (e) =>
          !q ||
          [e.action, e.target ?? '', e.actor, e.from, e.via, e.path].some((f) =>
            f.toLowerCase().includes(q),
          ),
      );
      fill(
        listBox,
        items.length === 0
          ? empty(q ? 'No entry matches.' : 'No admin action yet.')
          : table(
              ['When', 'Action', 'Target', 'Who', 'Via', 'From', 'Result'],
              items.map((e) => [
                when(e.at),
                h('code', {}, e.action),
                e.target ?? '',
                e.actor,
                badge(e.via, e.via === 'console' ? 'api' : ''),
                `${e.from} · ${e.node}`,
                badge(String(e.status), e.status < 400 ? 'ok' : 'danger'),
              ]),
            ),
      );
    };
    filter.addEventListener('input', draw);
    return {
      async update() {
        last = await ctx.rest.get<AuditPage>('/api/v1/audit?limit=500');
        draw();
      },
    };
  },
};
