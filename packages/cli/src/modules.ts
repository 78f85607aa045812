/**
 * The composition root: which feature modules run for a given configuration and command.
 * Features are added here as they land (signalling, SIP, widgets).
 */
import type { Config, Logger, PlatformModule } from '@tfx/server';

export interface ModuleChoice {
  /** `start` runs everything; `sip` runs the SIP server with its console, REST and WS, no web app. */
  readonly command: 'start' | 'sip';
}

export function buildModules(_config: Config, _logger: Logger, _choice: ModuleChoice): PlatformModule[] {
  return [];
}
