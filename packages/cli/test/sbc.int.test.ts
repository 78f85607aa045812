/**
 * `tfx start` runs the SBC when `sbc.zones` is configured (issue #17 item 7): its zones listen on
 * their own addresses and show in the ready line; an OPTIONS to a zone is answered by the SBC.
 * Without `sbc.zones` nothing of the SBC listens (the other tests of `tfx start`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTfx, tempDataDir, type TfxProcess } from '../../../test/helpers/tfx-process.js';

const running: TfxProcess[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
});

describe('tfx start with sbc.zones', () => {
  it('starts the SBC on each zone’s own address; without zones no sbc listener exists', async () => {
    const dataDir = tempDataDir();
    const file = join(dataDir, 'tfx.yaml');
    const portMin = 42000 + 2 * Math.floor(Math.random() * 4000);
    writeFileSync(
      file,
      [
        'media:',
        `  portMin: ${portMin}`,
        `  portMax: ${portMin + 19}`,
        '  workers: 1',
        'sbc:',
        '  zones:',
        '    - name: public',
        '      listen: [udp://127.0.0.20:0]',
        '      media: { address: 127.0.0.20 }',
        '    - name: core',
        '      listen: [udp://127.0.0.10:0]',
        '      media: { address: 127.0.0.10 }',
        '      trusted: true',
        '  trunks:',
        '    - { name: carrier-a, zone: core, uri: "sip:127.0.0.11:5070" }',
        '  routes:',
        '    - { match: { zone: public }, to: [carrier-a] }',
        '',
      ].join('\n'),
    );
    const p = await startTfx(['--no-sip', '--config', file], { dataDir });
    running.push(p);
    const sbc = p.ready.listeners.filter((l) => l.name.startsWith('sbc-'));
    expect(sbc.map((l) => [l.name, l.address])).toEqual([
      ['sbc-public-udp', '127.0.0.20'],
      ['sbc-core-udp', '127.0.0.10'],
    ]);
    const port = sbc[0]!.port;
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.21', () => r()));
    try {
      const answer = await new Promise<string>((resolve) => {
        sock.once('message', (m) => resolve(m.toString('latin1')));
        sock.send(
          [
            `OPTIONS sip:127.0.0.20:${port} SIP/2.0`,
            `Via: SIP/2.0/UDP 127.0.0.21:${sock.address().port};branch=z9hG4bK-cli-${Date.now()}`,
            'Max-Forwards: 70',
            'From: <sip:probe@127.0.0.21>;tag=c1',
            'To: <sip:127.0.0.20>',
            `Call-ID: cli-${Date.now()}@127.0.0.21`,
            'CSeq: 1 OPTIONS',
            'Content-Length: 0',
            '',
            '',
          ].join('\r\n'),
          port,
          '127.0.0.20',
        );
      });
      expect(answer).toMatch(/^SIP\/2\.0 200 /);
    } finally {
      sock.close();
    }
    await p.stop();

    const plain = await startTfx(['--no-sip'], { dataDir: tempDataDir() });
    running.push(plain);
    expect(plain.ready.listeners.filter((l) => l.name.startsWith('sbc-'))).toEqual([]);
  }, 120_000);
});
