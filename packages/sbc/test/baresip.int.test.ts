/**
 * baresip (Debian's baresip-core 1.0) as a real phone through the SBC, on the built-in engine:
 *  - it calls (public zone) a sipp `-rtp_echo` trunk (core): its microphone (a 440 Hz WAV made with
 *    sox) comes back through the whole path, and its `sndfile` dump of what it decoded holds it;
 *  - a sipp UAC playing `g711a.pcap` (core) calls it through the SBC (a route to it as a trunk);
 *    it auto-answers and its decoded dump holds the far side's audio.
 * Each dump is checked with `sox … stats` (RMS level), and the echo with a Goertzel filter.
 * Headless: ALSA's `null` device as its player, `aufile` as its microphone. Loopback
 * 127.0.48.2x (this slice's); ports random; processes stopped by PID.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MediaEngine } from '@tfx/media';
import { Sbc } from '../src/index.js';
import { goertzel } from '../../media/test/contract/probe.js';
import { SCENARIOS, builtinEngine, freePort, sipp, zone } from './harness.js';

const PUBLIC = '127.0.48.21';
const CORE = '127.0.48.22';
const TRUNK = '127.0.48.23';
const PHONE = '127.0.48.24';

/** A baresip config dir: SIP on PHONE, PCMA, a 440 Hz microphone, sndfile dumps, auto-answer. */
function baresipDir(sipPort: number, rtpMin: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'sbc-baresip-'));
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
    'vol',
    '0.5',
  ]);
  if (sox.status !== 0) throw new Error(`sox failed: ${sox.stderr?.toString()}`);
  writeFileSync(
    join(dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen ${PHONE}:${sipPort}`,
      `net_interface ${PHONE}`,
      'audio_player alsa,null',
      'audio_alert alsa,null',
      `audio_source aufile,${tone}`,
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module aufile.so',
      'module alsa.so',
      'module sndfile.so',
      'module_app account.so',
      'module_app menu.so',
      `snd_path ${dir}`,
      `rtp_ports ${rtpMin}-${rtpMin + 19}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'accounts'),
    `<sip:phone@${PHONE}>;regint=0;answermode=auto;audio_codecs=PCMA\n`,
  );
  return dir;
}

/** Runs baresip for `seconds` (it hangs up and quits), with optional commands; by PID. */
function baresip(dir: string, seconds: number, commands: string[] = []): Promise<string> {
  const child = spawn(
    'baresip',
    ['-f', dir, '-t', String(seconds), ...commands.flatMap((c) => ['-e', c])],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out = (out + d.toString('latin1')).slice(-20_000)));
  child.stderr.on('data', (d: Buffer) => (out = (out + d.toString('latin1')).slice(-20_000)));
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000);
    child.on('exit', () => {
      clearTimeout(kill);
      resolve(out);
    });
  });
}

/** The decoded-audio dump baresip's sndfile wrote, and its RMS level in dB (sox stats). */
function decodedDump(dir: string): { file: string; rmsDb: number; samples: Int16Array } {
  const name = readdirSync(dir).find((f) => f.startsWith('dump-') && f.endsWith('-dec.wav'));
  if (!name) throw new Error(`no sndfile dump in ${dir}: ${readdirSync(dir).join(', ')}`);
  const file = join(dir, name);
  const stats = spawnSync('sox', [file, '-n', 'stats']).stderr.toString();
  const m = /RMS lev dB\s+(-?[\d.]+|-inf)/.exec(stats);
  const rmsDb = m && m[1] !== '-inf' ? Number(m[1]) : -Infinity;
  const buf = readFileSync(file);
  const samples = new Int16Array(
    buf.buffer,
    buf.byteOffset + 44,
    Math.floor((buf.length - 44) / 2),
  );
  return { file, rmsDb, samples };
}

