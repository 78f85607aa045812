/**
 * The ladder of one SBC call, both legs side by side (issue #19 item 2): the caller's column(s) on
 * the left, the SBC in the middle, the callee's (the trunk's) on the right. Every message the SBC
 * received or sent is one arrow, in the order the SBC saw them across both legs — so the caller's
 * INVITE is followed by the SBC's INVITE to the trunk, the trunk's 180 by the SBC's 180 to the
 * caller — with the time since the first message on the left. Retransmissions are arrows of their
 * own (they were on the wire). The layout (`ladderLayout`) is pure and unit-tested; `renderSbcLadder`
 * draws it as SVG with the styles of the SIP ladder (ladder.ts).
 */
import type { SbcLadderMessage } from '@tfx/protocol';
import { arrowMarkers, statusKind, svg } from './ladder.js';

export type Side = 'a' | 'sbc' | 'b';

export interface LadderColumn {
  readonly key: string;
  readonly side: Side;
  readonly title: string;
  readonly subtitle: string;
}

export interface LadderRow {
  readonly message: SbcLadderMessage;
  readonly from: number;
  readonly to: number;
  readonly kind: 'req' | 'r1xx' | 'r2xx' | 'r3xx' | 'rerr';
  readonly label: string;
  /** ms since the first message; undefined when a time does not parse. */
  readonly offsetMs: number | undefined;
}

export interface LadderLayout {
  readonly columns: readonly LadderColumn[];
  readonly rows: readonly LadderRow[];
}

export interface LadderNames {
  /** Leg A's zone and leg B's zone and trunk, when the call is live. */
  readonly aZone?: string | undefined;
  readonly bZone?: string | undefined;
  readonly trunk?: string | undefined;
}

const SBC = 'sbc';
const MAX_LABEL = 24;

export function kindOf(summary: string): LadderRow['kind'] {
  return statusKind(summary);
}

/** "+12 ms", "+1.50 s"; "" for an unknown time. */
export function offsetText(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `+${ms} ms` : `+${(ms / 1000).toFixed(2)} s`;
}

/** Columns and arrows of a call's messages. Pure. */
export function ladderLayout(
  messages: readonly SbcLadderMessage[],
  names: LadderNames = {},
): LadderLayout {
  const peers: Record<'a' | 'b', Array<{ key: string; remote: string; transport: string }>> = {
    a: [],
    b: [],
  };
  const locals: Record<'a' | 'b', Set<string>> = { a: new Set(), b: new Set() };
  const keyOf = (m: SbcLadderMessage): string => `${m.leg}|${m.transport}|${m.remote}`;
  for (const m of messages) {
    const leg = m.leg === 'b' ? 'b' : 'a';
    locals[leg].add(m.local);
    const key = keyOf(m);
    if (!peers[leg].some((p) => p.key === key))
      peers[leg].push({ key, remote: m.remote, transport: m.transport });
  }
  const peerColumn =
    (side: 'a' | 'b') =>
    (p: { key: string; remote: string; transport: string }, i: number): LadderColumn => {
      const who = side === 'a' ? 'Caller' : names.trunk ? `Callee · ${names.trunk}` : 'Callee';
      const zone = side === 'a' ? names.aZone : names.bZone;
      return {
        key: p.key,
        side,
        title: i === 0 ? who : `${who} (${i + 1})`,
        subtitle: `${p.transport.toUpperCase()} ${p.remote}${zone ? ` · ${zone}` : ''}`,
      };
    };
  const sbc: LadderColumn = {
    key: SBC,
    side: 'sbc',
    title: 'SBC',
    subtitle: [...[...locals.a].slice(0, 1), ...[...locals.b].slice(0, 1)].join(' | '),
  };
  const columns = [...peers.a.map(peerColumn('a')), sbc, ...peers.b.map(peerColumn('b'))];
  const index = new Map(columns.map((c, i) => [c.key, i]));
  const middle = index.get(SBC)!;
  const t0 = messages.length > 0 ? Date.parse(messages[0]!.at) : NaN;
  const rows = messages.map((m): LadderRow => {
    const peer = index.get(keyOf(m.leg === 'b' ? m : { ...m, leg: 'a' })) ?? middle;
    const [from, to] = m.direction === 'in' ? [peer, middle] : [middle, peer];
    const t = Date.parse(m.at);
    const dt = t - t0;
    return {
      message: m,
      from,
      to,
      kind: kindOf(m.summary),
      label: m.summary.length > MAX_LABEL ? `${m.summary.slice(0, MAX_LABEL - 1)}…` : m.summary,
      offsetMs: Number.isFinite(dt) ? Math.max(0, Math.round(dt)) : undefined,
    };
  });
  return { columns, rows };
}

