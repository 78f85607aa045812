/**
 * A real baresip (Debian's `baresip-core` 1.0) as a phone for the browser specs: headless, with a
 * config dir of its own in a temp folder (`-f`), no ALSA — `aufile` plays a WAV made with `sox`
 * as its microphone, no player at all — G.711, the `sndfile` filter dumping what it decodes (and
 * encodes) to WAV files, and the `ctrl_tcp` module as its remote control (JSON in netstrings:
 * `dial`, `hangup`, `accept`; events such as CALL_RINGING, CALL_ESTABLISHED, CALL_CLOSED).
 * Bounded by a kill after `limitS`; stopped by PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readControl } from '../../packages/sip/test/peers/baresip.js';

export interface BaresipEvent {
  readonly type: string;
  readonly param?: string;
  readonly peeruri?: string;
  readonly [k: string]: unknown;
}

export interface BaresipOptions {
  /** The loopback address it listens on (SIP and RTP). */
  readonly address: string;
  readonly sipPort: number;
  readonly ctrlPort: number;
  /** Its RTP ports: [rtpMin, rtpMin + 19]. */
  readonly rtpMin: number;
  /** The account's user (`sip:user@address`). */
  readonly user: string;
  /** `auto` answers at once; `manual` rings until `accept`. */
  readonly answerMode: 'auto' | 'manual';
  /** Killed after this many seconds whatever happens. */
  readonly limitS: number;
}

/** A dump's level, as `sox … stats` measures it. */
export interface DumpLevel {
  readonly file: string;
  readonly rmsDb: number;
  readonly seconds: number;
}

export class Baresip {
  readonly events: BaresipEvent[] = [];
  #buf: Buffer = Buffer.alloc(0);
  #token = 0;
  #output = '';
  readonly #waiting = new Map<string, (r: { ok: boolean; data: string }) => void>();
  #ctrl: Socket | undefined;
  #stopped = false;

  private constructor(
    readonly options: BaresipOptions,
    readonly dir: string,
    readonly child: ChildProcess,
  ) {
    const add = (c: Buffer): void => {
      this.#output = (this.#output + c.toString('latin1')).slice(-20_000);
    };
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
  }

  /** Its console output (the last 20 kB), for a failure message. */
  get output(): string {
    return this.#output;
  }

