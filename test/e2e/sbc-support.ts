/**
 * Shared scaffolding of the SBC end-to-end specs (gateway-dialpad, gateway-sip, console-sbc,
 * console-sbc-ops): Chromium with a tone for its fake microphone, random ports, sipp bounded by a timeout and a kill, the SBC tests' two sipp
 * parts (the echo trunk and the pcap phone) and the admin REST call that lists the SBC's zones.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIRequestContext, LaunchOptions } from '@playwright/test';
import type { SbcZoneList } from '@tfx/protocol';

/** The SBC tests' sipp scenarios: a phone that plays g711a.pcap, a trunk that answers with the
 * offer (early media, then 200) and echoes RTP with -rtp_echo. */
export const SCENARIOS = fileURLToPath(
  new URL('../../packages/sbc/test/scenarios/', import.meta.url),
);

/** A port picked at random in [lo, lo + span), even (other engineers run tests at the same time). */
export const randomPort = (lo: number, span: number): number =>
  lo + 2 * Math.floor((Math.random() * span) / 2);

export interface Sipp {
  readonly child: ChildProcess;
  readonly done: Promise<{ code: number | null; output: string }>;
}

/** sipp bounded by -timeout and a kill; its output kept for the failure message. */
export function sipp(args: readonly string[], timeoutS: number): Sipp {
  const child = spawn('sipp', [...args, '-nostdin', '-timeout', `${timeoutS}s`, '-timeout_error'], {
    cwd: mkdtempSync(join(tmpdir(), 'tfx-e2e-sipp-')),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const add = (c: Buffer): void => {
    output = (output + c.toString('latin1')).slice(-8000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  const done = new Promise<{ code: number | null; output: string }>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), (timeoutS + 10) * 1000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, output });
    });
  });
  return { child, done };
}

/** The trunk: a sipp UAS (uas-echo.xml) on address:port that echoes RTP from `media`, for `calls`
 * calls; it passes only when each call's BYE arrived (and was answered). */
export function echoTrunk(
  o: { address: string; port: number; media: number; calls?: number },
  timeoutS: number,
): Sipp {
  return sipp(
    [
      '-sf',
      join(SCENARIOS, 'uas-echo.xml'),
      '-i',
      o.address,
      '-p',
      String(o.port),
      '-mi',
      o.address,
      '-mp',
      String(o.media),
      '-rtp_echo',
      '-key',
      'rtcp',
      String(o.media + 1),
      '-m',
      String(o.calls ?? 1),
    ],
    timeoutS,
  );
}

/** The phone: a sipp UAC (uac-pcap.xml) on `address` calling `service` at `target` (host:port)
 * as `caller`, playing g711a.pcap from `media` and hanging up after `pauseMs`. */
export function pcapPhone(
  o: {
    target: string;
    address: string;
    media: number;
    caller: string;
    service: string;
    pauseMs: number;
  },
  timeoutS: number,
): Sipp {
  return sipp(
    [
      o.target,
      '-sf',
      join(SCENARIOS, 'uac-pcap.xml'),
      '-key',
      'caller',
      o.caller,
      '-key',
      'rtcp',
      String(o.media + 1),
      '-i',
      o.address,
      '-p',
      String(randomPort(21000, 8000) + 1),
      '-mi',
      o.address,
      '-mp',
      String(o.media),
      '-s',
      o.service,
      '-d',
      String(o.pauseMs),
      '-m',
      '1',
    ],
    timeoutS,
  );
}

/** The YAML lines (under `sbc.zones:`) of one zone listening on udp://`address`:0 with its media
 * on the same address; each of `extra` (e.g. `trusted: true`) is one more line of the zone. */
export const zoneYaml = (name: string, address: string, ...extra: string[]): string[] => [
  `    - name: ${name}`,
  `      listen: [udp://${address}:0]`,
  `      media: { address: ${address} }`,
  ...extra.map((line) => `      ${line}`),
];

/** GET /api/v1/sbc/zones with the admin token. */
export async function sbcZones(
  api: APIRequestContext,
  server: { url: string; adminToken(): string },
): Promise<SbcZoneList> {
  const headers = { authorization: `Bearer ${server.adminToken()}` };
  return (await (
    await api.get(`${server.url}/api/v1/sbc/zones`, { headers })
  ).json()) as SbcZoneList;
}

/** Chromium's launch options for calls: a steady 440 Hz (`seconds` long, written into `dir` with
 * sox) as its fake microphone, loopback peer connections, autoplay. */
export function toneMicrophone(dir: string, seconds: number): LaunchOptions {
  const toneWav = join(dir, 'tone440.wav');
  // A steady 440 Hz for Chromium's fake microphone (its default beeps leave silent gaps).
  execFileSync('sox', [
    '-n',
    '-r',
    '48000',
    '-c',
    '1',
    '-b',
    '16',
    toneWav,
    'synth',
    String(seconds),
    'sine',
    '440',
  ]);
  return {
    executablePath: '/usr/bin/chromium',
    args: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${toneWav}`,
      '--allow-loopback-in-peer-connection',
      '--disable-gpu',
      '--disable-quic',
      '--autoplay-policy=no-user-gesture-required',
    ],
  };
}
