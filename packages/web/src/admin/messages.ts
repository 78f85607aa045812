/**
 * Live view of recent SIP messages: the Call-IDs seen lately (newest activity first) and, for
 * the one chosen, its ladder diagram and the full text of a message. Polls `/messages?after=`
 * so each message is fetched once; keeps at most MAX messages in the page.
 */
import type { SipTracedMessage } from '@tfx/protocol';
import { renderLadder } from './ladder.js';
import { badge, clock, empty, fill, h, type Tab, type View, type ViewContext } from './ui.js';

const MAX = 3000;
const LIST = 80;

interface Dialogish {
  readonly callId: string;
  readonly messages: SipTracedMessage[];
}

function header(text: string, name: string): string {
  const re = new RegExp(`^(?:${name}):\\s*(.*)$`, 'im');
  return re.exec(text)?.[1]?.trim() ?? '';
}

/** "sip:alice@tfx.test" out of a From/To value. */
function addressOf(value: string): string {
  const m = /<([^>]*)>/.exec(value);
  return (m ? m[1]! : value.split(';')[0]!).trim();
}

function title(d: Dialogish): { method: string; from: string; to: string } {
  const first = d.messages.find((m) => !/^\d{3} /.test(m.summary)) ?? d.messages[0]!;
  return {
    method: first.cseq.split(' ')[1] ?? first.summary,
    from: addressOf(header(first.text, 'From|f')),
    to: addressOf(header(first.text, 'To|t')),
  };
}

export const messagesTab: Tab = {
  id: 'messages',
  title: 'Messages',
  mount(ctx: ViewContext, arg: string | undefined): View {
    const byCall = new Map<string, Dialogish>();
    let last = -1;
    let total = 0;
    let selectedCall = arg;
    let selectedSeq: number | undefined;
    let paused = false;

    const filter = h('input', {
      type: 'search',
      placeholder: 'Filter: user, method, Call-ID',
      'aria-label': 'Filter Call-IDs',
    });
    const invitesOnly = h('input', { type: 'checkbox', checked: true });
    const live = h('input', { type: 'checkbox', checked: true });
    const list = h('ul', { class: 'calls-list', 'aria-label': 'Call-IDs' });
    const ladderBox = h('div', { class: 'ladder-box' });
    const detail = h('pre', { class: 'sip-text', 'aria-label': 'Message text' });
    const heading = h('h2', {}, 'Ladder');
    ctx.root.append(
      h(
        'div',
        { class: 'messages' },
        h(
          'aside',
          { class: 'panel calls-pane' },
          h('h2', {}, 'Recent Call-IDs'),
          filter,
          h(
            'div',
            { class: 'toggles' },
            h('label', {}, invitesOnly, ' Calls only'),
            h('label', {}, live, ' Live'),
          ),
          list,
        ),
        h('section', { class: 'panel ladder-pane' }, heading, ladderBox, detail),
      ),
    );
    filter.addEventListener('input', () => renderList());
    invitesOnly.addEventListener('change', () => renderList());
    live.addEventListener('change', () => {
      paused = !live.checked;
    });

    const dialogs = (): Dialogish[] => {
      const q = filter.value.trim().toLowerCase();
      return [...byCall.values()]
        .filter((d) => !invitesOnly.checked || d.messages.some((m) => m.cseq.endsWith(' INVITE')))
        .filter(
          (d) =>
            !q ||
            d.callId.toLowerCase().includes(q) ||
            d.messages.some((m) => m.summary.toLowerCase().includes(q) || m.remote.includes(q)) ||
            Object.values(title(d)).some((v) => v.toLowerCase().includes(q)),
        )
        .sort(
          (a, b) => b.messages[b.messages.length - 1]!.seq - a.messages[a.messages.length - 1]!.seq,
        )
        .slice(0, LIST);
    };

    const renderList = (): void => {
      const ds = dialogs();
      if (ds.length === 0) {
        fill(
          list,
          h('li', {}, empty(byCall.size === 0 ? 'No SIP message yet.' : 'Nothing matches.')),
        );
        return;
      }
      fill(
        list,
        ...ds.map((d) => {
          const t = title(d);
          const lastMsg = d.messages[d.messages.length - 1]!;
          const a = h(
            'a',
            {
              href: `#messages/${encodeURIComponent(d.callId)}`,
              class: d.callId === selectedCall ? 'call current' : 'call',
              'aria-current': d.callId === selectedCall ? 'true' : undefined,
            },
            h(
              'span',
              { class: 'call-top' },
              badge(t.method, 'method'),
              h('span', { class: 'muted' }, clock(lastMsg.at)),
            ),
            h('span', { class: 'call-parties' }, `${t.from || '?'} → ${t.to || '?'}`),
            h('span', { class: 'call-meta' }, `${d.messages.length} messages · ${lastMsg.summary}`),
          );
          a.addEventListener('click', (e) => {
            e.preventDefault();
            select(d.callId);
          });
          return h('li', {}, a);
        }),
      );
    };

    const renderLadderView = (): void => {
      const d = selectedCall !== undefined ? byCall.get(selectedCall) : undefined;
      if (!d) {
        heading.textContent = 'Ladder';
        fill(
          ladderBox,
          empty(
            selectedCall
              ? 'That Call-ID is no longer in the recent messages.'
              : 'Choose a Call-ID.',
          ),
        );
        detail.textContent = '';
        detail.hidden = true;
        return;
      }
      const t = title(d);
      fill(
        heading,
        `${t.method} `,
        h('span', { class: 'muted' }, `${t.from} → ${t.to}`),
        ' ',
        h('code', { class: 'callid' }, d.callId),
      );
      const show = (m: SipTracedMessage): void => {
        selectedSeq = m.seq;
        detail.hidden = false;
        detail.textContent = `${m.direction === 'in' ? '◀ received from' : '▶ sent to'} ${m.remote} over ${m.transport.toUpperCase()} at ${m.at}\n\n${m.text.replace(/\r\n/g, '\n')}`;
        renderLadderView();
      };
      fill(ladderBox, renderLadder(d.messages, { selected: selectedSeq, onSelect: show }));
      if (selectedSeq === undefined) detail.hidden = true;
    };

    const select = (callId: string): void => {
      selectedCall = callId;
      selectedSeq = undefined;
      ctx.go(`messages/${encodeURIComponent(callId)}`);
      renderList();
      renderLadderView();
    };

    const add = (items: SipTracedMessage[]): void => {
      for (const m of items) {
        last = Math.max(last, m.seq);
        let d = byCall.get(m.callId);
        if (!d) {
          d = { callId: m.callId, messages: [] };
          byCall.set(m.callId, d);
        }
        d.messages.push(m);
        total++;
      }
      // Drop whole oldest Call-IDs beyond MAX messages.
      while (total > MAX && byCall.size > 1) {
        const oldest = [...byCall.values()].sort(
          (a, b) => a.messages.at(-1)!.seq - b.messages.at(-1)!.seq,
        )[0]!;
        byCall.delete(oldest.callId);
        total -= oldest.messages.length;
      }
    };

    return {
      async update() {
        if (paused && last >= 0) return;
        let items = await ctx.api.messages(last);
        let changed = items.length > 0;
        add(items);
        while (items.length === 1000) {
          items = await ctx.api.messages(last);
          add(items);
        }
        if (selectedCall === undefined) {
          const latest = dialogs()[0];
          if (latest) {
            selectedCall = latest.callId;
            changed = true;
          }
        }
        if (changed || list.childElementCount === 0) {
          renderList();
          renderLadderView();
        }
      },
    };
  },
};
