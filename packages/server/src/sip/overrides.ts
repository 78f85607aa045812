/**
 * `<dataDir>/overrides.yaml`: settings changed from the console or REST, loaded at start as a
 * configuration layer between the file and the environment (`loadConfig({ overrides })`).
 * Written atomically (temporary file, then rename), mode 0600.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { readYamlFile } from '../config/load.js';

export const OVERRIDES_FILE = 'overrides.yaml';

/** The overrides layer for `loadConfig`, or undefined when there is no file. */
export function readOverrides(
  dataDir: string,
): { label: string; values: Record<string, unknown> } | undefined {
  const file = join(dataDir, OVERRIDES_FILE);
  if (!existsSync(file)) return undefined;
  return { label: `overrides ${file}`, values: readYamlFile(file) };
}

/** Saves `sip.port` and `sip.tlsPort` into the overrides file, keeping its other keys. */
export async function writeSipOverrides(
  dataDir: string,
  ports: { readonly port: number; readonly tlsPort: number },
): Promise<string> {
  const file = join(dataDir, OVERRIDES_FILE);
  let tree: Record<string, unknown> = {};
  try {
    const value: unknown = parseDocument(await readFile(file, 'utf8')).toJS();
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      tree = value as Record<string, unknown>;
    }
  } catch {
    // no file yet
  }
  const sip =
    tree.sip && typeof tree.sip === 'object' && !Array.isArray(tree.sip)
      ? (tree.sip as Record<string, unknown>)
      : {};
  tree.sip = { ...sip, port: ports.port, tlsPort: ports.tlsPort };
  const tmp = `${file}.tmp`;
  await writeFile(
    tmp,
    `# Written by TFX (admin console / REST). Loaded between the config file and the environment.\n${stringify(tree)}`,
    { mode: 0o600 },
  );
  await rename(tmp, file);
  return file;
}
