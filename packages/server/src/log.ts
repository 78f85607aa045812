/**
 * Structured logs (pino). JSON lines for machines; pretty, coloured lines on a terminal.
 * Components get named child loggers with bound context (`component`, `roomId`, `peerId`,
 * `callId`, `branch`, `remote`). Secrets are redacted wherever they appear. See docs/logging.md.
 */
import pino, { type Logger, type DestinationStream } from 'pino';
import type { Config } from './config/index.js';

export type { Logger } from 'pino';

/** Paths whose values never reach a log line. */
export const REDACT_PATHS = [
  'token',
  'adminToken',
  'moderatorToken',
  'resumeToken',
  'password',
  'secret',
  'credential',
  '*.token',
  '*.adminToken',
  '*.moderatorToken',
  '*.resumeToken',
  '*.password',
  '*.secret',
  '*.credential',
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
];

export interface LoggerOptions {
  readonly level: Config['log']['level'];
  readonly format: Config['log']['format'];
  /** Where to write; default stdout. Tests pass a stream to read lines back. */
  readonly destination?: DestinationStream | undefined;
}

export function createLogger(options: LoggerOptions): Logger {
  const pretty =
    options.format === 'pretty' ||
    (options.format === 'auto' && process.stdout.isTTY === true && !options.destination);
  const base = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  } as const;
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}
