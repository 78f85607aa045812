/**
 * The SBC page's trunks (issue #18 item 1: probe state "in the console"): each trunk's zone and
 * URI, up or down by its OPTIONS probes, the last probe's answer and how long the state has held,
 * and — when the server sends them — its live quality (calls, answer-seizure ratio, post-dial
 * delay, average call duration, MOS) and its upstream registration (state, expiry, last code).
 * `GET /api/v1/sbc/trunks` (docs/sbc.md, "Trunks: probes and failover"). `trunkCells` is pure.
 */
import type { SbcTrunk, SbcTrunkList } from '@tfx/protocol';
import type { PageContext } from '../page.js';
import { badge, count, empty, fill, h, relative, table, type Cell } from '../ui.js';

/** Live quality of a trunk (routing on quality, issue #18 item 2); null: no call yet. */
export interface TrunkQuality {
  readonly calls?: number | null;
  /** Answer-seizure ratio, 0–1. */
  readonly asr?: number | null;
  readonly pddMs?: number | null;
  readonly acdSeconds?: number | null;
  readonly mos?: number | null;
}

/** TFX's registration to the trunk (issue #18 item 1). */
export interface TrunkRegistration {
  readonly state?: string | null;
  readonly expiresAt?: string | null;
  /** Final status of the last REGISTER; 0: timeout or transport error. */
  readonly lastStatus?: number | null;
}

/** A trunk as listed, with the fields other parts of the SBC add when they are there. */
export type TrunkView = Omit<SbcTrunk, 'quality' | 'registration'> & {
  readonly quality?: TrunkQuality | null;
  readonly registration?: TrunkRegistration | null;
};

export const TRUNK_HEADERS = [
  'Trunk',
  'Zone',
  'URI',
  'State',
  'Last probe',
  'Probes',
  'Quality',
  'Registration',
] as const;

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** "OPTIONS 200", "timeout", "—". */
export function probeText(t: TrunkView): string {
  if (!t.probing) return 'not probed';
  if (t.lastStatus === undefined) return 'none yet';
  return t.lastStatus === 0 ? 'timeout / transport error' : `OPTIONS → ${t.lastStatus}`;
}

/** "3 calls · ASR 67 % · PDD 120 ms · ACD 42 s · MOS 4.3"; "—" when nothing is known. */
export function qualityText(q: TrunkQuality | null | undefined): string {
  if (!q) return '—';
  const parts: string[] = [];
  if (num(q.calls)) parts.push(`${count(Math.max(0, Math.round(q.calls)))} calls`);
  if (num(q.asr)) parts.push(`ASR ${Math.round(Math.min(1, Math.max(0, q.asr)) * 100)} %`);
  if (num(q.pddMs)) parts.push(`PDD ${count(Math.max(0, Math.round(q.pddMs)))} ms`);
  if (num(q.acdSeconds)) parts.push(`ACD ${count(Math.max(0, Math.round(q.acdSeconds)))} s`);
  if (num(q.mos)) parts.push(`MOS ${Math.min(5, Math.max(1, q.mos)).toFixed(1)}`);
  return parts.length === 0 ? '—' : parts.join(' · ');
}

/** "registered · expires in 4 min · 200"; "—" when the trunk has no registration. */
export function registrationText(
  r: TrunkRegistration | null | undefined,
  now = Date.now(),
): string {
  if (!r) return '—';
  const parts: string[] = [];
  if (typeof r.state === 'string' && r.state) parts.push(r.state);
  if (typeof r.expiresAt === 'string' && Number.isFinite(Date.parse(r.expiresAt)))
    parts.push(
      Date.parse(r.expiresAt) >= now ? `expires ${relative(r.expiresAt, now)}` : 'expired',
    );
  if (num(r.lastStatus)) parts.push(r.lastStatus === 0 ? 'last: timeout' : `last ${r.lastStatus}`);
  return parts.length === 0 ? '—' : parts.join(' · ');
}

export function registrationKind(r: TrunkRegistration | null | undefined): string {
  const s = typeof r?.state === 'string' ? r.state : '';
  return s === 'registered' ? 'ok' : s === 'failed' || s === 'unregistered' ? 'danger' : 'warn';
}

/** A table row of a trunk (cells in TRUNK_HEADERS order). */
export function trunkCells(t: TrunkView, now = Date.now()): Cell[] {
  const reg = registrationText(t.registration, now);
  return [
    h('strong', { class: 'nowrap' }, t.name),
    badge(t.zone),
    h('code', { title: t.uri }, t.uri),
    // An unprobed trunk is always up: how long says nothing.
    t.probing
      ? h(
          'span',
          {},
          badge(t.state, t.state === 'up' ? 'ok' : 'danger'),
          ' ',
          h('span', { class: 'muted' }, `for ${relative(t.since, now).replace(/ ago$/, '')}`),
        )
      : badge(t.state, 'ok'),
    probeText(t),
    t.probing ? `${count(t.probesSent)} sent, ${count(t.probesFailed)} failed` : '—',
    qualityText(t.quality),
    reg === '—' ? reg : badge(reg, registrationKind(t.registration)),
  ];
}

export interface TrunksPanel {
  readonly element: HTMLElement;
  update(): Promise<void>;
}

export function trunksPanel(ctx: PageContext): TrunksPanel {
  const element = h('div');
  return {
    element,
    async update() {
      const { trunks } = await ctx.rest.get<SbcTrunkList>('/api/v1/sbc/trunks');
      const now = Date.now();
      fill(
        element,
        trunks.length === 0
          ? empty('No trunk configured (sbc.trunks).')
          : table(
              TRUNK_HEADERS,
              (trunks as TrunkView[]).map((t) => trunkCells(t, now)),
            ),
      );
    },
  };
}
