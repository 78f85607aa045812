/**
 * `tfx sbc dscp` (issue #18 item 3, DSCP): the rules it prints are applied with `--apply` ONLY
 * inside a network namespace this test makes (`unshare --net`, loopback only: never the host's
 * tables). There, SIP from the zones' listener ports (UDP and TCP, IPv4 and IPv6) and RTP from the
 * media port range are sent, captured with dumpcap on `lo` and read back with tshark: the DSCP
 * of each packet is CS3 (24) for SIP, EF (46) for RTP, and 0 for a port outside both.
 * Needs root (or CAP_SYS_ADMIN + CAP_NET_ADMIN) for the namespace, as CI has.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TFX_BIN } from '../../../test/helpers/tfx-process.js';

const CORE = '127.0.42.10';
const PUBLIC = '127.0.42.20';
const SIP = 25090;
const SIP6 = 25092;
const MEDIA_MIN = 31000;

const config = `
media:
  portMin: ${MEDIA_MIN}
  portMax: ${MEDIA_MIN + 99}
sbc:
  zones:
    - { name: core, listen: [udp://${CORE}:${SIP}, tcp://${CORE}:${SIP}], media: { address: ${CORE} }, trusted: true }
    - { name: public, listen: ["udp://[::1]:${SIP6}", udp://${PUBLIC}:0], media: { address: ${PUBLIC} } }
`;

/** Sends from each marked (and one unmarked) source port; every socket closed at the end. */
const sender = `
import { createSocket } from 'node:dgram';
import { createServer, connect } from 'node:net';
const send = (family, from, port, to, text) => new Promise((res, rej) => {
  const s = createSocket(family);
  s.on('error', rej);
  s.bind(port, from, () => s.send(Buffer.from(text), 6000, to, (e) => { s.close(); e ? rej(e) : res(); }));
});
const sip = 'OPTIONS sip:ping@${PUBLIC} SIP/2.0\\r\\nVia: SIP/2.0/UDP ${CORE}:${SIP};branch=z9hG4bKdscp\\r\\nMax-Forwards: 70\\r\\nContent-Length: 0\\r\\n\\r\\n';
const rtp = Buffer.from([0x80, 0x08, 0, 1, 0, 0, 0, 160, 0, 0, 0, 42]).toString('latin1') + 'x'.repeat(160);
await send('udp4', '${CORE}', ${SIP}, '${PUBLIC}', sip);
await send('udp4', '${CORE}', ${MEDIA_MIN}, '${PUBLIC}', rtp);
await send('udp4', '${CORE}', ${MEDIA_MIN + 200}, '${PUBLIC}', rtp);
await send('udp6', '::1', ${SIP6}, '::1', sip);
await send('udp6', '::1', ${MEDIA_MIN + 2}, '::1', rtp);
// SIP over TCP: the listener's answers leave from its port.
await new Promise((res, rej) => {
  const srv = createServer((c) => c.end('SIP/2.0 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n'));
  srv.on('error', rej);
  srv.listen(${SIP}, '${CORE}', () => {
    const c = connect({ host: '${CORE}', port: ${SIP}, localAddress: '${PUBLIC}' });
    c.on('error', rej);
    c.on('data', () => {});
    c.on('end', () => { c.end(); srv.close(() => res()); });
  });
});
`;

