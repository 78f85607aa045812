/**
 * A real Kamailio (Debian's `kamailio`) as the inner registrar of the SBC tests, on its own
 * loopback address in the core zone: digest-challenges every REGISTER (`auth`, one static user),
 * saves bindings in memory (`usrloc`), looks the location up for INVITEs and relays them
 * statefully (`tm`) with a recorded route (`rr`). It logs every request it receives in full (`$mb`), so a test can count the
 * REGISTERs it saw and byte-scan everything that reached it; `ul.dump` (over `ctl`) shows its
 * location table. Started with the SIP peers' harness (packages/sip/test/peers), stopped by PID.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { startPeer, type Peer } from '../../sip/test/peers/harness.js';

const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

export interface InnerRegistrar {
  readonly address: string;
  readonly port: number;
  readonly realm: string;
  readonly peer: Peer;
  /** Every request Kamailio received, in full, in order (from its log). */
  requests(): string[];
  /** `kamcmd ul.dump`: its location table. */
  dump(): Promise<string>;
  stop(): Promise<void>;
}

function config(o: {
  address: string;
  port: number;
  realm: string;
  user: string;
  password: string;
  ctl: string;
}): string {
  return `#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=1
auto_aliases=no
listen=udp:${o.address}:${o.port}
alias="${o.realm}"
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
loadmodule "ctl.so"
loadmodule "kex.so"
loadmodule "rr.so"
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 5)
modparam("registrar", "max_expires", 3600)
modparam("auth", "nonce_expire", 300)
modparam("ctl", "binrpc", "unix:${o.ctl}")

request_route {
  # Everything that reaches the inner side, in full, for the byte scan.
  xlog("L_NOTICE", "RECEIVED-BEGIN $rm\\n$mb\\nRECEIVED-END\\n");
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (!sanity_check("1511", "7")) { exit; }
  if (is_method("REGISTER")) {
    if ($tU != "${o.user}") { sl_send_reply("403", "Forbidden"); exit; }
    if (!pv_www_authenticate("${o.realm}", "${o.password}", "0")) {
      www_challenge("${o.realm}", "0");
      exit;
    }
    if (!save("location")) { sl_reply_error(); }
    exit;
  }
  if (has_totag()) {
    # In a dialog: through the recorded route (rr), or the ACK of a non-2xx.
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK") && t_check_trans()) { t_relay(); }
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) t_relay(); exit; }
  if (is_method("INVITE")) {
    if (!lookup("location")) { sl_send_reply("404", "Not Found"); exit; }
    record_route();
    t_relay();
    exit;
  }
  sl_send_reply("405", "Method Not Allowed");
}
`;
}

function answers(address: string, port: number): Promise<boolean> {
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
    s.bind(0, address, () => {
      const lp = s.address().port;
      s.send(
        [
          `OPTIONS sip:${address}:${port} SIP/2.0`,
          `Via: SIP/2.0/UDP ${address}:${lp};branch=z9hG4bK-probe${Date.now()}`,
          'Max-Forwards: 70',
          `From: <sip:probe@${address}>;tag=p${lp}`,
          `To: <sip:${address}:${port}>`,
          `Call-ID: probe-${Date.now()}`,
          'CSeq: 1 OPTIONS',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
        port,
        address,
      );
    });
  });
}

export async function startInnerRegistrar(o: {
  address: string;
  port: number;
  user: string;
  password: string;
  realm?: string;
}): Promise<InnerRegistrar> {
  const dir = mkdtempSync(join(tmpdir(), 'sbc-kamailio-'));
  const realm = o.realm ?? 'kamailio.test';
  const ctl = join(dir, 'ctl.sock');
  const cfg = join(dir, 'kamailio.cfg');
  writeFileSync(cfg, config({ ...o, realm, ctl }));
  let log = '';
  const peer = startPeer(
    'kamailio',
    ['-f', cfg, '-DD', '-E', '-m', '64', '-M', '8', '-Y', dir, '-w', dir],
    {
      limitMs: 240_000,
    },
  );
  peer.child.stderr?.on('data', (c: Buffer) => (log += c.toString('latin1')));
  peer.child.stdout?.on('data', (c: Buffer) => (log += c.toString('latin1')));
  const start = Date.now();
  while (!(await answers(o.address, o.port))) {
    const exited = await Promise.race([
      peer.exit.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 200)),
    ]);
    if (exited) throw new Error(`kamailio exited:\n${peer.output()}`);
    if (Date.now() - start > 30_000) {
      await peer.stop();
      throw new Error(`kamailio did not answer:\n${peer.output()}`);
    }
  }
  return {
    address: o.address,
    port: o.port,
    realm,
    peer,
    requests() {
      const out: string[] = [];
      const re = /RECEIVED-BEGIN (\S+)\n([\s\S]*?)\nRECEIVED-END/g;
      for (let m = re.exec(log); m; m = re.exec(log)) out.push(m[2] ?? '');
      return out.filter((r) => !r.startsWith('OPTIONS sip:') || !r.includes('probe-'));
    },
    dump: () =>
      new Promise((resolve, reject) => {
        execFile('kamcmd', ['-s', `unix:${ctl}`, 'ul.dump'], (err, stdout, stderr) =>
          err ? reject(new Error(`kamcmd: ${err.message} ${stderr}`)) : resolve(stdout),
        );
      }),
    stop: async () => {
      await peer.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
