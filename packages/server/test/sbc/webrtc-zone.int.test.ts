/**
 * The platform's `/sip` and the SBC (issue #17 item 1): with a zone marked `webrtc: true` the
 * SIP-over-WebSocket endpoint on the HTTPS server belongs to that zone — the SIP server leaves it
 * and keeps its UDP/TCP/TLS ports — so a browser's REGISTER meets the zone's security stages and
 * digest and lands in the SIP server's own location store (TFX's registrar, shared). A call from
 * the core zone to that browser is refused 488 (counted in the metrics) while the engine has no
 * WebRTC legs. Without `sbc.zones`, `/sip` stays the SIP server's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registerer, RegistererState, UserAgent } from 'sip.js';
import { WebSocket } from 'ws';
import type { MediaEngine } from '@tfx/media';
import { UserAgentCore } from '@tfx/sip';
import { createMediaModule } from '../../src/media/index.js';
import { createSbcModule } from '../../src/sbc/index.js';
import { createSipModule } from '../../src/sip/index.js';
import { startTestPlatform, type TestPlatform } from '../api/harness.js';

const SDP = (a: string, port: number): string =>
  `v=0\r\no=ua 1 1 IN IP4 ${a}\r\ns=-\r\nc=IN IP4 ${a}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;

async function until(pred: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const t0 = Date.now();
  while (!(await pred())) {
    if (Date.now() - t0 > 30_000) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The engine as it is, reporting no WebRTC legs (the built-in engine before the gateway). */
function withoutWebrtc(engine: MediaEngine): MediaEngine {
  const capabilities = { ...engine.capabilities, webrtc: false };
  return new Proxy(engine, {
    get: (t, k) => {
      if (k === 'capabilities') return capabilities;
      const v: unknown = Reflect.get(t, k, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** SIP.js's socket: Node's `ws`, accepting the platform's self-signed certificate. */
class TestWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols, { rejectUnauthorized: false });
  }
}

describe('/sip in the webrtc zone (sbc.zones with webrtc: true)', () => {
  const media = createMediaModule();
  const sip = createSipModule();
  const sbc = createSbcModule({
    engine: () => (media.engine ? withoutWebrtc(media.engine) : undefined),
    users: () => sip.service?.users,
    registrar: () => {
      const s = sip.service;
      return (
        s && {
          domain: s.domain,
          registrar: {
            register: (i) => s.registrar.register(i),
            lookup: (aor, now) => s.location.lookup(aor, now),
          },
        }
      );
    },
  });
  let t: TestPlatform;
  let ua: UserAgent | undefined;
  let pbx: UserAgentCore;
  const saved = (globalThis as { WebSocket?: unknown }).WebSocket;
  const portMin = 44000 + 2 * Math.floor(Math.random() * 3000);

  beforeAll(async () => {
    (globalThis as { WebSocket?: unknown }).WebSocket = TestWebSocket;
    pbx = new UserAgentCore({ user: 'pbx' });
    await pbx.start([{ transport: 'udp', address: '127.0.0.12', port: 0 }]);
    t = await startTestPlatform({
      modules: [media, sip, sbc],
      flags: {
        'sip.enabled': true,
        'sip.port': '0',
        'sip.tlsPort': '0',
        'sip.domain': 'tfx.test',
        'sip.users': JSON.stringify([{ username: 'carol', password: 'carol-secret-3' }]),
        'media.portMin': String(portMin),
        'media.portMax': String(portMin + 99),
        'media.workers': '1',
        'sbc.zones': JSON.stringify([
          {
            name: 'public',
            listen: ['udp://127.0.0.20:0'],
            media: { address: '127.0.0.20' },
            webrtc: true,
          },
          {
            name: 'core',
            listen: ['udp://127.0.0.10:0'],
            media: { address: '127.0.0.10' },
            trusted: true,
          },
        ]),
      },
    });
  });

  afterAll(async () => {
    await ua?.stop();
    await t?.close();
    await pbx?.close();
    (globalThis as { WebSocket?: unknown }).WebSocket = saved;
  });

  it('hands /sip to the webrtc zone: the SIP server keeps its UDP/TCP/TLS ports, the zone lists the WSS endpoint', () => {
    const names = t.platform.listeners.map((l) => l.name);
    expect(names).toContain('sip-udp');
    expect(names).not.toContain('sip-ws');
    const wss = t.platform.listeners.find((l) => l.name === 'sbc-public-wss');
    expect(wss?.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/sip$/);
  });

  it('a SIP-over-WSS client registers through the zone’s digest (401) into the SIP server’s location store; a call from the core to it gets 488, counted', async () => {
    const wss = t.platform.listeners.find((l) => l.name === 'sbc-public-wss')!;
    ua = new UserAgent({
      uri: UserAgent.makeURI('sip:carol@tfx.test'),
      authorizationUsername: 'carol',
      authorizationPassword: 'carol-secret-3',
      transportOptions: { server: wss.url!, traceSip: false },
      logBuiltinEnabled: false,
    });
    await ua.start();
    const registerer = new Registerer(ua);
    await registerer.register();
    await until(() => registerer.state === RegistererState.Registered, 'SIP.js registered');
    const bindings = await sip.service!.location.lookup('sip:carol@tfx.test', Date.now());
    expect(bindings).toHaveLength(1);
    expect(bindings[0]).toMatchObject({ zone: 'public', transport: 'wss' });

    const core = t.platform.listeners.find((l) => l.name === 'sbc-core-udp')!;
    const r = await new Promise<{ status: number; warning: string | undefined }>((res) =>
      pbx.call(
        {
          uri: `sip:carol@127.0.0.10:${core.port}`,
          body: SDP('127.0.0.12', 31_000),
          contentType: 'application/sdp',
        },
        { onFailed: (x) => res({ status: x?.status ?? 0, warning: x?.headers.get('warning') }) },
      ),
    );
    expect(r.status).toBe(488);
    expect(r.warning).toMatch(/^399 .*"WebRTC to RTP bridging is not available/);
    const metrics = (await t.req('GET', '/metrics')).text;
    expect(metrics).toMatch(/tfx_sbc_local_total\{outcome="registered"\} 1/);
    expect(metrics).toMatch(/tfx_sbc_local_total\{outcome="challenged"\} 1/);
    expect(metrics).toMatch(/tfx_sbc_invites_refused_total\{reason="webrtc-unsupported"\} 1/);
    await registerer.dispose();
  }, 60_000);
});

describe('/sip without sbc.zones', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform({
      modules: [createSipModule()],
      flags: { 'sip.enabled': true, 'sip.port': '0', 'sip.tlsPort': '0' },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('stays the SIP server’s, as before', () => {
    const ws = t.platform.listeners.find((l) => l.name === 'sip-ws');
    expect(ws?.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/sip$/);
    expect(t.platform.listeners.some((l) => l.name.startsWith('sbc-'))).toBe(false);
  });
});