  static async start(o: BaresipOptions): Promise<Baresip> {
    const dir = mkdtempSync(join(tmpdir(), 'tfx-e2e-baresip-'));
    const tone = join(dir, 'mic.wav');
    // Its microphone: a steady 1 kHz (the browser's is 440 Hz, so each side's is told apart).
    const sox = spawnSync('sox', [
      ...['-n', '-r', '8000', '-c', '1', '-b', '16', tone],
      ...['synth', String(o.limitS + 30), 'sine', '1000', 'vol', '0.5'],
    ]);
    if (sox.status !== 0) throw new Error(`sox failed: ${sox.stderr?.toString()}`);
    writeFileSync(
      join(dir, 'config'),
      [
        'poll_method epoll',
        `sip_listen ${o.address}:${o.sipPort}`,
        `net_interface ${o.address}`,
        `audio_source aufile,${tone}`,
        'module_path /usr/lib/baresip/modules',
        'module g711.so',
        'module aufile.so',
        'module sndfile.so',
        'module ctrl_tcp.so',
        'module_app account.so',
        'module_app menu.so',
        `ctrl_tcp_listen ${o.address}:${o.ctrlPort}`,
        `snd_path ${dir}`,
        `rtp_ports ${o.rtpMin}-${o.rtpMin + 19}`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'accounts'),
      `<sip:${o.user}@${o.address}>;regint=0;answermode=${o.answerMode};audio_codecs=PCMU,PCMA\n`,
    );
    const child = spawn('baresip', ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const b = new Baresip(o, dir, child);
    const kill = setTimeout(() => child.kill('SIGKILL'), o.limitS * 1000);
    child.on('exit', () => clearTimeout(kill));
    // Ready when ctrl_tcp accepts and it said so (retried while it starts).
    const start = Date.now();
    while (!b.#ctrl) {
      if (child.exitCode !== null || Date.now() - start > 30_000) {
        await b.stop();
        throw new Error(`baresip did not start:\n${b.output}`);
      }
      const s = connect({ host: o.address, port: o.ctrlPort });
      const ok = await Promise.race([
        once(s, 'connect').then(() => true),
        once(s, 'error').then(() => false),
      ]).catch(() => false);
      if (ok && /baresip is ready/.test(b.output)) {
        b.#ctrl = s;
        s.on('data', (d: Buffer) => b.#read(d));
        s.on('error', () => undefined);
      } else {
        s.destroy();
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    return b;
  }

  /** Runs a command (as typed in baresip's menu: `dial <uri>`, `hangup`, `accept`). */
  command(command: string, params?: string): Promise<{ ok: boolean; data: string }> {
    const token = String(++this.#token);
    const json = JSON.stringify({ command, ...(params !== undefined && { params }), token });
    const body = Buffer.from(json, 'utf8');
    this.#ctrl?.write(Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]));
    return new Promise((resolve) => this.#waiting.set(token, resolve));
  }

  /** The number of events so far (pass it to `event` to wait for a later one). */
  get mark(): number {
    return this.events.length;
  }

  /** Waits for an event of `type` after the first `from` events. */
  async event(type: string, from: number, timeoutMs = 45_000): Promise<BaresipEvent> {
    const found = (): BaresipEvent | undefined =>
      this.events.slice(from).find((e) => e.type === type);
    const start = Date.now();
    while (!found()) {
      if (this.child.exitCode !== null) throw new Error(`baresip exited:\n${this.output}`);
      if (Date.now() - start > timeoutMs)
        throw new Error(
          `no baresip ${type}; events: ${this.events.map((e) => e.type).join(', ')}\n${this.output}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
    return found() as BaresipEvent;
  }

  /** The `sndfile` dumps of what it decoded (the far side's audio), oldest first. */
  decodedDumps(): string[] {
    return readdirSync(this.dir)
      .filter((f) => f.startsWith('dump-') && f.endsWith('-dec.wav'))
      .map((f) => join(this.dir, f))
      .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs || a.localeCompare(b));
  }

  /**
   * Waits until the newest decoded dump (the call in progress) holds `seconds` of audio (8 kHz,
   * 16-bit mono: its size), so that its end is the settled call; returns its path.
   */
  async decodedAtLeast(seconds: number, after: number, timeoutMs = 45_000): Promise<string> {
    const start = Date.now();
    for (;;) {
      const dumps = this.decodedDumps();
      const last = dumps.length > after ? dumps[dumps.length - 1] : undefined;
      if (last && statSync(last).size >= 44 + seconds * 8000 * 2) return last;
      if (Date.now() - start > timeoutMs)
        throw new Error(`baresip's dump did not reach ${seconds} s:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ctrl?.destroy();
    if (this.child.exitCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Netstrings: `<len>:<json>,` */
  #read(chunk: Buffer): void {
    this.#buf = readControl(Buffer.concat([this.#buf, chunk]), this.events, this.#waiting);
  }
}

/**
 * The RMS level (dB) of a WAV file's last `lastS` seconds (the call's settled end, after any
 * early media), and the file's length, from `sox FILE -n [trim -lastS] stats`.
 */
export function dumpLevel(file: string, lastS?: number): DumpLevel {
  const whole = spawnSync('sox', [file, '-n', 'stats']).stderr.toString();
  const len = /Length s\s+([\d.]+)/.exec(whole);
  const seconds = len ? Number(len[1]) : 0;
  const stats =
    lastS !== undefined && seconds > lastS
      ? spawnSync('sox', [file, '-n', 'trim', String(seconds - lastS), 'stats']).stderr.toString()
      : whole;
  const m = /RMS lev dB\s+(-?[\d.]+|-inf)/.exec(stats);
  return { file, rmsDb: m && m[1] !== '-inf' ? Number(m[1]) : -Infinity, seconds };
}