describe('tfx sbc dscp', () => {
  it('prints the rules without touching anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-dscp-'));
    writeFileSync(join(dir, 'tfx.yaml'), config);
    const r = spawnSync(process.execPath, [TFX_BIN, 'sbc', 'dscp', '-c', join(dir, 'tfx.yaml')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `iptables -t mangle -A TFX-DSCP -p udp --sport ${MEDIA_MIN}:${MEDIA_MIN + 99} -j DSCP --set-dscp-class EF`,
    );
    expect(r.stdout).toContain(
      `iptables -t mangle -A TFX-DSCP -p tcp -s ${CORE} --sport ${SIP} -j DSCP --set-dscp-class CS3`,
    );
    expect(r.stdout).toContain(
      `ip6tables -t mangle -A TFX-DSCP -p udp -s ::1 --sport ${SIP6} -j DSCP --set-dscp-class CS3`,
    );
    expect(r.stdout).toMatch(/# note: zone public udp:\/\/127\.0\.42\.20:0: .*no rule/);
  }, 90_000);

  it('applied inside a namespace of its own: captured SIP is CS3 (24), RTP is EF (46), others 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-dscp-'));
    const cfg = join(dir, 'tfx.yaml');
    writeFileSync(cfg, config);
    writeFileSync(join(dir, 'send.mjs'), sender);
    const script = `
set -e
ip link set lo up
"${process.execPath}" "${TFX_BIN}" sbc dscp -c "${cfg}" --apply > "${dir}/apply.txt"
"${process.execPath}" "${TFX_BIN}" sbc dscp -c "${cfg}" --apply >> "${dir}/apply.txt"
iptables -t mangle -S > "${dir}/rules4.txt"
ip6tables -t mangle -S > "${dir}/rules6.txt"
# tshark prints each packet as it comes (-l); a sentinel datagram to port 9 (then 10) proves the
# capture is live (then complete): no sleep that assumes a speed.
tshark -l -i lo -f "udp or tcp" -T fields -E separator=, -e ip.version -e udp.srcport -e tcp.srcport -e ip.dsfield.dscp -e ipv6.tclass.dscp -e udp.dstport > "${dir}/fields.txt" 2> "${dir}/tshark.err" &
TS=$!
sentinel() {
  i=0
  until grep -q ",$1\\$" "${dir}/fields.txt"; do
    i=$((i+1)); [ $i -lt 600 ] || { echo "tshark saw no sentinel $1" >&2; kill $TS; exit 3; }
    printf x > /dev/udp/127.0.0.1/$1 || true
    sleep 0.1
  done
}
sentinel 9
"${process.execPath}" "${dir}/send.mjs"
sentinel 10
kill -INT $TS
wait $TS || true
`;
    const r = spawnSync('unshare', ['--net', '--', 'bash', '-c', script], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    // Applied twice: the chain is refilled, the jump kept once.
    expect(readFileSync(join(dir, 'apply.txt'), 'utf8')).toMatch(
      /ok: 5 DSCP rules applied[\s\S]*ok: 5 DSCP rules applied/,
    );
    const rules4 = readFileSync(join(dir, 'rules4.txt'), 'utf8');
    expect(rules4.match(/-A OUTPUT -j TFX-DSCP/g)).toHaveLength(1);
    expect(rules4).toContain(`--sport ${MEDIA_MIN}:${MEDIA_MIN + 99} -j DSCP --set-dscp 0x2e`);
    expect(rules4).toContain(`--sport ${SIP} -j DSCP --set-dscp 0x18`);
    expect(readFileSync(join(dir, 'rules6.txt'), 'utf8')).toContain(
      `--sport ${SIP6} -j DSCP --set-dscp 0x18`,
    );

    // DSCP by source port, as captured.
    const seen = new Map<string, Set<number>>();
    for (const line of readFileSync(join(dir, 'fields.txt'), 'utf8').split('\n')) {
      const [version, udp, tcp, dscp4, dscp6, dport] = line.split(',');
      if (!version || dport === '9' || dport === '10') continue; // the sentinels
      const key = `${version === '6' ? 'v6' : 'v4'}/${udp ? `udp:${udp}` : `tcp:${tcp}`}`;
      const dscp = Number(version === '6' ? dscp6 : dscp4);
      seen.set(key, (seen.get(key) ?? new Set()).add(dscp));
    }
    expect(seen.get(`v4/udp:${SIP}`)).toEqual(new Set([24]));
    expect(seen.get(`v4/tcp:${SIP}`)).toEqual(new Set([24]));
    expect(seen.get(`v4/udp:${MEDIA_MIN}`)).toEqual(new Set([46]));
    expect(seen.get(`v4/udp:${MEDIA_MIN + 200}`)).toEqual(new Set([0]));
    expect(seen.get(`v6/udp:${SIP6}`)).toEqual(new Set([24]));
    expect(seen.get(`v6/udp:${MEDIA_MIN + 2}`)).toEqual(new Set([46]));
    // The TCP client's own packets (an ephemeral port) are not marked.
    const client = [...seen].filter(([k]) => k.startsWith('v4/tcp:') && k !== `v4/tcp:${SIP}`);
    expect(client.length).toBeGreaterThan(0);
    for (const [, d] of client) expect(d).toEqual(new Set([0]));
  }, 180_000);
});
