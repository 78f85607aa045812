/**
 * TURN: the configured STUN/TURN servers and the credential lifetime, and a live allocation test
 * run by the server (an Allocate with freshly minted credentials against each turn: URL).
 */
import type { ConsoleTurn, TurnTestResponse } from '@tfx/protocol';
import type { ConsolePage } from '../page.js';
import { badge, button, duration, empty, errorText, fill, h, section, table } from '../ui.js';
import { when } from './common.js';

export const turnPage: ConsolePage = {
  id: 'turn',
  title: 'TURN',
  icon: 'turn',
  group: 'Platform',
  mount(ctx) {
    const confBox = h('div');
    const resultBox = h('div', { 'aria-live': 'polite' });
    let result: TurnTestResponse | undefined;
    const run = button(
      'Run allocation test',
      async () => {
        fill(resultBox, h('p', { class: 'muted' }, 'Allocating…'));
        try {
          result = await ctx.rest.post<TurnTestResponse>('/api/v1/console/turn/test', {});
          drawResult();
        } catch (err) {
          fill(resultBox, h('div', { class: 'notice error' }, errorText(err)));
        }
      },
      'primary',
    );
    ctx.root.append(
      h(
        'div',
        { class: 'stack' },
        section('Configured servers', confBox),
        section(
          'Allocation test',
          h(
            'p',
            { class: 'hint' },
            'The server mints credentials as it does for a browser, sends a TURN Allocate to each turn: URL over UDP, and releases the allocation at once.',
          ),
          h('div', { class: 'toolbar' }, run),
          resultBox,
        ),
      ),
    );
    const drawResult = (): void => {
      if (!result) return;
      fill(
        resultBox,
        result.results.length === 0
          ? empty('No turn: URL is configured (turn.urls).')
          : table(
              ['Server', 'Result', 'Status', 'Details', 'Relayed address', 'Time'],
              result.results.map((r) => [
                h('code', {}, r.url),
                badge(r.ok ? 'success' : 'failed', r.ok ? 'ok' : 'danger'),
                String(r.status),
                h('span', { class: 'turn-message' }, r.message),
                r.relayed ?? '—',
                `${r.durationMs} ms`,
              ]),
            ),
        h('p', { class: 'muted' }, `Tested ${when(result.at)}`),
      );
    };
    return {
      async update() {
        const t = await ctx.rest.get<ConsoleTurn>('/api/v1/console/turn');
        fill(
          confBox,
          h(
            'div',
            { class: 'stats' },
            h(
              'div',
              { class: 'stat' },
              h('span', { class: 'stat-label' }, 'Shared secret'),
              h('strong', { class: 'stat-value' }, t.secretConfigured ? 'set' : 'not set'),
              h('span', { class: 'stat-hint' }, 'turn.secret (coturn static-auth-secret)'),
            ),
            h(
              'div',
              { class: 'stat' },
              h('span', { class: 'stat-label' }, 'Credential lifetime'),
              h('strong', { class: 'stat-value' }, duration(t.credentialTtlSeconds * 1000)),
              h('span', { class: 'stat-hint' }, `turn.ttl = ${t.credentialTtlSeconds} s`),
            ),
            h(
              'div',
              { class: 'stat' },
              h('span', { class: 'stat-label' }, 'Built-in STUN'),
              h('strong', { class: 'stat-value' }, t.stunResponder.enabled ? 'on' : 'off'),
              h(
                'span',
                { class: 'stat-hint' },
                t.stunResponder.enabled ? `udp/${t.stunResponder.port}` : 'turn.stun.enabled',
              ),
            ),
          ),
          t.servers.length === 0
            ? empty('No STUN/TURN URL is configured (turn.urls): calls work on a LAN only.')
            : table(
                ['URL', 'Kind', 'Transport', 'Testable'],
                t.servers.map((s) => [
                  h('code', {}, s.url),
                  badge(s.kind.toUpperCase()),
                  s.transport.toUpperCase(),
                  s.testable ? 'yes' : 'no (UDP turn: only)',
                ]),
              ),
        );
      },
    };
  },
};
