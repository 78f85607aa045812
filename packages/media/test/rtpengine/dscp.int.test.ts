/**
 * rtpengine marks media with the TOS the engine sends in each offer (ng `TOS`, from
 * `sbc.qos.mediaDscp`; docs/sbc.md "Admission control and QoS"), proven on captured packets. In a
 * network namespace this test makes (`unshare --net`, loopback only) a real rtpengine relays two
 * calls between two UDP sockets: one offered with TOS 136 (AF41 — not rtpengine's default 184, so
 * the mark can only come from our key), one with 184 (EF, our default). tshark captures `lo`; every
 * packet rtpengine sends from a call's relay ports carries that call's DSCP (34, then 46).
 * Needs root (or CAP_SYS_ADMIN) for the namespace, as CI has.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MEDIA = new URL('../../dist/index.js', import.meta.url).pathname;
const NG = 22222;

/** Two calls through rtpengine, one per TOS; prints each call's relay ports as JSON. */
const driver = `
import { createSocket } from 'node:dgram';
import { createRtpengineEngine } from '${MEDIA}';
const profile = { zone: 'z', mediaAddress: '127.0.0.1', transport: 'RTP/AVP', ice: 'remove',
  dtls: 'off', rtcpMux: 'demux', latching: 'strict', dtmf: 'rfc4733' };
const sdp = (port) => 'v=0\\r\\no=- 1 1 IN IP4 127.0.0.1\\r\\ns=-\\r\\nc=IN IP4 127.0.0.1\\r\\nt=0 0\\r\\nm=audio ' + port + ' RTP/AVP 0\\r\\na=rtpmap:0 PCMU/8000\\r\\n';
const portOf = (s) => Number(/m=audio (\\d+)/.exec(s)[1]);
const bind = () => new Promise((res) => { const s = createSocket('udp4'); s.bind(0, '127.0.0.1', () => res(s)); });
const rtp = (seq) => { const b = Buffer.alloc(172); b[0] = 0x80; b[1] = 0; b.writeUInt16BE(seq, 2); b.writeUInt32BE(seq * 160, 4); b.writeUInt32BE(0x1234, 8); return b; };
const out = [];
for (const tos of [136, 184]) {
  const engine = await createRtpengineEngine({ instances: ['udp:127.0.0.1:${NG}'], tos, statsIntervalMs: 0, mediaTimeoutMs: 0 });
  const a = await bind(); const b = await bind();
  const callId = 'dscp-' + tos;
  let offer;
  for (let i = 0; ; i++) {
    try { offer = await engine.offer({ callId, fromTag: 'a', sdp: sdp(a.address().port), from: profile, to: profile }); break; }
    catch (e) { if (i > 100) throw e; await new Promise((r) => setTimeout(r, 100)); }
  }
  const answer = await engine.answer({ callId, fromTag: 'a', toTag: 'b', sdp: sdp(b.address().port) });
  const toA = portOf(answer.sdp); // rtpengine's port facing a
  const toB = portOf(offer.sdp); // rtpengine's port facing b
  // Both ways until each side has heard the other 5 times (bounded: 400 rounds).
  let heardA = 0, heardB = 0;
  a.on('message', () => heardA++); b.on('message', () => heardB++);
  for (let i = 0; (heardA < 5 || heardB < 5); i++) {
    if (i > 400) throw new Error('rtpengine relayed nothing: ' + heardA + '/' + heardB);
    a.send(rtp(i), toA, '127.0.0.1'); b.send(rtp(i), toB, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 20));
  }
  out.push({ tos, relayPorts: [toA, toB] });
  await engine.delete({ callId });
  a.close(); b.close();
  await engine.close();
}
console.log(JSON.stringify(out));
`;

describe('rtpengine TOS (ng key) on captured media', () => {
  it('every packet rtpengine relays carries the DSCP of its call’s TOS: AF41 (34) and EF (46)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-rtpengine-dscp-'));
    writeFileSync(join(dir, 'driver.mjs'), driver);
    writeFileSync(
      join(dir, 'rtpengine.conf'),
      [
        '[rtpengine]',
        'table = -1',
        'interface = 127.0.0.1',
        `listen-ng = 127.0.0.1:${NG}`,
        'port-min = 30000',
        'port-max = 30099',
        'foreground = true',
        'log-stderr = true',
        'log-level = 5',
        `pidfile = ${join(dir, 'rtpengine.pid')}`,
        'delete-delay = 0',
        '',
      ].join('\n'),
    );
    const script = `
set -e
ip link set lo up
rtpengine --config-file="${dir}/rtpengine.conf" --config-section=rtpengine 2> "${dir}/rtpengine.log" &
RE=$!
tshark -l -i lo -f udp -T fields -E separator=, -e udp.srcport -e udp.dstport -e ip.dsfield.dscp > "${dir}/fields.txt" 2> "${dir}/tshark.err" &
TS=$!
sentinel() {
  i=0
  until grep -q ",$1," "${dir}/fields.txt"; do
    i=$((i+1)); [ $i -lt 600 ] || { echo "tshark saw no sentinel $1" >&2; kill $TS $RE; exit 3; }
    printf x > /dev/udp/127.0.0.1/$1 || true
    sleep 0.1
  done
}
sentinel 9
"${process.execPath}" "${dir}/driver.mjs" > "${dir}/calls.json"
sentinel 10
kill -INT $TS; wait $TS || true
kill $RE; wait $RE || true
`;
    const r = spawnSync('unshare', ['--net', '--', 'bash', '-c', script], {
      encoding: 'utf8',
      timeout: 150_000,
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const calls = JSON.parse(readFileSync(join(dir, 'calls.json'), 'utf8')) as Array<{
      tos: number;
      relayPorts: number[];
    }>;
    expect(calls.map((c) => c.tos)).toEqual([136, 184]);
    const rows = readFileSync(join(dir, 'fields.txt'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(',').map(Number) as [number, number, number]);
    for (const c of calls) {
      const sent = rows.filter(([sport]) => c.relayPorts.includes(sport));
      expect(sent.length, `packets from ${c.relayPorts.join(', ')}`).toBeGreaterThanOrEqual(10);
      expect(new Set(sent.map(([, , dscp]) => dscp)), `TOS ${c.tos}`).toEqual(
        new Set([c.tos >> 2]),
      );
    }
  }, 180_000);
});
