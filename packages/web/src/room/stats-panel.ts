/**
 * The live stats panel: per remote peer, every second, bitrate in and out, packet loss, jitter,
 * RTT, resolution, frame rate, codecs and the selected candidate pair's types, with sparklines
 * of the inbound bitrate and the RTT. Reads the peers' connections through the SDK.
 */
import { sampleStats, statsRates, type Room, type StatsSample } from '@tfx/sdk';
import { h } from '../dom.js';
import { Sparkline } from './sparkline.js';

interface Row {
  readonly el: HTMLElement;
  readonly fields: Record<string, HTMLElement>;
  readonly kbps: Sparkline;
  readonly rtt: Sparkline;
  prev: StatsSample | undefined;
}

const FIELDS = [
  ['bitrate-in', 'Bitrate in'],
  ['bitrate-out', 'Bitrate out'],
  ['loss', 'Packet loss'],
  ['jitter', 'Jitter'],
  ['rtt', 'RTT'],
  ['resolution', 'Resolution'],
  ['fps', 'Frame rate'],
  ['codec', 'Codecs'],
  ['candidates', 'Candidate pair'],
] as const;

const kbps = (v: number): string =>
  v >= 1000 ? `${(v / 1000).toFixed(2)} Mbit/s` : `${Math.round(v)} kbit/s`;
const ms = (s: number | undefined): string =>
  s === undefined ? '—' : `${Math.round(s * 1000)} ms`;

export interface StatsPanel {
  readonly el: HTMLElement;
  /** Starts (open) or stops (closed) the once-a-second sampling. */
  setOpen(open: boolean): void;
  destroy(): void;
}

export function createStatsPanel(room: Room, onClose: () => void): StatsPanel {
  const rows = new Map<string, Row>();
  const list = h('div', { class: 'stats-list' });
  const empty = h('p', { class: 'muted stats-empty' }, 'Nobody else is in the call yet.');
  const close = h(
    'button',
    { type: 'button', class: 'icon-btn', 'aria-label': 'Close stats', title: 'Close stats' },
    '×',
  );
  close.addEventListener('click', onClose);
  const el = h(
    'aside',
    { class: 'chat side-panel', id: 'stats-panel', hidden: true, 'aria-label': 'Connection stats' },
    h('header', { class: 'chat-head' }, h('h2', {}, 'Connection stats'), close),
    h('div', { class: 'side-body' }, empty, list),
  );

  const rowFor = (peerId: string, name: string): Row => {
    let row = rows.get(peerId);
    if (row) return row;
    const fields: Record<string, HTMLElement> = {};
    const dl = h('dl', { class: 'stats-grid' });
    for (const [key, label] of FIELDS) {
      const dd = h('dd', { 'data-stat': key }, '—');
      fields[key] = dd;
      dl.append(h('dt', {}, label), dd);
    }
    const spark = new Sparkline(`Inbound bitrate of ${name}`);
    const rttSpark = new Sparkline(`Round-trip time to ${name}`);
    const rowEl = h(
      'section',
      { class: 'stats-peer', 'data-peer': peerId },
      h('h3', {}, name),
      h(
        'div',
        { class: 'sparks' },
        h('figure', {}, spark.el, h('figcaption', {}, 'bitrate in')),
        h('figure', { class: 'spark-rtt' }, rttSpark.el, h('figcaption', {}, 'RTT')),
      ),
      dl,
    );
    row = { el: rowEl, fields, kbps: spark, rtt: rttSpark, prev: undefined };
    rows.set(peerId, row);
    list.append(rowEl);
    return row;
  };

  const tick = async (): Promise<void> => {
    for (const [id, row] of rows) {
      if (!room.peers.has(id)) {
        row.el.remove();
        rows.delete(id);
      }
    }
    for (const peer of room.peers.values()) {
      const row = rowFor(peer.id, peer.name);
      const cur = await sampleStats(room, peer.id).catch(() => undefined);
      if (!cur) continue;
      const r = statsRates(row.prev, cur);
      row.prev = cur;
      const f = row.fields;
      const set = (k: string, v: string): void => {
        const dd = f[k];
        if (dd && dd.textContent !== v) dd.textContent = v;
      };
      set('bitrate-in', kbps(r.kbpsIn));
      set('bitrate-out', kbps(r.kbpsOut));
      set('loss', `${r.lossPercent.toFixed(1)} %`);
      set('jitter', ms(cur.jitter));
      set('rtt', ms(cur.rtt));
      set('resolution', cur.width && cur.height ? `${cur.width}×${cur.height}` : '—');
      set('fps', cur.fps !== undefined ? String(Math.round(cur.fps)) : '—');
      set('codec', cur.codecs.length ? cur.codecs.map((c) => c.split('/')[1]).join(', ') : '—');
      set(
        'candidates',
        cur.localCandidateType
          ? `${cur.localCandidateType} ↔ ${cur.remoteCandidateType ?? '?'}${cur.protocol ? ` (${cur.protocol})` : ''}`
          : '—',
      );
      row.el.dataset.kbpsIn = String(Math.round(r.kbpsIn));
      row.kbps.push(r.kbpsIn);
      row.rtt.push((cur.rtt ?? 0) * 1000);
    }
    empty.hidden = rows.size > 0;
  };

  let timer: ReturnType<typeof setInterval> | undefined;
  let running = false;
  const run = (): void => {
    if (running) return;
    running = true;
    void tick().finally(() => {
      running = false;
    });
  };
  return {
    el,
    setOpen(open) {
      el.hidden = !open;
      if (open && timer === undefined) {
        run();
        timer = setInterval(run, 1000);
      } else if (!open && timer !== undefined) {
        clearInterval(timer);
        timer = undefined;
      }
    },
    destroy() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
