/**
 * `tfx sbc dscp`: the DSCP marks of TFX's own sockets (docs/sbc.md, "Admission control and QoS").
 * Node's dgram and net sockets have no TOS option, so the marks are set by the kernel: iptables
 * mangle rules in a chain of ours, `TFX-DSCP`, jumped to from OUTPUT — `sbc.qos.mediaDscp` (EF,
 * RFC 3246) on the built-in engine's media ports (`media.portMin`–`media.portMax`) and
 * `sbc.qos.signallingDscp` (CS3, RFC 4594 §4.2 "Signaling") on the source ports of every SBC zone
 * listener. Printed as a shell script by default; applied (as root) only with `--apply`, and
 * idempotently: the chain is flushed and refilled, the jump added once. With rtpengine the media
 * is marked by rtpengine itself (the ng `TOS` key), so no media rule is printed.
 *
 * The rule set is a pure function of the configuration (`dscpRules`), tested without root.
 */
import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { dscpTos, loadConfig, parseListenUrl, type Config } from '@tfx/server';

export const DSCP_CHAIN = 'TFX-DSCP';

/** One command: its argv (iptables or ip6tables first), and how a failure is taken. */
export interface DscpCommand {
  readonly argv: readonly string[];
  /** `create`: an existing chain is fine; `jump`: added only when `-C` finds none. */
  readonly kind: 'create' | 'flush' | 'jump' | 'rule';
  readonly comment?: string;
}

export interface DscpPlan {
  readonly commands: readonly DscpCommand[];
  /** What gets no rule, and why (a listener on port 0, media marked by rtpengine). */
  readonly notes: readonly string[];
}

/** The rules for a configuration. Pure. */
export function dscpRules(config: Config): DscpPlan {
  const notes: string[] = [];
  const rules: Array<{ v6: boolean; argv: string[]; comment: string }> = [];
  const media = config.sbc.qos.mediaDscp;
  const sig = config.sbc.qos.signallingDscp;
  if (config.media.engine === 'rtpengine') {
    notes.push(`media: rtpengine marks its own packets (ng TOS ${dscpTos(media)}, ${media})`);
  } else {
    const range = `${config.media.portMin}:${config.media.portMax}`;
    for (const v6 of [false, true])
      rules.push({
        v6,
        argv: ['-p', 'udp', '--sport', range, '-j', 'DSCP', '--set-dscp-class', media],
        comment: `media ports ${range} (built-in engine): ${media}`,
      });
  }
  for (const z of config.sbc.zones) {
    for (const url of z.listen) {
      const l = parseListenUrl(url);
      if (l.port === 0) {
        notes.push(
          `zone ${z.name} ${url}: a port chosen at start gets no rule (give a fixed port)`,
        );
        continue;
      }
      rules.push({
        v6: l.address.includes(':'),
        argv: [
          '-p',
          l.transport === 'udp' ? 'udp' : 'tcp',
          '-s',
          l.address,
          '--sport',
          String(l.port),
          '-j',
          'DSCP',
          '--set-dscp-class',
          sig,
        ],
        comment: `zone ${z.name} SIP ${url}: ${sig}`,
      });
    }
  }
  if (config.sbc.zones.length === 0) notes.push('no sbc.zones: no SIP listener rule');
  const commands: DscpCommand[] = [];
  for (const v6 of [false, true]) {
    const mine = rules.filter((r) => r.v6 === v6);
    if (mine.length === 0) continue;
    const bin = v6 ? 'ip6tables' : 'iptables';
    commands.push(
      { argv: [bin, '-t', 'mangle', '-N', DSCP_CHAIN], kind: 'create' },
      { argv: [bin, '-t', 'mangle', '-F', DSCP_CHAIN], kind: 'flush' },
      { argv: [bin, '-t', 'mangle', '-A', 'OUTPUT', '-j', DSCP_CHAIN], kind: 'jump' },
      ...mine.map((r): DscpCommand => ({
        argv: [bin, '-t', 'mangle', '-A', DSCP_CHAIN, ...r.argv],
        kind: 'rule',
        comment: r.comment,
      })),
    );
  }
  return { commands, notes };
}

/** The plan as a shell script an operator can read and run. */
export function formatDscpScript(plan: DscpPlan): string {
  const out = [
    '#!/bin/sh',
    '# TFX DSCP marks (docs/sbc.md, "Admission control and QoS"); run as root',
    'set -e',
  ];
  for (const n of plan.notes) out.push(`# note: ${n}`);
  for (const c of plan.commands) {
    const line = c.argv.join(' ');
    if (c.comment) out.push(`# ${c.comment}`);
    if (c.kind === 'create') out.push(`${line} 2>/dev/null || true`);
    else if (c.kind === 'jump') {
      const check = c.argv.map((a) => (a === '-A' ? '-C' : a)).join(' ');
      out.push(`${check} 2>/dev/null || ${line}`);
    } else out.push(line);
  }
  return `${out.join('\n')}\n`;
}

/** Runs the plan (as root). Throws on the first command that fails for a reason of its own. */
export function applyDscp(
  plan: DscpPlan,
  run: (argv: readonly string[]) => void = (argv) => {
    execFileSync(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  },
): number {
  let n = 0;
  for (const c of plan.commands) {
    if (c.kind === 'create') {
      try {
        run(c.argv);
      } catch {
        // The chain exists already: it is flushed next.
      }
      continue;
    }
    if (c.kind === 'jump') {
      try {
        run(c.argv.map((a) => (a === '-A' ? '-C' : a)));
        continue; // the jump is there
      } catch {
        // not there: added below
      }
    }
    try {
      run(c.argv);
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(`${c.argv.join(' ')}: ${e.stderr?.toString().trim() || e.message}`);
    }
    if (c.kind === 'rule') n++;
  }
  return n;
}

export function addDscpCommand(sbc: Command, reportError: (err: unknown) => number): void {
  sbc
    .command('dscp')
    .description(
      'print the iptables mangle rules that mark TFX’s own packets (media EF, SIP CS3; sbc.qos); --apply runs them (root)',
    )
    .option('-c, --config <file>', 'the YAML configuration the server runs with [TFX_CONFIG]')
    .option('--apply', 'apply the rules (chain TFX-DSCP in the mangle table, idempotent)')
    .addHelpText(
      'after',
      `
Node's sockets have no TOS option: the kernel marks TFX's packets by their source ports.
Without --apply the rules are printed as a shell script and nothing changes.`,
    )
    .action((opts: { config?: string; apply?: boolean }) => {
      try {
        const config = loadConfig({
          file: opts.config ?? process.env.TFX_CONFIG,
          env: process.env,
        });
        const plan = dscpRules(config);
        if (!opts.apply) {
          process.stdout.write(formatDscpScript(plan));
          return;
        }
        const n = applyDscp(plan);
        for (const note of plan.notes) process.stdout.write(`note: ${note}\n`);
        process.stdout.write(`ok: ${n} DSCP rules applied (chain ${DSCP_CHAIN})\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
}
