/**
 * Widgets: the manifest in force, whether the file on disk is valid (and why not), reload, and
 * which live rooms use which widget (from the participants' state).
 */
import type { ConsoleWidgets } from '@tfx/protocol';
import type { ConsolePage } from '../page.js';
import { badge, button, empty, errorText, fill, h, section, table } from '../ui.js';
import { when } from './common.js';

export const widgetsPage: ConsolePage = {
  id: 'widgets',
  title: 'Widgets',
  icon: 'widgets',
  group: 'Platform',
  mount(ctx) {
    const fileBox = h('div');
    const listBox = h('div');
    const reload = button(
      'Reload manifest',
      async () => {
        try {
          const w = await ctx.rest.post<ConsoleWidgets>('/api/v1/console/widgets/reload');
          draw(w);
          ctx.notify(
            w.file.ok
              ? `Manifest reloaded: ${w.widgets.length} widgets.`
              : 'The file is invalid: the manifest in force was kept.',
            w.file.ok ? 'ok' : 'error',
          );
        } catch (err) {
          ctx.notify(errorText(err), 'error');
        }
      },
      'primary',
    );
    ctx.root.append(
      h(
        'div',
        { class: 'stack' },
        section('Manifest file', fileBox, h('div', { class: 'toolbar' }, reload)),
        section('Widgets in force', listBox),
      ),
    );
    const draw = (w: ConsoleWidgets): void => {
      fill(
        fileBox,
        h('p', {}, h('code', {}, w.manifestPath || '(widgets are off)')),
        w.file.ok
          ? h(
              'div',
              { class: 'notice ok' },
              'The file is a valid manifest. ',
              h('span', { class: 'muted' }, `checked ${when(w.file.checkedAt)}`),
            )
          : h(
              'div',
              { class: 'notice error', role: 'alert' },
              h('strong', {}, 'The file is invalid'),
              ' — the manifest in force below is the last valid one. ',
              h('pre', { class: 'sip-text' }, w.file.error ?? ''),
            ),
      );
      fill(
        listBox,
        w.widgets.length === 0
          ? empty('No widget.')
          : table(
              ['Id', 'Title', 'Type', 'URL', 'Open in'],
              w.widgets.map((x) => [
                h('code', {}, x.id),
                x.title,
                badge(x.type),
                h('span', { class: 'uri' }, x.url),
                x.rooms.length === 0
                  ? h('span', { class: 'muted' }, 'no live room')
                  : h(
                      'ul',
                      { class: 'plain', 'aria-label': `Rooms using ${x.title}` },
                      ...x.rooms.map((r) =>
                        h(
                          'li',
                          { title: r.participants.join(', ') },
                          h('code', {}, r.room),
                          ` · ${r.participants.length} ${r.participants.length === 1 ? 'participant' : 'participants'}`,
                        ),
                      ),
                    ),
              ]),
            ),
      );
    };
    return {
      async update() {
        draw(await ctx.rest.get<ConsoleWidgets>('/api/v1/console/widgets'));
      },
    };
  },
};
