import { describe, expect, it } from 'vitest';
import {
  acceptStream,
  answeredSubset,
  codecsToward,
  declared,
  ptMap,
  withPtsOf,
} from '../../src/builtin/negotiate.js';
import { parseSdp, type SessionDescription } from '../../src/sdp/index.js';
import type { LegProfile } from '../../src/engine/types.js';

const leg: LegProfile = {
  mediaAddress: '127.0.0.1',
  transport: 'RTP/AVP',
  ice: 'remove',
  dtls: 'off',
  rtcpMux: 'demux',
  latching: 'strict',
  dtmf: 'rfc4733',
};

function sdp(lines: string[]): SessionDescription {
  const r = parseSdp(
    ['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', ...lines, ''].join(
      '\r\n',
    ),
  );
  if (!r.ok) throw new Error(r.error.reason);
  return r.sdp;
}

const pcmu = { pt: 0, encoding: 'PCMU', clockRate: 8000 };
const pcma = { pt: 8, encoding: 'PCMA', clockRate: 8000 };
const te101 = { pt: 101, encoding: 'telephone-event', clockRate: 8000, fmtp: '0-16' };
const te96 = { pt: 96, encoding: 'telephone-event', clockRate: 8000, fmtp: '0-16' };

describe('negotiation for the built-in relay', () => {
  it.each([
    ['m=audio 4000 RTP/AVP 0', true],
    ['m=audio 0 RTP/AVP 0', false],
    ['m=audio 4000 RTP/SAVP 0', false],
    ['m=audio 4000 UDP/TLS/RTP/SAVPF 111', false],
    ['m=audio 4000 TCP/MSRP *', false],
    ['m=application 4000 RTP/AVP 0', false],
    ['m=video 4000 RTP/AVPF 96', true],
    ['m=audio 4000/2 RTP/AVP 0', false],
  ])('RFC 3264 §6: %s → accepted %s', (m, ok) => {
    expect(acceptStream(sdp([m]).media[0]!, leg).ok).toBe(ok);
  });

  it('reads where a party receives, its RTCP port (RFC 3605), mux, direction and codecs', () => {
    const s = sdp([
      'm=audio 4000 RTP/AVP 0 101',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-16',
      'a=rtcp:4009',
      'a=rtcp-mux',
      'a=sendonly',
    ]);
    expect(declared(s, s.media[0]!)).toEqual({
      remote: { address: '10.0.0.1', port: 4000 },
      rtcpRemote: { address: '10.0.0.1', port: 4009 },
      rtcpMux: true,
      direction: 'sendonly',
      codecs: [{ ...pcmu, channels: 1 }, te101],
      proto: 'RTP/AVP',
    });
  });

  it('RFC 3264 §8.4: c=0.0.0.0 (RFC 2543 hold) has no destination and counts as inactive', () => {
    const s = parseSdp(
      'v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n',
    );
    if (!s.ok) throw new Error();
    const d = declared(s.sdp, s.sdp.media[0]!);
    expect(d.remote).toBeNull();
    expect(d.direction).toBe('inactive');
  });

  it('an offer toward a party keeps the PTs that party already uses (janus-gateway#1591)', () => {
    expect(codecsToward([pcmu, te96], undefined, [pcmu, te101]).map((c) => c.pt)).toEqual([0, 101]);
    expect(codecsToward([pcmu, te96], undefined, []).map((c) => c.pt)).toEqual([0, 96]);
  });

  it('codec policy: offer keeps only the named codecs in that order, strip removes', () => {
    expect(
      codecsToward([pcmu, pcma, te101], { offer: ['PCMA', 'telephone-event'] }, []).map(
        (c) => c.encoding,
      ),
    ).toEqual(['PCMA', 'telephone-event']);
    expect(codecsToward([pcmu, pcma], { strip: ['pcmu'] }, []).map((c) => c.encoding)).toEqual([
      'PCMA',
    ]);
  });

  it('PT collisions in the offer are moved to a free dynamic PT', () => {
    const opus = { pt: 101, encoding: 'opus', clockRate: 48000, channels: 2 };
    const out = codecsToward([opus, te96], undefined, [te101]);
    expect(new Set(out.map((c) => c.pt)).size).toBe(2);
  });

  it('RFC 3264 §6.1: the answer keeps only offered codecs; maps go by name and clock rate', () => {
    expect(answeredSubset([pcma, pcmu], [pcmu, te101])).toEqual([pcmu]);
    expect(withPtsOf([pcmu, te96], [pcmu, te101]).map((c) => c.pt)).toEqual([0, 101]);
    expect(ptMap([pcmu, te96], [pcmu, te101])).toEqual([
      [0, 0],
      [96, 101],
    ]);
  });
});
