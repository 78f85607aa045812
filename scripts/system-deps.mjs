// The system tools the test suites use, and how to get them on Debian/Ubuntu.
// `npm test` installs missing ones with apt when it runs as root on Debian/Ubuntu; anywhere else
// it stops and prints the exact command. It never skips a suite silently.
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** binary (absolute path or name on PATH) → Debian package, and which suites need it. */
export const SYSTEM_DEPS = [
  {
    bin: '/usr/bin/chromium',
    pkg: 'chromium',
    why: 'browser end-to-end tests (Playwright drives Debian chromium)',
  },
  { bin: 'turnserver', pkg: 'coturn', why: 'TURN tests against a real coturn' },
  {
    bin: 'redis-server',
    pkg: 'redis-server',
    why: 'Store contract suite and scale-out tests against real Redis',
  },
  { bin: 'sipp', pkg: 'sip-tester', why: 'SIP integration tests with real sipp agents' },
  { bin: 'sipsak', pkg: 'sipsak', why: 'SIP TLS/OPTIONS checks with sipsak' },
  {
    bin: 'kamailio',
    pkg: 'kamailio',
    why: 'SIP peer tests: the UA core registers with digest to a real Kamailio',
  },
  {
    bin: '/usr/lib/x86_64-linux-gnu/kamailio/modules/websocket.so',
    pkg: 'kamailio-websocket-modules',
    why: 'SIP peer tests: outbound SIP-over-WebSocket flows to a real Kamailio',
  },
  {
    bin: 'baresip',
    pkg: 'baresip-core',
    why: 'SIP peer tests: baresip holds (re-INVITE) and transfers (REFER) a UA core call',
  },
  { bin: 'sox', pkg: 'sox', why: "SIP peer tests: baresip's microphone is a WAV made with sox" },
  { bin: 'svwar', pkg: 'sipvicious', why: 'SIP scanner/cracker resistance tests' },
  { bin: 'haproxy', pkg: 'haproxy', why: 'scale-out failover test behind a real load balancer' },
  { bin: 'ffprobe', pkg: 'ffmpeg', why: 'recording tests inspect the webm with ffprobe' },
  {
    bin: 'apertium-apy',
    pkg: 'apertium-apy',
    why: 'translation tests against a real Apertium APy (docs/language.md)',
  },
  {
    bin: '/usr/share/apertium/modes/eng-spa.mode',
    pkg: 'apertium-eng-spa',
    why: 'the English↔Spanish pair the translation tests use',
  },
  { bin: 'espeak-ng', pkg: 'espeak-ng', why: 'captions e2e: speech for the fake microphone' },
  {
    bin: 'unshare',
    pkg: 'util-linux',
    why: 'browser tests run in a loopback-only network namespace',
  },
  { bin: 'ip', pkg: 'iproute2', why: 'bringing up loopback inside the test network namespace' },
  {
    bin: 'rtpengine',
    pkg: 'rtpengine-daemon',
    why: 'MediaEngine contract suite and ng client tests against a real rtpengine (userspace)',
  },
  { bin: 'tshark', pkg: 'tshark', why: 'media recording tests open the PCAP with tshark' },
  { bin: 'taskset', pkg: 'util-linux', why: 'bench:media pins the relay and the load generator' },
  {
    bin: 'iptables',
    pkg: 'iptables',
    why: 'tfx sbc dscp: its DSCP rules are applied inside a test network namespace',
  },
];

export function which(bin) {
  if (bin.startsWith('/')) return existsSync(bin) ? bin : null;
  for (const dir of (process.env.PATH ?? '')
    .split(':')
    .concat(['/usr/sbin', '/sbin', '/usr/bin'])) {
    if (dir && existsSync(`${dir}/${bin}`)) return `${dir}/${bin}`;
  }
  return null;
}

export function missingDeps() {
  return SYSTEM_DEPS.filter((d) => !which(d.bin));
}

export function isDebianLike() {
  try {
    const os = readFileSync('/etc/os-release', 'utf8');
    return /^(ID|ID_LIKE)=.*\b(debian|ubuntu)\b/m.test(os);
  } catch {
    return false;
  }
}

export function installCommand(pkgs) {
  return `apt-get update && apt-get install -y -o DPkg::Lock::Timeout=900 ${pkgs.join(' ')}`;
}

/** Installs what is missing (root on Debian/Ubuntu) or returns an explanation of what to run. */
export function ensureSystemDeps(log = (s) => process.stderr.write(s)) {
  const missing = missingDeps();
  if (missing.length === 0) return { ok: true };
  const pkgs = [...new Set(missing.map((d) => d.pkg))];
  const why = missing.map((d) => `  - ${d.pkg}: ${d.why}`).join('\n');
  if (!isDebianLike() || process.getuid?.() !== 0) {
    return {
      ok: false,
      message: `The test suites need system packages that are missing:\n${why}\nInstall them (as root, on Debian 12 or Ubuntu) and run npm test again:\n  sudo sh -c '${installCommand(pkgs)}'\n`,
    };
  }
  log(
    `Installing system packages the tests need: ${pkgs.join(', ')} (apt-get; this can take a few minutes)…\n`,
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const upd = spawnSync('apt-get', ['update', '-q'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env,
  });
  if (upd.status !== 0)
    return {
      ok: false,
      message: `apt-get update failed (exit ${upd.status}); run: ${installCommand(pkgs)}\n`,
    };
  const inst = spawnSync(
    'apt-get',
    ['install', '-y', '-q', '-o', 'DPkg::Lock::Timeout=900', ...pkgs],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
      env,
    },
  );
  if (inst.status !== 0)
    return {
      ok: false,
      message: `apt-get install failed (exit ${inst.status}); run: ${installCommand(pkgs)}\n`,
    };
  const still = missingDeps();
  if (still.length > 0)
    return {
      ok: false,
      message: `still missing after apt: ${still.map((d) => d.bin).join(', ')}\n`,
    };
  return { ok: true, installed: pkgs };
}
