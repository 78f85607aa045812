/** The `tfx` command line: subcommands, their help, and what each runs. */
import { Command } from 'commander';
import { configLeaves, loadConfig, REDACT_PATHS } from '@tfx/server';
import { VERSION } from './version.js';
import { addConfigFlags } from './options.js';
import { reportError, runStart } from './start.js';
import { addCertCommands } from './cert.js';
import { addWidgetCommands } from './widget.js';
import { addSbcCommands } from './sbc.js';

function redact(value: unknown): unknown {
  const secret = new Set(REDACT_PATHS.filter((p) => !p.includes('.')).map((p) => p.toLowerCase()));
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        secret.has(k.toLowerCase()) && v !== undefined ? '[redacted]' : redact(v),
      ]),
    );
  }
  return value;
}

export function buildProgram(): Command {
  const program = new Command('tfx')
    .description(
      'TFX: video calls in the browser, widgets inside the call, and a SIP server — self-hosted.',
    )
    .version(VERSION, '-v, --version', 'print the TFX version')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false });

  const start = program
    .command('start')
    .description(
      'start the whole platform: web app, signalling, REST API and SIP server, on embedded defaults',
    )
    .option('-c, --config <file>', 'YAML configuration file [TFX_CONFIG]');
  const readFlags = addConfigFlags(start);
  start.addHelpText(
    'after',
    `
Every configuration key a.bC is also the flag --a-b-c and the environment variable TFX_A_B_C
(precedence: flags > environment > config file > defaults). List them: tfx config keys.

Examples:
  tfx start                              HTTPS on 8443 with a self-signed certificate
  tfx start --port 0 --host 127.0.0.1    a free port on loopback (the ready line tells which)
  tfx start --config /etc/tfx.yaml --cert fullchain.pem --key privkey.pem`,
  );
  start.action(async (opts: { config?: string }, cmd: Command) => {
    try {
      await runStart(
        { configFile: opts.config, flags: readFlags(cmd), env: process.env },
        { command: 'start' },
      );
    } catch (err) {
      process.exitCode = reportError(err);
    }
  });

  const sip = program
    .command('sip')
    .description(
      'run only the SIP server: SIP transports (UDP, TCP, TLS, WS at /sip), the admin console at /admin/ and the REST API, no web app',
    )
    .option('-c, --config <file>', 'YAML configuration file [TFX_CONFIG]');
  const readSipFlags = addConfigFlags(sip);
  sip.addHelpText(
    'after',
    `
Examples:
  tfx sip                                     SIP on 5060 (UDP/TCP), 5061 (TLS), console on https://…:8443/admin/
  tfx sip --sip-port 0 --sip-tls-port 0       free ports (the ready line tells which)
  tfx sip --sip-domain example.com --sip-users '[{"username":"alice","password":"secret-123"}]'`,
  );
  sip.action(async (opts: { config?: string }, cmd: Command) => {
    try {
      await runStart(
        { configFile: opts.config, flags: readSipFlags(cmd), env: process.env },
        { command: 'sip' },
      );
    } catch (err) {
      process.exitCode = reportError(err);
    }
  });

  const config = program.command('config').description('check and inspect configuration');
  config
    .command('check')
    .description('validate a configuration (file, environment and flags) without starting anything')
    .argument('[file]', 'YAML configuration file (default: $TFX_CONFIG, or none)')
    .action((file: string | undefined) => {
      try {
        const cfg = loadConfig({ file: file ?? process.env.TFX_CONFIG, env: process.env });
        process.stdout.write(`ok: configuration is valid${file ? ` (${file})` : ''}\n`);
        process.stdout.write(
          `  https ${cfg.server.host}:${cfg.server.port}${cfg.server.insecureHttp ? ' (plain HTTP)' : ''}, data dir ${cfg.dataDir}\n`,
        );
        process.stdout.write(
          `  sip ${cfg.sip.enabled ? `udp/tcp ${cfg.sip.port}, tls ${cfg.sip.tlsPort}` : 'off'}, state ${cfg.redis.url ? 'redis' : 'in memory'}\n`,
        );
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
  config
    .command('print')
    .description('print the effective configuration as JSON (secrets redacted)')
    .argument('[file]', 'YAML configuration file')
    .action((file: string | undefined) => {
      try {
        const cfg = loadConfig({ file: file ?? process.env.TFX_CONFIG, env: process.env });
        process.stdout.write(`${JSON.stringify(redact(cfg), null, 2)}\n`);
      } catch (err) {
        process.exitCode = reportError(err);
      }
    });
  config
    .command('keys')
    .description('list every configuration key with its environment variable, flag and default')
    .action(() => {
      for (const l of configLeaves()) {
        process.stdout.write(
          `${l.key.padEnd(34)} ${l.env.padEnd(38)} ${l.flag.padEnd(34)} ${l.default === undefined ? '' : JSON.stringify(l.default)}\n`,
        );
      }
    });

  addCertCommands(program, reportError);
  addWidgetCommands(program, reportError);
  addSbcCommands(program, reportError);

  return program;
}
