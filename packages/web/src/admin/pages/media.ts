/**
 * Media: the media plane's live sessions (`GET /api/v1/media/sessions`, docs/media.md) — which
 * engine anchors them, and per call each party's leg: the relay's socket, where media to the
 * party goes (and whether it was latched from the party's own packets), direction, codec, packets
 * both ways, drops, loss, jitter, RTT and MOS.
 */
import type { MediaLeg, MediaSessionList } from '@tfx/protocol';
import type { ConsolePage } from '../page.js';
import { badge, count, empty, fill, h, relative, section, table } from '../ui.js';
import { stat } from './common.js';

const endpoint = (a: { address: string; port: number } | undefined): string =>
  a ? (a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`) : '—';

/** MOS as the console shows it: good ≥ 4, fair ≥ 3.6, poor below (ITU-T G.107 bands). */
function mosBadge(mos: number | undefined): HTMLElement | string {
  if (mos === undefined) return '—';
  const kind = mos >= 4 ? 'ok' : mos >= 3.6 ? 'warn' : 'danger';
  return badge(mos.toFixed(2), kind);
}

function legRow(callId: string, leg: MediaLeg): Array<Node | string> {
  return [
    h('code', { title: callId }, callId.length > 18 ? `${callId.slice(0, 16)}…` : callId),
    h('code', {}, leg.tag),
    leg.zone ?? '—',
    h('code', {}, endpoint(leg.local)),
    h(
      'span',
      {},
      h('code', {}, endpoint(leg.remote)),
      ' ',
      leg.latched ? badge('latched', 'ok') : badge('from SDP'),
    ),
    leg.direction,
    leg.codec ?? '—',
    mosBadge(leg.mos),
    `${count(leg.packetsIn)} / ${count(leg.packetsOut)}`,
    `${count(leg.dropped)} / ${count(leg.packetsLost)}`,
    `${leg.jitterMs.toFixed(1)} / ${leg.rttMs === undefined ? '—' : leg.rttMs.toFixed(0)}`,
  ];
}

export const mediaPage: ConsolePage = {
  id: 'media',
  title: 'Media',
  icon: 'media',
  group: 'Media',
  mount(ctx) {
    const head = h('div', { class: 'stats' });
    const body = h('div');
    ctx.root.append(h('div', { class: 'stack' }, head, section('Live sessions', body)));
    return {
      async update() {
        const list = await ctx.rest.get<MediaSessionList>('/api/v1/media/sessions');
        const legs = list.sessions.flatMap((s) => s.legs);
        const worst = legs.reduce<number | undefined>(
          (m, l) => (l.mos === undefined ? m : m === undefined ? l.mos : Math.min(m, l.mos)),
          undefined,
        );
        fill(
          head,
          stat(
            'Engine',
            list.engine === 'builtin' ? 'built-in' : 'rtpengine',
            list.engine === 'builtin' ? 'relay in worker threads' : 'over the ng protocol',
          ),
          stat('Sessions', count(list.sessions.length)),
          stat('Legs', count(legs.length), `${legs.filter((l) => l.latched).length} latched`),
          stat('Lowest MOS', worst === undefined ? '—' : worst.toFixed(2)),
        );
        fill(
          body,
          list.sessions.length === 0
            ? empty('No media session: calls through the SBC and the gateway show here.')
            : table(
                [
                  'Call',
                  'Party',
                  'Zone',
                  'Relay socket',
                  'Media to',
                  'Direction',
                  'Codec',
                  // MOS before the counters, so that it stays in view on a laptop's width.
                  'MOS',
                  'Packets in / out',
                  'Dropped / lost',
                  'Jitter / RTT, ms',
                ],
                list.sessions.flatMap((s) => s.legs.map((l) => legRow(s.callId, l))),
              ),
          list.sessions.length === 0
            ? ''
            : h(
                'p',
                { class: 'muted' },
                `Oldest session started ${relative(
                  list.sessions.reduce(
                    (a, s) => (s.createdAt < a ? s.createdAt : a),
                    list.sessions[0]!.createdAt,
                  ),
                )}`,
              ),
        );
      },
    };
  },
};
