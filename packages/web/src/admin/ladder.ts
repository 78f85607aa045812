/**
 * Ladder diagram of one Call-ID (SVG): a column per endpoint (the first peer on the left, TFX
 * next, the other peers after), one arrow per message in the order TFX saw them, labelled with
 * the method or status; the time since the first message on the left. Messages are traced at
 * TFX, so every arrow starts or ends on the TFX column.
 */
import type { SipTracedMessage } from '@tfx/protocol';

const NS = 'http://www.w3.org/2000/svg';
const COL = 240;
const ROW = 36;
const HEAD = 58;
const LEFT = 70;
const TFX = 'tfx';

/** An SVG element with these attributes (and text). Shared with the SBC's two-leg ladder. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

interface Column {
  readonly key: string;
  readonly title: string;
  readonly subtitle: string;
}

/** Columns in display order. */
export function columnsOf(messages: readonly SipTracedMessage[]): Column[] {
  const peers: Column[] = [];
  const seen = new Set<string>();
  const locals = new Set<string>();
  for (const m of messages) {
    locals.add(`${m.transport} ${m.local}`);
    const key = `${m.transport}|${m.remote}`;
    if (seen.has(key)) continue;
    seen.add(key);
    peers.push({ key, title: m.remote, subtitle: m.transport.toUpperCase() });
  }
  const tfx: Column = { key: TFX, title: 'TFX', subtitle: [...locals].slice(0, 2).join(' · ') };
  return peers.length === 0 ? [tfx] : [peers[0]!, tfx, ...peers.slice(1)];
}

export type MessageKind = 'req' | 'r1xx' | 'r2xx' | 'r3xx' | 'rerr';

/** Message class for colour from a summary ("INVITE …", "180 Ringing"): request or status class. */
export function statusKind(summary: string): MessageKind {
  const status = /^(\d{3})(?: |$)/.exec(summary)?.[1];
  if (!status) return 'req';
  const n = Number(status);
  return n < 200 ? 'r1xx' : n < 300 ? 'r2xx' : n < 400 ? 'r3xx' : 'rerr';
}

/** Message class for colour: request, provisional, success, redirect or failure. */
export function kindOf(m: SipTracedMessage): string {
  return statusKind(m.summary);
}

/** The arrow heads of each message class, ids `${prefix}${kind}` (one `<defs>` per ladder). */
export function arrowMarkers(prefix: string): SVGDefsElement {
  const defs = svg('defs', {});
  for (const k of ['req', 'r1xx', 'r2xx', 'r3xx', 'rerr']) {
    const marker = svg('marker', {
      id: `${prefix}${k}`,
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 8,
      markerHeight: 8,
      orient: 'auto-start-reverse',
    });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: `head ${k}` }));
    defs.append(marker);
  }
  return defs;
}

export interface LadderOptions {
  readonly selected?: number | undefined;
  readonly onSelect?: (m: SipTracedMessage) => void;
}

export function renderLadder(
  messages: readonly SipTracedMessage[],
  options: LadderOptions = {},
): SVGSVGElement {
  const cols = columnsOf(messages);
  const x = new Map(cols.map((c, i) => [c.key, LEFT + COL / 2 + i * COL]));
  const width = LEFT + cols.length * COL;
  const height = HEAD + messages.length * ROW + 20;
  const root = svg('svg', {
    class: 'ladder',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': `Ladder diagram: ${messages.length} messages between ${cols.length} endpoints`,
  });
  root.append(arrowMarkers('arrow-'));

  cols.forEach((c) => {
    const cx = x.get(c.key)!;
    const g = svg('g', { class: c.key === TFX ? 'col col-tfx' : 'col' });
    g.append(svg('rect', { x: cx - COL / 2 + 12, y: 6, width: COL - 24, height: 40, rx: 8 }));
    g.append(svg('text', { x: cx, y: 23, class: 'col-title' }, c.title));
    g.append(svg('text', { x: cx, y: 38, class: 'col-sub' }, c.subtitle));
    g.append(svg('line', { x1: cx, y1: 46, x2: cx, y2: height - 6, class: 'lifeline' }));
    root.append(g);
  });

  const t0 = messages.length > 0 ? Date.parse(messages[0]!.at) : 0;
  messages.forEach((m, i) => {
    const y = HEAD + i * ROW + 22;
    const peer = x.get(`${m.transport}|${m.remote}`)!;
    const tfx = x.get(TFX)!;
    const [from, to] = m.direction === 'in' ? [peer, tfx] : [tfx, peer];
    const kind = kindOf(m);
    const g = svg('g', {
      class: `msg ${kind}${options.selected === m.seq ? ' selected' : ''}`,
      tabindex: 0,
      role: 'button',
      'data-seq': m.seq,
      'aria-label': `${m.direction === 'in' ? 'received' : 'sent'} ${m.summary} (${m.cseq})`,
    });
    const left = Math.min(from, to);
    g.append(
      svg('rect', { x: left, y: y - 20, width: Math.abs(to - from), height: 28, class: 'hit' }),
    );
    const dir = Math.sign(to - from);
    g.append(
      svg('line', {
        x1: from + dir * 3,
        y1: y,
        x2: to - dir * 3,
        y2: y,
        'marker-end': `url(#arrow-${kind})`,
      }),
    );
    // Long reason phrases are cut to the column; the whole summary is the arrow's tooltip.
    const label = m.summary.length > 26 ? `${m.summary.slice(0, 25)}…` : m.summary;
    g.append(svg('title', {}, `${m.summary} · ${m.cseq}`));
    g.append(svg('text', { x: (from + to) / 2, y: y - 6, class: 'label' }, label));
    const select = (): void => options.onSelect?.(m);
    g.addEventListener('click', select);
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        select();
      }
    });
    root.append(g);
    // The time sits outside the arrow's group, so the group's box is the arrow's.
    const dt = Math.max(0, Date.parse(m.at) - t0);
    root.append(
      svg(
        'text',
        { x: 8, y: y + 4, class: 'time' },
        dt < 1000 ? `+${dt} ms` : `+${(dt / 1000).toFixed(2)} s`,
      ),
    );
  });
  return root;
}
