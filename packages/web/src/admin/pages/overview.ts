/** Overview: the platform at a glance (processes, rooms, SIP, TURN, Redis) and the charts. */
import type { ConsoleHistory, ConsoleOverview } from '@tfx/protocol';
import { lineChart, stackedBars } from '../chart.js';
import type { ConsolePage } from '../page.js';
import { count, duration, fill, h, section } from '../ui.js';
import { bytes, stat } from './common.js';

export const overviewPage: ConsolePage = {
  id: 'overview',
  title: 'Overview',
  icon: 'overview',
  group: 'Platform',
  mount(ctx) {
    const body = h('div', { class: 'stack' });
    ctx.root.append(body);
    return {
      async update() {
        const [o, hist] = await Promise.all([
          ctx.rest.get<ConsoleOverview>('/api/v1/console/overview'),
          ctx.rest.get<ConsoleHistory>('/api/v1/console/history'),
        ]);
        const p = o.process;
        const s = hist.samples;
        const times = s.map((x) => x.at);
        fill(
          body,
          h(
            'div',
            { class: 'stats', 'aria-label': 'At a glance' },
            stat(
              'Processes',
              count(o.processes),
              o.redis ? 'sharing Redis' : 'one process, state in memory',
            ),
            stat('Uptime', duration(p.uptimeMs), `pid ${p.pid} on ${p.host}`),
            stat('CPU', `${p.cpuPercent.toFixed(1)} %`, 'of one core, this process'),
            stat('Memory', bytes(p.rssBytes), `heap ${bytes(p.heapUsedBytes)}`),
            stat('Live rooms', count(o.rooms.live)),
            stat('Participants', count(o.rooms.participants)),
            stat(
              'SIP registrations',
              o.sip ? count(o.sip.registrations) : 'off',
              o.sip ? `${count(o.sip.users)} users, ${count(o.sip.bans)} bans` : 'SIP server off',
            ),
            stat(
              'SIP calls',
              o.sip ? count(o.sip.calls) : 'off',
              o.sip ? `domain ${o.sip.domain}` : '',
            ),
            stat(
              'TURN',
              o.turn.turnUrls > 0
                ? `${o.turn.turnUrls} server${o.turn.turnUrls > 1 ? 's' : ''}`
                : 'none',
              o.turn.secretConfigured
                ? `credentials live ${duration(o.turn.credentialTtlSeconds * 1000)}`
                : o.turn.stunResponder
                  ? 'built-in STUN only'
                  : 'no shared secret',
            ),
            stat(
              'Redis',
              o.redis ? (o.redis.up ? 'up' : 'down') : 'not used',
              o.redis
                ? `${o.redis.url}${o.redis.version ? ` · ${o.redis.version}` : ''}`
                : 'state in memory',
            ),
          ),
          h(
            'div',
            { class: 'columns charts' },
            section(
              'Rooms and participants',
              lineChart(
                [
                  { name: 'Rooms', values: s.map((x) => x.rooms) },
                  { name: 'Participants', values: s.map((x) => x.participants) },
                ],
                { label: 'Live rooms and participants over time', times, floor: 4 },
              ),
            ),
            section(
              'Load of this process',
              lineChart([{ name: 'CPU %', values: s.map((x) => x.cpuPercent) }], {
                label: 'CPU of this process over time, percent of one core',
                times,
                floor: 5,
                format: (v) => `${Math.round(v)}%`,
              }),
            ),
            section(
              'SIP requests by method',
              stackedBars(
                s.map((x) => x.sipRequests),
                {
                  label: 'SIP requests received per interval, by method',
                  times,
                  floor: 4,
                  order: ['REGISTER', 'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS'],
                },
              ),
            ),
            section(
              'SIP responses by class',
              stackedBars(
                s.map((x) => x.sipResponses),
                {
                  label: 'SIP responses received per interval, by class',
                  times,
                  floor: 4,
                  order: ['1xx', '2xx', '3xx', '4xx', '5xx', '6xx'],
                },
              ),
            ),
          ),
        );
      },
    };
  },
};
