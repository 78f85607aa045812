/**
 * The SBC page's bans and blacklist (issue #17 item 7): the entries in force — added here, or by
 * a flood ban or an authentication-failure ban, each with its zone, reason and expiry — with a
 * Lift button each; the users banned from one source (they expire by themselves); and a form to
 * blacklist an address or CIDR, for every zone or one, until lifted or for a while.
 * `GET/POST/DELETE /api/v1/sbc/blacklist…` (docs/sbc.md).
 */
import type { SbcBlacklist, SbcBlacklistAdd, SbcBlacklistEntry } from '@tfx/protocol';
import type { PageContext } from '../page.js';
import {
  badge,
  button,
  clock,
  empty,
  errorText,
  fill,
  h,
  relative,
  section,
  table,
} from '../ui.js';

const ORIGIN: Record<SbcBlacklistEntry['origin'], [string, string]> = {
  manual: ['by hand', 'warn'],
  flood: ['flood ban', 'danger'],
  auth: ['auth ban', 'danger'],
};

const EXPIRIES: ReadonlyArray<readonly [string, number | undefined]> = [
  ['10 minutes', 600],
  ['1 hour', 3600],
  ['1 day', 86_400],
  ['30 days', 30 * 86_400],
  ['until lifted', undefined],
];

export interface BlacklistPanel {
  readonly sections: HTMLElement[];
  update(zones: readonly string[]): Promise<void>;
}

export function blacklistPanel(ctx: PageContext): BlacklistPanel {
  const address = h('input', {
    name: 'address',
    required: true,
    maxlength: 64,
    autocomplete: 'off',
    placeholder: '192.0.2.7 or 10.0.0.0/8',
    'aria-label': 'Address or CIDR',
  });
  const zone = h('select', { name: 'zone', 'aria-label': 'Zone' });
  const expiry = h(
    'select',
    { name: 'expiry', 'aria-label': 'Expires' },
    ...EXPIRIES.map(([label], i) => h('option', { value: String(i) }, label)),
  );
  expiry.value = '1';
  const reason = h('input', {
    name: 'reason',
    maxlength: 256,
    autocomplete: 'off',
    placeholder: 'why (for the log)',
    'aria-label': 'Reason',
  });
  const form = h(
    'form',
    { class: 'inline-form', 'aria-label': 'Blacklist an address' },
    h('label', {}, h('span', {}, 'Address or CIDR'), address),
    h('label', {}, h('span', {}, 'Zone'), zone),
    h('label', {}, h('span', {}, 'Expires'), expiry),
    h('label', {}, h('span', {}, 'Reason'), reason),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Blacklist'),
  );
  const entries = h('div', { class: 'after-form' });
  const users = h('div');
  let knownZones = '';

  const panel: BlacklistPanel = {
    sections: [
      section(
        'Blacklist',
        h(
          'p',
          { class: 'hint' },
          'Requests from these sources are dropped silently, before any other stage. Flood bans and authentication-failure bans land here by themselves; lifting one also clears its ban.',
        ),
        form,
        entries,
      ),
      section(
        'Users banned from a source',
        h(
          'p',
          { class: 'hint' },
          'After repeated failed authentications of one user from one address: that user gets 403 from there until the ban ends (others behind the same address go on).',
        ),
        users,
      ),
    ],
    async update(zones) {
      const key = zones.join(',');
      if (key !== knownZones) {
        knownZones = key;
        const current = zone.value;
        fill(
          zone,
          h('option', { value: '' }, 'every zone'),
          ...zones.map((z) => h('option', { value: z }, z)),
        );
        zone.value = zones.includes(current) ? current : '';
      }
      const bl = await ctx.rest.get<SbcBlacklist>('/api/v1/sbc/blacklist');
      const now = Date.now();
      fill(
        entries,
        bl.items.length === 0
          ? empty('No address is blacklisted.')
          : table(
              ['Address', 'Zone', 'Origin', 'Reason', 'Since', 'Ends', ''],
              bl.items.map((e) => [
                h('code', {}, e.cidr),
                e.zone ?? 'every zone',
                badge(...ORIGIN[e.origin]),
                e.reason,
                clock(e.since),
                e.until === undefined ? 'when lifted' : relative(e.until, now),
                button(
                  'Lift',
                  async () => {
                    try {
                      const q = e.zone !== undefined ? `?zone=${encodeURIComponent(e.zone)}` : '';
                      await ctx.rest.delete(
                        `/api/v1/sbc/blacklist/${encodeURIComponent(e.cidr)}${q}`,
                      );
                      ctx.notify(`Lifted ${e.cidr}.`);
                    } catch (err) {
                      ctx.notify(errorText(err), 'error');
                    }
                    await panel.update(zones);
                  },
                  'primary',
                  { 'data-action': 'lift', 'data-value': e.cidr },
                ),
              ]),
            ),
      );
      fill(
        users,
        bl.userBans.length === 0
          ? empty('No user is banned.')
          : table(
              ['User', 'From', 'Zone', 'Reason', 'Since', 'Ends'],
              bl.userBans.map((b) => [
                h('strong', {}, b.user),
                h('code', {}, b.source),
                b.zone,
                b.reason,
                clock(b.since),
                relative(b.until, now),
              ]),
            ),
      );
    },
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void (async () => {
      const seconds = EXPIRIES[Number(expiry.value)]?.[1];
      const body: SbcBlacklistAdd = {
        address: address.value.trim(),
        ...(zone.value !== '' && { zone: zone.value }),
        ...(reason.value.trim() !== '' && { reason: reason.value.trim() }),
        ...(seconds !== undefined && { expiresInSeconds: seconds }),
      };
      try {
        const e = await ctx.rest.post<SbcBlacklistEntry>('/api/v1/sbc/blacklist', body);
        ctx.notify(`Blacklisted ${e.cidr}.`);
        address.value = '';
        reason.value = '';
        await panel.update(knownZones === '' ? [] : knownZones.split(','));
      } catch (err) {
        ctx.notify(errorText(err), 'error');
      }
    })();
  });
  return panel;
}
