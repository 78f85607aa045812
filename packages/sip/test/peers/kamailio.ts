/**
 * A real Kamailio (Debian's `kamailio` 5.6) for the peer tests: a registrar that challenges
 * every REGISTER with digest (RFC 3261 §22, `auth` module's `pv_www_authenticate` against a
 * static user and password: no database), saves bindings in memory (`usrloc`, db_mode 0), and
 * answers anything else 405. Started from a config of ours in a temp dir, in the foreground,
 * stopped by its PID.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { startPeer, type Peer } from './harness.js';

/** Whether something answers a SIP OPTIONS on 127.0.0.1:port over UDP within 500 ms. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.close();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), 500);
    s.on('message', (m) => done(m.toString('latin1').startsWith('SIP/2.0 ')));
    s.on('error', () => done(false));
    s.bind(0, '127.0.0.1', () => {
      const lp = s.address().port;
      const msg = [
        `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${lp};branch=z9hG4bK-probe${Date.now()}`,
        'Max-Forwards: 70',
        `From: <sip:probe@127.0.0.1>;tag=p${lp}`,
        `To: <sip:127.0.0.1:${port}>`,
        `Call-ID: probe-${Date.now()}@127.0.0.1`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      s.send(msg, port, '127.0.0.1');
    });
  });
}

export interface KamailioRegistrar {
  readonly port: number;
  /** The SIP-over-WebSocket port, when asked for. */
  readonly wsPort: number | undefined;
  readonly realm: string;
  readonly peer: Peer;
  stop(): Promise<void>;
}

const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

export function kamailioConfig(o: {
  port: number;
  realm: string;
  user: string;
  password: string;
  /** Also serve SIP over WebSocket (RFC 7118, `websocket` module over `xhttp`) on this port. */
  wsPort?: number | undefined;
}): string {
  const ws =
    o.wsPort === undefined
      ? { listen: '', modules: '', route: '' }
      : {
          listen: `listen=tcp:127.0.0.1:${o.wsPort}\ntcp_accept_no_cl=yes\n`,
          modules: 'loadmodule "xhttp.so"\nloadmodule "websocket.so"\n',
          route: `
event_route[xhttp:request] {
  if ($Rp == ${o.wsPort} && $hdr(Upgrade) =~ "websocket") {
    if (ws_handle_handshake()) exit;
  }
  xhttp_reply("404", "Not Found", "", "");
}
`,
        };
  return `#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=1
tcp_children=1
auto_aliases=no
listen=udp:127.0.0.1:${o.port}
listen=tcp:127.0.0.1:${o.port}
${ws.listen}alias="${o.realm}"
mpath="${MODULES}"

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "sanity.so"
loadmodule "xlog.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
${ws.modules}
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 10)
modparam("registrar", "max_expires", 3600)
modparam("auth", "nonce_expire", 300)

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (!sanity_check("1511", "7")) { exit; }
  if (!is_method("REGISTER")) {
    if (!is_method("ACK")) sl_send_reply("405", "Method Not Allowed");
    exit;
  }
  # RFC 3261 §22.4: challenge, then check the response against our one user's password.
  if ($fU != "${o.user}") { sl_send_reply("403", "Forbidden"); exit; }
  if (!pv_www_authenticate("${o.realm}", "${o.password}", "0")) {
    xlog("L_INFO", "challenging REGISTER from $fU (auth code $rc)\\n");
    www_challenge("${o.realm}", "0");
    exit;
  }
  if ($au != "${o.user}") { sl_send_reply("403", "Forbidden"); exit; }
  consume_credentials();
  if (!save("location")) { sl_reply_error(); exit; }
  xlog("L_INFO", "REGISTERED $fU contact $ct expires $hdr(Expires)\\n");
  exit;
}
${ws.route}`;
}

/** Starts Kamailio on `port` (UDP and TCP on 127.0.0.1) with the registrar config. */
export async function startKamailio(o: {
  port: number;
  wsPort?: number;
  realm?: string;
  user: string;
  password: string;
}): Promise<KamailioRegistrar> {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-kamailio-'));
  const realm = o.realm ?? 'kamailio.test';
  const cfg = join(dir, 'kamailio.cfg');
  writeFileSync(cfg, kamailioConfig({ ...o, realm }));
  // -DD: foreground, keep the children; -E: log to stderr; -Y: our own runtime dir (no /run).
  const peer = startPeer(
    'kamailio',
    ['-f', cfg, '-DD', '-E', '-m', '64', '-M', '8', '-Y', dir, '-w', dir],
    { limitMs: 120_000 },
  );
  // Ready when it answers an OPTIONS (with 405), retried while it starts; or fail with its log.
  const start = Date.now();
  while (!(await answers(o.port))) {
    const exited = await Promise.race([
      peer.exit.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 200)),
    ]);
    if (exited) throw new Error(`kamailio exited:\n${peer.output()}`);
    if (Date.now() - start > 20_000) {
      await peer.stop();
      throw new Error(`kamailio did not answer:\n${peer.output()}`);
    }
  }
  return {
    port: o.port,
    wsPort: o.wsPort,
    realm,
    peer,
    stop: async () => {
      await peer.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
