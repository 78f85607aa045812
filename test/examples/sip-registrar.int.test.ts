/**
 * The SIP stack runs by itself: examples/sip-registrar/registrar.mjs imports only @tfx/sip, and
 * a real SIP peer (sipsak, and a raw UDP REGISTER) registers with it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage, type SipResponse } from '@tfx/sip';

const root = process.cwd();
const example = join(root, 'examples/sip-registrar/registrar.mjs');
let child: ChildProcess | undefined;
let port = 0;

beforeAll(async () => {
  child = spawn(process.execPath, [example, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child!.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child!.once('exit', (code) => reject(new Error(`example exited with ${code}: ${out}`)));
  });
});

afterAll(() => {
  if (child?.pid !== undefined && child.exitCode === null) child.kill('SIGTERM');
});

function udpRequest(text: string): Promise<SipResponse> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no answer'));
    }, 10_000);
    socket.on('message', (bytes) => {
      const r = parseMessage(new Uint8Array(bytes));
      if (!r.ok || r.message.kind !== 'response' || r.message.status < 200) return;
      clearTimeout(timer);
      socket.close();
      resolve(r.message);
    });
    socket.bind(0, '127.0.0.1', () => {
      const local = socket.address().port;
      socket.send(text.replaceAll('LOCALPORT', String(local)), port, '127.0.0.1');
    });
  });
}

describe('examples/sip-registrar: a registrar on @tfx/sip alone', () => {
  it('imports nothing of the project but @tfx/sip', () => {
    const imports = [...readFileSync(example, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(imports).toEqual(['@tfx/sip']);
  });

  it('§10.3: a REGISTER binds its contact, and the 200 lists it with its expiry', async () => {
    const r = await udpRequest(
      [
        `REGISTER sip:127.0.0.1:${port} SIP/2.0`,
        'Via: SIP/2.0/UDP 127.0.0.1:LOCALPORT;branch=z9hG4bKexample1;rport',
        'Max-Forwards: 70',
        'From: <sip:alice@127.0.0.1>;tag=x1',
        'To: <sip:alice@127.0.0.1>',
        'Call-ID: example-1',
        'CSeq: 1 REGISTER',
        'Contact: <sip:alice@127.0.0.1:LOCALPORT>',
        'Expires: 120',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('server')).toBe('tfx-example-registrar');
    const contacts = r.headers.contact();
    expect(contacts).toHaveLength(1);
    expect(contacts[0]!.star).toBe(false);
    if (!contacts[0]!.star) expect(contacts[0]!.expires).toBe(120);
  });

  it('answers a real peer: sipsak OPTIONS gets 200', () => {
    const r = spawnSync('sipsak', ['-s', `sip:ping@127.0.0.1:${port}`, '-v'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(`${r.stdout}${r.stderr}`).toMatch(/SIP\/2\.0 200/);
    expect(r.status).toBe(0);
  });
});
