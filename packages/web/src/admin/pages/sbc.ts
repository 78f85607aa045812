/**
 * SBC: the Session Border Controller's live B2BUA calls with both legs side by side (leg A in the
 * zone the call came in through, leg B toward the trunk the route chose; `GET /api/v1/sbc/calls`)
 * and its zones with their bound listeners (`GET /api/v1/sbc/zones`), then the blacklist and the
 * bans (sbc-blacklist.ts: list, add, lift). docs/sbc.md. Without
 * `sbc.zones` the API answers 503 and the page says the SBC is not configured.
 */
import type { SbcCall, SbcCallList, SbcReloadState, SbcZone, SbcZoneList } from '@tfx/protocol';
import type { ConsolePage } from '../page.js';
import { ApiError } from '../rest.js';
import { badge, count, duration, empty, fill, h, section, table } from '../ui.js';
import { stat } from './common.js';
import { reloadPanel } from './sbc-reload.js';
import { blacklistPanel } from './sbc-blacklist.js';
import { callPanel } from './sbc-call.js';
import { trunksPanel } from './sbc-trunks.js';
import { statsPanel } from './sbc-stats.js';

const STATE_KIND: Record<SbcCall['state'], string> = {
  offering: 'warn',
  early: 'warn',
  confirmed: 'ok',
  ended: '',
};

const short = (s: string | undefined): Node | string =>
  s === undefined ? '—' : h('code', { title: s }, s.length > 22 ? `${s.slice(0, 20)}…` : s);

const hostPort = (address: string, port: number): string =>
  address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;

function callRow(c: SbcCall, now: number, open: (id: string) => void): Array<Node | string> {
  // The call's id opens its ladder of both legs (#sbc/<id>).
  const link = h('a', { href: `#sbc/${c.id}`, title: `Ladder of ${c.id}` }, short(c.id));
  link.addEventListener('click', (e) => {
    e.preventDefault();
    open(c.id);
  });
  return [
    link,
    badge(c.state, STATE_KIND[c.state]),
    duration(now - Date.parse(c.startedAt)),
    badge(c.a.zone),
    short(c.a.callId),
    '→',
    badge(c.b.zone),
    h('code', {}, c.b.trunk),
    short(c.b.callId),
  ];
}

function zoneRow(z: SbcZone): Array<Node | string> {
  return [
    h('strong', {}, z.name),
    z.trusted ? badge('trusted', 'ok') : badge('digest', 'warn'),
    h(
      'span',
      {},
      ...z.listeners.flatMap((l, i) => [
        i ? ' ' : '',
        badge(l.transport, 'method'),
        ' ',
        h('code', {}, hostPort(l.address, l.port)),
      ]),
    ),
    h('code', {}, z.mediaAddress),
    z.webrtc ? 'yes' : 'no',
    z.maxCalls === 0 ? `${count(z.calls)} (no limit)` : `${count(z.calls)} / ${count(z.maxCalls)}`,
  ];
}

export const sbcPage: ConsolePage = {
  id: 'sbc',
  title: 'SBC',
  icon: 'shield',
  group: 'Media',
  mount(ctx, arg) {
    const head = h('div', { class: 'stats' });
    const calls = h('div');
    const zones = h('div');
    // The last reload of the rules and a button to reload (docs/sbc.md, "Reload").
    const blacklist = blacklistPanel(ctx);
    const reload = reloadPanel(ctx, () => view.update());
    // One call's ladder (both legs) and PCAP, chosen in the calls table (#sbc/<call id>).
    const call = callPanel({
      ...ctx,
      go: (route) => {
        ctx.go(route);
        if (route === 'sbc') open(undefined);
      },
    });
    let selected = arg && /^sbc-[0-9a-f]{16}$/.test(arg) ? arg : undefined;
    const open = (id: string | undefined): void => {
      selected = id;
      if (id !== undefined) ctx.go(`sbc/${id}`);
      void call.show(id).catch((err: unknown) => ctx.notify(String(err), 'error'));
    };
    const trunks = trunksPanel(ctx);
    const stats = statsPanel(ctx);
    const sections = (): HTMLElement[] => [
      section('Live calls', calls),
      call.element,
      section('Trunks', trunks.element),
      h('h2', { class: 'page-sub' }, 'Statistics (last 30 min)'),
      stats.element,
      section('Zones', zones),
      section('Rules', reload.element),
      ...blacklist.sections,
    ];
    const body = h('div', { class: 'stack' }, ...sections());
    ctx.root.append(h('div', { class: 'stack' }, head, body));
    const view = {
      async update() {
        let list: SbcCallList;
        let zl: SbcZoneList;
        let rl: SbcReloadState;
        try {
          [list, zl, rl] = await Promise.all([
            ctx.rest.get<SbcCallList>('/api/v1/sbc/calls'),
            ctx.rest.get<SbcZoneList>('/api/v1/sbc/zones'),
            ctx.rest.get<SbcReloadState>('/api/v1/sbc/reload'),
          ]);
        } catch (err) {
          if (!(err instanceof ApiError) || err.status !== 503) throw err;
          fill(head);
          fill(
            body,
            section(
              'Not configured',
              empty(
                'The SBC is not configured: it starts when the configuration has sbc.zones (docs/sbc.md).',
              ),
            ),
          );
          return;
        }
        if (!body.contains(calls)) fill(body, ...sections());
        reload.draw(rl);
        const now = Date.now();
        const listeners = zl.zones.reduce((n, z) => n + z.listeners.length, 0);
        fill(
          head,
          stat('Calls', count(list.calls.length), 'B2BUA, two legs each'),
          stat('Confirmed', count(list.calls.filter((c) => c.state === 'confirmed').length)),
          stat(
            'Zones',
            count(zl.zones.length),
            `${zl.zones.filter((z) => z.trusted).length} trusted`,
          ),
          stat('Listeners', count(listeners)),
        );
        fill(
          calls,
          list.calls.length === 0
            ? empty('No call through the SBC.')
            : table(
                [
                  'Call',
                  'State',
                  'Duration',
                  'Leg A zone',
                  'Leg A Call-ID',
                  '',
                  'Leg B zone',
                  'Trunk',
                  'Leg B Call-ID',
                ],
                list.calls.map((c) => callRow(c, now, open)),
              ),
          list.calls.length === 0
            ? ''
            : h(
                'p',
                { class: 'muted' },
                'Choose a call for its ladder of both legs and its PCAP. Each call’s media: the Media page (same session id).',
              ),
        );
        fill(
          zones,
          table(
            ['Zone', 'Access', 'Listeners', 'Media address', 'WebRTC', 'Calls'],
            zl.zones.map(zoneRow),
          ),
        );
        await Promise.all([
          blacklist.update(zl.zones.map((z) => z.name)),
          trunks.update(),
          stats.update(),
          call.show(selected),
        ]);
      },
    };
    return view;
  },
};
