/** Cluster: the processes sharing Redis, their load, and the rolling-restart state. */
import type { ConsoleCluster } from '@tfx/protocol';
import { lineChart } from '../chart.js';
import type { ConsolePage } from '../page.js';
import { badge, count, duration, fill, h, relative, section, table } from '../ui.js';
import { bytes, stat } from './common.js';

export const clusterPage: ConsolePage = {
  id: 'cluster',
  title: 'Cluster',
  icon: 'cluster',
  group: 'Platform',
  mount(ctx) {
    const body = h('div', { class: 'stack' });
    ctx.root.append(body);
    return {
      async update() {
        const c = await ctx.rest.get<ConsoleCluster>('/api/v1/console/cluster');
        const r = c.redis;
        const longest = c.processes.reduce(
          (a, p) => (p.load.length > a.length ? p.load.map((x) => x.at) : a),
          [] as string[],
        );
        fill(
          body,
          h(
            'div',
            { class: 'stats' },
            stat(
              'Processes',
              count(c.processes.length),
              r ? 'sharing one Redis' : 'no Redis: one process',
            ),
            stat(
              'Rolling restart',
              c.rollingRestart.inProgress ? 'in progress' : 'none',
              `${c.rollingRestart.running} running, ${c.rollingRestart.draining} draining`,
            ),
            stat(
              'Redis',
              r ? (r.up ? 'up' : 'down') : 'not used',
              r
                ? (r.error ?? `${r.url}${r.version ? ` · v${r.version}` : ''}`)
                : 'redis.url is not set',
            ),
            stat(
              'Redis memory',
              r?.usedMemoryBytes !== undefined ? bytes(r.usedMemoryBytes) : '—',
              r?.connectedClients !== undefined ? `${r.connectedClients} clients` : '',
            ),
          ),
          section(
            'Processes',
            table(
              [
                'Process',
                'Host',
                'State',
                'Uptime',
                'CPU',
                'Memory',
                'Rooms',
                'Peers',
                'Connections',
                'Seen',
              ],
              c.processes.map((p) => [
                h(
                  'span',
                  { class: 'who' },
                  h('code', {}, p.id),
                  p.self ? badge('this one', 'api') : null,
                ),
                `${p.host} · pid ${p.pid}`,
                badge(p.state, p.state === 'running' ? 'ok' : 'warn'),
                duration(p.uptimeMs),
                `${p.cpuPercent.toFixed(1)} %`,
                bytes(p.rssBytes),
                count(p.rooms),
                count(p.participants),
                count(p.connections),
                relative(p.lastSeenAt),
              ]),
            ),
          ),
          section(
            'Load per process',
            lineChart(
              c.processes.map((p) => ({ name: p.id, values: p.load.map((x) => x.cpuPercent) })),
              {
                label: 'CPU per process over time, percent of one core',
                times: longest,
                floor: 5,
                format: (v) => `${Math.round(v)}%`,
              },
            ),
          ),
        );
      },
    };
  },
};
