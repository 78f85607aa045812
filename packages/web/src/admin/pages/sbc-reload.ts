/**
 * The SBC page's "Rules" panel: which rules generation serves new calls, the last reload of the
 * configuration (time, how: REST / `tfx sbc reload` or SIGHUP, ok or refused with the message
 * naming the rule, settings only a restart applies), and a button that reloads
 * (`GET`/`POST /api/v1/sbc/reload`; docs/sbc.md, "Reload").
 */
import type { SbcReload, SbcReloadState } from '@tfx/protocol';
import type { PageContext } from '../page.js';
import { badge, button, clock, errorText, fill, h, relative } from '../ui.js';

const SOURCE: Record<SbcReload['source'], string> = {
  rest: 'REST (console or tfx sbc reload)',
  signal: 'SIGHUP',
};

/** A refusal one problem a line: `invalid configuration:` / `sbc.zones[1]…` / `(from file …)`. */
function lines(message: string): string {
  return message
    .replace(/: (?=sbc\.)/g, ':\n')
    .replace(/; /g, ';\n')
    .replace(/ \(from /g, '\n(from ');
}

export interface ReloadPanel {
  readonly element: HTMLElement;
  draw(state: SbcReloadState): void;
}

export function reloadPanel(ctx: PageContext, refresh: () => Promise<void>): ReloadPanel {
  const body = h('div');
  const reload = button(
    'Reload rules',
    async () => {
      try {
        const r = await ctx.rest.post<SbcReload>('/api/v1/sbc/reload');
        ctx.notify(`Rules reloaded: generation ${r.generation}.`, 'ok');
      } catch (err) {
        ctx.notify(`Reload refused; the rules in force keep serving. ${errorText(err)}`, 'error');
      }
      await refresh();
    },
    'primary',
  );
  const element = h('div', {}, body, h('div', { class: 'toolbar' }, reload));
  return {
    element,
    draw(state) {
      const last = state.last;
      const head = h(
        'p',
        {},
        'Rules generation ',
        h('strong', {}, String(state.generation)),
        ' serves new calls (normalization, trunks, routes). Calls in progress keep the rules they started with.',
      );
      if (!last) {
        fill(body, head, h('p', { class: 'muted' }, 'No reload since the SBC started.'));
        return;
      }
      const when = h(
        'span',
        { class: 'muted' },
        ` at ${clock(last.at)} (${relative(last.at)}) by ${SOURCE[last.source]}`,
      );
      fill(
        body,
        head,
        last.ok
          ? h(
              'div',
              { class: 'notice ok', 'aria-label': 'Last reload' },
              badge('ok', 'ok'),
              ' Last reload',
              when,
              h('p', {}, last.message),
              ...(last.restartNeeded.length > 0
                ? [
                    h(
                      'p',
                      { class: 'muted' },
                      `Changed but not applied until a restart: ${last.restartNeeded.join(', ')}.`,
                    ),
                  ]
                : []),
            )
          : h(
              'div',
              { class: 'notice error', role: 'alert', 'aria-label': 'Last reload' },
              badge('refused', 'danger'),
              ' Last reload',
              when,
              ' — the rules in force were kept.',
              h('pre', { class: 'sip-text' }, lines(last.message)),
            ),
      );
    },
  };
}
