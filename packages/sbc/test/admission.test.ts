/**
 * Admission control's ledger (admission.ts) on a manual clock, and the SDP bandwidth of a call
 * (bandwidth.ts) with honest and hostile offers.
 */
import { describe, expect, it } from 'vitest';
import {
  AdmissionLedger,
  DEFAULT_VIDEO_KBPS,
  LATE_OFFER_KBPS,
  sdpBandwidthKbps,
  sdpStreamCount,
  type AdmissionRequest,
} from '../src/index.js';

const req = (key: string, extra: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  key,
  zones: ['public', 'core'],
  trunk: 'pbx',
  account: 'alice',
  kbps: 80,
  emergency: false,
  ...extra,
});

const sdp = (...media: string[]): string =>
  ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', ...media, ''].join(
    '\r\n',
  );

describe('admission ledger', () => {
  it('admits everything and counts nothing against limits when no limit is configured', () => {
    const l = new AdmissionLedger();
    for (let i = 0; i < 1000; i++) expect(l.admit(req(`c${i}`), 0).ok).toBe(true);
    expect(l.size).toBe(1000);
    for (let i = 0; i < 1000; i++) l.release(`c${i}`);
    expect(l.size).toBe(0);
    expect(l.snapshot()).toEqual({});
  });

  it('refuses past a zone’s maxCalls with 503 and Retry-After, and admits again after a release', () => {
    const l = new AdmissionLedger({ zones: { public: { maxCalls: 2 } }, retryAfterSeconds: 7 });
    expect(l.admit(req('a'), 0).ok).toBe(true);
    expect(l.admit(req('b'), 0).ok).toBe(true);
    const d = l.admit(req('c'), 0);
    expect(d).toMatchObject({
      ok: false,
      status: 503,
      scope: 'zone',
      limit: 'calls',
      retryAfter: 7,
    });
    expect(l.counters.rejected['zone:calls']).toBe(1);
    // A call through another zone pair is not counted against `public`.
    expect(l.admit(req('x', { zones: ['core'] }), 0).ok).toBe(true);
    l.release('a');
    l.release('a'); // exactly once: a second release does nothing
    expect(l.admit(req('c'), 0).ok).toBe(true);
    expect(l.admit(req('d'), 0).ok).toBe(false);
  });

  it('refuses past the calls per second in a sliding 1 s window, Retry-After when it frees', () => {
    const l = new AdmissionLedger({ callsPerSecond: 2 });
    expect(l.admit(req('a'), 1000).ok).toBe(true);
    expect(l.admit(req('b'), 1400).ok).toBe(true);
    const d = l.admit(req('c'), 1500);
    expect(d).toMatchObject({ ok: false, status: 503, scope: 'sbc', limit: 'cps', retryAfter: 1 });
    // Refused attempts do not count: at 2000 the first start left the window.
    expect(l.admit(req('c'), 2000).ok).toBe(true);
    expect(l.admit(req('d'), 2100).ok).toBe(false);
    expect(l.counters.rejected['sbc:cps']).toBe(2);
  });

  it('a trunk’s limits count only the calls sent to it', () => {
    const l = new AdmissionLedger({ trunks: { pbx: { maxCalls: 1 } } });
    expect(l.admit(req('a'), 0).ok).toBe(true);
    expect(l.admit(req('b'), 0)).toMatchObject({ ok: false, status: 503, scope: 'trunk' });
    expect(l.admit(req('c', { trunk: 'other' }), 0).ok).toBe(true);
  });

  it('an account’s channels full → 486 without Retry-After; its rate → 503 with one', () => {
    const l = new AdmissionLedger({ accounts: { maxCalls: 1, callsPerSecond: 2 } });
    expect(l.admit(req('a'), 0).ok).toBe(true);
    const busy = l.admit(req('b'), 0);
    expect(busy).toMatchObject({ ok: false, status: 486, scope: 'account', limit: 'calls' });
    expect(busy.ok === false && busy.retryAfter).toBeUndefined();
    expect(l.admit(req('b', { account: 'bob' }), 0).ok).toBe(true);
    l.release('a');
    expect(l.admit(req('c'), 10).ok).toBe(true);
    l.release('c');
    expect(l.admit(req('d'), 20)).toMatchObject({ ok: false, status: 503, limit: 'cps' });
  });

  it('a zone’s bandwidth budget refuses the call that would exceed it', () => {
    const l = new AdmissionLedger({ zones: { core: { bandwidthKbps: 200 } } });
    expect(l.admit(req('a', { kbps: 80 }), 0).ok).toBe(true);
    expect(l.admit(req('b', { kbps: 80 }), 0).ok).toBe(true);
    const d = l.admit(req('c', { kbps: 80 }), 0);
    expect(d).toMatchObject({ ok: false, status: 503, scope: 'zone', limit: 'bandwidth' });
    expect(l.admit(req('c', { kbps: 40 }), 0).ok).toBe(true);
    expect(l.snapshot()['zone:core']).toEqual({ calls: 3, kbps: 200 });
  });

  it('media ports: refuses a call that would leave fewer free ports than configured', () => {
    const l = new AdmissionLedger({ minFreeMediaPorts: 4 });
    expect(l.admit(req('a', { ports: { needed: 4, free: 8 } }), 0).ok).toBe(true);
    expect(l.admit(req('b', { ports: { needed: 4, free: 7 } }), 0)).toMatchObject({
      ok: false,
      scope: 'media',
      limit: 'ports',
    });
    // Unknown free ports (an engine that does not say): not refused.
    expect(l.admit(req('c', { ports: { needed: 4, free: undefined } }), 0).ok).toBe(true);
  });

  it('emergency calls are never refused; the reserve keeps calls for them', () => {
    const l = new AdmissionLedger(
      {
        maxCalls: 3,
        callsPerSecond: 1,
        zones: { core: { bandwidthKbps: 1 } },
        minFreeMediaPorts: 100,
      },
      1,
    );
    expect(l.admit(req('a', { kbps: 0 }), 0).ok).toBe(true);
    expect(l.admit(req('b', { kbps: 0 }), 5000).ok).toBe(true);
    // 3 − 1 reserved: the third ordinary call is refused, naming the reserve.
    const d = l.admit(req('c', { kbps: 0 }), 10_000);
    expect(d).toMatchObject({ ok: false, scope: 'sbc', limit: 'calls' });
    expect(d.ok === false && d.rule).toMatch(/1 reserved/);
    // The emergency call takes the reserved call, past cps, bandwidth and ports.
    const e = l.admit(req('sos', { emergency: true, ports: { needed: 4, free: 0 } }), 10_000);
    expect(e).toEqual({ ok: true });
    expect(l.counters.emergency).toBe(1);
  });

  it('at full capacity an emergency call names the newest ordinary call to release', () => {
    const l = new AdmissionLedger({ zones: { public: { maxCalls: 2 } } });
    expect(l.admit(req('old'), 0).ok).toBe(true);
    expect(l.admit(req('new'), 1).ok).toBe(true);
    const e = l.admit(req('sos', { emergency: true }), 2);
    expect(e).toEqual({ ok: true, preempt: 'new' });
    expect(l.counters.preempted).toBe(1);
    l.release('new'); // the SBC ends it
    // A second emergency call: the only ordinary call left goes; emergency calls never do.
    expect(l.admit(req('sos2', { emergency: true }), 3)).toEqual({ ok: true, preempt: 'old' });
    l.release('old');
    expect(l.admit(req('sos3', { emergency: true }), 4)).toEqual({ ok: true });
    for (const k of ['sos', 'sos2', 'sos3']) l.release(k);
    expect(l.size).toBe(0);
    expect(l.snapshot()).toEqual({});
  });

  it('a key admitted twice counts once; released keys and unknown keys are harmless', () => {
    const l = new AdmissionLedger({ maxCalls: 1 });
    expect(l.admit(req('a'), 0).ok).toBe(true);
    expect(l.admit(req('a'), 0).ok).toBe(true);
    expect(l.size).toBe(1);
    l.release('nope');
    l.release('a');
    expect(l.size).toBe(0);
  });

  it('a reload’s new limits apply to the next call; live calls keep counting', () => {
    const l = new AdmissionLedger({});
    expect(l.admit(req('a'), 0).ok).toBe(true);
    l.configure({ maxCalls: 1 }, 0);
    expect(l.admit(req('b'), 0).ok).toBe(false);
    l.release('a');
    expect(l.admit(req('b'), 0).ok).toBe(true);
  });

  it('refusals leave no bookkeeping behind (a flood of accounts stays bounded)', () => {
    const l = new AdmissionLedger({ maxCalls: 1 });
    expect(l.admit(req('a'), 0).ok).toBe(true);
    for (let i = 0; i < 10_000; i++) l.admit(req(`x${i}`, { account: `u${i}` }), 0);
    expect(Object.keys(l.snapshot()).length).toBe(5); // sbc, 2 zones, trunk, account of a
  });
});