describe('baresip as a real phone through the SBC', () => {
  let engine: MediaEngine;
  beforeAll(async () => {
    engine = await builtinEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('calls a sipp echo trunk and hears itself; is called by a sipp phone playing a pcap and hears it', async () => {
    const trunkPort = await freePort(TRUNK);
    const trunkMedia = await freePort(TRUNK, true);
    const phoneSip = await freePort(PHONE);
    const rtpMin = 40000 + 20 * Math.floor(Math.random() * 1000);
    const dirs: string[] = [];
    const sbc = new Sbc({
      zones: [zone('public', PUBLIC), zone('core', CORE)],
      trunks: [
        { name: 'echo', zone: 'core', uri: `sip:${TRUNK}:${trunkPort}` },
        { name: 'baresip', zone: 'public', uri: `sip:phone@${PHONE}:${phoneSip}` },
      ],
      routes: [
        { match: { zone: 'public' }, to: ['echo'] },
        { match: { zone: 'core' }, to: ['baresip'] },
      ],
      engine,
      timers: { T1: 200, T2: 1600 },
    });
    try {
      const listeners = await sbc.start();
      const port = (a: string): number =>
        listeners.find((l) => l.address === a && l.transport === 'udp')!.port;

      // 1. baresip → SBC → sipp -rtp_echo: its own 440 Hz comes back.
      const echo = sipp(
        [
          '-sf',
          join(SCENARIOS, 'uas-echo.xml'),
          '-i',
          TRUNK,
          '-p',
          String(trunkPort),
          '-mi',
          TRUNK,
          '-mp',
          String(trunkMedia),
          '-rtp_echo',
          '-key',
          'rtcp',
          String(trunkMedia + 1),
          '-m',
          '1',
        ],
        60_000,
      );
      await new Promise((r) => setTimeout(r, 500)); // the UAS binds first
      const caller = baresipDir(phoneSip, rtpMin);
      dirs.push(caller);
      const out1 = await baresip(caller, 10, [`/dial sip:4420001@${PUBLIC}:${port(PUBLIC)}`]);
      const e = await echo.done;
      expect(e.code, `echo sipp:\n${e.output}\nbaresip:\n${out1}`).toBe(0);
      const heard = decodedDump(caller);
      console.info(`baresip heard its echo at ${heard.rmsDb} dB RMS (${heard.file})`);
      expect(heard.rmsDb, out1).toBeGreaterThan(-30);
      // The middle third of the call (the path settled; baresip hung up at -t).
      expect(heard.samples.length, out1).toBeGreaterThan(8000);
      const n = heard.samples.length;
      const mid = heard.samples.subarray(Math.floor(n / 3), Math.floor((2 * n) / 3));
      expect(goertzel(mid, 440)).toBeGreaterThan(10 * goertzel(mid, 1000));

      // 2. sipp (g711a.pcap) → SBC → baresip, which auto-answers.
      const callee = baresipDir(phoneSip, rtpMin);
      dirs.push(callee);
      const pcapMedia = await freePort(TRUNK, true);
      const running = baresip(callee, 14);
      await new Promise((r) => setTimeout(r, 1500)); // baresip binds its SIP port first
      const pcap = sipp(
        [
          `${CORE}:${port(CORE)}`,
          '-sf',
          join(SCENARIOS, 'uac-pcap.xml'),
          '-i',
          TRUNK,
          '-p',
          String(await freePort(TRUNK)),
          '-mi',
          TRUNK,
          '-mp',
          String(pcapMedia),
          '-key',
          'rtcp',
          String(pcapMedia + 1),
          '-key',
          'caller',
          'dave',
          '-s',
          'phone',
          '-d',
          '4000',
          '-m',
          '1',
        ],
        60_000,
      );
      const p = await pcap.done;
      const out2 = await running;
      expect(p.code, `pcap sipp:\n${p.output}\nbaresip:\n${out2}`).toBe(0);
      const got = decodedDump(callee);
      console.info(`baresip heard the pcap at ${got.rmsDb} dB RMS (${got.file})`);
      expect(got.rmsDb, out2).toBeGreaterThan(-45);
    } finally {
      await sbc.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }, 120_000);
});
