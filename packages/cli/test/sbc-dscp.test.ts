/**
 * `tfx sbc dscp`'s rule set (sbc-dscp.ts) without root: derived from the configuration, nothing
 * for media with rtpengine (it marks its own), and `applyDscp`'s idempotence on a fake runner.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@tfx/server';
import { applyDscp, dscpRules, formatDscpScript } from '../src/sbc-dscp.js';

function config(yaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tfx-dscp-unit-'));
  writeFileSync(join(dir, 'tfx.yaml'), yaml);
  return loadConfig({ file: join(dir, 'tfx.yaml') });
}

const ZONES = `
sbc:
  zones:
    - { name: core, listen: [udp://127.0.0.10:5090, tls://127.0.0.10:5091], media: { address: 127.0.0.10 }, trusted: true }
  qos: { mediaDscp: AF41, signallingDscp: CS5 }
`;

describe('tfx sbc dscp rules', () => {
  it('marks the media range and each listener with the configured classes (TLS as TCP)', () => {
    const plan = dscpRules(config(ZONES));
    const lines = plan.commands.map((c) => c.argv.join(' '));
    expect(lines).toContain(
      'iptables -t mangle -A TFX-DSCP -p udp --sport 30000:39999 -j DSCP --set-dscp-class AF41',
    );
    expect(lines).toContain(
      'iptables -t mangle -A TFX-DSCP -p tcp -s 127.0.0.10 --sport 5091 -j DSCP --set-dscp-class CS5',
    );
    expect(formatDscpScript(plan)).toMatch(
      /iptables -t mangle -C OUTPUT -j TFX-DSCP 2>\/dev\/null \|\| iptables -t mangle -A OUTPUT -j TFX-DSCP/,
    );
  });

  it('with rtpengine no media rule: rtpengine marks its packets (noted)', () => {
    const plan = dscpRules(
      config(
        `${ZONES}media:\n  engine: rtpengine\n  rtpengine: { urls: ['udp:127.0.0.1:2223'] }\n`,
      ),
    );
    expect(plan.commands.some((c) => c.argv.includes('30000:39999'))).toBe(false);
    expect(plan.notes.join('\n')).toMatch(/rtpengine marks its own packets \(ng TOS 136, AF41\)/);
  });

  it('without zones: nothing for SIP, noted', () => {
    const plan = dscpRules(config('media: { portMin: 30000, portMax: 30099 }\n'));
    expect(plan.notes).toContain('no sbc.zones: no SIP listener rule');
  });

  it('applies idempotently: an existing chain is fine, an existing jump is not added twice; a failing rule names itself', () => {
    const plan = dscpRules(config(ZONES));
    const ran: string[] = [];
    const n = applyDscp(plan, (argv) => {
      const line = argv.join(' ');
      ran.push(line);
      if (line.includes(' -N ')) throw new Error('Chain already exists');
      // the jump is there already (-C succeeds)
    });
    expect(n).toBe(4); // IPv4: the media range and 2 listeners; IPv6: the media range
    expect(ran.filter((l) => l.includes('-A OUTPUT'))).toEqual([]);
    expect(() =>
      applyDscp(plan, (argv) => {
        if (argv.includes('--set-dscp-class'))
          throw Object.assign(new Error('x'), {
            stderr: Buffer.from('No chain/target/match by that name'),
          });
      }),
    ).toThrow(/--set-dscp-class .*: No chain\/target\/match by that name/);
  });
});