describe('SDP bandwidth of a call', () => {
  it('G.711 at 20 ms: 64 kb/s + 16 kb/s of IP/UDP/RTP headers', () => {
    expect(
      sdpBandwidthKbps(sdp('m=audio 4000 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000')),
    ).toBe(80);
    expect(sdpBandwidthKbps(sdp('m=audio 4000 RTP/AVP 8', 'a=ptime:10'))).toBe(96);
    expect(sdpBandwidthKbps(sdp('m=audio 4000 RTP/AVP 9'))).toBe(80);
  });

  it('the largest codec offered counts (the answer may pick it)', () => {
    expect(sdpBandwidthKbps(sdp('m=audio 4000 RTP/AVP 18 0'))).toBe(80);
    expect(sdpBandwidthKbps(sdp('m=audio 4000 RTP/AVP 18'))).toBe(24);
  });

  it('Opus: its maxaveragebitrate, else 40 kb/s', () => {
    expect(sdpBandwidthKbps(sdp('m=audio 4000 RTP/AVP 111', 'a=rtpmap:111 opus/48000/2'))).toBe(56);
    expect(
      sdpBandwidthKbps(
        sdp(
          'm=audio 4000 RTP/AVP 111',
          'a=rtpmap:111 opus/48000/2',
          'a=fmtp:111 minptime=10;maxaveragebitrate=20000',
        ),
      ),
    ).toBe(36);
  });

  it('b=AS and b=TIAS of a stream are used (never below an audio codec’s rate)', () => {
    expect(
      sdpBandwidthKbps(sdp('m=video 4002 RTP/AVP 96', 'b=AS:512', 'a=rtpmap:96 VP8/90000')),
    ).toBe(512);
    expect(
      sdpBandwidthKbps(sdp('m=video 4002 RTP/AVP 96', 'b=TIAS:1000000', 'a=rtpmap:96 VP8/90000')),
    ).toBe(1034);
    // A G.711 stream claiming 1 kb/s still counts 80.
    expect(sdpBandwidthKbps(sdp('m=audio 4000 RTP/AVP 0', 'b=AS:1'))).toBe(80);
    expect(sdpBandwidthKbps(sdp('m=audio 4000 RTP/AVP 0', 'b=AS:200'))).toBe(200);
  });

  it('video without b= takes the default; audio + video add up', () => {
    expect(
      sdpBandwidthKbps(
        sdp('m=audio 4000 RTP/AVP 0', 'm=video 4002 RTP/AVP 96', 'a=rtpmap:96 H264/90000'),
      ),
    ).toBe(
      Math.ceil(80 + DEFAULT_VIDEO_KBPS + Math.ceil((DEFAULT_VIDEO_KBPS * 1000) / 8 / 1200) * 0.32),
    );
  });

  it('a session-level b=AS covers streams without their own', () => {
    const s = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'b=AS:300',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 4000 RTP/AVP 0',
      '',
    ].join('\r\n');
    expect(sdpBandwidthKbps(s)).toBe(300);
  });

  it('rejected streams (port 0) count nothing; a late offer counts one G.711 stream', () => {
    expect(sdpBandwidthKbps(sdp('m=audio 4000 RTP/AVP 0', 'm=video 0 RTP/AVP 96'))).toBe(80);
    expect(sdpBandwidthKbps(undefined)).toBe(LATE_OFFER_KBPS);
    expect(sdpBandwidthKbps('')).toBe(LATE_OFFER_KBPS);
    expect(sdpStreamCount(sdp('m=audio 4000 RTP/AVP 0', 'm=video 0 RTP/AVP 96'))).toBe(1);
    expect(sdpStreamCount(undefined)).toBe(1);
  });

  it('hostile b= lines are ignored: the codec decides', () => {
    for (const b of [
      'b=AS:-5',
      'b=AS:abc',
      'b=AS:',
      'b=AS:1e9',
      'b=AS:99999999999999999999',
      'b=TIAS:-1',
      'b=TIAS:0x10',
      'b=AS:12 34',
      'b=AS:\u0000',
      'b=X-YZ:100',
      `b=AS:${'9'.repeat(5000)}`,
    ])
      expect(sdpBandwidthKbps(sdp('m=audio 4000 RTP/AVP 0', b)), b).toBe(80);
  });

  it('garbage SDP never throws and stays bounded', () => {
    const junk = [
      'm=',
      'm=audio',
      'm=audio x RTP/AVP 0',
      'a=rtpmap:',
      'a=rtpmap:96 L16/99999999999/99',
      'a=ptime:0',
      'a=fmtp:111 maxaveragebitrate=99999999',
      '\u0000\u00ff\ud800',
    ].join('\r\n');
    expect(() => sdpBandwidthKbps(junk)).not.toThrow();
    const many = sdp(...Array.from({ length: 500 }, () => 'm=audio 4000 RTP/AVP 0'));
    expect(sdpBandwidthKbps(many)).toBe(16 * 80);
    expect(sdpStreamCount(many)).toBe(16);
    const l16 = sdp('m=audio 4000 RTP/AVP 96', 'a=rtpmap:96 L16/99999999/99');
    expect(Number.isFinite(sdpBandwidthKbps(l16))).toBe(true);
  });
});
