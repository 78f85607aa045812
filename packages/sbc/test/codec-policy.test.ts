/**
 * The per-trunk codec policy over SDP (codec-policy.ts, trunk-media.ts): table tests of the
 * filter (RFC 3264 §5.1 order, §8.2 disabled streams), the 488 refusal, the media-path wrapper
 * and the transcode profile; hostile SDP never throws.
 */
import { describe, expect, it } from 'vitest';
import type { LegProfile, MediaEngine } from '@tfx/media';
import { TfxError } from '@tfx/protocol';
import { applyCodecPolicy, sdpForTrunk, withCodecPolicy } from '../src/codec-policy.js';
import { trunkLegProfile, trunkOffer } from '../src/trunk-media.js';
import type { TrunkSpec } from '../src/types.js';

const OFFER = [
  'v=0',
  'o=phone 1 1 IN IP4 192.0.2.1',
  's=-',
  'c=IN IP4 192.0.2.1',
  't=0 0',
  'm=audio 4000 RTP/AVP 0 8 9 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join('\r\n');

const ok = (sdp: string, allow: string[], order?: string[]): string => {
  const r = applyCodecPolicy(sdp, { allow, ...(order && { order }) });
  if (!r.ok) throw new Error(r.reason);
  return r.sdp;
};

describe('codec policy over SDP', () => {
  it('keeps only the allowed codecs, their rtpmap/fmtp lines, and every other line byte for byte', () => {
    const out = ok(OFFER, ['PCMA', 'telephone-event']);
    expect(out).toBe(
      [
        'v=0',
        'o=phone 1 1 IN IP4 192.0.2.1',
        's=-',
        'c=IN IP4 192.0.2.1',
        't=0 0',
        'm=audio 4000 RTP/AVP 8 101',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:101 telephone-event/8000',
        'a=fmtp:101 0-16',
        'a=ptime:20',
        'a=sendrecv',
        '',
      ].join('\r\n'),
    );
  });

  it('§5.1: order puts the preferred first; allowed codecs not named keep their place after', () => {
    expect(ok(OFFER, ['pcmu', 'PCMA', 'G722'], ['G722', 'PCMA'])).toMatch(
      /^m=audio 4000 RTP\/AVP 9 8 0\r$/m,
    );
    expect(ok(OFFER, ['PCMU', 'PCMA', 'G722', 'telephone-event'], ['pcma'])).toMatch(
      /^m=audio 4000 RTP\/AVP 8 0 9 101\r$/m,
    );
  });

  it('names static payload types without an rtpmap (RFC 3551 §6), in any case', () => {
    const sdp = 'v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0 8 18\n';
    expect(ok(sdp, ['g729'])).toBe('v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 18\n');
  });

  it('refuses when no codec is left (telephone-event alone is no codec)', () => {
    const r = applyCodecPolicy(OFFER, { allow: ['opus', 'telephone-event'] });
    expect(r.ok).toBe(false);
    expect(() => sdpForTrunk(OFFER, { allow: ['opus'] }, 'x')).toThrow(TfxError);
    const trunk: TrunkSpec = {
      name: 't',
      zone: 'z',
      uri: 'sip:192.0.2.9',
      codecs: { allow: ['opus'] },
    };
    const refused = trunkOffer(OFFER, trunk, '192.0.2.7');
    expect(refused.ok).toBe(false);
    if (!refused.ok)
      expect(refused.headers[0]?.[1]).toMatch(/^305 192\.0\.2\.7 "Incompatible media format/);
  });

  it('§8.2: a video section with no allowed codec is disabled (port 0) while audio goes on', () => {
    const sdp = `${OFFER}m=video 4002 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n`;
    const out = ok(sdp, ['PCMA']);
    expect(out).toMatch(/^m=audio 4000 RTP\/AVP 8\r$/m);
    expect(out).toMatch(/^m=video 0 RTP\/AVP 96\r$/m);
  });

  it('leaves non-RTP sections (T.38, data channels) and disabled sections alone', () => {
    const sdp = `${OFFER}m=image 4004 udptl t38\r\na=T38FaxVersion:0\r\nm=audio 0 RTP/AVP 0\r\n`;
    const out = ok(sdp, ['PCMA']);
    expect(out).toContain('m=image 4004 udptl t38\r\na=T38FaxVersion:0\r\n');
    expect(out).toContain('m=audio 0 RTP/AVP 0\r\n');
  });

  it('no policy or an empty allow list leaves the SDP untouched; a late offer (no SDP) passes', () => {
    expect(sdpForTrunk(OFFER, undefined, 't')).toBe(OFFER);
    expect(sdpForTrunk(OFFER, { allow: [] }, 't')).toBe(OFFER);
    const trunk: TrunkSpec = {
      name: 't',
      zone: 'z',
      uri: 'sip:192.0.2.9',
      codecs: { allow: ['PCMA'] },
    };
    expect(trunkOffer(undefined, trunk, 'h')).toEqual({ ok: true, sdp: undefined });
  });

  it('hostile SDP never throws: garbage, huge, bad payload types, duplicate rtpmaps, empty m-lines', () => {
    const hostile = [
      '',
      'garbage',
      '\u0000\u0001\r\n\r\n',
      'm=',
      'm=audio',
      'm=audio 4000 RTP/AVP',
      'm=audio 4000 RTP/AVP abc 999 -1 8',
      'm=audio 99999999999999999999 RTP/AVP 8',
      'm=audio 4000/2 RTP/AVP 8 8 8\na=rtpmap:8 PCMU/8000\na=rtpmap:8 PCMA/8000',
      'a=rtpmap:8 PCMA/8000\nm=audio 4000 RTP/AVP 8',
      `v=0\n${'a=x\n'.repeat(50_000)}`,
      'm=audio 4000 RTP/AVP 8\r\na=rtpmap:8\r\na=fmtp:\r\na=rtpmap:0008 PCMA/8000',
      'm=audio 4000 RTP/AVP 0\n'.repeat(2000),
    ];
    for (const sdp of hostile) {
      for (const allow of [['PCMA'], ['telephone-event'], ['', ' ', '/'], ['x'.repeat(1000)]]) {
        const r = applyCodecPolicy(sdp, { allow, order: ['zzz', ...allow] });
        expect(typeof r.ok).toBe('boolean');
        if (r.ok) expect(r.sdp).not.toMatch(/RTP\/AVP[^\n]*\b(?:abc|999)\b/);
      }
    }
    expect(applyCodecPolicy('m=audio 4000 RTP/AVP 8\n'.repeat(5000), { allow: ['PCMA'] })).toEqual({
      ok: false,
      reason: 'SDP too large',
    });
  });
});

describe('the codec policy on a call’s media path', () => {
  const engine = {
    offer: (r: { sdp: string }) => Promise.resolve({ sdp: r.sdp }),
    answer: (r: { sdp: string }) => Promise.resolve({ sdp: r.sdp }),
    delete: () => Promise.resolve(undefined),
  };

  it('filters SDP toward leg B (offers from A, answers to B) and never toward A', async () => {
    const path = withCodecPolicy(engine as never, () => ({
      policy: { allow: ['PCMA'] },
      trunk: 't',
    }));
    const toB = await path.offer({ callId: 'c', fromTag: 'a', sdp: OFFER } as never);
    expect(toB.sdp).toMatch(/^m=audio 4000 RTP\/AVP 8\r$/m);
    const toA = await path.offer({ callId: 'c', fromTag: 'b', sdp: OFFER } as never);
    expect(toA.sdp).toBe(OFFER);
    const answerToB = await path.answer({
      callId: 'c',
      fromTag: 'b',
      toTag: 'a',
      sdp: OFFER,
    } as never);
    expect(answerToB.sdp).toMatch(/^m=audio 4000 RTP\/AVP 8\r$/m);
    const answerToA = await path.answer({
      callId: 'c',
      fromTag: 'a',
      toTag: 'b',
      sdp: OFFER,
    } as never);
    expect(answerToA.sdp).toBe(OFFER);
    const none = withCodecPolicy(engine as never, () => ({
      policy: { allow: ['opus'] },
      trunk: 't',
    }));
    await expect(
      none.offer({ callId: 'c', fromTag: 'a', sdp: OFFER } as never),
    ).rejects.toMatchObject({
      code: 'media-not-acceptable',
    });
  });

  it('asks a transcoding engine to add the allowed codecs it converts to the trunk leg', () => {
    const profile = { zone: 'core', codecs: { transcode: ['opus'] } } as unknown as LegProfile;
    const caps = {
      capabilities: { transcode: ['PCMU', 'PCMA', 'opus'] },
    } as unknown as MediaEngine;
    const trunks: TrunkSpec[] = [
      {
        name: 'a',
        zone: 'core',
        uri: 'sip:192.0.2.9',
        codecs: { allow: ['PCMA', 'telephone-event', 'G729'] },
      },
      { name: 'b', zone: 'core', uri: 'sip:192.0.2.8', codecs: { allow: ['pcma', 'OPUS'] } },
    ];
    expect(trunkLegProfile(profile, trunks, caps).codecs?.transcode).toEqual(['opus', 'PCMA']);
    const plain = { zone: 'core' } as unknown as LegProfile;
    expect(trunkLegProfile(plain, [{ name: 'c', zone: 'core', uri: 'sip:192.0.2.7' }], caps)).toBe(
      plain,
    );
  });
});
