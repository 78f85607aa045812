/**
 * A real baresip (Debian's `baresip-core` 1.0) for the peer tests: headless, with a config dir
 * made here (`-f`), SIP on 127.0.0.1 (UDP), G.711, a WAV file as its microphone (made with
 * `sox`), no audio player, one account that auto-answers, and the `ctrl_tcp` module as its
 * remote control: JSON commands and events in netstrings on a loopback TCP port.
 * Started and stopped by PID.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startPeer, until, type Peer } from './harness.js';

export interface BaresipEvent {
  readonly type: string;
  readonly class?: string;
  readonly param?: string;
  readonly peeruri?: string;
  readonly [k: string]: unknown;
}

export class Baresip {
  readonly events: BaresipEvent[] = [];
  #buf: Buffer = Buffer.alloc(0);
  #token = 0;
  readonly #waiting = new Map<string, (r: { ok: boolean; data: string }) => void>();

  private constructor(
    readonly sipPort: number,
    readonly user: string,
    readonly peer: Peer,
    private readonly ctrl: Socket,
    private readonly dir: string,
  ) {
    ctrl.on('data', (d: Buffer) => this.#read(d));
    ctrl.on('error', () => {});
  }

  static async start(user = 'bob'): Promise<Baresip> {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-baresip-'));
    const sipPort = await freePort('udp');
    const ctrlPort = await freePort('tcp');
    const tone = join(dir, 'tone.wav');
    const sox = spawnSync('sox', [
      '-n',
      '-r',
      '8000',
      '-c',
      '1',
      '-b',
      '16',
      tone,
      'synth',
      '30',
      'sine',
      '440',
    ]);
    if (sox.status !== 0) throw new Error(`sox failed: ${sox.stderr?.toString()}`);
    writeFileSync(
      join(dir, 'config'),
      [
        'poll_method epoll',
        `sip_listen 127.0.0.1:${sipPort}`,
        'net_interface 127.0.0.1',
        `audio_source aufile,${tone}`,
        'audio_alert aufile,/dev/null',
        'module_path /usr/lib/baresip/modules',
        'module g711.so',
        'module aufile.so',
        'module ctrl_tcp.so',
        'module_app account.so',
        'module_app menu.so',
        `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
        'rtp_ports 30000-39999',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'accounts'), `<sip:${user}@127.0.0.1>;regint=0;answermode=auto\n`);
    const peer = startPeer('baresip', ['-f', dir], { limitMs: 120_000, stdin: true });
    // Ready when ctrl_tcp accepts (retried while it starts; fail with its output if it exits).
    let ctrl: Socket | undefined;
    const start = Date.now();
    while (!ctrl) {
      if (Date.now() - start > 20_000) {
        await peer.stop();
        throw new Error(`baresip did not start:\n${peer.output()}`);
      }
      const s = connect({ host: '127.0.0.1', port: ctrlPort });
      const ok = await Promise.race([
        once(s, 'connect').then(() => true),
        once(s, 'error').then(() => false),
      ]).catch(() => false);
      if (ok && /baresip is ready/.test(peer.output())) ctrl = s;
      else {
        s.destroy();
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return new Baresip(sipPort, user, peer, ctrl, dir);
  }

  get uri(): string {
    return `sip:${this.user}@127.0.0.1:${this.sipPort}`;
  }

  /** Runs a command (as typed in baresip's menu: `hold`, `resume`, `transfer <uri>`, …). */
  command(command: string, params?: string): Promise<{ ok: boolean; data: string }> {
    const token = String(++this.#token);
    const json = JSON.stringify({ command, ...(params !== undefined && { params }), token });
    const body = Buffer.from(json, 'utf8');
    this.ctrl.write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]));
    return new Promise((resolve) => this.#waiting.set(token, resolve));
  }

  /** Waits for an event of a type (e.g. CALL_ESTABLISHED), counting from `from`. */
  async event(type: string, from = 0): Promise<BaresipEvent> {
    await until(
      () => this.events.slice(from).some((e) => e.type === type),
      `baresip ${type}`,
      30_000,
    );
    return this.events.slice(from).find((e) => e.type === type)!;
  }

  async stop(): Promise<void> {
    this.ctrl.destroy();
    await this.peer.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Netstrings: `<len>:<json>,` */
  #read(chunk: Buffer): void {
    this.#buf = readControl(Buffer.concat([this.#buf, chunk]), this.events, this.#waiting);
  }
}

/**
 * baresip's ctrl_tcp stream, netstrings (`<len>:<json>,`): events go to `events`, command replies
 * to the waiter of their token. Returns what is left of `buf` (an incomplete netstring).
 */
export function readControl(
  buf: Buffer,
  events: BaresipEvent[],
  waiting: Map<string, (r: { ok: boolean; data: string }) => void>,
): Buffer {
  for (;;) {
    const colon = buf.indexOf(0x3a);
    if (colon < 0) return buf;
    const len = Number(buf.subarray(0, colon).toString('latin1'));
    if (!Number.isInteger(len) || buf.length < colon + 1 + len + 1) return buf;
    const json = buf.subarray(colon + 1, colon + 1 + len).toString('utf8');
    buf = buf.subarray(colon + 2 + len);
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(json) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (msg.event) events.push(msg as unknown as BaresipEvent);
    else if (msg.response && typeof msg.token === 'string') {
      waiting.get(msg.token)?.({ ok: msg.ok === true, data: String(msg.data ?? '') });
      waiting.delete(msg.token);
    }
  }
}
