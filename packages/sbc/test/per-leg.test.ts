import { describe, expect, it } from 'vitest';
import { parseUri } from '@tfx/sip';
import {
  ZONE_SESSION_TIMER,
  continueOrigin,
  referUser,
  sameSdp,
  sessionTimerOf,
  stripPerLegTags,
} from '../src/index.js';
import { zone } from './harness.js';

const sdp = (version: number, port = 4000): string =>
  `v=0\r\no=ua 42 ${version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\n`;

describe('what each leg keeps to itself (pure)', () => {
  it('RFC 4028 on by default with §4/§5 values (1800 s, Min-SE 90, UPDATE); off when the zone says so', () => {
    expect(sessionTimerOf(zone('public', '127.0.0.20'))).toEqual({
      expires: ZONE_SESSION_TIMER.expires,
      minSE: 90,
      method: 'UPDATE',
    });
    expect(
      sessionTimerOf({
        ...zone('core', '127.0.0.10'),
        sessionTimer: { expires: 300, refresh: 'INVITE' },
      }),
    ).toEqual({ expires: 300, minSE: 90, method: 'INVITE' });
    expect(
      sessionTimerOf({ ...zone('core', '127.0.0.10'), sessionTimer: { enabled: false } }),
    ).toBe(undefined);
  });

  it('strips the per-leg option tags (timer, 100rel) from a list that would cross legs', () => {
    expect(stripPerLegTags('100rel, timer, replaces')).toBe('replaces');
    expect(stripPerLegTags('Timer')).toBe('');
  });

  it('sees a refresh that repeats the last SDP (RFC 3264 §8: same version, same description), whatever its line endings', () => {
    expect(sameSdp(sdp(1), sdp(1).replace(/\r\n/g, '\n'))).toBe(true);
    expect(sameSdp(sdp(1), sdp(2))).toBe(false);
    expect(sameSdp(sdp(1), sdp(1, 4002))).toBe(false);
    expect(sameSdp(undefined, sdp(1))).toBe(false);
  });

  it('keeps the o= line a leg knows and adds one to its version when a transfer hands it another session (RFC 3264 §8)', () => {
    const next = 'v=0\r\no=- 999 7 IN IP4 127.0.0.10\r\ns=-\r\nc=IN IP4 127.0.0.10\r\n';
    expect(continueOrigin(sdp(5), next)).toContain('o=ua 42 6 IN IP4 127.0.0.1\r\n');
    expect(continueOrigin(undefined, next)).toBe(next);
  });

  it('takes the user a Refer-To names: a SIP user, a tel: number, nothing for other schemes', () => {
    const u = (s: string) => {
      const r = parseUri(s);
      if (!r.ok) throw new Error(s);
      return referUser(r.value);
    };
    expect(u('sip:target@127.0.0.99')).toBe('target');
    expect(u('tel:+442071234567;phone-context=x')).toBe('+442071234567');
    expect(u('http://example.com/')).toBe(undefined);
    expect(u('sip:127.0.0.99')).toBe(undefined);
  });
});
