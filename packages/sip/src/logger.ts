/**
 * The logger the SIP stack writes to: a pino-compatible subset, so the server passes its pino
 * logger (or a child with bound context such as `{ callId, branch, remote }`) straight in.
 * Library code never prints; without a logger nothing is written.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** Whether a level is written (pino's); lets hot paths skip building a record. */
  isLevelEnabled?(level: string): boolean;
}

/** A logger that discards everything: the default everywhere a logger is optional. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
