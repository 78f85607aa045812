/**
 * Prometheus metrics of the SBC (`tfx_sbc_*`), read from the SBC's counters when scraped: live
 * calls, calls started and ended (by reason), INVITEs refused before a leg B existed, and every
 * decision of the access and security stages per zone (issue #17 item 4: "every decision
 * counted"), the toll-fraud limits and the blacklist.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Sbc } from '@tfx/sbc';

/** A counter whose value is read from `value()` at scrape time (the SBC keeps the counts). */
function readCounter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly string[],
  values: () => ReadonlyArray<readonly [Record<string, string>, number]>,
): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of values()) if (v > 0) this.inc(labels, v);
    },
  });
}

export function registerSbcMetrics(registry: Registry, sbc: () => Sbc | undefined): void {
  readCounter(
    registry,
    'tfx_sbc_cdrs_total',
    'CDRs written (one a call attempt), by final SIP status class (2xx answered, 4xx…).',
    ['final'],
    () => [...(sbc()?.cdr?.totals ?? [])].map(([final, n]) => [{ final }, n] as const),
  );
  new Gauge({
    name: 'tfx_sbc_calls',
    help: 'Calls the SBC bridges now (each two legs and a media session).',
    registers: [registry],
    collect() {
      this.set(sbc()?.callCount ?? 0);
    },
  });
  readCounter(
    registry,
    'tfx_sbc_calls_started_total',
    'Calls the SBC started (leg A accepted into the bridge stage).',
    [],
    () => {
      const s = sbc();
      return s ? [[{}, s.counters.callsStarted]] : [];
    },
  );
  readCounter(
    registry,
    'tfx_sbc_emergency_calls_total',
    'INVITEs to an emergency number (sbc.emergency), admitted past limits, auth and fraud.',
    [],
    () => {
      const s = sbc();
      return s ? [[{}, s.counters.emergencyCalls]] : [];
    },
  );
  readCounter(
    registry,
    'tfx_sbc_dtmf_total',
    'DTMF interworking (docs/sbc.md, "DTMF, tones and announcements"): INFO digits played as RFC 4733, RFC 4733 digits sent as INFO, DTMF INFOs refused 400, digits not delivered, digits dropped by the per-leg bound (a flood).',
    ['outcome'],
    () => {
      const c = sbc()?.dtmf.counters;
      return c
        ? [
            [{ outcome: 'info-to-rfc4733' }, c.infoToRfc4733],
            [{ outcome: 'rfc4733-to-info' }, c.rfc4733ToInfo],
            [{ outcome: 'info-refused' }, c.infoRefused],
            [{ outcome: 'failed' }, c.failed],
            [{ outcome: 'overflow' }, c.overflow],
          ]
        : [];
    },
  );
  readCounter(
    registry,
    'tfx_sbc_tones_total',
    'Tones toward callers over early media: ringbacks started, failure tones and announcements played, tones that could not start.',
    ['kind'],
    () => {
      const c = sbc()?.tones.counters;
      return c
        ? [
            [{ kind: 'ringback' }, c.ringback],
            [{ kind: 'failure' }, c.failure],
            [{ kind: 'failed' }, c.failed],
          ]
        : [];
    },
  );
  readCounter(registry, 'tfx_sbc_calls_ended_total', 'Calls ended, by reason.', ['reason'], () => {
    const s = sbc();
    return s ? Object.entries(s.counters.ended).map(([reason, v]) => [{ reason }, v] as const) : [];
  });
  readCounter(
    registry,
    'tfx_sbc_transfers_total',
    'REFERs by outcome: refused (zone policy, Replaces, busy), executed, failed (docs/sbc.md).',
    ['outcome'],
    () => {
      const s = sbc();
      return s
        ? Object.entries(s.counters.transfers).map(([outcome, v]) => [{ outcome }, v] as const)
        : [];
    },
  );
  readCounter(
    registry,
    'tfx_sbc_invites_refused_total',
    'INVITEs refused before leg B: no route (404), zone call limit (503), media refused, a WebRTC side with an engine that has no WebRTC legs (488).',
    ['reason'],
    () => {
      const s = sbc();
      return s
        ? [
            [{ reason: 'no-route' }, s.counters.noRoute],
            [{ reason: 'over-limit' }, s.counters.overLimit],
            [{ reason: 'media' }, s.counters.mediaRefused],
            [{ reason: 'webrtc-unsupported' }, s.counters.webrtcRefused],
          ]
        : [];
    },
  );
  readCounter(
    registry,
    'tfx_sbc_local_total',
    "TFX's own registrar in the zones: REGISTERs registered, challenged (401) and refused; calls to registered users (before routes), and those passed with their SDP untouched (direct).",
    ['outcome'],
    () => {
      const c = sbc()?.local?.counters;
      return c
        ? [
            [{ outcome: 'registered' }, c.registered],
            [{ outcome: 'challenged' }, c.challenged],
            [{ outcome: 'refused' }, c.refused],
            [{ outcome: 'call' }, c.calls],
            [{ outcome: 'direct' }, c.direct],
          ]
        : [];
    },
  );
  readCounter(
    registry,
    'tfx_sbc_security_total',
    'Decisions of the security stages of untrusted zones, by zone, stage and outcome.',
    ['zone', 'stage', 'outcome'],
    () => {
      const s = sbc();
      const out: Array<readonly [Record<string, string>, number]> = [];
      for (const [zone, agent] of s?.zones ?? []) {
        // The access stages run in every zone (trusted too): acl → blacklist.
        const a = agent.access.counters;
        out.push(
          [{ zone, stage: 'acl', outcome: 'allowed' }, a.acl.allowed],
          [{ zone, stage: 'acl', outcome: 'denied' }, a.acl.denied],
          [{ zone, stage: 'blacklist', outcome: 'dropped' }, a.blacklist.dropped],
        );
        const c = agent.security?.counters;
        if (!c) continue;
        out.push(
          [{ zone, stage: 'pass', outcome: 'passed' }, c.passed],
          [{ zone, stage: 'flood', outcome: 'banned' }, c.flood.banned],
          [{ zone, stage: 'flood', outcome: 'dropped' }, c.flood.dropped],
          [{ zone, stage: 'scanner', outcome: 'dropped' }, c.scanner.dropped],
          [{ zone, stage: 'limits', outcome: 'too-large' }, c.limits.tooLarge],
          [{ zone, stage: 'limits', outcome: 'too-many-hops' }, c.limits.tooManyHops],
          [{ zone, stage: 'auth', outcome: 'challenged' }, c.auth.challenged],
          [{ zone, stage: 'auth', outcome: 'failed' }, c.auth.failed],
          [{ zone, stage: 'auth', outcome: 'passed' }, c.auth.passed],
          [{ zone, stage: 'auth', outcome: 'banned' }, c.auth.banned],
        );
      }
      return out;
    },
  );
  readCounter(
    registry,
    'tfx_sbc_fraud_total',
    'Toll-fraud limits per account, by zone and outcome: admitted, denied-destination (403), rate (503), concurrent (486), max-duration (the SBC ended the call).',
    ['zone', 'outcome'],
    () => {
      const out: Array<readonly [Record<string, string>, number]> = [];
      for (const [zone, g] of sbc()?.fraud ?? []) {
        const c = g.counters;
        out.push(
          [{ zone, outcome: 'admitted' }, c.admitted],
          [{ zone, outcome: 'denied-destination' }, c.refused['denied-destination']],
          [{ zone, outcome: 'rate' }, c.refused.rate],
          [{ zone, outcome: 'concurrent' }, c.refused.concurrent],
          [{ zone, outcome: 'max-duration' }, c.maxDuration],
        );
      }
      return out;
    },
  );
  new Gauge({
    name: 'tfx_sbc_blacklist_entries',
    help: 'Blacklist entries in force, by origin (manual, flood, auth).',
    labelNames: ['origin'],
    registers: [registry],
    collect() {
      this.reset();
      const s = sbc();
      if (!s) return;
      const n = { manual: 0, flood: 0, auth: 0 };
      for (const e of s.blacklist.list()) n[e.origin]++;
      for (const [origin, v] of Object.entries(n)) this.set({ origin }, v);
    },
  });
  // Admission control (docs/sbc.md, "Admission control and QoS").
  readCounter(
    registry,
    'tfx_sbc_admission_rejected_total',
    'Calls refused by admission control, by scope (sbc, zone, trunk, account, media) and limit (calls, cps, bandwidth, ports).',
    ['scope', 'limit'],
    () =>
      Object.entries(sbc()?.admission.counters.rejected ?? {}).map(([k, v]) => {
        const [scope = '', limit = ''] = k.split(':');
        return [{ scope, limit }, v] as const;
      }),
  );
  readCounter(
    registry,
    'tfx_sbc_admission_preempted_total',
    'Ordinary calls released to admit an emergency call at capacity (Reason: preemption).',
    [],
    () => {
      const s = sbc();
      return s ? [[{}, s.admission.counters.preempted]] : [];
    },
  );
  new Gauge({
    name: 'tfx_sbc_admission_calls',
    help: 'Calls admission control counts now (each released once when the call ends).',
    registers: [registry],
    collect() {
      this.set(sbc()?.admission.size ?? 0);
    },
  });
}
