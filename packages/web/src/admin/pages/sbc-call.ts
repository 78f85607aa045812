/**
 * One SBC call on the SBC page (`#sbc/<call id>`): its ladder with both legs side by side
 * (sbc-ladder.ts; `GET /api/v1/sbc/calls/{id}/ladder`), the full text of the message chosen, and
 * the call's PCAP (`GET /api/v1/sbc/calls/{id}/pcap`, fetched with the admin token and saved as a
 * file). Live and recently ended calls (the SBC keeps the last 500 ended ones).
 */
import type { SbcLadder, SbcLadderMessage } from '@tfx/protocol';
import type { PageContext } from '../page.js';
import { CONSOLE_HEADER, ApiError } from '../rest.js';
import { ladderLayout, renderSbcLadder } from '../sbc-ladder.js';
import { badge, button, empty, errorText, fill, h } from '../ui.js';

export interface CallPanel {
  readonly element: HTMLElement;
  /** Shows a call (undefined: none) and refreshes it. */
  show(id: string | undefined): Promise<void>;
}

/** Saves the call's PCAP: the link needs the admin token, so it is fetched and saved as a blob. */
async function downloadPcap(ctx: PageContext, id: string): Promise<void> {
  const path = `/api/v1/sbc/calls/${encodeURIComponent(id)}/pcap`;
  const res = await fetch(path, {
    headers: { authorization: `Bearer ${ctx.rest.token}`, [CONSOLE_HEADER]: '1' },
    cache: 'no-store',
  });
  if (!res.ok) throw new ApiError(res.status, 'error', `PCAP: ${res.status} ${res.statusText}`);
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: `${id}.pcap`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function callPanel(ctx: PageContext): CallPanel {
  const heading = h('h2', {}, 'Call');
  const meta = h('div', { class: 'call-legs' });
  const actions = h('div', { class: 'actions' });
  const box = h('div', { class: 'ladder-box', 'aria-label': 'Ladder of both legs' });
  const detail = h('pre', { class: 'sip-text', 'aria-label': 'Message text', hidden: true });
  const element = h(
    'section',
    { class: 'panel sbc-call', hidden: true },
    heading,
    meta,
    actions,
    box,
    detail,
  );
  let current: string | undefined;
  let shown = -1;
  let selected: number | undefined;
  let last: SbcLadder | undefined;

  const draw = (l: SbcLadder): void => {
    const layout = ladderLayout(l.messages, {
      aZone: l.a.zone,
      bZone: l.b.zone,
      trunk: l.b.trunk,
    });
    const pick = (m: SbcLadderMessage): void => {
      selected = m.seq;
      detail.hidden = false;
      detail.textContent = `Leg ${m.leg.toUpperCase()} · ${m.direction === 'in' ? '◀ received from' : '▶ sent to'} ${m.remote} on ${m.local} over ${m.transport.toUpperCase()} at ${m.at}\n\n${m.text.replace(/\r\n/g, '\n')}`;
      draw(l);
    };
    fill(
      box,
      l.messages.length === 0
        ? empty('No message of this call is kept.')
        : renderSbcLadder(layout, { selected, onSelect: pick }),
    );
  };

  const panel: CallPanel = {
    element,
    async show(id) {
      if (id !== current) {
        current = id;
        shown = -1;
        selected = undefined;
        last = undefined;
        detail.hidden = true;
        fill(box);
      }
      element.hidden = id === undefined;
      if (id === undefined) return;
      let l: SbcLadder;
      try {
        l = await ctx.rest.get<SbcLadder>(`/api/v1/sbc/calls/${encodeURIComponent(id)}/ladder`);
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 404) throw err;
        fill(heading, 'Call ', h('code', {}, id));
        fill(meta);
        fill(
          actions,
          button('Close', () => ctx.go('sbc')),
        );
        fill(
          box,
          empty('This call is not known any more (the SBC keeps the last 500 ended calls).'),
        );
        return;
      }
      if (id !== current) return;
      fill(heading, 'Call ', h('code', {}, id), ' ', l.live ? badge('live', 'ok') : badge('ended'));
      const legs = l.messages.reduce((n, m) => ({ ...n, [m.leg]: n[m.leg] + 1 }), {
        a: 0,
        b: 0,
      } as Record<'a' | 'b', number>);
      fill(
        meta,
        h(
          'p',
          { class: 'muted' },
          'Leg A ',
          l.a.zone ? badge(l.a.zone) : '',
          ' ',
          h('code', { title: l.a.callId ?? '' }, l.a.callId ?? '—'),
          ` (${legs.a} messages) ⇄ SBC ⇄ leg B `,
          l.b.zone ? badge(l.b.zone) : '',
          ' ',
          l.b.trunk ? h('code', {}, l.b.trunk) : '',
          ' ',
          h('code', { title: l.b.callId ?? '' }, l.b.callId ?? '—'),
          ` (${legs.b} messages)`,
        ),
      );
      fill(
        actions,
        button(
          'Download PCAP',
          async () => {
            try {
              await downloadPcap(ctx, id);
            } catch (err) {
              ctx.notify(errorText(err), 'error');
            }
          },
          'primary',
        ),
        button('Close', () => ctx.go('sbc')),
      );
      const lastSeq = l.messages.at(-1)?.seq ?? -1;
      if (lastSeq !== shown || last?.live !== l.live) {
        shown = lastSeq;
        last = l;
        draw(l);
      }
    },
  };
  return panel;
}
