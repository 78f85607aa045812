/**
 * Zone ACLs with real sipp callers on their own loopback addresses (issue #17 item 4): a source
 * on the zone's deny list hears nothing (dropped silently before any transaction) while a caller
 * at another address completes its call; with an allow-only list only the listed address gets
 * in. Every decision is counted by the zone's `acl` stage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaEngine } from '@tfx/media';
import { UserAgentCore } from '@tfx/sip';
import {
  CORE,
  PUBLIC,
  TRUNK,
  builtinEngine,
  freePort,
  sipp,
  startSbc,
  zone,
  type Rig,
} from './harness.js';

const DENIED = '127.0.0.24';
const LISTED = '127.0.0.25';
const OTHER = '127.0.0.26';

const SDP = (a: string): string =>
  `v=0\r\no=ua 1 1 IN IP4 ${a}\r\ns=-\r\nc=IN IP4 ${a}\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;

describe('zone ACLs (CIDR allow/deny) against sipp callers', () => {
  let engine: MediaEngine;
  let trunk: UserAgentCore;
  let trunkPort: number;

  beforeAll(async () => {
    engine = await builtinEngine();
    trunk = new UserAgentCore({
      user: 'trunk',
      onInvite: (inv) => inv.accept({ body: SDP(TRUNK), contentType: 'application/sdp' }),
    });
    const [tl] = await trunk.start([{ transport: 'udp', address: TRUNK, port: 0 }]);
    trunkPort = tl!.port;
  });

  afterAll(async () => {
    await trunk?.close();
    await engine?.close();
  });

  const rig = (acl: { allow?: string[]; deny?: string[] }): Promise<Rig> =>
    startSbc(
      engine,
      [{ name: 'far', zone: 'core', uri: `sip:${TRUNK}:${trunkPort}` }],
      [{ match: { zone: 'public' }, to: ['far'] }],
      [{ ...zone('public', PUBLIC), acl }, zone('core', CORE)],
    );

  /** One sipp call (built-in uac) from `address`. */
  async function call(r: Rig, address: string, timeoutMs = 20_000) {
    return sipp(
      [
        `${PUBLIC}:${r.port('public', 'udp')}`,
        '-sn',
        'uac',
        '-i',
        address,
        '-p',
        String(await freePort(address)),
        '-s',
        '4420001',
        '-d',
        '200',
        '-m',
        '1',
      ],
      timeoutMs,
    ).done;
  }

  it('drops a denied source silently while a caller at another address completes', async () => {
    const r = await rig({ deny: [`${DENIED}/32`, '10.0.0.0/8', '2001:db8::/32'] });
    try {
      const [denied, other] = await Promise.all([call(r, DENIED, 6000), call(r, OTHER)]);
      expect(other.code, other.output).toBe(0);
      expect(denied.code).not.toBe(0);
      expect(denied.received, 'the denied caller hears nothing').toEqual([]);
      const c = r.sbc.zones.get('public')!.access.counters.acl;
      expect(c.denied).toBeGreaterThan(0);
      expect(c.allowed).toBeGreaterThan(0);
      expect(r.sbc.counters.callsAnswered).toBe(1);
    } finally {
      await r.close();
    }
  }, 120_000);

  it('an allow-only list lets only the listed address in', async () => {
    const r = await rig({ allow: [LISTED] });
    try {
      const [listed, other] = await Promise.all([call(r, LISTED), call(r, OTHER, 6000)]);
      expect(listed.code, listed.output).toBe(0);
      expect(other.code).not.toBe(0);
      expect(other.received, 'an address off the list hears nothing').toEqual([]);
      expect(r.sbc.zones.get('public')!.access.counters.acl.denied).toBeGreaterThan(0);
      // The trusted core zone has no ACL: the trunk's answers reach the SBC (the call completed).
      expect(r.sbc.zones.get('core')!.access.counters.acl).toEqual({ allowed: 0, denied: 0 });
    } finally {
      await r.close();
    }
  }, 120_000);
});