const COL = 232;
const ROW = 34;
const HEAD = 58;
const LEFT = 70;

/** Squeezes a text that would overflow its column's box (about `px` per character). */
function fit(text: string, px: number): Record<string, string | number> {
  const room = COL - 32;
  return text.length * px > room ? { textLength: room, lengthAdjust: 'spacingAndGlyphs' } : {};
}

export interface SbcLadderOptions {
  readonly selected?: number | undefined;
  readonly onSelect?: (m: SbcLadderMessage) => void;
}

export function renderSbcLadder(layout: LadderLayout, o: SbcLadderOptions = {}): SVGSVGElement {
  const { columns, rows } = layout;
  const width = LEFT + columns.length * COL;
  const height = HEAD + rows.length * ROW + 20;
  const cx = (i: number): number => LEFT + COL / 2 + i * COL;
  const root = svg('svg', {
    class: 'ladder sbc-ladder',
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': `Ladder of both legs: ${rows.length} messages, ${columns.map((c) => c.title).join(', ')}`,
  });
  root.append(arrowMarkers('sbc-arrow-'));
  columns.forEach((c, i) => {
    const x = cx(i);
    const g = svg('g', { class: c.side === 'sbc' ? 'col col-tfx' : `col col-${c.side}` });
    g.append(svg('rect', { x: x - COL / 2 + 10, y: 6, width: COL - 20, height: 40, rx: 8 }));
    g.append(svg('text', { x, y: 23, class: 'col-title', ...fit(c.title, 7.8) }, c.title));
    g.append(svg('text', { x, y: 38, class: 'col-sub', ...fit(c.subtitle, 6.1) }, c.subtitle));
    g.append(svg('title', {}, `${c.title}: ${c.subtitle}`));
    g.append(svg('line', { x1: x, y1: 46, x2: x, y2: height - 6, class: 'lifeline' }));
    root.append(g);
  });
  rows.forEach((r, i) => {
    const m = r.message;
    const y = HEAD + i * ROW + 22;
    const [from, to] = [cx(r.from), cx(r.to)];
    const g = svg('g', {
      class: `msg ${r.kind} leg-${m.leg}${o.selected === m.seq ? ' selected' : ''}`,
      tabindex: 0,
      role: 'button',
      'data-seq': m.seq,
      'data-leg': m.leg,
      'aria-label': `leg ${m.leg.toUpperCase()}: ${m.direction === 'in' ? 'received' : 'sent'} ${m.summary} (${m.cseq})`,
    });
    g.append(
      svg('rect', {
        x: Math.min(from, to),
        y: y - 20,
        width: Math.max(1, Math.abs(to - from)),
        height: 28,
        class: 'hit',
      }),
    );
    const dir = Math.sign(to - from) || 1;
    g.append(
      svg('line', {
        x1: from + dir * 3,
        y1: y,
        x2: to - dir * 3,
        y2: y,
        'marker-end': `url(#sbc-arrow-${r.kind})`,
      }),
    );
    g.append(svg('title', {}, `${m.summary} · ${m.cseq} · ${m.callId}`));
    g.append(svg('text', { x: (from + to) / 2, y: y - 6, class: 'label' }, r.label));
    const select = (): void => o.onSelect?.(m);
    g.addEventListener('click', select);
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        select();
      }
    });
    root.append(g);
    root.append(svg('text', { x: 8, y: y + 4, class: 'time' }, offsetText(r.offsetMs)));
  });
  return root;
}
